/** The part of a pino logger the access layer uses; pass the gateway's logger (or a child of it). */
export interface AccessLogger {
  warn(obj: object, msg: string): void;
}

/** Logs nothing: the default when no logger is injected. */
export const silentLogger: AccessLogger = { warn() {} };

export { throttledWarning } from '../../common/throttled-warning.js';

/** Logged (throttled) when the Redis connection fails. */
export const REDIS_DOWN_WARNING = 'Redis unreachable: token revocation fails closed (503); rate limits fall back to in-process budgets';
