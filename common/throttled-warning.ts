/** Whatever takes warnings: a pino logger, or a child of one. */
export interface WarningLogger {
  warn(obj: object, msg: string): void;
}

/**
 * A warning that is logged at most once per `intervalMs`: while a
 * dependency is down (Redis, an audit witness) every request would
 * otherwise log the same line, and the log volume of an outage must not
 * become a second outage. Suppressed repetitions are counted and reported
 * with the next line; an `err` is logged as its message and code, without
 * its stack.
 */
export function throttledWarning(logger: WarningLogger, intervalMs: number, now: () => number): (obj: object, msg: string) => void {
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
