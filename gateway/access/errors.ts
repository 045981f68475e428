/**
 * Errors of the access layer (revocation and rate limits). Each carries a
 * stable `code` that callers branch on; messages are for operators and logs,
 * never for the client: the gateway maps codes to its own error catalogue.
 */

/**
 * The revocation list could not be consulted (Redis unreachable or slower
 * than the command timeout, or the embedded database failed). Revocation
 * fails closed: the gateway must refuse the request (HTTP 503) rather than
 * serve a token that may have been revoked.
 */
export class RevocationUnavailableError extends Error {
  readonly code = 'REVOCATION_UNAVAILABLE' as const;

  constructor(options?: { cause?: unknown }) {
    super('The token revocation list is unavailable; requests are refused until it answers.', options);
    this.name = 'RevocationUnavailableError';
  }
}

/**
 * An access option or argument is invalid. Thrown at start-up by the
 * `normalize…` functions (and by `revoke` for a bad token id or expiry), so a
 * misconfiguration stops the gateway before its first request.
 */
export class AccessOptionError extends TypeError {
  readonly code = 'INVALID_ACCESS_OPTION' as const;

  /** The offending option, as a dotted path, e.g. `rateLimits.perClient.limit`. */
  readonly option: string;

  constructor(option: string, reason: string) {
    super(`Invalid access option: ${option} ${reason}`);
    this.name = 'AccessOptionError';
    this.option = option;
  }
}
