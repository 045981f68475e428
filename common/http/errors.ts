/**
 * The errors the HTTP layer itself answers, before or around GraphQL, in
 * the gateway and the subgraphs alike: each with its stable code and status.
 */
export const HTTP_ERRORS = {
  /** The body is not JSON, the request target cannot be routed, or the request is otherwise unusable. */
  BAD_REQUEST: { status: 400, message: 'Bad request.' },
  /** The HTTP parser refused the request: a malformed request line, header or chunked body. */
  MALFORMED_HTTP_REQUEST: { status: 400, message: 'Malformed HTTP request.' },
  /** `x-request-id` is not a correlation id this service keeps. */
  INVALID_REQUEST_ID: { status: 400, message: 'Invalid x-request-id.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  /** Headers, or headers and body, did not arrive within their timeouts (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS). */
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request body too large.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large.' },
  /**
   * The client closed its connection before its request had arrived. Never
   * sent (nobody is listening); recorded so that the request is accounted for
   * (the status is nginx's "client closed request").
   */
  CLIENT_CLOSED_REQUEST: { status: 499, message: 'The client closed the connection before the request arrived.' },
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error.' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The GraphQL-shaped body of an error answer. */
export function errorBody(code: string, message: string, extensions: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}

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
