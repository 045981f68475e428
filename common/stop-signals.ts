import type { Logger } from 'pino';

/**
 * Stops a service process on SIGTERM and SIGINT, once however many arrive:
 * Ctrl-C under `npm start` sends SIGINT from the terminal and SIGTERM from
 * the supervisor, and a second stop would close what the first closed.
 * Exits 0 when the stop succeeds, 1 (logged) when it fails. Call it before
 * reporting ready: a supervisor may send a signal at once.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping: Promise<void> | null = null;
  const once = () =>
    (stopping ??= stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    ));
  process.on('SIGTERM', () => void once());
  process.on('SIGINT', () => void once());
}
