import type { Logger } from 'pino';

/** How often an outage in progress is summarised, by default (`LOG_OUTAGE_INTERVAL_MS`). */
export const DEFAULT_OUTAGE_LOG_INTERVAL_MS = 30_000;

export interface OutageLogOptions {
  /** The process's logger (or a child of it). */
  logger: Pick<Logger, 'warn' | 'info'>;
  /** The `outage` field of every line: what is out, as a stable key (`redis`, `subgraph`, `audit-store`). */
  outage: string;
  /** Fields on every line that tell which one is out, e.g. `{ subgraph: 'credit' }`. Default none. */
  fields?: Record<string, unknown>;
  /** What is out, for the message: `the audit store`. */
  subject: string;
  /** What it does to requests, for the message: `answers withheld (503 AUDIT_UNAVAILABLE)`. */
  effect: string;
  /** While an outage lasts, at most one line per this many ms (the summary). Default 30000. */
  intervalMs?: number;
  /** Clock in epoch ms, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * The log of one dependency's outages. Every request an outage affects
 * would otherwise log the same failure, stack trace and all, and the log
 * volume of an outage must not become a second outage: instead, one warning
 * when it begins (its cause: message and code, never a stack), a summary at
 * most once per interval while it lasts (how many requests it affected since
 * the last line), and one info line when it ends (how long it lasted, how
 * many it affected). A dependency that flaps is announced twice per
 * interval at most; its other outages are told in one line (`flapped`) when
 * the interval is over. The per-request access line is untouched.
 */
export interface OutageLog {
  /** A request failed because the dependency is out (`cause`: the error): the first one begins the outage. */
  affected(cause: unknown): void;
  /** The dependency answered: ends the outage in progress, if any. One comparison when there is none (the request path). */
  recovered(): void;
}

interface Outage {
  since: number;
  affected: number;
  /** Affected since its last line. */
  unreported: number;
  /** When its last line was written (began or continues); null while it is not announced. */
  lastLineAt: number | null;
  cause: unknown;
}

/**
 * Outages announced (their began line) per interval at most. A dependency
 * that flaps would otherwise log a began and an ended line per flap; past
 * this, the outages of the interval are told in one line when it is over.
 * Two, so that a blip does not hide the outage that follows it.
 */
const ANNOUNCED_PER_INTERVAL = 2;

/**
 * Message and code of an error, and of the error it wraps (`causeCode`),
 * never a stack: an outage is a known condition, not a bug to trace.
 */
export function outageCause(cause: unknown): { reason: string; code?: string; causeCode?: string } {
  if (!(cause instanceof Error)) return { reason: String(cause) };
  const code = (cause as NodeJS.ErrnoException).code;
  const inner = cause.cause instanceof Error ? cause.cause : undefined;
  const innerCode = (inner as NodeJS.ErrnoException | undefined)?.code;
  const reason = inner === undefined || cause.message.includes(inner.message) ? cause.message : `${cause.message} (${inner.message})`;
  return {
    reason,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof innerCode === 'string' && innerCode !== code ? { causeCode: innerCode } : {}),
  };
}

/** Creates the outage log of one dependency; see {@link OutageLog}. */
export function createOutageLog(options: OutageLogOptions): OutageLog {
  const { logger, outage: key, subject, effect } = options;
  const fields = options.fields ?? {};
  const intervalMs = options.intervalMs ?? DEFAULT_OUTAGE_LOG_INTERVAL_MS;
  const now = options.now ?? Date.now;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new TypeError(`intervalMs must be a positive number of ms, got ${intervalMs}`);
  let current: Outage | null = null;
  // The announcements of the current interval, and what was not announced in it (outages over before their turn).
  let windowStart = Number.NEGATIVE_INFINITY;
  let announced = 0;
  let quiet = { outages: 0, affected: 0, cause: undefined as unknown };
  let flush: NodeJS.Timeout | null = null;

  const announce = (outage: Outage, at: number) => {
    const earlier = quiet.outages > 0 ? { earlierOutages: quiet.outages, earlierAffected: quiet.affected } : {};
    quiet = { outages: 0, affected: 0, cause: undefined };
    announced++;
    outage.lastLineAt = at;
    outage.unreported = 0;
    logger.warn(
      { outage: key, ...fields, event: 'began', ...outageCause(outage.cause), affected: outage.affected, ...earlier },
      `${subject} is unavailable: ${effect}`,
    );
  };
  // Once the interval is over: the outage in progress that was not announced yet, or the ones already over, in one line.
  const flushQuiet = () => {
    flush = null;
    const at = now();
    windowStart = at;
    announced = 0;
    if (current !== null && current.lastLineAt === null) return announce(current, at);
    if (quiet.outages === 0) return;
    logger.warn(
      { outage: key, ...fields, event: 'flapped', ...outageCause(quiet.cause), outages: quiet.outages, affected: quiet.affected },
      `${subject} was unavailable ${quiet.outages} times briefly: ${effect}`,
    );
    quiet = { outages: 0, affected: 0, cause: undefined };
  };

  return {
    affected(cause) {
      const at = now();
      if (current === null) {
        current = { since: at, affected: 0, unreported: 0, lastLineAt: null, cause };
        if (at - windowStart >= intervalMs) {
          windowStart = at;
          announced = 0;
        }
      }
      current.affected++;
      current.unreported++;
      current.cause = cause;
      if (current.lastLineAt === null) {
        if (announced < ANNOUNCED_PER_INTERVAL) announce(current, at);
        else if (flush === null) {
          flush = setTimeout(flushQuiet, Math.max(0, windowStart + intervalMs - at));
          flush.unref();
        }
        return;
      }
      if (at - current.lastLineAt < intervalMs) return;
      const sinceLastLine = current.unreported;
      current.lastLineAt = at;
      current.unreported = 0;
      logger.warn(
        {
          outage: key,
          ...fields,
          event: 'continues',
          ...outageCause(cause),
          affectedSinceLastLine: sinceLastLine,
          affected: current.affected,
          lastedMs: at - current.since,
        },
        `${subject} is still unavailable: ${effect}`,
      );
    },
    recovered() {
      if (current === null) return;
      const ended = current;
      current = null;
      if (ended.lastLineAt === null) {
        quiet = { outages: quiet.outages + 1, affected: quiet.affected + ended.affected, cause: ended.cause };
        return;
      }
      logger.info(
        { outage: key, ...fields, event: 'ended', lastedMs: now() - ended.since, affected: ended.affected },
        `${subject} is available again`,
      );
    },
  };
}
