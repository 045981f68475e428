import { ERRORS, type ErrorCode } from '../errors.js';

export { errorBody } from '../errors.js';

/** The errors the HTTP layer itself answers, before or around GraphQL, in the gateway and the subgraphs alike (from the one catalogue). */
export type HttpErrorCode = Extract<
  ErrorCode,
  | 'BAD_REQUEST'
  | 'MALFORMED_HTTP_REQUEST'
  | 'INVALID_REQUEST_ID'
  | 'NOT_FOUND'
  | 'REQUEST_TIMEOUT'
  | 'REQUEST_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'CLIENT_CLOSED_REQUEST'
  | 'INTERNAL_SERVER_ERROR'
>;

export const HTTP_ERRORS: { readonly [Code in HttpErrorCode]: (typeof ERRORS)[Code] } = ERRORS;

/** The HTTP parser's error codes (llhttp's `HPE_*`, Node's `ERR_HTTP_*`) as this layer answers them. */
export function parserRefusal(code: string | undefined): HttpErrorCode {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  // The connection ended (or was reset) before the request did.
  if (code === 'HPE_INVALID_EOF_STATE' || code === 'ECONNRESET') return 'CLIENT_CLOSED_REQUEST';
  if (code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 'REQUEST_TOO_LARGE';
  return 'MALFORMED_HTTP_REQUEST';
}

/** The reason phrase of a status this layer writes itself (parser refusals go out on the bare socket). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
