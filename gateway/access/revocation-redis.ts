import { accessKeys } from './script.js';
import { RevocationUnavailableError } from './errors.js';
import type { RedisConnection } from './redis-connection.js';
import { checkRevocation, keepUntilMs, type RevocationList } from './revocation-list.js';

export interface RedisRevocationListOptions {
  connection: RedisConnection;
  /** Close the connection with the list (true when the list opened it). */
  ownsConnection: boolean;
  keyPrefix: string;
  leewaySeconds: number;
}

/**
 * Revocations in Redis as `<prefix>revoked:<jti>` keys that expire on their
 * own (PXAT the token's `exp` + leeway). Every replica asks Redis on every
 * request, so a revocation takes effect everywhere at once.
 *
 * Fails closed: if Redis is unreachable, or slower than the command timeout,
 * `isRevoked` throws `RevocationUnavailableError` and the gateway answers
 * 503. Serving a possibly revoked token is not an option for personal data.
 */
export function createRedisRevocationList(options: RedisRevocationListOptions): RevocationList {
  const { connection } = options;
  const keys = accessKeys(options.keyPrefix);

  async function ensureReady(): Promise<void> {
    if (!connection.settled) await connection.firstAttempt;
    if (!connection.isReady()) {
      throw new RevocationUnavailableError({ cause: new Error(`Redis connection is ${connection.client.status}`) });
    }
  }

  return {
    async isRevoked(tokenId) {
      await ensureReady();
      try {
        return (await connection.client.exists(keys.revoked(tokenId))) === 1;
      } catch (error) {
        throw new RevocationUnavailableError({ cause: error });
      }
    },

    async revoke(tokenId, expiresAt, reason) {
      checkRevocation(tokenId, expiresAt, reason);
      await ensureReady();
      const key = keys.revoked(tokenId);
      const until = keepUntilMs(expiresAt, options.leewaySeconds);
      try {
        // NX + PEXPIREAT GT: a second revocation may lengthen, never shorten,
        // the first. An `until` in the past stores nothing (Redis drops the key).
        const results = await connection.client
          .multi()
          .set(key, reason ?? '', 'PXAT', until, 'NX')
          .pexpireat(key, until, 'GT')
          .exec();
        const failed = results?.find(([error]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
      } catch (error) {
        throw new RevocationUnavailableError({ cause: error });
      }
    },

    async close() {
      if (options.ownsConnection) await connection.close();
    },
  };
}
