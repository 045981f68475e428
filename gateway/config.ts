import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, type SubgraphName } from '../subgraphs/catalog.js';
import { integerSetting, logLevelSetting, urlSetting } from '../subgraphs/common/settings.js';

export { ConfigError } from '../subgraphs/common/settings.js';

/** Gateway settings, after normalisation. */
export interface GatewayConfig {
  /** GATEWAY_HOST, default 127.0.0.1. */
  host: string;
  /** GATEWAY_PORT, default 4000; 0 picks a free port. */
  port: number;
  /** SUPERGRAPH_FILE, default schema/supergraph.graphql; reloaded when it changes. */
  supergraphFile: string;
  /** SUBGRAPH_URL_<NAME> (e.g. SUBGRAPH_URL_SOCIAL_INSURANCE), default http://127.0.0.1:<default port>/. */
  subgraphUrls: Record<SubgraphName, string>;
  /** SUBGRAPH_TIMEOUT_MS, default 10000: a subgraph slower than this counts as unavailable. */
  subgraphTimeoutMs: number;
  /** MAX_REQUEST_BYTES, default 1048576. */
  maxRequestBytes: number;
  /** LOG_LEVEL, default info. */
  logLevel: string;
}

export const DEFAULT_SUPERGRAPH_FILE = fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));

/** Environment variable that overrides a subgraph's URL. */
export function subgraphUrlVariable(name: SubgraphName): string {
  return `SUBGRAPH_URL_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** Normalises the gateway's settings from the environment once, at start-up. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const logLevel = logLevelSetting(env);
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((s) => [s.name, urlSetting(env, subgraphUrlVariable(s.name), `http://127.0.0.1:${s.defaultPort}/`)]),
  ) as Record<SubgraphName, string>;
  return {
    host: env.GATEWAY_HOST || '127.0.0.1',
    port: integerSetting(env, 'GATEWAY_PORT', 4000, 0, 65535),
    supergraphFile: env.SUPERGRAPH_FILE || DEFAULT_SUPERGRAPH_FILE,
    subgraphUrls,
    subgraphTimeoutMs: integerSetting(env, 'SUBGRAPH_TIMEOUT_MS', 10_000, 100, 600_000),
    maxRequestBytes: integerSetting(env, 'MAX_REQUEST_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    logLevel,
  };
}
