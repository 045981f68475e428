/**
 * Key resolution per trusted issuer: a local key set for a JWKS file, a
 * remote one for a JWKS URL.
 *
 * The remote key set is kept here rather than in jose's `createRemoteJWKSet`
 * because jose, once its cache is older than `cacheMaxAge`, refetches and
 * fails verification when that fetch fails: an identity provider down for a
 * minute would then refuse every token it signed with keys the gateway
 * already holds. Here:
 *  - the key set is fetched when the authenticator is created, and retried
 *    in the background (every cooldown, at least a second) until it is had,
 *    without blocking start-up or the other issuers;
 *  - it is fetched again once older than `cacheMaxAgeMs`, one fetch in
 *    flight at a time;
 *  - an unknown kid refetches at most once per `cooldownMs` (rotation: the
 *    provider publishes its new key, the gateway picks it up on first use);
 *  - a failed fetch backs off for `cooldownMs`, so a provider that is down
 *    is not hit by every request bearing its tokens;
 *  - while the provider cannot be reached, the last key set fetched keeps
 *    verifying tokens, for at most `maxStaleMs` after it was fetched;
 *  - an outage is logged once through the outage log, never per request.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { createOutageLog, type OutageLog } from '../../common/outage-log.js';
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
  /** After a fetch, an unknown kid triggers a refetch only after this long, ms; also the back-off after a failed fetch. */
  cooldownMs: number;
  /** Timeout of one JWKS fetch, ms. */
  timeoutMs: number;
  /** While the provider cannot be reached, keys fetched at most this long ago keep verifying tokens, ms. */
  maxStaleMs: number;
  /** Where the outage of a provider is told (once, then summarised). Default: not logged. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** See `OutageLogOptions.intervalMs`. */
  outageLogIntervalMs?: number;
}

/** A key resolver for `jwtVerify`, plus a count of JWKS fetches (attempted on the network). */
export interface IssuerKeys {
  getKey: JWTVerifyGetKey;
  readonly fetches: number;
  /** Stops the background retries. */
  close(): void;
}

/** The background retry of a provider that could not be reached waits at least this long, ms. */
const MIN_RETRY_MS = 1000;

/** Creates the key resolver of one trusted issuer; a remote one starts fetching its keys at once, in the background. */
export function createIssuerKeys(issuer: TrustedIssuer, options: IssuerKeysOptions): IssuerKeys {
  if (issuer.keys.kind === 'file') {
    return { getKey: createLocalJWKSet(issuer.keys.jwks), fetches: 0, close() {} };
  }
  const url = issuer.keys.url;
  const outage: OutageLog | null =
    options.logger === undefined
      ? null
      : createOutageLog({
          logger: options.logger,
          outage: 'identity-provider-keys',
          fields: { issuer: issuer.issuer },
          subject: `the key set of ${issuer.issuer}`,
          effect: 'its tokens are verified with the keys last fetched, if any are recent enough, else refused (401 KEY_UNKNOWN)',
          intervalMs: options.outageLogIntervalMs,
        });
  let fetches = 0;
  let local: ReturnType<typeof createLocalJWKSet> | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: KeySetUnavailableError | null = null;
  let inFlight: Promise<void> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;

  const usable = (now: number) => local !== null && now - fetchedAt < options.maxStaleMs;

  /** One fetch, shared by everyone who asks while it runs; never throws (the outcome is in the state). */
  const fetchNow = (): Promise<void> => {
    inFlight ??= (async () => {
      attemptedAt = Date.now();
      fetches += 1;
      try {
        const jwks = await fetchPublicJwks(url, options.timeoutMs);
        local = createLocalJWKSet(jwks);
        fetchedAt = Date.now();
        lastFailure = null;
        outage?.recovered();
      } catch (error) {
        failedAt = Date.now();
        lastFailure = new KeySetUnavailableError(issuer.issuer, (error as Error).message, { cause: error });
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  /**
   * Fetches unless within the back-off after a failure. While the provider
   * is out, the request counts as affected by the outage, and is refused
   * unless keys recent enough are held.
   */
  const refresh = async (): Promise<void> => {
    if (inFlight !== null) await inFlight;
    else if (Date.now() - failedAt >= options.cooldownMs) await fetchNow();
    if (lastFailure === null) return;
    outage?.affected(lastFailure);
    if (!usable(Date.now())) throw lastFailure;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const now = Date.now();
    if (local === null || now - fetchedAt >= options.cacheMaxAgeMs) await refresh();
    try {
      return await (local as NonNullable<typeof local>)(header, token);
    } catch (error) {
      // A kid not in the set: perhaps a key the provider has just published. Once per cooldown.
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - attemptedAt < options.cooldownMs) throw error;
      await refresh();
      return (local as NonNullable<typeof local>)(header, token);
    }
  };

  // Fetched now, so that the first token need not wait; retried in the background until it is had.
  const retryDelay = Math.max(options.cooldownMs, MIN_RETRY_MS);
  const backgroundFetch = () => {
    retry = null;
    void fetchNow().then(() => {
      if (lastFailure !== null) outage?.affected(lastFailure);
      if (local === null && !closed) {
        retry = setTimeout(backgroundFetch, retryDelay);
        retry.unref();
      }
    });
  };
  backgroundFetch();

  return {
    getKey,
    get fetches() {
      return fetches;
    },
    close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      retry = null;
    },
  };
}

/** Far above any real JWKS; a larger answer is a misconfigured or hostile endpoint. */
const MAX_JWKS_BYTES = 1_048_576;

/**
 * Fetches a JWKS and checks it, so that a broken answer (bad JSON, not a key
 * set, private keys) counts as a failed fetch and backs off like a network
 * error, instead of being refetched on every request. Redirects are not
 * followed: the trust list names the key set's address.
 */
async function fetchPublicJwks(url: URL, timeoutMs: number): Promise<JSONWebKeySet> {
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: 'manual',
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    // fetch says only "fetch failed"; the log needs why (ECONNREFUSED, ENOTFOUND, a timeout).
    if ((error as Error).name === 'TimeoutError') throw new Error(`no answer within ${timeoutMs} ms`, { cause: error });
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    throw new Error(code === undefined ? (error as Error).message : `${(error as Error).message} (${code})`, { cause: error });
  }
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
    if (typeof key !== 'object' || key === null) throw new Error('answer is not a JWKS (a key is not an object)');
    if (privateKeyMember(key) !== undefined) throw new Error('JWKS contains private or secret key material');
  }
  return jwks as JSONWebKeySet;
}
