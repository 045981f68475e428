/**
 * The witnesses a log submits its checkpoints to: each a URL (its
 * submission and monitoring prefix) and a verifier key (vkey, which holds
 * its name). Written in a setting as a comma-separated list of
 * `<url> <vkey>` pairs — neither a URL nor a vkey holds a space:
 *
 *   http://127.0.0.1:4090 witness.hunan.kuasheng.gov.cn+3f2a9c1d+BO8x…
 */
import { COSIGNATURE_V1, type NoteVerifierKey, NoteFormatError, parseVerifierKey } from '../audit/note.js';

export interface WitnessEndpoint {
  /** The witness's name: the key name of its cosignatures (the vkey's). */
  name: string;
  /** Its base URL: `<url>/add-checkpoint`, `<url>/checkpoint?origin=`. */
  url: string;
  /** Its verifier key, `<name>+<key id>+<base64(0x04 || public key)>`. */
  vkey: string;
}

/** A witness endpoint checked: its URL normalised (no trailing slash) and its vkey parsed. */
export interface CheckedWitness extends WitnessEndpoint {
  key: NoteVerifierKey;
}

/** Checks one endpoint; throws a TypeError saying what is wrong with it. */
export function checkWitnessEndpoint(endpoint: WitnessEndpoint): CheckedWitness {
  let key: NoteVerifierKey;
  try {
    key = parseVerifierKey(endpoint.vkey);
  } catch (error) {
    if (error instanceof NoteFormatError) throw new TypeError(`witness ${endpoint.name || endpoint.url}: ${error.message}`);
    throw error;
  }
  if (key.algorithm !== COSIGNATURE_V1) throw new TypeError(`witness ${key.name}: its vkey must be a cosignature/v1 key (algorithm 0x04)`);
  if (endpoint.name !== key.name) throw new TypeError(`witness ${endpoint.name}: its vkey is named ${key.name}`);
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    throw new TypeError(`witness ${key.name}: ${JSON.stringify(endpoint.url)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`witness ${key.name}: its URL must use http or https`);
  if (url.search || url.hash) throw new TypeError(`witness ${key.name}: its URL must have no query or fragment`);
  return { name: key.name, url: url.toString().replace(/\/+$/, ''), vkey: endpoint.vkey.trim(), key };
}

/** Reads a list of `<url> <vkey>` pairs, comma-separated; throws a TypeError naming the entry at fault. */
export function parseWitnessList(text: string): WitnessEndpoint[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const endpoints = entries.map((entry) => {
    const parts = entry.split(/\s+/);
    if (parts.length !== 2) throw new TypeError(`each entry must be "<url> <vkey>", got ${JSON.stringify(entry.slice(0, 120))}`);
    const [url, vkey] = parts;
    const name = vkey.split('+')[0];
    return checkWitnessEndpoint({ name, url, vkey });
  });
  const names = endpoints.map((endpoint) => endpoint.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new TypeError(`witness ${twice} is listed twice`);
  return endpoints.map(({ name, url, vkey }) => ({ name, url, vkey }));
}

/** The setting's text for a list of endpoints (what `npm start` gives the gateway). */
export function formatWitnessList(endpoints: readonly WitnessEndpoint[]): string {
  return endpoints.map((endpoint) => `${endpoint.url} ${endpoint.vkey}`).join(',');
}
