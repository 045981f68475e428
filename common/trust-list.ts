/**
 * The trust list: which identity providers the gateway believes, for which
 * provinces, with which keys and algorithms. Loaded and validated once at
 * start-up; any mistake stops start-up with an error naming the issuer
 * index and field, because a half-understood trust list is a security hole.
 *
 * ```json
 * { "issuers": [ {
 *     "issuer": "https://idp.hunan.gov.example",
 *     "name": "湖南省统一身份认证平台",
 *     "provinces": ["430000"],
 *     "jwksFile": "hunan.jwks.json",            // or "jwksUrl": "https://…"
 *     "algorithms": ["ES256", "EdDSA"],
 *     "demo": false,                           // optional: a development issuer
 *     "clients": {                             // optional: settings per calling system (token subject)
 *       "hn-talent-office-01": { "trustedDocuments": "require" }
 *     }
 * } ] }
 * ```
 *
 * `trustedDocuments` is `allow` (the default: any query text, registered
 * documents too) or `require` (only the client's registered documents; see
 * `common/trusted-documents/manifest.ts`).
 *
 * `"$comment"` members are allowed anywhere for documentation; any other
 * unknown member is refused, so a misspelt field cannot silently drop a rule.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { ConfigError } from './settings.js';
import { PROVINCES } from './regions.js';

/**
 * Signature algorithms a trust list may allow: asymmetric only. HMAC (HS*)
 * is never allowed: with a shared secret the gateway could forge tokens, and
 * allowing it opens algorithm confusion (an RSA public key used as an HMAC
 * secret). `none` is never allowed. Please keep this list asymmetric.
 */
export const ALLOWED_ALGORITHMS = Object.freeze(['ES256', 'EdDSA', 'RS256', 'PS256'] as const);

/** One of {@link ALLOWED_ALGORITHMS}. */
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** Where an issuer's public keys come from. */
export type IssuerKeySource = { kind: 'file'; file: string; jwks: JSONWebKeySet } | { kind: 'url'; url: URL };

/** A trusted identity provider, validated. */
export interface TrustedIssuer {
  /** `iss` value, compared exactly with the token's. */
  issuer: string;
  /** Human-readable name, e.g. 湖南省统一身份认证平台. */
  name: string;
  /** Province-level codes this issuer may speak for. */
  provinces: ReadonlySet<string>;
  /** Allowed signature algorithms: a non-empty subset of {@link ALLOWED_ALGORITHMS}. */
  algorithms: readonly AllowedAlgorithm[];
  keys: IssuerKeySource;
  /** A development issuer whose private keys sit in the data folder; never in production. */
  demo: boolean;
  /** Settings per calling system, by token subject; a subject not named has the defaults. */
  clients: ReadonlyMap<string, TrustedClient>;
}

/** Whether a client may send any query text (`allow`) or only its registered documents (`require`). */
export type TrustedDocumentsMode = 'allow' | 'require';

/** A calling system's settings in the trust list. */
export interface TrustedClient {
  /** Default `allow`. */
  trustedDocuments: TrustedDocumentsMode;
}

export interface TrustList {
  /** Absolute path of the file it was loaded from. */
  file: string;
  issuers: readonly TrustedIssuer[];
}

export interface LoadTrustListOptions {
  /**
   * When set, every `jwksFile` is looked up by its file name in this folder
   * instead of at its configured path. For development and tests: the
   * development identity providers write their JWKS to `<dataDir>/dev-idp/`,
   * which need not be the `../data/dev-idp/` the committed trust list names.
   */
  jwksDir?: string;
}

/** The trust list is invalid; `field` names the place, e.g. `issuers[1].algorithms`. */
export class TrustListError extends ConfigError {
  constructor(
    readonly file: string,
    readonly field: string,
    reason: string,
  ) {
    super(field, reason);
    this.name = 'TrustListError';
    this.message = `Invalid trust list ${file}: ${field} ${reason}`;
  }
}

const PROVINCE_CODES: ReadonlySet<string> = new Set(PROVINCES.map((p) => p.code));
const ISSUER_FIELDS = new Set(['issuer', 'name', 'provinces', 'jwksFile', 'jwksUrl', 'algorithms', 'demo', 'clients', '$comment']);
const CLIENT_FIELDS = new Set(['trustedDocuments', '$comment']);
/** JWK members that only private or symmetric keys have. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The first member of `jwk` that only a private or symmetric key has, if any. */
export function privateKeyMember(jwk: object): string | undefined {
  return PRIVATE_JWK_MEMBERS.find((member) => Object.hasOwn(jwk, member));
}
const PUBLIC_KEY_TYPES = new Set(['EC', 'OKP', 'RSA']);

/**
 * Reads and validates a trust list file. Relative `jwksFile` paths resolve
 * against the trust list's own folder. JWKS files are read now; JWKS URLs
 * are fetched later, in the background (`gateway/auth/issuer-keys.ts`), so an
 * unreachable identity provider does not stop the gateway (its tokens fail
 * with KEY_UNKNOWN until it answers).
 *
 * @throws {TrustListError} naming the issuer index and field at fault.
 */
export async function loadTrustList(file: string, options: LoadTrustListOptions = {}): Promise<TrustList> {
  const path = resolve(file);
  const fail = (field: string, reason: string): never => {
    throw new TrustListError(path, field, reason);
  };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return fail('(file)', `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    return fail('(file)', `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(root)) return fail('(root)', 'must be a JSON object');
  for (const key of Object.keys(root)) {
    if (key !== 'issuers' && key !== '$comment') fail(key, 'is not a trust list field (expected "issuers")');
  }
  if (!Array.isArray(root.issuers) || root.issuers.length === 0) return fail('issuers', 'must be a non-empty array');

  const issuers: TrustedIssuer[] = [];
  const seen = new Map<string, number>();
  for (const [index, entry] of root.issuers.entries()) {
    const at = `issuers[${index}]`;
    const issuer = await validateIssuer(entry, at, dirname(path), options, fail);
    const previous = seen.get(issuer.issuer);
    if (previous !== undefined) fail(`${at}.issuer`, `duplicates issuers[${previous}] (${issuer.issuer})`);
    seen.set(issuer.issuer, index);
    issuers.push(issuer);
  }
  return { file: path, issuers };
}

type Fail = (field: string, reason: string) => never;

async function validateIssuer(entry: unknown, at: string, baseDir: string, options: LoadTrustListOptions, fail: Fail): Promise<TrustedIssuer> {
  if (!isRecord(entry)) return fail(at, 'must be an object');
  for (const key of Object.keys(entry)) {
    if (!ISSUER_FIELDS.has(key)) fail(`${at}.${key}`, `is not an issuer field (expected one of ${[...ISSUER_FIELDS].join(', ')})`);
  }

  const issuer = entry.issuer;
  if (typeof issuer !== 'string' || issuer === '') return fail(`${at}.issuer`, 'must be a non-empty string');
  checkEndpointUrl(issuer, `${at}.issuer`, fail);

  const name = entry.name;
  if (typeof name !== 'string' || name.trim() === '') fail(`${at}.name`, 'must be a non-empty string');

  // No wildcard: a national identity provider lists all 32 province-level
  // codes explicitly. The trust list is reviewed by people; "*" hides what is
  // granted, and would silently extend trust to any code added later.
  const provinces = entry.provinces;
  if (!Array.isArray(provinces) || provinces.length === 0)
    return fail(`${at}.provinces`, 'must be a non-empty array of 6-digit province-level codes');
  const provinceSet = new Set<string>();
  for (const [i, code] of provinces.entries()) {
    if (typeof code !== 'string' || !PROVINCE_CODES.has(code)) {
      fail(`${at}.provinces[${i}]`, `must be a GB/T 2260 province-level code such as 430000 (no wildcard), got ${JSON.stringify(code)}`);
    }
    if (provinceSet.has(code)) fail(`${at}.provinces[${i}]`, `repeats ${code}`);
    provinceSet.add(code);
  }

  const algorithms = entry.algorithms;
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    return fail(`${at}.algorithms`, `must be a non-empty array of ${ALLOWED_ALGORITHMS.join(', ')}`);
  for (const [i, alg] of algorithms.entries()) {
    if (!(ALLOWED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      fail(
        `${at}.algorithms[${i}]`,
        `must be one of ${ALLOWED_ALGORITHMS.join(', ')} (asymmetric only; HS* and none are refused), got ${JSON.stringify(alg)}`,
      );
    }
    if (algorithms.indexOf(alg) !== i) fail(`${at}.algorithms[${i}]`, `repeats ${alg}`);
  }

  const demo = entry.demo ?? false;
  if (typeof demo !== 'boolean') fail(`${at}.demo`, 'must be true or false');

  const hasFile = entry.jwksFile !== undefined;
  const hasUrl = entry.jwksUrl !== undefined;
  if (hasFile === hasUrl) fail(at, 'must have exactly one of jwksFile and jwksUrl');
  let keys: IssuerKeySource;
  if (hasFile) {
    const jwksFile = entry.jwksFile;
    if (typeof jwksFile !== 'string' || jwksFile === '') return fail(`${at}.jwksFile`, 'must be a non-empty path');
    const file =
      options.jwksDir !== undefined ? resolve(options.jwksDir, basename(jwksFile)) : isAbsolute(jwksFile) ? jwksFile : resolve(baseDir, jwksFile);
    keys = { kind: 'file', file, jwks: await readPublicJwks(file, `${at}.jwksFile`, fail) };
  } else {
    const jwksUrl = entry.jwksUrl;
    if (typeof jwksUrl !== 'string' || jwksUrl === '') return fail(`${at}.jwksUrl`, 'must be a non-empty URL');
    keys = { kind: 'url', url: checkEndpointUrl(jwksUrl, `${at}.jwksUrl`, fail) };
  }

  return {
    issuer,
    name: name as string,
    provinces: provinceSet,
    algorithms: Object.freeze([...algorithms] as AllowedAlgorithm[]),
    keys,
    demo: demo as boolean,
    clients: validateClients(entry.clients, `${at}.clients`, fail),
  };
}

function validateClients(clients: unknown, at: string, fail: Fail): ReadonlyMap<string, TrustedClient> {
  const map = new Map<string, TrustedClient>();
  if (clients === undefined) return map;
  if (!isRecord(clients)) return fail(at, 'must be an object of settings by token subject');
  for (const [subject, settings] of Object.entries(clients)) {
    if (subject === '$comment') continue;
    const here = `${at}.${subject}`;
    if (subject.trim() === '') fail(here, 'must be named by a non-empty subject');
    if (!isRecord(settings)) return fail(here, 'must be an object');
    for (const key of Object.keys(settings)) {
      if (!CLIENT_FIELDS.has(key)) fail(`${here}.${key}`, `is not a client field (expected one of ${[...CLIENT_FIELDS].join(', ')})`);
    }
    const mode = settings.trustedDocuments ?? 'allow';
    if (mode !== 'allow' && mode !== 'require') fail(`${here}.trustedDocuments`, `must be "allow" or "require", got ${JSON.stringify(mode)}`);
    map.set(subject, { trustedDocuments: mode as TrustedDocumentsMode });
  }
  return map;
}

/**
 * Issuers and JWKS URLs must be https. Plain http is allowed only on the
 * loopback interface, so tests can serve a JWKS from a local server; a JWKS
 * fetched over plain http from elsewhere could be swapped in transit.
 */
function checkEndpointUrl(value: string, field: string, fail: Fail): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(field, `must be an absolute https URL, got ${JSON.stringify(value)}`);
  }
  if (/\s/.test(value)) fail(field, 'must not contain white space');
  if (url.username !== '' || url.password !== '') fail(field, 'must not contain credentials');
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    fail(field, `must use https (http only for 127.0.0.1 or localhost), got ${JSON.stringify(value)}`);
  }
  return url;
}

/** Reads a JWKS file, refusing private or symmetric key material and keys without a unique kid. */
async function readPublicJwks(file: string, field: string, fail: Fail): Promise<JSONWebKeySet> {
  let jwks: unknown;
  try {
    jwks = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(field, `${file} cannot be read as JSON: ${code ?? (error as Error).message}`);
  }
  if (!isRecord(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    return fail(field, `${file} must be a JWKS: an object with a non-empty "keys" array`);
  }
  const kids = new Set<string>();
  for (const [i, key] of jwks.keys.entries()) {
    if (!isRecord(key)) return fail(field, `${file} keys[${i}] must be an object`);
    const secret = privateKeyMember(key);
    if (secret !== undefined) {
      fail(
        field,
        `${file} keys[${i}] contains private or secret key material ("${secret}"): publish public keys only, and treat this key as compromised`,
      );
    }
    if (typeof key.kty !== 'string' || !PUBLIC_KEY_TYPES.has(key.kty)) {
      fail(field, `${file} keys[${i}].kty must be one of ${[...PUBLIC_KEY_TYPES].join(', ')}, got ${JSON.stringify(key.kty)}`);
    }
    // Rotation relies on kid: the token names its key, old and new keys coexist.
    if (typeof key.kid !== 'string' || key.kid === '') fail(field, `${file} keys[${i}] must have a kid`);
    if (kids.has(key.kid as string)) fail(field, `${file} keys[${i}] repeats kid ${JSON.stringify(key.kid)}`);
    kids.add(key.kid as string);
  }
  return jwks as unknown as JSONWebKeySet;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
