import type { Logger } from 'pino';
import { DISCLOSURE_EXTENSION } from '../../common/disclosure.js';
import { createOutageLog, type OutageLog } from '../../common/outage-log.js';
import type { GatewayContext } from '../pipeline/context.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { SubgraphFetchError } from './subgraph-client.js';

export interface SubgraphFetchOptions {
  /** The request pipeline: its plugins' subgraph-request and subgraph-response hooks. */
  pipeline: Pick<Pipeline, 'subgraphHeaders' | 'subgraphResponse'>;
  logger: Logger;
  /** While a subgraph is out, at most one log line about it per this many ms (`LOG_OUTAGE_INTERVAL_MS`). Default 30000. */
  outageLogIntervalMs?: number;
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
   * A subgraph could not be reached or did not answer GraphQL: counted in its
   * outage's log, and one error naming the domain (never its address) —
   * SHUTTING_DOWN when the call was cancelled or never sent because the
   * gateway is stopping.
   */
  unavailable(
    subgraph: string,
    context: GatewayContext,
    error: unknown,
  ): { message: string; extensions: { code: 'SUBGRAPH_UNAVAILABLE' | 'SHUTTING_DOWN'; domain: string } };
}

export function createSubgraphFetch(options: SubgraphFetchOptions): SubgraphFetch {
  const { pipeline, logger } = options;
  // One outage log per subgraph, made at its first failure; `down` counts the outages in progress,
  // so that an answer costs one comparison while every subgraph is up.
  const outages = new Map<string, OutageLog>();
  let down = 0;
  const outageOf = (subgraph: string): OutageLog => {
    let outage = outages.get(subgraph);
    if (outage === undefined) {
      const log = createOutageLog({
        logger,
        outage: 'subgraph',
        fields: { subgraph },
        subject: `the ${subgraph} subgraph`,
        effect: 'its fields are null, with SUBGRAPH_UNAVAILABLE',
        intervalMs: options.outageLogIntervalMs,
      });
      let out = false;
      outage = {
        affected(cause) {
          if (!out) {
            out = true;
            down++;
          }
          log.affected(cause);
        },
        recovered() {
          if (!out) return;
          out = false;
          down--;
          log.recovered();
        },
      };
      outages.set(subgraph, outage);
    }
    return outage;
  };
  const cancelled = options.cancelled ?? (() => false);
  return {
    headers: (subgraph, context) => pipeline.subgraphHeaders(subgraph, context),
    received(subgraph, context, extensions) {
      if (down > 0) outages.get(subgraph)?.recovered();
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
      // Every request of an outage fails alike: the outage is logged (begun, summarised, ended), not each request, and without a stack trace.
      outageOf(subgraph).affected(error);
      return {
        message: `The ${subgraph} domain is unavailable; its fields are null in this response.`,
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain: subgraph },
      };
    },
  };
}
