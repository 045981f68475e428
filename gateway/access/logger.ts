/** The part of a pino logger the access layer uses; pass the gateway's logger (or a child of it). */
export interface AccessLogger {
  warn(obj: object, msg: string): void;
}

/** Logs nothing: the default when no logger is injected. */
export const silentLogger: AccessLogger = { warn() {} };

/**
 * A warning that is logged at most once per `intervalMs`: while Redis is
 * down every request would otherwise log the same line, and the log volume
 * of an outage must not become a second outage. Suppressed repetitions are
 * counted and reported with the next line; an `err` is logged as its message
 * and code, without its stack.
 */
export function throttledWarning(logger: AccessLogger, intervalMs: number, now: () => number): (obj: object, msg: string) => void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (obj, msg) => {
    const at = now();
    if (at - lastLoggedAt < intervalMs) {
      suppressed += 1;
      return;
    }
    lastLoggedAt = at;
    // An outage is a known condition, not a bug: its cause in a word (message and code), never a stack trace.
    const { err, ...rest } = obj as { err?: unknown };
    const cause = err instanceof Error ? { reason: err.message, code: (err as NodeJS.ErrnoException).code } : err === undefined ? {} : { err };
    logger.warn({ ...rest, ...cause, ...(suppressed > 0 ? { suppressed } : {}) }, msg);
    suppressed = 0;
  };
}

/** Logged (throttled) when the Redis connection fails. */
export const REDIS_DOWN_WARNING = 'Redis unreachable: token revocation fails closed (503); rate limits fall back to in-process budgets';
