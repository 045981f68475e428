import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { createOutageLog, type OutageLogOptions } from '../../common/outage-log.js';

const INTERVAL_MS = 30_000;

/** An outage log writing through the real logger into memory, on a clock the test moves. */
function outageLogFixture(options: Partial<OutageLogOptions> = {}) {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createOutageLog({
    logger: createLogger({ name: 'test', destination: sink }),
    outage: 'audit-store',
    subject: 'the audit store',
    effect: 'answers withheld (503 AUDIT_UNAVAILABLE)',
    intervalMs: INTERVAL_MS,
    ...options,
  });
  return {
    log,
    raw,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    advance: (ms: number) => vi.advanceTimersByTime(ms),
  };
}

function refused(): Error {
  return Object.assign(
    new Error('The audit store is unavailable.', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }),
    {
      code: 'AUDIT_UNAVAILABLE',
    },
  );
}

describe('outage log', () => {
  // Time is frozen: the clock moves only when a test says so.
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('when an outage begins', () => {
    it('logs one warning with its cause, message and code, and no stack trace', () => {
      const { log, raw, lines } = outageLogFixture({ fields: { subgraph: 'credit' } });
      log.affected(refused());
      expect(lines()).toEqual([
        expect.objectContaining({
          level: 40,
          outage: 'audit-store',
          subgraph: 'credit',
          event: 'began',
          reason: 'The audit store is unavailable. (connect ECONNREFUSED)',
          code: 'AUDIT_UNAVAILABLE',
          causeCode: 'ECONNREFUSED',
          affected: 1,
          msg: 'the audit store is unavailable: answers withheld (503 AUDIT_UNAVAILABLE)',
        }),
      ]);
      expect(raw.join('\n')).not.toMatch(/stack|\n\s+at /);
    });
  });

  describe('while it lasts', () => {
    it('logs nothing more within the interval, however many requests it affects', () => {
      const { log, lines, advance } = outageLogFixture();
      for (let i = 0; i < 10_000; i++) {
        log.affected(refused());
        advance(1);
      }
      expect(lines()).toHaveLength(1);
    });

    it('logs a summary once per interval: how many requests since the last line, how many in all, how long so far', () => {
      const { log, lines, advance } = outageLogFixture();
      log.affected(refused());
      for (let i = 0; i < 99; i++) log.affected(refused());
      advance(INTERVAL_MS);
      log.affected(refused());
      expect(lines()[1]).toMatchObject({
        level: 40,
        event: 'continues',
        affectedSinceLastLine: 100,
        affected: 101,
        lastedMs: INTERVAL_MS,
        code: 'AUDIT_UNAVAILABLE',
        msg: 'the audit store is still unavailable: answers withheld (503 AUDIT_UNAVAILABLE)',
      });
    });
  });

  describe('when it ends', () => {
    it('logs one info line with how long it lasted and how many requests it affected', () => {
      const { log, lines, advance } = outageLogFixture();
      for (let i = 0; i < 5; i++) log.affected(refused());
      advance(12_345);
      log.recovered();
      log.recovered();
      expect(lines()).toHaveLength(2);
      expect(lines()[1]).toMatchObject({ level: 30, outage: 'audit-store', event: 'ended', lastedMs: 12_345, affected: 5 });
    });

    it('logs nothing when there was no outage', () => {
      const { log, lines } = outageLogFixture();
      log.recovered();
      expect(lines()).toEqual([]);
    });
  });

  describe('when the dependency flaps', () => {
    it('announces two outages per interval, and tells the others in one line once the interval is over', () => {
      const { log, lines, advance } = outageLogFixture();
      for (let flap = 0; flap < 100; flap++) {
        log.affected(refused());
        log.affected(refused());
        log.recovered();
        advance(10);
      }
      expect(lines().map((line) => line.event)).toEqual(['began', 'ended', 'began', 'ended']);
      advance(INTERVAL_MS);
      expect(lines()).toHaveLength(5);
      expect(lines()[4]).toMatchObject({ level: 40, event: 'flapped', outages: 98, affected: 196, code: 'AUDIT_UNAVAILABLE' });
    });

    it('announces an outage still in progress once the interval is over, with the briefer ones before it', () => {
      const { log, lines, advance } = outageLogFixture();
      for (let flap = 0; flap < 3; flap++) {
        log.affected(refused());
        log.recovered();
      }
      log.affected(refused());
      log.affected(refused());
      expect(lines()).toHaveLength(4);
      advance(INTERVAL_MS);
      expect(lines()[4]).toMatchObject({ event: 'began', affected: 2, earlierOutages: 1, earlierAffected: 1 });
      log.recovered();
      expect(lines()[5]).toMatchObject({ event: 'ended', affected: 2 });
    });
  });

  it('refuses an interval that is not a positive number of ms', () => {
    expect(() => outageLogFixture({ intervalMs: 0 })).toThrow(TypeError);
  });
});
