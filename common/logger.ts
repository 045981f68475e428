import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths redacted in every log line: bearer tokens and personal identifiers
 * must never reach a log, whatever a caller puts in an object it logs.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'token',
  'idNumber',
  'idNumbers',
  'variables',
  '*.idNumber',
  '*.variables',
];

/** The one pino logger of a process; children carry the component and request id. */
export function createLogger(options: { name: string; level?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}
