/**
 * Authentication: turns an `Authorization: Bearer <JWT>` header into a
 * verified {@link Caller}, or refuses it with an {@link AuthenticationError}
 * carrying a stable reason.
 *
 * Order of checks, cheapest and safest first:
 *  1. size, before any parsing;
 *  2. shape: `Bearer <header>.<payload>.<signature>`;
 *  3. verification cache: a token seen before costs a hash and a lookup;
 *  4. protected header: `alg` must be asymmetric and allowed, before any key
 *     is used (this is what defeats `alg: none` and algorithm confusion);
 *  5. unverified `iss`, only to choose the issuer's key set and algorithms;
 *  6. jose `jwtVerify`: signature, iss, aud, exp, nbf, required claims;
 *  7. claims model: types, iat, lifetime, province of the issuer.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { ConfigError, type IntegerRange } from '../../common/settings.js';
import { isMatterCodeSyntax, parseScopeClaim, type Caller } from './caller.js';
import { AuthenticationError } from './authentication-error.js';
import { createIssuerKeys, KeySetUnavailableError, type IssuerKeys } from './issuer-keys.js';
import { ALLOWED_ALGORITHMS, loadTrustList, type TrustedIssuer, type TrustList } from '../../common/trust-list.js';
import { VerificationCache } from './verification-cache.js';

export { AuthenticationError, AUTHENTICATION_REASONS, type AuthenticationReason } from './authentication-error.js';

export interface AuthenticatorOptions {
  /** Path of the trust list (JSON); see `trust-list.ts`. Required. */
  trustListFile: string;
  /** The `aud` tokens must carry, e.g. `kuasheng-gateway`. Required. */
  audience: string;
  /** Allowed clock skew for exp, nbf and iat, seconds. Default 30, at most 300. */
  clockToleranceSeconds?: number;
  /** Largest Authorization header value accepted, bytes; checked before any parsing. Default 8192. */
  maxTokenBytes?: number;
  /** Tokens whose `exp - iat` exceeds this are refused (LIFETIME_TOO_LONG), seconds. Default 3600. */
  maxLifetimeSeconds?: number;
  /** How long fetched JWKS keys are used before fetching again, ms. Default 600000 (10 minutes). */
  jwksCacheMaxAgeMs?: number;
  /**
   * An unknown kid triggers a JWKS refetch at most once per this period, ms;
   * also the back-off after a failed fetch. Default 30000.
   */
  jwksCooldownMs?: number;
  /** Timeout of one JWKS fetch, ms. Default 5000. */
  jwksTimeoutMs?: number;
  /**
   * While an identity provider cannot be reached, the keys last fetched from
   * it keep verifying its tokens for at most this long after they were
   * fetched, ms; then its tokens are refused (KEY_UNKNOWN). Default 86400000 (a day).
   */
  jwksMaxStaleMs?: number;
  /** Where an identity provider's outage is told: once, summarised while it lasts, and when it ends. Default: not logged. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** See `OutageLogOptions.intervalMs`. Default 30000. */
  outageLogIntervalMs?: number;
  /** Verified tokens remembered, least recently used evicted first; 0 disables the cache. Default 10000. */
  cacheMaxEntries?: number;
  /**
   * A verified token is served from the cache for at most this long (and never
   * past its exp), seconds; bounds how long a key removed from a JWKS keeps
   * working for tokens already seen. Default 300.
   */
  cacheTtlSeconds?: number;
  /** See `LoadTrustListOptions.jwksDir`: look JWKS files up by name in this folder. Default: unset. */
  jwksDir?: string;
  /** Clock, epoch milliseconds; for tests. Default `Date.now`. */
  now?: () => number;
}

/** {@link AuthenticatorOptions} with every default filled in. */
export type NormalizedAuthenticatorOptions = Required<Omit<AuthenticatorOptions, 'jwksDir' | 'logger' | 'outageLogIntervalMs'>> &
  Pick<AuthenticatorOptions, 'jwksDir' | 'logger' | 'outageLogIntervalMs'>;

/** Counters, for metrics and tests. */
export interface AuthenticatorStats {
  /** Tokens that reached cryptographic verification. */
  verifications: number;
  /** Tokens answered from the verification cache. */
  cacheHits: number;
  /** Entries in the verification cache now. */
  cacheSize: number;
  /** JWKS fetches attempted on the network, all issuers. */
  jwksFetches: number;
}

export interface Authenticator {
  /**
   * Verifies the `Authorization` header value and returns the caller.
   * @throws {AuthenticationError} with a stable `reason` when it is missing or not acceptable.
   */
  authenticate(authorization: string | undefined): Promise<Caller>;
  /** A snapshot of the counters. */
  stats(): AuthenticatorStats;
  /** The options in force, defaults filled. */
  readonly options: Readonly<NormalizedAuthenticatorOptions>;
  /** The trust list it verifies tokens against (its per-client settings are read by other concerns). */
  readonly trustList: TrustList;
  /** Stops the background fetches of key sets not had yet. */
  close(): void;
}

const REQUIRED_CLAIMS = ['sub', 'org', 'province', 'scope', 'jti', 'exp', 'iat'];
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer +/i;
/** Untrusted values quoted in log details are cut to this length. */
const DETAIL_VALUE_LIMIT = 120;

/** The integer options' defaults and bounds (CLOCK_TOLERANCE_SECONDS reads the first). */
export const AUTHENTICATOR_RANGES = Object.freeze({
  clockToleranceSeconds: { default: 30, min: 0, max: 300 },
  maxTokenBytes: { default: 8192, min: 256, max: 65_536 },
  maxLifetimeSeconds: { default: 3600, min: 60, max: 86_400 },
  jwksCacheMaxAgeMs: { default: 600_000, min: 1000, max: 86_400_000 },
  jwksCooldownMs: { default: 30_000, min: 0, max: 3_600_000 },
  jwksTimeoutMs: { default: 5000, min: 100, max: 60_000 },
  jwksMaxStaleMs: { default: 86_400_000, min: 0, max: 604_800_000 },
  cacheMaxEntries: { default: 10_000, min: 0, max: 1_000_000 },
  cacheTtlSeconds: { default: 300, min: 1, max: 86_400 },
} satisfies Record<string, IntegerRange>);

/**
 * Fills defaults and checks every option.
 * @throws {ConfigError} whose `variable` names the bad option.
 */
export function normalizeAuthenticatorOptions(options: AuthenticatorOptions): NormalizedAuthenticatorOptions {
  if (typeof options?.trustListFile !== 'string' || options.trustListFile.trim() === '') {
    throw new ConfigError('trustListFile', 'must be the path of a trust list file');
  }
  if (typeof options.audience !== 'string' || options.audience.trim() === '') {
    throw new ConfigError('audience', 'must be a non-empty string, e.g. kuasheng-gateway');
  }
  if (options.jwksDir !== undefined && (typeof options.jwksDir !== 'string' || options.jwksDir === '')) {
    throw new ConfigError('jwksDir', 'must be a folder path when set');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ConfigError('now', 'must be a function returning epoch milliseconds');
  }
  return {
    trustListFile: options.trustListFile,
    audience: options.audience,
    clockToleranceSeconds: integerOption(options, 'clockToleranceSeconds'),
    maxTokenBytes: integerOption(options, 'maxTokenBytes'),
    maxLifetimeSeconds: integerOption(options, 'maxLifetimeSeconds'),
    jwksCacheMaxAgeMs: integerOption(options, 'jwksCacheMaxAgeMs'),
    jwksCooldownMs: integerOption(options, 'jwksCooldownMs'),
    jwksTimeoutMs: integerOption(options, 'jwksTimeoutMs'),
    jwksMaxStaleMs: integerOption(options, 'jwksMaxStaleMs'),
    cacheMaxEntries: integerOption(options, 'cacheMaxEntries'),
    cacheTtlSeconds: integerOption(options, 'cacheTtlSeconds'),
    jwksDir: options.jwksDir,
    logger: options.logger,
    outageLogIntervalMs: options.outageLogIntervalMs,
    now: options.now ?? Date.now,
  };
}

function integerOption(options: AuthenticatorOptions, name: keyof typeof AUTHENTICATOR_RANGES): number {
  const { default: fallback, min, max } = AUTHENTICATOR_RANGES[name];
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Normalises the options, loads and validates the trust list, and returns an
 * authenticator. JWKS URLs are fetched in the background from now on (see
 * `issuer-keys.ts`): an identity provider that is down does not hold up
 * start-up; its tokens are refused (KEY_UNKNOWN) until it answers.
 * @throws {ConfigError} naming the bad option, or {@link TrustListError} naming the bad trust list field.
 */
export async function createAuthenticator(options: AuthenticatorOptions): Promise<Authenticator> {
  const settings = normalizeAuthenticatorOptions(options);
  const trustList = await loadTrustList(settings.trustListFile, { jwksDir: settings.jwksDir });
  const issuers = new Map<string, { issuer: TrustedIssuer; keys: IssuerKeys }>();
  for (const issuer of trustList.issuers) {
    const keys = createIssuerKeys(issuer, {
      cacheMaxAgeMs: settings.jwksCacheMaxAgeMs,
      cooldownMs: settings.jwksCooldownMs,
      timeoutMs: settings.jwksTimeoutMs,
      maxStaleMs: settings.jwksMaxStaleMs,
      logger: settings.logger,
      outageLogIntervalMs: settings.outageLogIntervalMs,
    });
    issuers.set(issuer.issuer, { issuer, keys });
  }
  const cache = new VerificationCache(settings.cacheMaxEntries, settings.cacheTtlSeconds * 1000);
  // Concurrent requests with the same fresh token share one verification.
  const inFlight = new Map<string, Promise<Caller>>();
  const counters = { verifications: 0, cacheHits: 0 };
  const toleranceMs = settings.clockToleranceSeconds * 1000;

  async function verify(token: string): Promise<Caller> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AuthenticationError('TOKEN_MALFORMED', 'protected header is not base64url JSON');
    }
    const alg = header.alg;
    // Before any key is touched: none, HS* (and so algorithm confusion) and
    // anything not asymmetric never reach jwtVerify. Please leave this first.
    if (typeof alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new AuthenticationError('ALGORITHM_NOT_ALLOWED', `alg ${quote(alg)} is never allowed`);
    }
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new AuthenticationError('TOKEN_MALFORMED', 'payload is not a base64url JSON object');
    }
    // Read unverified only to choose the key set; jwtVerify checks iss again.
    const trusted = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
    if (trusted === undefined) {
      throw new AuthenticationError('ISSUER_UNTRUSTED', `iss ${quote(unverified.iss)} is not in the trust list`);
    }
    const { issuer, keys } = trusted;
    if (!(issuer.algorithms as readonly string[]).includes(alg)) {
      throw new AuthenticationError('ALGORITHM_NOT_ALLOWED', `alg ${alg} is not allowed for ${issuer.issuer}`);
    }

    counters.verifications += 1;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        algorithms: [...issuer.algorithms],
        issuer: issuer.issuer,
        audience: settings.audience,
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(settings.now()),
      }));
    } catch (error) {
      throw verificationError(error, issuer.issuer, header.kid);
    }
    return callerFrom(payload, issuer);
  }

  /** The claims model on a verified payload: types, iat, lifetime, province. */
  function callerFrom(payload: JWTPayload, issuer: TrustedIssuer): Caller {
    const { sub, org, province, scope, jti, exp, iat, matters } = payload as Record<string, unknown>;
    for (const [claim, value] of Object.entries({ sub, org, province, scope, jti })) {
      if (typeof value !== 'string' || (claim !== 'scope' && value.trim() === '')) {
        throw new AuthenticationError('CLAIM_MISSING', `${claim} must be a non-empty string (iss ${issuer.issuer})`);
      }
    }
    // jwtVerify has checked that exp and iat are numbers.
    const expiresAt = exp as number;
    const issuedAt = iat as number;
    const nowSeconds = Math.floor(settings.now() / 1000);
    if (issuedAt > nowSeconds + settings.clockToleranceSeconds) {
      throw new AuthenticationError('TOKEN_NOT_YET_VALID', `iat ${issuedAt} is in the future (now ${nowSeconds}, iss ${issuer.issuer})`);
    }
    if (expiresAt - issuedAt > settings.maxLifetimeSeconds) {
      throw new AuthenticationError(
        'LIFETIME_TOO_LONG',
        `exp - iat = ${expiresAt - issuedAt}s exceeds ${settings.maxLifetimeSeconds}s (iss ${issuer.issuer})`,
      );
    }
    const scopes = parseScopeClaim(scope as string);
    if (scopes === undefined) {
      throw new AuthenticationError('CLAIM_MISSING', `scope has a malformed entry (iss ${issuer.issuer})`);
    }
    let matterCodes: readonly string[] | undefined;
    if (matters !== undefined) {
      if (!Array.isArray(matters) || !matters.every((m) => typeof m === 'string' && isMatterCodeSyntax(m))) {
        throw new AuthenticationError('CLAIM_MISSING', `matters must be an array of matter codes (iss ${issuer.issuer})`);
      }
      matterCodes = Object.freeze([...new Set(matters as string[])]);
    }
    if (!issuer.provinces.has(province as string)) {
      throw new AuthenticationError('PROVINCE_NOT_ALLOWED', `province ${quote(province)} is not among those of ${issuer.issuer}`);
    }
    return {
      subject: sub as string,
      organisation: org as string,
      province: province as string,
      issuer: issuer.issuer,
      tokenId: jti as string,
      scopes,
      expiresAt,
      ...(matterCodes !== undefined && { matters: matterCodes }),
    };
  }

  /** A fresh copy per request: the cached caller is shared, the request's must not be. */
  function copyOf(caller: Caller): Caller {
    return { ...caller, scopes: new Set(caller.scopes) };
  }

  return {
    options: Object.freeze({ ...settings }),
    trustList,

    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') throw new AuthenticationError('TOKEN_MISSING');
      // Size first: nothing larger is even looked at.
      if (authorization.length > settings.maxTokenBytes) {
        throw new AuthenticationError('TOKEN_TOO_LARGE', `Authorization header of ${authorization.length} bytes exceeds ${settings.maxTokenBytes}`);
      }
      if (authorization.trim() === '') throw new AuthenticationError('TOKEN_MISSING');
      const scheme = BEARER.exec(authorization);
      const token = scheme === null ? '' : authorization.slice(scheme[0].length).trimEnd();
      if (!JWS_COMPACT.test(token)) {
        throw new AuthenticationError('TOKEN_MALFORMED', scheme === null ? 'scheme is not Bearer' : 'not a JWS in compact serialisation');
      }

      const key = VerificationCache.keyOf(token);
      const nowMs = settings.now();
      const cached = cache.get(key, nowMs);
      if (cached !== undefined) {
        // Expiry is enforced on hits too, with the same tolerance as jose's.
        if (cached.expiresAt * 1000 + toleranceMs <= nowMs) {
          throw new AuthenticationError('TOKEN_EXPIRED', `exp ${cached.expiresAt} passed (iss ${cached.issuer})`);
        }
        counters.cacheHits += 1;
        return copyOf(cached);
      }

      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = verify(token).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
        const caller = await pending;
        cache.set(key, caller, settings.now(), toleranceMs);
        return copyOf(caller);
      }
      return copyOf(await pending);
    },

    close() {
      for (const { keys } of issuers.values()) keys.close();
    },

    stats() {
      let jwksFetches = 0;
      for (const { keys } of issuers.values()) jwksFetches += keys.fetches;
      return { ...counters, cacheSize: cache.size, jwksFetches };
    },
  };
}

/** Maps an error from jwtVerify (or key resolution) to a reason; unexpected errors propagate as internal. */
function verificationError(error: unknown, issuer: string, kid: unknown): AuthenticationError | unknown {
  const about = `iss ${issuer}, kid ${quote(kid)}`;
  if (error instanceof KeySetUnavailableError) {
    return new AuthenticationError('KEY_UNKNOWN', `${error.message} (${about})`, { cause: error.cause });
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthenticationError('KEY_UNKNOWN', `no key in the JWKS matches (${about})`);
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthenticationError('KEY_UNKNOWN', `token names no kid and several keys match (${about})`);
  }
  if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) {
    return new AuthenticationError('KEY_UNKNOWN', `no usable key: ${error.message} (${about})`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('SIGNATURE_INVALID', `signature does not verify (${about})`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthenticationError('ALGORITHM_NOT_ALLOWED', `${error.message} (${about})`);
  }
  if (error instanceof errors.JWTExpired) {
    return new AuthenticationError('TOKEN_EXPIRED', `${error.claim} check failed (${about})`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    // The error's payload holds the claims; only the claim name goes to the log.
    const detail = `${error.claim}: ${error.reason} (${about})`;
    if (error.claim === 'aud') return new AuthenticationError('AUDIENCE_MISMATCH', detail);
    if (error.reason === 'missing' || error.reason === 'invalid') return new AuthenticationError('CLAIM_MISSING', detail);
    if (error.claim === 'nbf' || error.claim === 'iat') return new AuthenticationError('TOKEN_NOT_YET_VALID', detail);
    if (error.claim === 'iss') return new AuthenticationError('ISSUER_UNTRUSTED', detail);
    return new AuthenticationError('CLAIM_MISSING', detail);
  }
  // JOSENotSupported here is a critical header extension ("crit") jose does not implement.
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError('TOKEN_MALFORMED', `${error.message} (${about})`);
  }
  return error;
}

/** Quotes an untrusted value for a log detail, cut short. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > DETAIL_VALUE_LIMIT ? `${text.slice(0, DETAIL_VALUE_LIMIT)}…` : text;
}
