/**
 * The per-request access check of the gateway: is the token revoked, and do
 * its client and province have budget left? With Redis this is one atomic
 * script call, one round trip per request, because the gateway's CPU and
 * latency per request are benchmarked; without Redis, one SQLite lookup and
 * an in-process limiter.
 *
 *   revoked            → 401 UNAUTHENTICATED (the token is no longer valid)
 *   !rate.allowed      → 429 RATE_LIMITED, Retry-After: rate.retryAfterSeconds
 *   RevocationUnavailableError → 503 (fail closed)
 */
import { REDIS_DOWN_WARNING, throttledWarning } from './logger.js';
import { normalizeAccessOptions, type AccessOptions } from './options.js';
import { accessKeys, accessScriptArgs, NOT_EVALUATED, runAccessScript } from './script.js';
import { RevocationUnavailableError } from './errors.js';
import { createInProcessRateLimiter } from './rate-limit-memory.js';
import { gcraBudgetOf, type RateLimitDecision } from './rate-limit-options.js';
import { openRedisConnection } from './redis-connection.js';
import { createEmbeddedRevocationList } from './revocation-embedded.js';
import { createRedisRevocationList } from './revocation-redis.js';

/** Settings of the access guard; every field is optional and documented on {@link AccessOptions}. */
export type AccessGuardOptions = AccessOptions;

/** The outcome of {@link AccessGuard.check}. */
export interface AccessCheck {
  /** The token id is revoked: refuse as unauthenticated. No budget was spent. */
  revoked: boolean;
  /** The rate decision; when `revoked`, a refusal without `limitedBy` (nothing was evaluated). */
  rate: RateLimitDecision;
}

export interface AccessGuard {
  /** `redis`: shared by all replicas; `embedded`: this replica only (SQLite + in-process budgets). */
  readonly mode: 'redis' | 'embedded';
  /**
   * Checks revocation and spends one request of the client's and the
   * province's budgets (none if revoked or refused). Throws
   * `RevocationUnavailableError` when revocation cannot be checked: the
   * request must be refused (fail closed), and the rate part is moot.
   */
  check(tokenId: string, clientKey: string, province: string): Promise<AccessCheck>;
  /**
   * Spends `units` more of the client's and the province's budgets (an
   * operation that costs more than the one unit `check` spent), or neither
   * when they lack room; `remaining` is what the request's `check` said was
   * left. Embedded, the units are spent at once. With Redis they are spent
   * with the client's next check (one round trip per request still) or
   * within a second, whichever comes first; until then a request from the
   * same client may see a little more room than there is.
   */
  charge(clientKey: string, province: string, units: number, remaining: number): RateLimitDecision;
  /** Revokes a token id until its `exp` (epoch seconds) plus the leeway. See `RevocationList.revoke`. */
  revoke(tokenId: string, expiresAt: number, reason?: string): Promise<void>;
  close(): Promise<void>;
}

const CHARGE_WARNING = 'Redis did not take the units charged to a budget: they are dropped (rate limits fail open)';

/**
 * Creates the access guard once at start-up. Throws an `AccessOptionError`
 * naming the bad setting. With `redis`, the first checks wait (at most the
 * connect timeout, 1 s by default) for the first connection; afterwards a
 * check never waits longer than the command timeout (200 ms by default).
 */
export function createAccessGuard(options: AccessGuardOptions = {}): AccessGuard {
  const settings = normalizeAccessOptions(options);

  if (!settings.redis) {
    const revocations = createEmbeddedRevocationList({
      file: settings.revocationFile,
      leewaySeconds: settings.revocationLeewaySeconds,
      now: settings.now,
    });
    const limiter = createInProcessRateLimiter(settings.rateLimits, { now: settings.now });
    return {
      mode: 'embedded',
      async check(tokenId, clientKey, province) {
        if (revocations.isRevokedNow(tokenId)) return { revoked: true, rate: NOT_EVALUATED };
        return { revoked: false, rate: limiter.decide(clientKey, province) };
      },
      charge: (clientKey, province, units) => limiter.decide(clientKey, province, units),
      revoke: (tokenId, expiresAt, reason) => revocations.revoke(tokenId, expiresAt, reason),
      async close() {
        await Promise.all([revocations.close(), limiter.close()]);
      },
    };
  }

  const warn = throttledWarning(settings.logger, settings.warnIntervalMs, settings.now);
  // The connection's failures are logged here (throttled), also while no request comes; the requests they refuse are
  // logged by the caller (the gateway's outage log), with the last of them as the cause.
  let connectionError: Error | undefined;
  const connection = openRedisConnection(settings.redis, (error) => {
    connectionError = error;
    warn({ err: error }, REDIS_DOWN_WARNING);
  });
  const revocations = createRedisRevocationList({
    connection,
    ownsConnection: false,
    keyPrefix: settings.keyPrefix,
    leewaySeconds: settings.revocationLeewaySeconds,
  });
  const keys = accessKeys(settings.keyPrefix);
  const clientBudget = gcraBudgetOf(settings.rateLimits.perClient);
  const args = accessScriptArgs(clientBudget, gcraBudgetOf(settings.rateLimits.perProvince));
  // Units charged (an operation's cost beyond its first unit), per client and province, not yet spent in Redis:
  // spent with the client's next check, or by the flush each second. A Redis outage loses them (rate limits fail open).
  const debts = new Map<string, number>();
  const flush = async () => {
    const pending = [...debts];
    debts.clear();
    await Promise.all(
      pending.map(async ([key, units]) => {
        const [clientKey, province] = key.split('\u0000');
        if (!connection.isReady()) return;
        try {
          await runAccessScript(connection.client, keys.clientBudget(clientKey), keys.provinceBudget(province), undefined, args, units);
        } catch (error) {
          warn({ err: error }, CHARGE_WARNING);
        }
      }),
    );
  };
  const flushing = setInterval(() => void flush(), 1000);
  flushing.unref();

  return {
    mode: 'redis',
    async check(tokenId, clientKey, province) {
      if (!connection.settled) await connection.firstAttempt;
      // Fail closed without building a command that cannot be sent.
      if (!connection.isReady()) throw new RevocationUnavailableError({ cause: connectionError });
      const key = `${clientKey}\u0000${province}`;
      const debt = debts.get(key);
      if (debt !== undefined) debts.delete(key);
      try {
        return await runAccessScript(
          connection.client,
          keys.clientBudget(clientKey),
          keys.provinceBudget(province),
          keys.revoked(tokenId),
          args,
          1 + (debt ?? 0),
        );
      } catch (error) {
        // Not logged here: the caller logs the outage it is part of (with this as its cause), not each refused check.
        throw new RevocationUnavailableError({ cause: error });
      }
    },
    charge(clientKey, province, units, remaining) {
      // More than the check said was left (of the smaller of the two budgets, so which one is not known):
      // refused, to retry once the client's budget could have refilled that much.
      if (units > remaining)
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(((units - remaining) * clientBudget.intervalUs) / 1_000_000)),
          remaining: 0,
        };
      const key = `${clientKey}\u0000${province}`;
      debts.set(key, (debts.get(key) ?? 0) + units);
      return { allowed: true, retryAfterSeconds: 0, remaining: remaining - units };
    },
    revoke: (tokenId, expiresAt, reason) => revocations.revoke(tokenId, expiresAt, reason),
    async close() {
      clearInterval(flushing);
      await flush();
      await connection.close();
    },
  };
}
