import { ASSERTION_LIFETIME_SECONDS, type GatewayAssertion } from '../../common/gateway-assertion.js';
import type { GatewayContext } from '../pipeline/context.js';

/** What a subgraph may know of the caller: verified claims and effective scopes, never the bearer token. */
export function assertionOf(context: GatewayContext): GatewayAssertion {
  const { caller, purpose } = context;
  return {
    caller: { subject: caller.subject, organisation: caller.organisation, province: caller.province, issuer: caller.issuer, tokenId: caller.tokenId },
    scopes: [...purpose.effectiveScopes].sort(),
    matter: purpose.matter?.code ?? null,
    caseNumber: purpose.caseNumber,
    requestId: context.requestId,
  };
}

/**
 * Signed assertions, reused: one is signed per subgraph and per (caller,
 * token, effective scopes, matter, case) and reused by that caller's
 * requests until half its 60-s lifetime has passed. Every claim a subgraph
 * acts on is in the key, so a reused assertion says exactly what a fresh
 * one would; only `requestId` names the first request (each fetch carries
 * its own in `x-request-id`). Bounded: the oldest entry goes first.
 */
export function createAssertionCache(sign: (audience: string, assertion: GatewayAssertion) => string, maxEntries = 10_000) {
  const cache = new Map<string, { value: string; renewAt: number }>();
  const byContext = new WeakMap<GatewayContext, string>();
  const keyOf = (context: GatewayContext): string => {
    let key = byContext.get(context);
    if (key === undefined) {
      const { caller, purpose } = context;
      key = [
        caller.issuer,
        caller.subject,
        caller.organisation,
        caller.province,
        caller.tokenId,
        [...purpose.effectiveScopes].sort().join(' '),
        purpose.matter?.code ?? '',
        purpose.caseNumber ?? '',
      ].join('\u0000');
      byContext.set(context, key);
    }
    return key;
  };
  return (audience: string, context: GatewayContext): string => {
    const key = `${audience}\u0000${keyOf(context)}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.renewAt > now) return hit.value;
    const value = sign(audience, assertionOf(context));
    cache.delete(key);
    cache.set(key, { value, renewAt: now + (ASSERTION_LIFETIME_SECONDS * 1000) / 2 });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    return value;
  };
}
