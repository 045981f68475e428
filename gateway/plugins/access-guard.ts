import type { Logger } from 'pino';
import { RevocationUnavailableError } from '../access/errors.js';
import type { AccessGuard } from '../access/guard.js';
import { rejection } from '../errors.js';
import type { RateLimitDecision } from '../access/rate-limit-options.js';
import type { GatewayContext, RequestContext } from '../pipeline/context.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

/** The access guard plugin, and the budgets' charge for what an operation costs beyond its first unit. */
export interface AccessGuardPlugin extends GatewayPlugin {
  /** Spends `units` more of the request's client and province budgets (demand control), or refuses. */
  charge(context: GatewayContext, units: number): RateLimitDecision;
}

export interface AccessGuardPluginOptions {
  /** Revocation list and rate budgets (access/guard.ts: embedded, or Redis). */
  guard: AccessGuard;
  /** While the revocation list is unavailable, one warning per this many ms. Default 30000. */
  warnIntervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/** How often an outage of the revocation list is logged while it lasts. */
export const OUTAGE_WARNING_INTERVAL_MS = 30_000;

/**
 * Access checks of an authenticated caller: a revoked token is 401, a
 * client or province over its budget 429 with Retry-After, and when
 * revocation cannot be checked the gateway fails closed (503).
 */
export function useAccessGuard(options: AccessGuardPluginOptions): AccessGuardPlugin {
  const { guard } = options;
  const now = options.now ?? Date.now;
  const intervalMs = options.warnIntervalMs ?? OUTAGE_WARNING_INTERVAL_MS;
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  let refusedSince = 0;
  const refusedDuringOutage = (logger: Pick<Logger, 'warn'>, error: Error) => {
    refusedSince += 1;
    const at = now();
    if (at - lastWarnedAt < intervalMs) return;
    lastWarnedAt = at;
    logger.warn(
      { reason: error.message, refusedSinceLastWarning: refusedSince },
      'requests refused: the revocation list is unavailable (fail closed, 503)',
    );
    refusedSince = 0;
  };
  // What each admitted request's check said was left of its budgets.
  const remaining = new WeakMap<RequestContext, number>();
  return {
    name: 'access-guard',
    charge(context, units) {
      const { caller } = context;
      return guard.charge(`${caller.issuer} ${caller.subject}`, caller.province, units, remaining.get(context) ?? 0);
    },
    after: ['authentication'],
    async onAdmission(_request, context) {
      const caller = context.caller;
      if (caller === null) return undefined; // not authenticated: admission refuses it anyway
      try {
        const access = await guard.check(caller.tokenId, `${caller.issuer} ${caller.subject}`, caller.province);
        if (access.revoked) {
          context.logger.warn({ tokenId: caller.tokenId }, 'request refused: token revoked');
          return rejection('UNAUTHENTICATED', { reason: 'TOKEN_REVOKED' }, { 'www-authenticate': 'Bearer' });
        }
        if (!access.rate.allowed) {
          const retryAfter = String(Math.max(1, Math.ceil(access.rate.retryAfterSeconds)));
          return rejection(
            'RATE_LIMITED',
            { limitedBy: access.rate.limitedBy, retryAfterSeconds: Number(retryAfter) },
            { 'retry-after': retryAfter },
          );
        }
        remaining.set(context, access.rate.remaining);
        return undefined;
      } catch (error) {
        if (!(error instanceof RevocationUnavailableError)) throw error;
        // Every request of an outage is refused alike: one warning per interval (with how many were refused since), no stack trace.
        refusedDuringOutage(context.logger, error);
        return rejection('REVOCATION_UNAVAILABLE', {}, { 'retry-after': '5' });
      }
    },
  };
}
