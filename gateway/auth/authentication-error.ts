/**
 * Why a bearer token was refused: a stable reason code for clients (sent as
 * `extensions.reason` beside `extensions.code: UNAUTHENTICATED`, HTTP 401),
 * and a separate `detail` for logs.
 */

/**
 * The client-facing message per reason. It says no more than the reason code
 * itself: nothing about keys, expected values or which check came first, so
 * it does not help an attacker. Please keep token contents out of it.
 */
export const AUTHENTICATION_REASONS = Object.freeze({
  TOKEN_MISSING: 'A bearer token is required.',
  TOKEN_MALFORMED: 'The Authorization header must be "Bearer <JWT>".',
  TOKEN_TOO_LARGE: 'The bearer token is too large.',
  ALGORITHM_NOT_ALLOWED: 'The bearer token is signed with an algorithm that is not allowed.',
  ISSUER_UNTRUSTED: 'The bearer token was issued by an identity provider that is not trusted.',
  KEY_UNKNOWN: 'The bearer token is signed with a key that cannot be found.',
  SIGNATURE_INVALID: 'The bearer token signature is invalid.',
  TOKEN_EXPIRED: 'The bearer token has expired.',
  TOKEN_NOT_YET_VALID: 'The bearer token is not valid yet.',
  AUDIENCE_MISMATCH: 'The bearer token is not meant for this gateway.',
  CLAIM_MISSING: 'The bearer token lacks a required claim or has a malformed one.',
  PROVINCE_NOT_ALLOWED: "The bearer token's province is not one its issuer may speak for.",
  LIFETIME_TOO_LONG: 'The bearer token lives longer than allowed.',
} as const);

/** Stable reason codes; clients may branch on them. */
export type AuthenticationReason = keyof typeof AUTHENTICATION_REASONS;

/** A request could not be authenticated. Maps to HTTP 401, `extensions.code: UNAUTHENTICATED`. */
export class AuthenticationError extends Error {
  /** The error code the gateway sends to clients. */
  readonly code = 'UNAUTHENTICATED' as const;
  /** The HTTP status the gateway answers with. */
  readonly status = 401 as const;

  /**
   * @param reason stable reason code, safe for clients.
   * @param detail for logs only: what exactly failed (issuer, kid, claim…), never the token.
   */
  constructor(
    readonly reason: AuthenticationReason,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(AUTHENTICATION_REASONS[reason], options);
    this.name = 'AuthenticationError';
  }
}
