/**
 * The error catalogue of the whole federation: every code a client can see
 * in `extensions.code`, with its HTTP status, its message, and what it makes
 * of a request in the audit trail. The gateway, the subgraphs and the HTTP
 * layer make their errors from it; anything else is logged with its cause
 * and reaches the client as INTERNAL_SERVER_ERROR. The error table of docs/reference.md
 * lists exactly these codes (a test compares them).
 */

/** What a code makes of a request in the audit trail (`classifyOutcome`). */
export interface AuditEffect {
  /** The caller was refused (authentication, budget, purpose, scopes): an answer of 400 or more is DENIED, not FAILED. */
  denies: boolean;
  /** Part of the answer was withheld or unavailable: a 200 is PARTIAL when something was disclosed, else DENIED. */
  withholds: boolean;
}

export interface ErrorSpec extends AuditEffect {
  /** The HTTP status of an answer refused with this code (200: the code travels inside a GraphQL answer). */
  status: number;
  /** The message, unless the place that raises it says more. */
  message: string;
}

const refused = { denies: true, withholds: false } as const;
const failed = { denies: false, withholds: false } as const;
const withheld = { denies: false, withholds: true } as const;

export const ERRORS = {
  // Who is asking, and within which budget.
  /** No, malformed, untrusted, expired or revoked token (`extensions.reason` says which); at a subgraph, no valid gateway assertion. */
  UNAUTHENTICATED: {
    status: 401,
    message: 'Authentication required: send a valid bearer token from a trusted provincial identity provider.',
    ...refused,
  },
  RATE_LIMITED: { status: 429, message: 'Request budget exhausted; retry after the time in the Retry-After header.', ...refused },
  /** Redis is configured for revocation but does not answer: fail closed. */
  REVOCATION_UNAVAILABLE: { status: 503, message: 'Token revocation cannot be checked right now; no data is served until it can.', ...failed },
  /** The audit store cannot take the record: the answer is withheld (durable before disclosure). */
  AUDIT_UNAVAILABLE: { status: 503, message: 'The audit trail cannot record this request right now; no data is served until it can.', ...failed },

  // For what purpose.
  MATTER_REQUIRED: { status: 400, message: 'Declare the matter this request serves.', ...refused },
  MATTER_UNKNOWN: { status: 400, message: 'Unknown matter.', ...refused },
  MATTER_NOT_ALLOWED: { status: 403, message: 'This token may not act under the declared matter.', ...refused },
  /**
   * `x-case-number` is malformed, or holds a personal identifier (a citizen ID number or anything shaped like
   * one, a mobile number, a credit code): it is kept in the audit trail as it is, where identifiers never are.
   */
  CASE_NUMBER_INVALID: {
    status: 400,
    message: 'Invalid case number: it must be 1-64 letters, digits or case-number punctuation, and hold no personal identifier.',
    ...refused,
  },

  // How much may be asked.
  /** The gateway's heap is over MAX_HEAP_MB: new requests wait until it is not (Retry-After). */
  GATEWAY_OVERLOADED: { status: 503, message: 'The gateway is short of memory right now; retry shortly.', ...failed },
  /** An operation over one of the gateway's limits (`extensions.limit` names it, with `maximum` and `actual`). */
  OPERATION_LIMIT_EXCEEDED: { status: 400, message: 'The operation exceeds a limit of this gateway.', ...refused },
  /** An operation whose estimated cost is over MAX_OPERATION_COST (`extensions.estimatedCost`, `maxCost`). */
  COST_LIMIT_EXCEEDED: { status: 400, message: 'The operation would cost more than this gateway allows in one request.', ...refused },

  // What may be seen.
  /** A field removed by scope enforcement (200 with partial data, or 403 when the whole operation is rejected). */
  UNAUTHORIZED_FIELD_OR_TYPE: {
    status: 403,
    message: 'Not authorised: the effective scopes do not cover this field.',
    denies: true,
    withholds: true,
  },
  /** A subgraph's own refusal: its scopes do not cover the operation (defence in depth), or an action on another province's document. */
  FORBIDDEN: { status: 403, message: 'Forbidden.', ...refused },
  /** Too many wrong ID numbers were tried against one document today: its issuing domain no longer tests more (a brute force of the masked digits). */
  HOLDER_CHECK_LIMITED: {
    status: 200,
    message: 'Too many wrong ID numbers were tried against this document today; its issuer checks no more of them until tomorrow (UTC).',
    ...withheld,
  },
  /** An audit receipt's proof was asked before a checkpoint that witnesses cosigned covers the record (`extensions.retryAfterSeconds`). */
  RECEIPT_NOT_YET_WITNESSED: {
    status: 200,
    message: 'No checkpoint that witnesses cosigned covers this record yet: ask again in a few seconds.',
    ...failed,
  },
  /** The audit store lacks records a proof needs: it was tampered with or pruned (npm run audit:verify says which). */
  AUDIT_INTEGRITY_PROBLEM: { status: 200, message: 'The records this proof needs are not all in the audit store.', ...failed },
  /** A domain could not be reached; `extensions.domain` names it and its fields are null. */
  SUBGRAPH_UNAVAILABLE: { status: 200, message: 'A domain is unavailable.', ...withheld },
  /**
   * The gateway is stopping and its shutdown grace (SHUTDOWN_GRACE_MS) ran
   * out: the call to `extensions.domain` was cancelled and its fields are
   * null. Also the reason in a `WITHHELD` audit record of an answer whose
   * connection was closed at the end of the grace.
   */
  SHUTTING_DOWN: { status: 200, message: 'The gateway is stopping: a domain call was cancelled.', ...failed },

  // What was asked.
  /** An ID number or credit code with a bad format or checksum, too many keys, a variable of the wrong type. */
  BAD_USER_INPUT: { status: 400, message: 'Bad input.', ...failed },
  GRAPHQL_PARSE_FAILED: { status: 400, message: 'The document is not GraphQL.', ...failed },
  /** Not valid against the schema (an operation type the schema lacks included). */
  GRAPHQL_VALIDATION_FAILED: { status: 400, message: 'The document is not valid against the schema.', ...failed },
  /** Several operations and no (or an unknown) `operationName`. */
  OPERATION_RESOLUTION_FAILURE: { status: 400, message: 'Name the operation to run.', ...failed },
  /** A persisted-query hash without the query text, at a service that keeps no documents (a subgraph). */
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 400, message: 'Persisted queries are not supported: send the query text.', ...failed },
  /** A document id (`extensions.persistedQuery.sha256Hash`, `documentId`) that is no registered document of the caller's. */
  PERSISTED_QUERY_NOT_FOUND: { status: 400, message: 'PersistedQueryNotFound: no registered document of this client has this id.', ...failed },
  /** A document id sent with a query text whose SHA-256 is another. */
  PERSISTED_QUERY_HASH_MISMATCH: { status: 400, message: 'The query text does not hash to the document id sent with it.', ...failed },
  /** A client that must send registered documents (`trustedDocuments: "require"`) sent another text. */
  PERSISTED_QUERY_REQUIRED: {
    status: 400,
    message: 'This client may run only its registered documents: send a registered document or its id.',
    ...refused,
  },
  /** In `extensions.valueCompletion` of an answer: a subgraph returned a value its schema does not allow; the value is null. */
  INVALID_GRAPHQL: { status: 200, message: 'A subgraph returned a value its schema does not allow.', ...failed },

  // How it was sent (the HTTP layer).
  /**
   * The body is not JSON or not one GraphQL request, the target cannot be
   * routed; 405 for a mutation by GET or another method than GET and POST,
   * 415 for a body that is not application/json.
   */
  BAD_REQUEST: { status: 400, message: 'Bad request.', ...failed },
  /**
   * A request a browser may send cross-site without asking first (a GET, or a
   * form's POST) that carries no header proving it was preflighted: refused
   * before it is run (cross-site request forgery).
   */
  CSRF_PREVENTED: {
    status: 400,
    message:
      'This request could have been sent by a browser on behalf of another site: send a bearer token, a Content-Type of application/json, or an apollo-require-preflight header.',
    ...refused,
  },
  /** The `Accept` header takes neither application/graphql-response+json nor application/json. */
  NOT_ACCEPTABLE: { status: 406, message: 'Accept application/graphql-response+json or application/json.', ...failed },
  /** The HTTP parser refused the request: a malformed request line, header or chunked body. */
  MALFORMED_HTTP_REQUEST: { status: 400, message: 'Malformed HTTP request.', ...failed },
  /** `x-request-id` is not a correlation id a service keeps. */
  INVALID_REQUEST_ID: { status: 400, message: 'Invalid x-request-id.', ...failed },
  NOT_FOUND: { status: 404, message: 'Not found.', ...failed },
  /** Headers, or headers and body, did not arrive within their timeouts (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS). */
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.', ...failed },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request body too large.', ...failed },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large.', ...failed },
  /**
   * The client closed its connection before its request had arrived. Never
   * sent (nobody is listening); recorded so that the request is accounted for
   * (the status is nginx's "client closed request").
   */
  CLIENT_CLOSED_REQUEST: { status: 499, message: 'The client closed the connection before the request arrived.', ...failed },

  /** Anything else: the cause goes to the log, never to the client. */
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error.', ...failed },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Codes used inside the gateway that clients never see: a subgraph's error
 * without a code is marked DOWNSTREAM_SERVICE_ERROR, as @apollo/gateway
 * marks it, so that the log says where it came from; the answer carries
 * INTERNAL_SERVER_ERROR.
 */
export const INTERNAL_CODES: ReadonlySet<string> = new Set(['DOWNSTREAM_SERVICE_ERROR']);

/** Codes that reach clients as they are (from the gateway, a subgraph, Apollo Server or the HTTP layer). */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set(Object.keys(ERRORS).filter((code) => code !== 'INTERNAL_SERVER_ERROR'));

/** Whether a string is a catalogue code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The GraphQL-shaped body of an error answer. */
export function errorBody(code: string, message: string, extensions: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}
