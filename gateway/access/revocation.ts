/**
 * Token revocation: a revoked `jti` is refused by every gateway replica from
 * the next request on. Redis when configured (fails closed when Redis is
 * down), else an embedded SQLite list for the single-replica setup.
 */
import { throttledWarning, REDIS_DOWN_WARNING } from './logger.js';
import { normalizeAccessOptions, type AccessOptions } from './options.js';
import { openRedisConnection } from './redis-connection.js';
import { createEmbeddedRevocationList } from './revocation-embedded.js';
import type { RevocationList } from './revocation-list.js';
import { createRedisRevocationList } from './revocation-redis.js';

export { RevocationUnavailableError } from './errors.js';
export { MAX_REASON_LENGTH, MAX_TOKEN_ID_LENGTH, type RevocationList } from './revocation-list.js';
export { createEmbeddedRevocationList, type EmbeddedRevocationList, type EmbeddedRevocationListOptions } from './revocation-embedded.js';

/** Settings of a stand-alone revocation list (the revoke-token CLI; the gateway uses the access guard). */
export type RevocationListOptions = Pick<
  AccessOptions,
  'redis' | 'dataDir' | 'keyPrefix' | 'logger' | 'now' | 'revocationLeewaySeconds' | 'warnIntervalSeconds'
>;

/**
 * Opens the revocation list: Redis when `redis` is set, else
 * `<dataDir>/revocations.db`. Throws an `AccessOptionError` for bad settings.
 */
export function createRevocationList(options: RevocationListOptions = {}): RevocationList {
  const settings = normalizeAccessOptions(options);
  if (!settings.redis) {
    return createEmbeddedRevocationList({
      file: settings.revocationFile,
      leewaySeconds: settings.revocationLeewaySeconds,
      now: settings.now,
    });
  }
  const warn = throttledWarning(settings.logger, settings.warnIntervalMs, settings.now);
  return createRedisRevocationList({
    connection: openRedisConnection(settings.redis, (error) => warn({ err: error }, REDIS_DOWN_WARNING)),
    ownsConnection: true,
    keyPrefix: settings.keyPrefix,
    leewaySeconds: settings.revocationLeewaySeconds,
  });
}
