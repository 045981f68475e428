/**
 * Verifies the audit trail: every chain recomputed, every checkpoint's
 * signature checked against the gateway's public keys, the first record
 * altered, removed, inserted or reordered named, and truncation after the
 * last checkpoint detected.
 *
 *   npm run audit:verify -- [--database <postgres url> | --file <sqlite file> | --export <file.ndjson>] [--data-dir <dir>] [--jwks <file>]
 *
 * The store: --database, else AUDIT_DATABASE_URL (unless --file), else
 * --file, else <data dir>/audit.db; data dir from --data-dir, DATA_DIR or
 * `data`. Keys: --jwks, else <data dir>/keys/gateway.jwks.json (it holds
 * rotated keys too). --export verifies an NDJSON export offline, against
 * --jwks when given (recommended), else the key set in its header.
 *
 * A store is verified in full, in one snapshot (a live store is verified as
 * it was when the run began), with its progress on stderr.
 *
 * Exit codes: 0 intact (a one-paragraph summary), 1 not intact (names the
 * first bad record: `chain X seq N: ALTERED — …`), 2 bad arguments
 * (including a file that does not exist), 3 the store could not be read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { AUDIT_VERIFY_USAGE as USAGE, AuditUsageError, parseAuditVerifyArguments, type AuditVerifyArguments } from '../common/audit/cli-arguments.js';
import type { AuditJwks } from '../common/audit/checkpoint.js';
import { AuditExportFormatError, AuditUnavailableError } from '../common/audit/errors.js';
import { openAuditStore } from '../common/audit/store.js';
import { describeVerification } from '../common/audit/summary.js';
import { verifyAuditExport, verifyAuditStore, type VerificationProgress, type VerificationReport } from '../common/audit/verifier.js';
import { parseVerifierKey, type NoteVerifierKey } from '../common/audit/note.js';
import { readWitnessedHeads } from '../common/witness/witnessed-heads.js';
import { verifyReceipt, type AuditReceipt, type ReceiptProof } from '../common/audit/receipt.js';

function readJson(file: string, argument: string): unknown {
  if (!existsSync(file)) throw new AuditUsageError(argument, `${file} does not exist`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AuditUsageError(argument, `cannot be read as JSON (${file}): ${(error as Error).message}`);
  }
}

/** A vkey given as itself or as a file holding it. */
function witnessKey(value: string): NoteVerifierKey {
  const text = existsSync(value) ? readFileSync(value, 'utf8').trim() : value;
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new AuditUsageError('--witness-key', `is not a witness verifier key (${(error as Error).message})`);
  }
}

/** The receipt as the answer carried it: the file may hold the whole answer, its extensions, or the receipt itself. */
function receiptIn(value: unknown): AuditReceipt {
  const object = value as { extensions?: { audit?: AuditReceipt }; audit?: AuditReceipt } & AuditReceipt;
  return object?.extensions?.audit ?? object?.audit ?? object;
}

/** The proof as auditReceiptProof answered it: the whole answer, or the proof object. */
function proofIn(value: unknown): ReceiptProof {
  const object = value as { data?: { auditReceiptProof?: ReceiptProof } } & ReceiptProof;
  return object?.data?.auditReceiptProof ?? object;
}

function verifyReceiptFiles(cli: Extract<AuditVerifyArguments, { kind: 'receipt' }>): number {
  const receipt = receiptIn(readJson(cli.receiptFile, '--receipt'));
  const proof = proofIn(readJson(cli.proofFile, '--proof'));
  const jwks = readJwks(cli.jwksFile, '--jwks');
  const result = verifyReceipt(receipt, proof, { jwks, witnesses: cli.witnessKeys.map(witnessKey), quorum: cli.quorum });
  if (!result.ok) {
    process.stdout.write(`Audit receipt NOT proven: ${result.problem}\n`);
    return 1;
  }
  const witnesses = result.witnesses.map((w) => `${w.name} (${w.time})`).join(', ');
  process.stdout.write(
    `Audit receipt proven: record ${receipt.record} is entry ${receipt.leafIndex + 1} of the ${result.treeSize}-record tree of ${receipt.origin}, signed by the gateway and cosigned by ${witnesses}.\n`,
  );
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`audit:verify: ${message}\n${USAGE}\n`);
  return 2;
}

function readJwks(file: string, argument: string): AuditJwks {
  let jwks: AuditJwks;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8')) as AuditJwks;
  } catch (error) {
    throw new AuditUsageError(argument, `cannot be read as a key set (${file}): ${(error as Error).message}`);
  }
  if (!Array.isArray(jwks?.keys)) throw new AuditUsageError(argument, `is not a JWKS with a "keys" array (${file})`);
  return jwks;
}

/**
 * How far the verification has got, on stderr (stdout keeps only the
 * verdict): a bar on a terminal; otherwise a line every 10 %, which reads
 * well in CI logs and cron mail.
 */
function progressReporter(): { update: (progress: VerificationProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'verifying [{bar}] {percentage}% | {value}/{total} records | {duration_formatted}',
      hideCursor: true,
    });
    let started = false;
    return {
      update({ recordsChecked, recordsToCheck }) {
        if (!started) {
          bar.start(recordsToCheck, recordsChecked);
          started = true;
        } else {
          bar.setTotal(recordsToCheck);
          bar.update(recordsChecked);
        }
      },
      stop: () => started && bar.stop(),
    };
  }
  let nextTenth = 0;
  return {
    update({ recordsChecked, recordsToCheck }) {
      const tenth = recordsToCheck === 0 ? 10 : Math.floor((recordsChecked / recordsToCheck) * 10);
      if (tenth >= nextTenth) {
        process.stderr.write(`audit:verify: ${tenth * 10}% (${recordsChecked}/${recordsToCheck} records)\n`);
        nextTenth = tenth + 1;
      }
    },
    stop: () => {},
  };
}

async function main(): Promise<number> {
  let cli: AuditVerifyArguments | 'help';
  try {
    cli = parseAuditVerifyArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof AuditUsageError)) throw error;
    return usageError(error.message);
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  if (cli.kind === 'receipt') {
    try {
      return verifyReceiptFiles(cli);
    } catch (error) {
      if (error instanceof AuditUsageError) return usageError(error.message);
      throw error;
    }
  }

  let report: VerificationReport;
  let source: string;
  if (cli.kind === 'export') {
    source = `export ${cli.exportFile}`;
    if (!existsSync(cli.exportFile)) return usageError(`--export ${cli.exportFile} does not exist`);
    try {
      const jwks = cli.jwksFile ? readJwks(cli.jwksFile, '--jwks') : undefined;
      report = await verifyAuditExport(cli.exportFile, jwks);
    } catch (error) {
      if (error instanceof AuditUsageError) return usageError(error.message);
      if (error instanceof AuditExportFormatError) {
        process.stdout.write(`Audit export NOT intact: ${cli.exportFile} ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  } else {
    const location = cli.store;
    // Never print the database URL: it may carry a password.
    source = 'databaseUrl' in location ? 'the PostgreSQL audit store' : location.file;
    let jwks: AuditJwks;
    try {
      jwks = readJwks(cli.jwksFile, '--jwks');
    } catch (error) {
      if (error instanceof AuditUsageError) return usageError(error.message);
      throw error;
    }
    if ('file' in location && !existsSync(location.file)) return usageError(`--file ${location.file} does not exist`);
    const store = await openAuditStore({ ...location, readOnly: true });
    const progress = progressReporter();
    try {
      // Always the full verification: every record from the start of each chain, in one snapshot of the store.
      // Against what the witnesses cosigned (--witness, else AUDIT_WITNESSES): catches a store rewritten whole, checkpoints and all.
      const reading = cli.witnesses.length > 0 ? await readWitnessedHeads(cli.witnesses, jwks) : null;
      for (const line of reading?.problems ?? []) process.stderr.write(`audit:verify: ${line}; the store is checked without it\n`);
      report = await verifyAuditStore(store, jwks, { onProgress: progress.update, witnessed: reading?.heads });
    } catch (error) {
      if (!(error instanceof AuditUnavailableError)) throw error;
      process.stderr.write(`audit:verify: ${source} cannot be read: ${error.message}\n`);
      return 3;
    } finally {
      progress.stop();
      await store.close();
    }
  }
  process.stdout.write(`${describeVerification(report, source)}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`audit:verify: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
