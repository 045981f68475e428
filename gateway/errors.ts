import { GraphQLError } from 'graphql';
import { Rejection } from '../common/http/server.js';

/**
 * The gateway's error catalogue: every client-facing error has a stable
 * `extensions.code` and an HTTP status, and is made here. Anything else is
 * logged with its cause and reaches the client as INTERNAL_SERVER_ERROR.
 */
export const GATEWAY_ERRORS = {
  /** No, malformed, untrusted, expired or revoked token; `extensions.reason` says which. */
  UNAUTHENTICATED: { status: 401, message: 'Authentication required: send a valid bearer token from a trusted provincial identity provider.' },
  RATE_LIMITED: { status: 429, message: 'Request budget exhausted; retry after the time in the Retry-After header.' },
  /** Redis is configured for revocation but does not answer: fail closed. */
  REVOCATION_UNAVAILABLE: { status: 503, message: 'Token revocation cannot be checked right now; no data is served until it can.' },
  /** The audit store cannot take the record: the answer is withheld (durable before disclosure). */
  AUDIT_UNAVAILABLE: { status: 503, message: 'The audit trail cannot record this request right now; no data is served until it can.' },
  MATTER_REQUIRED: { status: 400, message: 'Declare the matter this request serves.' },
  MATTER_UNKNOWN: { status: 400, message: 'Unknown matter.' },
  MATTER_NOT_ALLOWED: { status: 403, message: 'This token may not act under the declared matter.' },
  CASE_NUMBER_INVALID: { status: 400, message: 'Malformed case number.' },
  /** A field removed by scope enforcement (200 with partial data, or 403 when the whole operation is rejected). */
  UNAUTHORIZED_FIELD_OR_TYPE: { status: 403, message: 'Not authorised: the effective scopes do not cover this field.' },
  SUBGRAPH_UNAVAILABLE: { status: 200, message: 'A domain is unavailable.' },
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error.' },
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** Codes that reach clients unchanged (from the gateway, Apollo Server or a subgraph). */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...Object.keys(GATEWAY_ERRORS).filter((code) => code !== 'INTERNAL_SERVER_ERROR'),
  'BAD_USER_INPUT',
  // A subgraph's own refusal (e.g. revoking another province's document).
  'FORBIDDEN',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** A rejection answered before GraphQL runs, from the catalogue. */
export function rejection(code: GatewayErrorCode, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}, message?: string): Rejection {
  const entry = GATEWAY_ERRORS[code];
  return new Rejection(entry.status, code, message ?? entry.message, extensions, headers);
}

/** A GraphQL error from the catalogue, carrying its HTTP status for Apollo Server. */
export function gatewayError(code: GatewayErrorCode, message?: string, extensions: Record<string, unknown> = {}): GraphQLError {
  const entry = GATEWAY_ERRORS[code];
  return new GraphQLError(message ?? entry.message, { extensions: { code, ...extensions, http: { status: entry.status } } });
}

/** A domain subgraph could not be reached or did not answer with GraphQL. */
export function subgraphUnavailable(domain: string): GraphQLError {
  return new GraphQLError(`The ${domain} domain is unavailable; its fields are null in this response.`, {
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain },
  });
}
