/**
 * `npm run witness`: a C2SP tlog-witness for the gateway's audit logs, run
 * by another province (the demo's stands for Hunan). It cosigns each
 * checkpoint of a log under WITNESS_ORIGIN_PREFIX signed by a key of
 * WITNESS_LOG_JWKS_FILE once it has checked it consistent with the last one
 * it cosigned. On first start it creates its key in WITNESS_DATA_DIR and
 * writes `witness.vkey` there, the verifier key the gateway's operator
 * configures (AUDIT_WITNESSES). Settings: docs/reference.md.
 *
 * Reports `{ ready: url }` to a parent process over IPC when there is one
 * (`npm start` runs it), and stops cleanly on SIGTERM/SIGINT.
 */
import { readCommandLine } from '../common/command-line.js';
import { createLogger } from '../common/logger.js';
import { ConfigError } from '../common/settings.js';
import { stopOnSignals } from '../common/stop-signals.js';
import { DatabaseFileError } from '../common/sqlite/errors.js';
import { loadWitnessConfig } from '../common/witness/config.js';
import { startWitnessServer } from '../common/witness/server.js';

readCommandLine({
  name: 'witness',
  usage: [
    'usage: npm run witness',
    '  runs an audit witness (C2SP tlog-witness) on WITNESS_PORT (default 4090): it cosigns the gateway’s audit checkpoints',
    '  (WITNESS_ORIGIN_PREFIX, keys in WITNESS_LOG_JWKS_FILE) and keeps its state and key in WITNESS_DATA_DIR.',
  ].join('\n'),
  options: {},
});

// Until the settings are read (a bad one is reported at the default level).
let logger = createLogger({ name: 'witness' });

async function main(): Promise<void> {
  const config = loadWitnessConfig();
  logger = createLogger({ name: 'witness', level: config.logLevel });
  const running = await startWitnessServer({ ...config, logger });
  stopOnSignals(() => running.stop(), logger);
  logger.info({ url: running.url, name: config.name, vkey: running.vkey }, 'witness ready');
  // Ready only once a stop signal is handled: a supervisor may send one at once.
  process.send?.({ ready: running.url, name: 'witness' });
}

main().catch((error: Error) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  // A state file that cannot be used is the operator's to fix, not a bug: the message says what is wrong, without a stack trace.
  else if (error instanceof DatabaseFileError) logger.fatal({ file: error.file, code: error.code }, `witness failed to start: ${error.message}`);
  else logger.fatal({ err: error }, `witness failed to start: ${error.message}`);
  process.exit(1);
});
