import type { Logger } from 'pino';
import { DISCLOSURE_EXTENSION } from '../../common/disclosure.js';
import type { GatewayContext } from '../pipeline/context.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { SubgraphFetchError } from './subgraph-client.js';

export interface SubgraphFetchOptions {
  /** The request pipeline: its plugins' subgraph-request and subgraph-response hooks. */
  pipeline: Pick<Pipeline, 'subgraphHeaders' | 'subgraphResponse'>;
  logger: Logger;
  /** Whether the gateway has cancelled its subgraph calls (the end of the shutdown grace). Default: never. */
  cancelled?: () => boolean;
}

/**
 * The one subgraph-fetch stage, for both executors (the native one and
 * @apollo/gateway's data source): what every fetch carries, what is done
 * with every answer, and what a subgraph that cannot be reached becomes.
 */
export interface SubgraphFetch {
  /** Headers of a fetch to `subgraph` for the request: the plugins' (the caller's assertion, the request id). Never the bearer token. */
  headers(subgraph: string, context: GatewayContext): Record<string, string>;
  /**
   * A subgraph answered: the plugins read its extensions (the audit trail
   * its disclosure report), and the disclosure report is taken out, which
   * the client never sees. Returns the extensions left (undefined when none are).
   */
  received(subgraph: string, context: GatewayContext, extensions: Record<string, unknown> | undefined): Record<string, unknown> | undefined;
  /**
   * A subgraph could not be reached or did not answer GraphQL: logged, and
   * one error naming the domain (never its address) — SHUTTING_DOWN when the
   * call was cancelled or never sent because the gateway is stopping.
   */
  unavailable(
    subgraph: string,
    context: GatewayContext,
    error: unknown,
  ): { message: string; extensions: { code: 'SUBGRAPH_UNAVAILABLE' | 'SHUTTING_DOWN'; domain: string } };
}

export function createSubgraphFetch(options: SubgraphFetchOptions): SubgraphFetch {
  const { pipeline, logger } = options;
  const cancelled = options.cancelled ?? (() => false);
  return {
    headers: (subgraph, context) => pipeline.subgraphHeaders(subgraph, context),
    received(subgraph, context, extensions) {
      if (extensions === undefined || extensions === null) return undefined;
      pipeline.subgraphResponse(subgraph, context, extensions);
      // Raw keys of the subjects disclosed: for the audit trail only, whatever the plugins are.
      delete extensions[DISCLOSURE_EXTENSION];
      for (const _ in extensions) return extensions;
      return undefined;
    },
    unavailable(subgraph, context, error) {
      // At the end of the shutdown grace, calls in flight are cancelled and new ones not sent: expected, and no fault to trace.
      if ((error instanceof SubgraphFetchError && error.stopping) || cancelled()) {
        logger.info({ subgraph, requestId: context.requestId }, 'subgraph call cancelled: the gateway is stopping');
        return {
          message: `The ${subgraph} domain was not asked: the gateway is stopping; its fields are null in this response.`,
          extensions: { code: 'SHUTTING_DOWN', domain: subgraph },
        };
      }
      logger.warn({ subgraph, err: error, requestId: context.requestId }, 'subgraph unavailable');
      return {
        message: `The ${subgraph} domain is unavailable; its fields are null in this response.`,
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain: subgraph },
      };
    },
  };
}
