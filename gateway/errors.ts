import { GraphQLError } from 'graphql';
import { ERRORS, type ErrorCode } from '../common/errors.js';
import { Rejection } from '../common/http/server.js';

/** A code of the one catalogue (`common/errors.ts`). */
export type GatewayErrorCode = ErrorCode;

/** A rejection answered before GraphQL runs, from the catalogue. */
export function rejection(
  code: GatewayErrorCode,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  message?: string,
): Rejection {
  const entry = ERRORS[code];
  return new Rejection(entry.status, code, message ?? entry.message, extensions, headers);
}

/** A GraphQL error from the catalogue, carrying its HTTP status for Apollo Server. */
export function gatewayError(code: GatewayErrorCode, message?: string, extensions: Record<string, unknown> = {}): GraphQLError {
  const entry = ERRORS[code];
  return new GraphQLError(message ?? entry.message, { extensions: { code, ...extensions, http: { status: entry.status } } });
}
