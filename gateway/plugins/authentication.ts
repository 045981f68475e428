import { AuthenticationError, type Authenticator } from '../auth/authenticate.js';
import { rejection } from '../errors.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';
import { header } from '../pipeline/request-headers.js';

export interface AuthenticationOptions {
  /** Verifies bearer tokens against the trust list (auth/authenticate.ts). */
  authenticator: Authenticator;
}

/** Authentication: a verified bearer token becomes the request's caller; anything else is 401 UNAUTHENTICATED. */
export function useAuthentication(options: AuthenticationOptions): GatewayPlugin {
  const { authenticator } = options;
  return {
    name: 'authentication',
    async onAdmission(request, context) {
      try {
        context.caller = await authenticator.authenticate(header(request, 'authorization'));
        return undefined;
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        context.logger.info({ reason: error.reason }, 'request refused: not authenticated');
        return rejection('UNAUTHENTICATED', { reason: error.reason }, { 'www-authenticate': 'Bearer' });
      }
    },
  };
}
