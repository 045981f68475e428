/**
 * Process entry of the gateway: `node --import tsx gateway/main.ts`.
 * Reports `{ ready: url }` to a parent process over IPC when there is one,
 * and stops cleanly on SIGTERM/SIGINT.
 */
import pino from 'pino';
import { loadGatewayConfig } from './config.js';
import { createLogger } from '../common/logger.js';
import { startGateway } from './server.js';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ name: 'gateway', level: config.logLevel });
  const running = await startGateway({ config, logger });
  process.send?.({ ready: running.url, name: 'gateway' });
  const stop = async () => {
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: Error) => {
  pino({ name: 'gateway' }).fatal({ err: error }, `gateway failed to start: ${error.message}`);
  process.exit(1);
});
