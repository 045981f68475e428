/**
 * Key resolution per trusted issuer: a local key set for a JWKS file, a
 * remote one for a JWKS URL. jose's remote key set already caches, keeps one
 * fetch in flight and refetches once for an unknown kid after a cooldown;
 * this module adds a back-off after a failed fetch, which jose does not have:
 * without it, every request bearing that issuer's token would hit an
 * identity provider that is down.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { privateKeyMember, type TrustedIssuer } from '../../common/trust-list.js';

/** The issuer's JWKS could not be fetched (network, HTTP status, timeout, or within the back-off after such a failure). */
export class KeySetUnavailableError extends Error {
  constructor(
    readonly issuer: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`JWKS of ${issuer} unavailable: ${reason}`, options);
    this.name = 'KeySetUnavailableError';
  }
}

export interface IssuerKeysOptions {
  /** Maximum age of fetched keys before they are fetched again, ms. */
  cacheMaxAgeMs: number;
  /** After a successful fetch, an unknown kid triggers a refetch only after this long, ms; also the back-off after a failed fetch. */
  cooldownMs: number;
  /** Timeout of one JWKS fetch, ms. */
  timeoutMs: number;
}

/** A key resolver for `jwtVerify`, plus a count of JWKS fetches (attempted on the network). */
export interface IssuerKeys {
  getKey: JWTVerifyGetKey;
  readonly fetches: number;
}

/** Creates the key resolver of one trusted issuer. */
export function createIssuerKeys(issuer: TrustedIssuer, options: IssuerKeysOptions): IssuerKeys {
  if (issuer.keys.kind === 'file') {
    return { getKey: createLocalJWKSet(issuer.keys.jwks), fetches: 0 };
  }
  let fetches = 0;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure = '';
  const remote = createRemoteJWKSet(issuer.keys.url, {
    cacheMaxAge: options.cacheMaxAgeMs,
    cooldownDuration: options.cooldownMs,
    timeoutDuration: options.timeoutMs,
    [customFetch]: async (url, init) => {
      if (Date.now() - failedAt < options.cooldownMs) {
        throw new KeySetUnavailableError(issuer.issuer, `backing off after: ${lastFailure}`);
      }
      fetches += 1;
      try {
        return await fetchPublicJwks(url, init);
      } catch (error) {
        failedAt = Date.now();
        lastFailure = (error as Error).message;
        throw new KeySetUnavailableError(issuer.issuer, lastFailure, { cause: error });
      }
    },
  });
  return {
    getKey: remote,
    get fetches() {
      return fetches;
    },
  };
}

/** Far above any real JWKS; a larger answer is a misconfigured or hostile endpoint. */
const MAX_JWKS_BYTES = 1_048_576;

/**
 * Fetches a JWKS and checks it before jose sees it, so that a broken answer
 * (bad JSON, not a key set, private keys) counts as a failed fetch and backs
 * off like a network error, instead of being refetched on every request.
 */
async function fetchPublicJwks(url: string, init: Parameters<typeof fetch>[1]): Promise<Response> {
  const response = await fetch(url, init);
  if (response.status !== 200) {
    // Drain the body so the connection can be reused.
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) throw new Error(`JWKS larger than ${MAX_JWKS_BYTES} bytes`);
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new Error('answer is not JSON');
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('answer is not a JWKS (no "keys" array)');
  for (const key of keys) {
    if (typeof key === 'object' && key !== null && privateKeyMember(key) !== undefined) {
      throw new Error('JWKS contains private or secret key material');
    }
  }
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
}
