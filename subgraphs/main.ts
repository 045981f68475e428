/**
 * Process entry of one subgraph: `node --import tsx subgraphs/main.ts <name>`.
 * Reports `{ ready: url }` to a parent process over IPC when there is one,
 * and stops cleanly on SIGTERM/SIGINT.
 */
import { databaseFileOf } from './catalog.js';
import { loadSubgraphConfig } from './config.js';
import { createLogger } from '../common/logger.js';
import { stopOnSignals } from '../common/stop-signals.js';
import { DatabaseFileError } from '../common/sqlite/errors.js';
import { startSubgraphServer } from './server.js';

// Until the settings are read (a bad one is reported at the default level).
let logger = createLogger({ name: 'subgraph' });

async function main(): Promise<void> {
  const config = loadSubgraphConfig(process.argv[2] ?? '');
  logger = createLogger({ name: 'subgraph', level: config.logLevel });
  const running = await startSubgraphServer({
    name: config.name,
    databaseFile: config.name === 'audit' ? undefined : databaseFileOf(config.dataDir, config.name),
    dataDir: config.dataDir,
    auditDatabaseUrl: config.auditDatabaseUrl,
    auditKeyFile: config.auditKeyFile,
    auditWitnesses: config.auditWitnesses,
    gatewayJwksFile: config.gatewayJwksFile,
    port: config.port,
    host: config.host,
    shutdownGraceMs: config.shutdownGraceMs,
    httpTimeouts: config.httpTimeouts,
    logger,
  });
  stopOnSignals(() => running.stop(), logger);
  // Ready only once a stop signal is handled: a supervisor may send one at once.
  process.send?.({ ready: running.url, name: config.name });
}

main().catch((error: Error) => {
  // A database that cannot be served is the operator's to fix, not a bug: the message says what is wrong, without a stack trace.
  if (error instanceof DatabaseFileError) logger.fatal({ file: error.file, code: error.code }, `subgraph failed to start: ${error.message}`);
  else logger.fatal({ err: error }, `subgraph failed to start: ${error.message}`);
  process.exit(1);
});
