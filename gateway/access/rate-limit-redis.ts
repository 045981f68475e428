import { accessKeys, accessScriptArgs, runAccessScript } from './script.js';
import type { InProcessRateLimiter } from './rate-limit-memory.js';
import { gcraBudgetOf, type RateLimitDecision, type RateLimiter, type RateLimitOptions } from './rate-limit-options.js';
import type { RedisConnection } from './redis-connection.js';

export interface RedisRateLimiterOptions {
  connection: RedisConnection;
  /** Close the connection with the limiter (true when the limiter opened it). */
  ownsConnection: boolean;
  limits: RateLimitOptions;
  keyPrefix: string;
  /** Serves while Redis is unavailable. */
  fallback: InProcessRateLimiter;
  /** Throttled warning. */
  warn: (obj: object, msg: string) => void;
}

/** Logged (throttled) while consume falls back to in-process budgets. */
export const FALLBACK_WARNING = 'Redis unavailable: rate limits fall back to this replica’s in-process budgets';

/**
 * Budgets shared by all replicas in Redis, spent atomically by one script
 * call per request.
 *
 * Fails open, to the in-process limiter: while Redis is down each replica
 * enforces the budgets on its own, so the fleet as a whole may allow up to
 * (replicas × limit) for those seconds. A lookup that a citizen's case is
 * waiting on matters more than an exact global budget during an outage;
 * revocation, by contrast, fails closed (see `revocation-redis.ts`).
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter & {
  /** Used by the access guard, which runs the same script with the revocation check. */
  readonly fallback: InProcessRateLimiter;
} {
  const { connection, fallback, warn } = options;
  const keys = accessKeys(options.keyPrefix);
  const args = accessScriptArgs(gcraBudgetOf(options.limits.perClient), gcraBudgetOf(options.limits.perProvince));

  async function consume(clientKey: string, province: string, units = 1): Promise<RateLimitDecision> {
    if (!connection.settled) await connection.firstAttempt;
    if (!connection.isReady()) {
      warn({ redisStatus: connection.client.status }, FALLBACK_WARNING);
      return fallback.decide(clientKey, province, units);
    }
    try {
      const { rate } = await runAccessScript(connection.client, keys.clientBudget(clientKey), keys.provinceBudget(province), undefined, args, units);
      return rate;
    } catch (error) {
      warn({ err: error }, FALLBACK_WARNING);
      return fallback.decide(clientKey, province, units);
    }
  }

  return {
    consume,
    fallback,
    async close() {
      await fallback.close();
      if (options.ownsConnection) await connection.close();
    },
  };
}
