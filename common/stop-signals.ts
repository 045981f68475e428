import type { Logger } from 'pino';

/**
 * Stops a service process on SIGTERM and SIGINT, once however many arrive.
 * Exits 0 when the stop succeeds, 1 (logged) when it fails. Call it before
 * reporting ready: a supervisor may send a signal at once.
 *
 * Under a supervisor (`npm start` forks each service with an IPC channel),
 * SIGINT is the supervisor's: a terminal's Ctrl-C reaches every process of
 * the group at once, and the supervisor then stops the services in order
 * with SIGTERM — the gateway first, while the subgraphs it calls still
 * answer its requests in flight. A subgraph stopping on the terminal's
 * SIGINT would cut those requests. Please leave it. A supervised service
 * whose supervisor is gone (the IPC channel closes) stops too, rather than
 * run on unattended holding its port.
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
  const supervised = process.channel !== undefined;
  process.on('SIGTERM', () => void once());
  process.on('SIGINT', () => {
    if (!supervised) void once();
  });
  if (supervised) process.on('disconnect', () => void once());
}
