import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '../../common/http/request-id.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

export interface RequestIdOptions {
  /** The gateway's logger: each request gets a child bound to its ids. */
  logger: Logger;
}

/**
 * Request ids (made by the HTTP layer: the gateway's own UUID, and the
 * caller's `x-request-id` as the correlation id): bound to the request's log
 * lines and sent to every subgraph, whose records then share the id.
 */
export function useRequestId(options: RequestIdOptions): GatewayPlugin {
  const { logger } = options;
  return {
    name: 'request-id',
    onRequest(context) {
      const { requestId, correlationId } = context;
      context.logger = logger.child(correlationId === null ? { requestId } : { requestId, correlationId });
    },
    onSubgraphRequest(_subgraph, context, headers) {
      headers[REQUEST_ID_HEADER] = context.requestId;
    },
  };
}
