import { ASSERTION_HEADER, type GatewayAssertion } from '../../common/gateway-assertion.js';
import { createAssertionCache } from '../execution/assertions.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

export interface SubgraphAssertionOptions {
  /** Signs an assertion for one subgraph (the audience) with the gateway's key. */
  sign: (audience: string, assertion: GatewayAssertion) => string;
}

/**
 * Forward claims, never tokens: every subgraph fetch carries the caller's
 * verified claims and effective scopes, signed by the gateway for that
 * subgraph alone (reused while fresh: execution/assertions.ts). The bearer
 * token is never sent on.
 */
export function useSubgraphAssertion(options: SubgraphAssertionOptions): GatewayPlugin {
  const assertionFor = createAssertionCache(options.sign);
  return {
    name: 'subgraph-assertion',
    onSubgraphRequest(subgraph, context, headers) {
      headers[ASSERTION_HEADER] = assertionFor(subgraph, context);
    },
  };
}
