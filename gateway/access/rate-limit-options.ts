import type { IntegerRange } from '../../common/settings.js';
import { AccessOptionError } from './errors.js';

/** One request budget: at most `limit` requests per `windowSeconds`. */
export interface RateBudget {
  /** Requests allowed per window, and the largest burst. Whole number ≥ 1. */
  limit: number;
  /** Window length in whole seconds, 1 – 86 400. */
  windowSeconds: number;
}

/**
 * Request budgets of the gateway. Each request spends one unit of its
 * caller's budget and one of its province's; both must have room.
 */
export interface RateLimitOptions {
  /** Per calling system (`iss` + `sub`), in cost units (a request spends its estimated cost, at least 1; a dossier about 15). Default 10 000 per 60 s. */
  perClient: RateBudget;
  /** Per province (shared by all callers speaking for it), in cost units. Default 300 000 per 60 s. */
  perProvince: RateBudget;
}

/** Rate-limit settings as given: any field may be left out for its default. */
export interface RateLimitSettings {
  perClient?: Partial<RateBudget>;
  perProvince?: Partial<RateBudget>;
}

/** The answer for one request. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until a retry can succeed (the `Retry-After` header); 0 when allowed. */
  retryAfterSeconds: number;
  /** Which budget refused the request; absent when allowed. */
  limitedBy?: 'client' | 'province';
  /** Requests either budget still allows right now (the smaller of the two); 0 when refused. */
  remaining: number;
}

/** Per-client and per-province request budgets. */
export interface RateLimiter {
  /**
   * Spends `units` (default 1: one request) of `clientKey`'s budget and of `province`'s, or
   * neither: a refused request consumes nothing, so a client hammering a full
   * budget does not push its own retry time further out, nor spend its
   * province's budget.
   */
  consume(clientKey: string, province: string, units?: number): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

/** The budgets' defaults and bounds (RATE_LIMIT_CLIENT, RATE_LIMIT_PROVINCE and RATE_LIMIT_WINDOW_SECONDS read them). */
export const RATE_LIMIT_RANGES = Object.freeze({
  perClientLimit: { default: 10_000, min: 1, max: 1_000_000_000 },
  perProvinceLimit: { default: 300_000, min: 1, max: 1_000_000_000 },
  windowSeconds: { default: 60, min: 1, max: 86_400 },
} satisfies Record<string, IntegerRange>);

export const DEFAULT_RATE_LIMITS: Readonly<RateLimitOptions> = Object.freeze({
  perClient: Object.freeze({ limit: RATE_LIMIT_RANGES.perClientLimit.default, windowSeconds: RATE_LIMIT_RANGES.windowSeconds.default }),
  perProvince: Object.freeze({ limit: RATE_LIMIT_RANGES.perProvinceLimit.default, windowSeconds: RATE_LIMIT_RANGES.windowSeconds.default }),
});

/**
 * Budgets are spent with GCRA (the generic cell rate algorithm, a token
 * bucket kept as one timestamp per key). Budgets are refilled continuously
 * at `limit / windowSeconds`, so there is no window boundary at which a
 * caller could spend twice its limit, and a refused caller can retry as soon
 * as one request's worth has refilled. This bound keeps the emission
 * interval ≥ 50 µs so that rounding it to whole microseconds (what Redis'
 * Lua can count exactly) changes the rate by under 1 %.
 */
export const MAX_REQUESTS_PER_SECOND = 20_000;

/** Fills defaults and checks the budgets; throws an {@link AccessOptionError} naming the bad field. */
export function normalizeRateLimitOptions(settings: RateLimitSettings = {}, option = 'rateLimits'): RateLimitOptions {
  if (settings === null || typeof settings !== 'object') throw new AccessOptionError(option, 'must be an object');
  return {
    perClient: normalizeBudget(settings.perClient, DEFAULT_RATE_LIMITS.perClient, `${option}.perClient`),
    perProvince: normalizeBudget(settings.perProvince, DEFAULT_RATE_LIMITS.perProvince, `${option}.perProvince`),
  };
}

function normalizeBudget(given: Partial<RateBudget> | undefined, fallback: RateBudget, option: string): RateBudget {
  if (given !== undefined && (given === null || typeof given !== 'object')) {
    throw new AccessOptionError(option, 'must be an object with limit and windowSeconds');
  }
  const windowSeconds = given?.windowSeconds ?? fallback.windowSeconds;
  const window = RATE_LIMIT_RANGES.windowSeconds;
  if (!Number.isInteger(windowSeconds) || windowSeconds < window.min || windowSeconds > window.max) {
    throw new AccessOptionError(
      `${option}.windowSeconds`,
      `must be a whole number of seconds from ${window.min} to ${window.max}, got ${String(windowSeconds)}`,
    );
  }
  const limit = given?.limit ?? fallback.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > RATE_LIMIT_RANGES.perClientLimit.max) {
    throw new AccessOptionError(`${option}.limit`, `must be a whole number from 1 to ${RATE_LIMIT_RANGES.perClientLimit.max}, got ${String(limit)}`);
  }
  if (limit / windowSeconds > MAX_REQUESTS_PER_SECOND) {
    throw new AccessOptionError(`${option}.limit`, `must not exceed ${MAX_REQUESTS_PER_SECOND} per second of the window`);
  }
  return { limit, windowSeconds };
}

/**
 * A budget in the form GCRA works with, in microseconds: one request costs
 * `intervalUs`; a key may run at most `capacityUs` (= limit × interval)
 * ahead of now, which is a burst of exactly `limit` requests.
 */
export interface GcraBudget {
  readonly intervalUs: number;
  readonly capacityUs: number;
}

/** Converts a budget to GCRA's microsecond form (once, at start-up). */
export function gcraBudgetOf(budget: RateBudget): GcraBudget {
  const intervalUs = Math.round((budget.windowSeconds * 1_000_000) / budget.limit);
  return { intervalUs, capacityUs: intervalUs * budget.limit };
}

/** The decision for a request refused because the budget needs `waitUs` more microseconds to refill. */
export function refusal(limitedBy: 'client' | 'province', waitUs: number): RateLimitDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitUs / 1_000_000)), limitedBy, remaining: 0 };
}
