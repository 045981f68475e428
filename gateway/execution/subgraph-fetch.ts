import type { Logger } from 'pino';
import { DISCLOSURE_EXTENSION } from '../../common/disclosure.js';
import { ASSERTION_HEADER } from '../../common/gateway-assertion.js';
import { REQUEST_ID_HEADER } from '../../common/http/request-id.js';
import type { GatewayContext } from '../authorization/operation-guard.js';

export interface SubgraphFetchOptions {
  /** The caller's signed assertion for one subgraph (reused while fresh; see assertions.ts). */
  assertionFor: (subgraph: string, context: GatewayContext) => string;
  logger: Logger;
}

/**
 * The one subgraph-fetch stage, for both executors (the native one and
 * @apollo/gateway's data source): what every fetch carries, what is done
 * with every answer, and what a subgraph that cannot be reached becomes.
 */
export interface SubgraphFetch {
  /**
   * Headers of a fetch to `subgraph` for the request: the caller's
   * assertion signed for that subgraph alone (forward claims, never the
   * bearer token) and the request's id.
   */
  headers(subgraph: string, context: GatewayContext): Record<string, string>;
  /**
   * A subgraph answered: its report of what it disclosed goes to the audit
   * draft and is taken out of `extensions`, which the client never sees.
   * Returns the extensions left (undefined when none are).
   */
  received(subgraph: string, context: GatewayContext, extensions: Record<string, unknown> | undefined): Record<string, unknown> | undefined;
  /** A subgraph could not be reached or did not answer GraphQL: logged, and one error naming the domain (never its address). */
  unavailable(
    subgraph: string,
    context: GatewayContext,
    error: unknown,
  ): { message: string; extensions: { code: 'SUBGRAPH_UNAVAILABLE'; domain: string } };
}

export function createSubgraphFetch(options: SubgraphFetchOptions): SubgraphFetch {
  const { assertionFor, logger } = options;
  return {
    headers: (subgraph, context) => ({
      'content-type': 'application/json',
      [ASSERTION_HEADER]: assertionFor(subgraph, context),
      [REQUEST_ID_HEADER]: context.requestId,
    }),
    received(subgraph, context, extensions) {
      if (!extensions || !(DISCLOSURE_EXTENSION in extensions)) return extensions;
      context.audit.noteDisclosure(subgraph, extensions[DISCLOSURE_EXTENSION]);
      const { [DISCLOSURE_EXTENSION]: _report, ...rest } = extensions;
      return Object.keys(rest).length > 0 ? rest : undefined;
    },
    unavailable(subgraph, context, error) {
      logger.warn({ subgraph, err: error, requestId: context.requestId }, 'subgraph unavailable');
      return {
        message: `The ${subgraph} domain is unavailable; its fields are null in this response.`,
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain: subgraph },
      };
    },
  };
}
