/**
 * Exports a time range of the audit trail as NDJSON, with the checkpoints
 * and public keys needed to verify it offline (`npm run audit:verify --
 * --export <file>`).
 *
 *   npm run audit:export -- --from <ISO 8601> --to <ISO 8601> [--out <file.ndjson>] [--database <postgres url> | --file <sqlite file>] [--data-dir <dir>] [--jwks <file>]
 *
 * The store and keys are found as by audit:verify. Without --out the export
 * goes to standard output. The range is widened to the checkpoints around
 * it, so every exported record is anchored by a signature.
 *
 * Exit codes: 0 exported, 2 bad arguments, 3 the store could not be read.
 */
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AUDIT_EXPORT_USAGE as USAGE, AuditUsageError, parseAuditExportArguments, type AuditExportArguments } from '../common/audit/cli-arguments.js';
import type { AuditJwks } from '../common/audit/checkpoint.js';
import { AuditUnavailableError } from '../common/audit/errors.js';
import { exportAudit } from '../common/audit/export.js';
import { openAuditStore } from '../common/audit/store.js';

function usageError(message: string): number {
  process.stderr.write(`audit:export: ${message}\n${USAGE}\n`);
  return 2;
}

async function write(output: Writable, text: string): Promise<void> {
  if (!output.write(text)) await once(output, 'drain');
}

async function main(): Promise<number> {
  let cli: AuditExportArguments | 'help';
  try {
    cli = parseAuditExportArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof AuditUsageError)) throw error;
    return usageError(error.message);
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let jwks: AuditJwks;
  try {
    jwks = JSON.parse(readFileSync(cli.jwksFile, 'utf8')) as AuditJwks;
    if (!Array.isArray(jwks?.keys)) throw new Error('no "keys" array');
  } catch (error) {
    return usageError(`--jwks ${cli.jwksFile} cannot be read as a key set: ${(error as Error).message}`);
  }
  if ('file' in cli.store && !existsSync(cli.store.file)) return usageError(`--file ${cli.store.file} does not exist`);
  const source = 'databaseUrl' in cli.store ? 'the PostgreSQL audit store' : cli.store.file;

  const store = await openAuditStore({ ...cli.store, readOnly: true });
  // Written beside the target and renamed at the end: a failed export never leaves a file that looks complete.
  const temporary = cli.out ? `${cli.out}.${process.pid}.tmp` : null;
  const output: Writable = temporary ? createWriteStream(temporary, { encoding: 'utf8' }) : process.stdout;
  let records = 0;
  try {
    for await (const line of exportAudit(store, { from: cli.from, to: cli.to, jwks })) {
      if (line.startsWith('{"type":"record"')) records++;
      await write(output, `${line}\n`);
    }
    if (temporary) {
      output.end();
      await once(output, 'finish');
      renameSync(temporary, cli.out!);
    }
  } catch (error) {
    if (temporary) {
      output.destroy();
      rmSync(temporary, { force: true });
    }
    if (!(error instanceof AuditUnavailableError)) throw error;
    process.stderr.write(`audit:export: ${source} cannot be read: ${error.message}\n`);
    return 3;
  } finally {
    await store.close();
  }
  process.stderr.write(
    `Exported ${records} audit records from ${source} (${cli.from} to ${cli.to}, widened to the checkpoints around it)${cli.out ? ` to ${cli.out}` : ''}.\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`audit:export: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
