import type { Logger } from 'pino';
import { createOutageLog } from '../../common/outage-log.js';
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
  /** Where an outage of the revocation list is logged: the gateway's logger. */
  logger: Pick<Logger, 'warn' | 'info'>;
  /** While the revocation list is unavailable, at most one log line about it per this many ms (`LOG_OUTAGE_INTERVAL_MS`). Default 30000. */
  outageLogIntervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * Access checks of an authenticated caller: a revoked token is 401, a
 * client or province over its budget 429 with Retry-After, and when
 * revocation cannot be checked the gateway fails closed (503).
 */
export function useAccessGuard(options: AccessGuardPluginOptions): AccessGuardPlugin {
  const { guard } = options;
  const revocationOutage = createOutageLog({
    logger: options.logger,
    outage: 'redis',
    subject: 'the revocation list (Redis)',
    effect: 'requests refused (fail closed, 503 REVOCATION_UNAVAILABLE)',
    intervalMs: options.outageLogIntervalMs,
    now: options.now,
  });
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
        revocationOutage.recovered();
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
        // Every request of an outage is refused alike: the outage is logged (begun, summarised, ended), not each request,
        // and without a stack trace; each request's own line says REVOCATION_UNAVAILABLE.
        revocationOutage.affected(error);
        return rejection('REVOCATION_UNAVAILABLE', {}, { 'retry-after': '5' });
      }
    },
  };
}
