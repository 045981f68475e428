/**
 * Per-client and per-province request budgets: with Redis, shared by all
 * gateway replicas (atomic Lua, GCRA); without, in process. The gateway
 * answers a refusal with HTTP 429, `Retry-After: <retryAfterSeconds>` and
 * `extensions.code: RATE_LIMITED`.
 */
import { REDIS_DOWN_WARNING, throttledWarning } from './logger.js';
import { normalizeAccessOptions, type AccessOptions } from './options.js';
import { createInProcessRateLimiter } from './rate-limit-memory.js';
import type { RateLimiter } from './rate-limit-options.js';
import { createRedisRateLimiter } from './rate-limit-redis.js';
import { openRedisConnection } from './redis-connection.js';

export {
  DEFAULT_RATE_LIMITS,
  MAX_REQUESTS_PER_SECOND,
  normalizeRateLimitOptions,
  type RateBudget,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitOptions,
  type RateLimitSettings,
} from './rate-limit-options.js';
export { createInProcessRateLimiter, type InProcessRateLimiter, type InProcessRateLimiterOptions } from './rate-limit-memory.js';

/** Settings of a stand-alone rate limiter (the access guard combines it with revocation). */
export type RateLimiterOptions = Pick<AccessOptions, 'redis' | 'rateLimits' | 'keyPrefix' | 'logger' | 'now' | 'warnIntervalSeconds'>;

/**
 * Creates the rate limiter: Redis-backed (failing open to in-process budgets
 * while Redis is down, with a throttled warning) when `redis` is set,
 * otherwise in-process. Throws an `AccessOptionError` for bad settings.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const settings = normalizeAccessOptions(options);
  const fallback = createInProcessRateLimiter(settings.rateLimits, { now: settings.now });
  if (!settings.redis) return fallback;
  const warn = throttledWarning(settings.logger, settings.warnIntervalMs, settings.now);
  const connection = openRedisConnection(settings.redis, (error) => warn({ err: error }, REDIS_DOWN_WARNING));
  return createRedisRateLimiter({
    connection,
    ownsConnection: true,
    limits: settings.rateLimits,
    keyPrefix: settings.keyPrefix,
    fallback,
    warn,
  });
}
