import { GraphQLError } from 'graphql';

/**
 * The gateway's error catalogue: every client-facing error has a stable
 * `extensions.code` and an HTTP status, and is made here. Anything else is
 * logged with its cause and reaches the client as INTERNAL_SERVER_ERROR.
 */
export const GATEWAY_ERRORS = {
  SUBGRAPH_UNAVAILABLE: { status: 200, message: (domain: string) => `The ${domain} domain is unavailable; its fields are null in this response.` },
  INTERNAL_SERVER_ERROR: { status: 500, message: () => 'Internal server error.' },
  REQUEST_TOO_LARGE: { status: 413, message: (limit: string) => `Request body exceeds ${limit}.` },
  NOT_FOUND: { status: 404, message: () => 'Not found: the GraphQL endpoint is POST /graphql.' },
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** Codes that reach clients unchanged (from the gateway, Apollo Server or a subgraph). */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'SUBGRAPH_UNAVAILABLE',
  'BAD_USER_INPUT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** A domain subgraph could not be reached or did not answer with GraphQL. */
export function subgraphUnavailable(domain: string): GraphQLError {
  return new GraphQLError(GATEWAY_ERRORS.SUBGRAPH_UNAVAILABLE.message(domain), {
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain },
  });
}
