import { AccessOptionError } from './errors.js';

/**
 * Revoked token ids (`jti`), consulted on every request. Implementations:
 * Redis (shared by all replicas) and an embedded SQLite file (one replica,
 * writable by the revoke-token CLI from another process).
 */
export interface RevocationList {
  /**
   * Whether the token id is revoked. Throws `RevocationUnavailableError`
   * when the list cannot be consulted: the caller must refuse the request.
   */
  isRevoked(tokenId: string): Promise<boolean>;
  /**
   * Revokes a token id until `expiresAt` (the token's `exp`, epoch seconds)
   * plus the leeway, after which the token is refused as expired anyway.
   * Revoking again never shortens an existing revocation.
   */
  revoke(tokenId: string, expiresAt: number, reason?: string): Promise<void>;
  close(): Promise<void>;
}

export const MAX_TOKEN_ID_LENGTH = 256;
export const MAX_REASON_LENGTH = 500;

/** Checks `revoke`'s arguments; throws an `AccessOptionError` naming the bad one. */
export function checkRevocation(tokenId: unknown, expiresAt: unknown, reason: unknown): void {
  if (typeof tokenId !== 'string' || tokenId === '' || tokenId.length > MAX_TOKEN_ID_LENGTH) {
    throw new AccessOptionError('tokenId', `must be a token id (jti) of 1 to ${MAX_TOKEN_ID_LENGTH} characters`);
  }
  // Epoch seconds; a value in milliseconds (13 digits) is a common slip and would keep the entry for millennia.
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= 0 || expiresAt >= 1e11) {
    throw new AccessOptionError('expiresAt', 'must be the token’s exp in epoch seconds');
  }
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
    throw new AccessOptionError('reason', `must be text of at most ${MAX_REASON_LENGTH} characters`);
  }
}

/** Epoch milliseconds until which a revocation entry is kept. */
export function keepUntilMs(expiresAt: number, leewaySeconds: number): number {
  return Math.ceil((expiresAt + leewaySeconds) * 1000);
}
