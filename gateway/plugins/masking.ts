import { PII_UNMASKED_SCOPE } from '../auth/caller.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

/**
 * Masking of personal identifiers (ID numbers, phones, street addresses):
 * on by default for every request; this plugin lifts it for a request whose
 * effective scopes include `pii:unmasked`. The executors do the masking
 * itself while they shape the answer (authorization/masking.ts).
 */
export function useMasking(): GatewayPlugin {
  return {
    name: 'masking',
    onAuthorise(_operation, context) {
      context.maskIdentifiers = !context.purpose.effectiveScopes.has(PII_UNMASKED_SCOPE);
      return undefined;
    },
  };
}
