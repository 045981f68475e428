/**
 * Access control that is not about who the caller is but whether it may
 * call now: token revocation and request budgets. The gateway uses
 * {@link createAccessGuard}; the revoke-token CLI uses {@link createRevocationList}.
 */
export { createAccessGuard, type AccessCheck, type AccessGuard, type AccessGuardOptions } from './guard.js';
export { silentLogger, type AccessLogger } from './logger.js';
export {
  DEFAULT_DATA_DIR,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REVOCATION_LEEWAY_SECONDS,
  normalizeAccessOptions,
  type AccessOptions,
  type NormalizedAccessOptions,
} from './options.js';
export { AccessOptionError, RevocationUnavailableError } from './errors.js';
export * from './rate-limit.js';
export { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, DEFAULT_REDIS_CONNECT_TIMEOUT_MS, type RedisSetting } from './redis-connection.js';
export { createRevocationList, createEmbeddedRevocationList, type RevocationList, type RevocationListOptions } from './revocation.js';
export {
  parseRevokeTokenArguments,
  REVOKE_TOKEN_USAGE,
  RevokeTokenUsageError,
  type RevokeTokenArguments,
} from './revoke-token-arguments.js';
