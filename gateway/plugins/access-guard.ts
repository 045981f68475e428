import { RevocationUnavailableError } from '../access/errors.js';
import type { AccessGuard } from '../access/guard.js';
import { rejection } from '../errors.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

export interface AccessGuardPluginOptions {
  /** Revocation list and rate budgets (access/guard.ts: embedded, or Redis). */
  guard: AccessGuard;
}

/**
 * Access checks of an authenticated caller: a revoked token is 401, a
 * client or province over its budget 429 with Retry-After, and when
 * revocation cannot be checked the gateway fails closed (503).
 */
export function useAccessGuard(options: AccessGuardPluginOptions): GatewayPlugin {
  const { guard } = options;
  return {
    name: 'access-guard',
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
        return undefined;
      } catch (error) {
        if (!(error instanceof RevocationUnavailableError)) throw error;
        context.logger.error({ err: error }, 'request refused: revocation list unavailable (fail closed)');
        return rejection('REVOCATION_UNAVAILABLE', {}, { 'retry-after': '5' });
      }
    },
  };
}
