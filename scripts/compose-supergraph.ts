import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SERVICES, type SubgraphName } from '../subgraphs/catalog.js';

/** Folder of the SDL files and of the committed supergraph. */
export const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));
export const SUPERGRAPH_FILE = `${SCHEMA_DIR}supergraph.graphql`;

export type CompositionResult = { ok: true; supergraphSdl: string } | { ok: false; errors: string[] };

/**
 * Composes `schema/<subgraph>.graphql` into a supergraph SDL with
 * @apollo/composition. The routing URLs written into the supergraph are the
 * local defaults; the gateway takes the real ones from its configuration.
 */
export function composeSupergraph(only?: readonly SubgraphName[]): CompositionResult {
  const errors: string[] = [];
  const chosen = only ? SERVICES.filter((s) => only.includes(s.name)) : SERVICES;
  const services = chosen.map(({ name, defaultPort }) => {
    const file = `${SCHEMA_DIR}${name}.graphql`;
    try {
      return { name, url: `http://127.0.0.1:${defaultPort}/`, typeDefs: parse(readFileSync(file, 'utf8')) };
    } catch (error) {
      errors.push(`${file}: ${(error as Error).message}`);
      return null;
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  const result = composeServices(services.filter((s) => s !== null));
  if (result.errors) {
    return { ok: false, errors: result.errors.map((e) => `${e.extensions?.code ?? 'COMPOSITION_ERROR'}: ${e.message}`) };
  }
  return { ok: true, supergraphSdl: `${result.supergraphSdl.trimEnd()}\n` };
}
