/**
 * The seal trust list: every issuing authority a verifier believes, with
 * its province and every public seal key it ever used. One JSON file,
 * written by `buildSealTrustList` and loaded by the gateway and by the
 * offline verifier of notary offices:
 *
 * ```json
 * { "version": 1, "generatedAt": "2026-03-01T08:00:00.000Z",
 *   "authorities": [ { "id": "430100-social-insurance", "name": "长沙市社会保险服务中心",
 *     "province": "430000", "provinceName": "湖南省",
 *     "jwks": { "keys": [ { "kty": "OKP", "crv": "Ed25519", "x": "…", "kid": "430100-social-insurance-20260301-9f3a2c",
 *                           "alg": "EdDSA", "use": "sig", "activatedAt": "…", "retiredAt": "…" } ] } } ] }
 * ```
 *
 * Validated completely at load: a mistake stops loading with an error
 * naming the field, because a half-understood trust list is a forged seal
 * waiting to be accepted. Keys are imported once, here, so verification
 * does no parsing of keys.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { privateKeyMember } from '../trust-list.js';
import { SealAuthorityError, SealTrustListError } from './errors.js';
import { SEAL_ALGORITHMS, type SealAlgorithm } from './types.js';
import { instantMillis } from './iso-instant.js';
import { normalizeSealAuthority, type SealAuthority } from './seal-authority.js';

/** Format version of the trust list file. */
export const SEAL_TRUST_LIST_VERSION = 1;

/** A public seal key as published: a JWK with a kid and the period it was in force. */
export interface SealPublicJwk extends JWK {
  kid: string;
  /** When the key became the authority's current seal key. */
  activatedAt?: string;
  /** When a newer key replaced it; absent for the current key. */
  retiredAt?: string;
}

/** One authority of the trust list file. */
export interface SealTrustListAuthorityFile {
  id: string;
  name: string;
  province: string;
  provinceName: string;
  jwks: { keys: SealPublicJwk[] };
}

/** The trust list file. */
export interface SealTrustListFile {
  version: typeof SEAL_TRUST_LIST_VERSION;
  generatedAt: string;
  authorities: SealTrustListAuthorityFile[];
}

/** A trusted public seal key, imported, with its authority and period in force. */
export interface TrustedSealKey {
  kid: string;
  alg: SealAlgorithm;
  key: CryptoKey;
  authority: SealAuthority;
  /** Epoch ms; null when the list does not say (keys from other systems). */
  activatedAt: number | null;
  retiredAt: number | null;
}

/** A validated trust list, ready for `verifyDocument`. */
export interface SealTrustList {
  /** Where it came from (absolute path, or a label for an inline object). */
  source: string;
  generatedAt: string;
  authorities: readonly SealAuthority[];
  /** Every key by kid; kids are unique across the whole list. */
  keys: ReadonlyMap<string, TrustedSealKey>;
}

const ROOT_FIELDS = new Set(['version', 'generatedAt', 'authorities', '$comment']);
const AUTHORITY_FIELDS = new Set(['id', 'name', 'province', 'provinceName', 'jwks', '$comment']);
/** Which curve a key type must use for each algorithm; nothing else is accepted. */
const KEY_SHAPES: Record<SealAlgorithm, { kty: string; crv: string }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

type Fail = (field: string, reason: string) => never;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a trust list object (already parsed JSON) and imports its keys.
 * Refused: private or symmetric key material, unknown province codes, a
 * provinceName that is not the province's, duplicate authority ids or kids,
 * algorithms other than EdDSA and ES256, unknown members (a misspelt field
 * must not silently drop a rule; `$comment` is allowed).
 *
 * @param source named in error messages.
 * @throws {SealTrustListError} naming the field at fault.
 */
export async function parseSealTrustList(value: unknown, source = '(inline trust list)'): Promise<SealTrustList> {
  const fail: Fail = (field, reason) => {
    throw new SealTrustListError(source, field, reason);
  };
  if (!isRecord(value)) return fail('(root)', 'must be a JSON object');
  for (const key of Object.keys(value)) {
    if (!ROOT_FIELDS.has(key)) fail(key, `is not a trust list field (expected ${[...ROOT_FIELDS].join(', ')})`);
  }
  if (value.version !== SEAL_TRUST_LIST_VERSION) fail('version', `must be ${SEAL_TRUST_LIST_VERSION}, got ${JSON.stringify(value.version)}`);
  if (instantMillis(value.generatedAt) === null) fail('generatedAt', 'must be an ISO 8601 instant with offset');
  // Empty is allowed: it trusts nobody, which fails closed (a platform before its first authority seals).
  if (!Array.isArray(value.authorities)) return fail('authorities', 'must be an array');

  const authorities: SealAuthority[] = [];
  const keys = new Map<string, TrustedSealKey>();
  const authorityIndex = new Map<string, number>();
  for (const [index, entry] of value.authorities.entries()) {
    const at = `authorities[${index}]`;
    const authority = validateAuthority(entry, at, fail);
    const previous = authorityIndex.get(authority.id);
    if (previous !== undefined) fail(`${at}.id`, `repeats authorities[${previous}] (${authority.id})`);
    authorityIndex.set(authority.id, index);
    authorities.push(authority);
    const jwks = (entry as Record<string, unknown>).jwks;
    if (!isRecord(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length === 0)
      return fail(`${at}.jwks`, 'must be a JWKS: an object with a non-empty "keys" array');
    for (const [k, jwk] of jwks.keys.entries()) {
      const key = await validateKey(jwk, `${at}.jwks.keys[${k}]`, authority, fail);
      const other = keys.get(key.kid);
      // Kids are unique across authorities: the kid alone picks the key, and so the authority.
      if (other) fail(`${at}.jwks.keys[${k}].kid`, `repeats ${JSON.stringify(key.kid)}, already a key of ${other.authority.id}`);
      keys.set(key.kid, key);
    }
  }
  return Object.freeze({ source, generatedAt: value.generatedAt as string, authorities: Object.freeze(authorities), keys });
}

function validateAuthority(entry: unknown, at: string, fail: Fail): SealAuthority {
  if (!isRecord(entry)) return fail(at, 'must be an object');
  for (const key of Object.keys(entry)) {
    if (!AUTHORITY_FIELDS.has(key)) fail(`${at}.${key}`, `is not an authority field (expected one of ${[...AUTHORITY_FIELDS].join(', ')})`);
  }
  if (entry.province === undefined) fail(`${at}.province`, 'is required');
  let authority: SealAuthority;
  try {
    authority = normalizeSealAuthority({ id: entry.id as string, name: entry.name as string, province: entry.province as string });
  } catch (error) {
    if (error instanceof SealAuthorityError) return fail(`${at}.${error.field}`, error.message.replace(/^Invalid seal authority: \S+ /, ''));
    throw error;
  }
  if (entry.provinceName !== authority.provinceName) {
    fail(
      `${at}.provinceName`,
      `must be ${authority.provinceName}, the name of province ${authority.province}, got ${JSON.stringify(entry.provinceName)}`,
    );
  }
  return authority;
}

async function validateKey(jwk: unknown, at: string, authority: SealAuthority, fail: Fail): Promise<TrustedSealKey> {
  if (!isRecord(jwk)) return fail(at, 'must be an object');
  const secret = privateKeyMember(jwk);
  if (secret !== undefined) {
    fail(at, `contains private or secret key material ("${secret}"): publish public keys only, and treat this seal key as compromised`);
  }
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid === '' || kid.length > 128) return fail(`${at}.kid`, 'must be a non-empty string of at most 128 characters');
  const alg = (jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'EdDSA')) as SealAlgorithm;
  if (!(SEAL_ALGORITHMS as readonly unknown[]).includes(alg))
    fail(`${at}.alg`, `must be one of ${SEAL_ALGORITHMS.join(', ')}, got ${JSON.stringify(jwk.alg)}`);
  const shape = KEY_SHAPES[alg];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv)
    fail(at, `must be a ${shape.kty} key on ${shape.crv} for ${alg}, got kty ${JSON.stringify(jwk.kty)} crv ${JSON.stringify(jwk.crv)}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') fail(`${at}.use`, `must be "sig" when present, got ${JSON.stringify(jwk.use)}`);
  const activatedAt = optionalInstant(jwk.activatedAt, `${at}.activatedAt`, fail);
  const retiredAt = optionalInstant(jwk.retiredAt, `${at}.retiredAt`, fail);
  if (activatedAt !== null && retiredAt !== null && retiredAt < activatedAt) fail(`${at}.retiredAt`, 'is before activatedAt');
  let key: CryptoKey;
  try {
    // Only the key's own members: nothing else reaches the crypto layer.
    key = (await importJWK(
      { kty: jwk.kty as string, crv: jwk.crv as string, x: jwk.x as string, ...(jwk.y !== undefined ? { y: jwk.y as string } : {}) },
      alg,
    )) as CryptoKey;
  } catch (error) {
    return fail(at, `is not a valid ${alg} public key: ${(error as Error).message}`);
  }
  return Object.freeze({ kid, alg, key, authority, activatedAt, retiredAt });
}

function optionalInstant(value: unknown, field: string, fail: Fail): number | null {
  if (value === undefined) return null;
  const millis = instantMillis(value);
  return millis === null ? fail(field, 'must be an ISO 8601 instant with offset when present') : millis;
}

/**
 * Reads and validates a trust list file.
 *
 * @throws {SealTrustListError} when the file cannot be read, is not JSON, or is invalid.
 */
export async function loadSealTrustList(file: string): Promise<SealTrustList> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SealTrustListError(path, '(file)', `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SealTrustListError(path, '(file)', `is not valid JSON: ${(error as Error).message}`);
  }
  return parseSealTrustList(value, path);
}
