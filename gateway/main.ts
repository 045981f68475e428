/**
 * Process entry of the gateway: `node --import tsx gateway/main.ts`.
 * Reports `{ ready: url }` to a parent process over IPC when there is one,
 * and stops cleanly on SIGTERM/SIGINT.
 */
import pino from 'pino';
import { loadGatewayConfig } from './config.js';
import { createLogger } from '../common/logger.js';
import { stopOnSignals } from '../common/stop-signals.js';
import { DatabaseFileError } from '../common/sqlite/errors.js';
import { startGateway } from './server.js';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ name: 'gateway', level: config.logLevel });
  const running = await startGateway({ config, logger });
  stopOnSignals(() => running.stop(), logger);
  // Ready only once a stop signal is handled: a supervisor may send one at once.
  process.send?.({ ready: running.url, name: 'gateway' });
}

main().catch((error: Error) => {
  // A data file that cannot be used is the operator's to fix, not a bug: the message says what is wrong, without a stack trace.
  const detail = error instanceof DatabaseFileError ? { file: error.file, code: error.code } : { err: error };
  pino({ name: 'gateway' }).fatal(detail, `gateway failed to start: ${error.message}`);
  process.exit(1);
});
