import { join } from 'node:path';
import { silentLogger, type AccessLogger } from './logger.js';
import { AccessOptionError } from './errors.js';
import { normalizeRateLimitOptions, type RateLimitOptions, type RateLimitSettings } from './rate-limit-options.js';
import { normalizeRedisSetting, type NormalizedRedisSetting, type RedisSetting } from './redis-connection.js';

/** Settings of the access layer (revocation and rate limits), shared by its factories. */
export interface AccessOptions {
  /**
   * Redis shared by all gateway replicas: a `redis://` URL or ioredis
   * options. Default: none, the embedded single-replica setup (revocations
   * in SQLite under `dataDir`, budgets in process).
   */
  redis?: RedisSetting;
  /** Folder of the embedded revocation list (`revocations.db`), used without Redis. Default `data`. */
  dataDir?: string;
  /** Request budgets; see {@link RateLimitOptions} for the defaults. */
  rateLimits?: RateLimitSettings;
  /** Prefix of every Redis key. Default `kuasheng:`; tests use a random one. */
  keyPrefix?: string;
  /** pino-compatible logger for warnings (Redis down). Default: silent. */
  logger?: AccessLogger;
  /**
   * Clock in epoch milliseconds for the embedded list and the in-process
   * limiter. Default `Date.now`. With Redis, budgets and revocation expiry
   * use Redis' own clock, so that all replicas agree.
   */
  now?: () => number;
  /**
   * Seconds a revocation is kept beyond the token's `exp`. Must be at least
   * the clock tolerance of token verification, or a revoked token would be
   * accepted again in the tolerance after its entry expired. Default 300.
   */
  revocationLeewaySeconds?: number;
  /** The same warning (e.g. Redis unreachable) is logged at most once per this many seconds. Default 30. */
  warnIntervalSeconds?: number;
}

export interface NormalizedAccessOptions {
  redis?: NormalizedRedisSetting;
  revocationFile: string;
  rateLimits: RateLimitOptions;
  keyPrefix: string;
  logger: AccessLogger;
  now: () => number;
  revocationLeewaySeconds: number;
  warnIntervalMs: number;
}

export const DEFAULT_KEY_PREFIX = 'kuasheng:';
import { DEFAULT_DATA_DIR } from '../../common/settings.js';

export { DEFAULT_DATA_DIR };
export const DEFAULT_REVOCATION_LEEWAY_SECONDS = 300;
export const REVOCATION_FILE_NAME = 'revocations.db';

/** Fills defaults and checks every setting; throws an {@link AccessOptionError} naming the bad one. */
export function normalizeAccessOptions(options: AccessOptions = {}): NormalizedAccessOptions {
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir.trim() === '') throw new AccessOptionError('dataDir', 'must be a non-empty path');
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 100) {
    throw new AccessOptionError('keyPrefix', 'must be a string of at most 100 characters');
  }
  const logger = options.logger ?? silentLogger;
  if (typeof logger?.warn !== 'function') throw new AccessOptionError('logger', 'must have a warn(obj, msg) method');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new AccessOptionError('now', 'must be a function returning epoch milliseconds');
  const leeway = options.revocationLeewaySeconds ?? DEFAULT_REVOCATION_LEEWAY_SECONDS;
  if (!Number.isInteger(leeway) || leeway < 0 || leeway > 86_400) {
    throw new AccessOptionError('revocationLeewaySeconds', 'must be a whole number of seconds from 0 to 86400');
  }
  const warnIntervalSeconds = options.warnIntervalSeconds ?? 30;
  if (typeof warnIntervalSeconds !== 'number' || !(warnIntervalSeconds > 0) || !Number.isFinite(warnIntervalSeconds)) {
    throw new AccessOptionError('warnIntervalSeconds', 'must be a positive number of seconds');
  }
  return {
    redis: options.redis === undefined ? undefined : normalizeRedisSetting(options.redis),
    revocationFile: join(dataDir, REVOCATION_FILE_NAME),
    rateLimits: normalizeRateLimitOptions(options.rateLimits),
    keyPrefix,
    logger,
    now,
    revocationLeewaySeconds: leeway,
    warnIntervalMs: warnIntervalSeconds * 1000,
  };
}
