import {
  gcraBudgetOf,
  normalizeRateLimitOptions,
  refusal,
  type GcraBudget,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitSettings,
} from './rate-limit-options.js';

/** The in-process limiter also answers synchronously, for callers already on the hot path. */
export interface InProcessRateLimiter extends RateLimiter {
  /** Same as `consume`, without the promise. */
  decide(clientKey: string, province: string, units?: number): RateLimitDecision;
  /** Keys holding state right now (clients + provinces); bounded by the keys active within one window. */
  readonly size: number;
}

export interface InProcessRateLimiterOptions {
  /** Clock in epoch milliseconds. Default `Date.now`; tests freeze and advance it. */
  now?: () => number;
  /** How often, at most, full buckets are evicted. Default 10 000 ms. */
  sweepIntervalMs?: number;
}

/**
 * Request budgets kept in this process: right for a single replica with no
 * Redis, and the fallback while a configured Redis is down. Same semantics
 * as the Redis limiter (GCRA; both budgets checked before either is spent).
 *
 * Memory stays bounded: a key whose bucket has refilled carries no
 * information (absent = full), so it is evicted by a sweep that runs at most
 * once per `sweepIntervalMs`, piggybacked on requests rather than on a timer.
 */
export function createInProcessRateLimiter(settings: RateLimitSettings = {}, options: InProcessRateLimiterOptions = {}): InProcessRateLimiter {
  const limits = normalizeRateLimitOptions(settings);
  const clientBudget = gcraBudgetOf(limits.perClient);
  const provinceBudget = gcraBudgetOf(limits.perProvince);
  const now = options.now ?? Date.now;
  const sweepIntervalUs = (options.sweepIntervalMs ?? 10_000) * 1000;
  // Theoretical arrival time per key, in epoch microseconds.
  const clientTats = new Map<string, number>();
  const provinceTats = new Map<string, number>();
  let lastSweepUs = Math.round(now() * 1000);

  function sweep(nowUs: number): void {
    lastSweepUs = nowUs;
    for (const tats of [clientTats, provinceTats]) {
      for (const [key, tat] of tats) if (tat <= nowUs) tats.delete(key);
    }
  }

  function decide(clientKey: string, province: string, units = 1): RateLimitDecision {
    const nowUs = Math.round(now() * 1000);
    if (nowUs - lastSweepUs >= sweepIntervalUs) sweep(nowUs);

    const clientTat = nextTat(clientTats.get(clientKey), nowUs, clientBudget, units);
    const clientWait = clientTat - clientBudget.capacityUs - nowUs;
    if (clientWait > 0) return refusal('client', clientWait);
    const provinceTat = nextTat(provinceTats.get(province), nowUs, provinceBudget, units);
    const provinceWait = provinceTat - provinceBudget.capacityUs - nowUs;
    if (provinceWait > 0) return refusal('province', provinceWait);

    clientTats.set(clientKey, clientTat);
    provinceTats.set(province, provinceTat);
    return {
      allowed: true,
      retryAfterSeconds: 0,
      remaining: Math.min(remainingOf(clientTat, nowUs, clientBudget), remainingOf(provinceTat, nowUs, provinceBudget)),
    };
  }

  return {
    decide,
    consume: async (clientKey, province, units) => decide(clientKey, province, units),
    get size() {
      return clientTats.size + provinceTats.size;
    },
    async close() {
      clientTats.clear();
      provinceTats.clear();
    },
  };
}

/** The key's arrival time if `units` more are spent now (an absent or past time means a full bucket). */
function nextTat(tat: number | undefined, nowUs: number, budget: GcraBudget, units: number): number {
  return (tat === undefined || tat < nowUs ? nowUs : tat) + budget.intervalUs * units;
}

function remainingOf(tat: number, nowUs: number, budget: GcraBudget): number {
  return Math.floor((budget.capacityUs - (tat - nowUs)) / budget.intervalUs);
}
