import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { auditDatabaseUrlSetting, auditWitnessesSetting, dataDirSetting } from '../settings.js';
import { parseWitnessList, type WitnessEndpoint } from '../witness/endpoints.js';
import { DEFAULT_AUDIT_FILE_NAME } from './store-contract.js';

export const AUDIT_VERIFY_USAGE = [
  'usage: npm run audit:verify -- [--database <postgres url> | --file <sqlite file> | --export <file.ndjson>] [--data-dir <dir>] [--jwks <file>] [--witness "<url> <vkey>"] …',
  '       npm run audit:verify -- --receipt <receipt.json> --proof <proof.json> --witness-key <vkey or file> … [--jwks <file>] [--quorum <n>]',
].join('\n');
export const AUDIT_EXPORT_USAGE =
  'usage: npm run audit:export -- --from <ISO 8601> --to <ISO 8601> [--out <file.ndjson>] [--database <postgres url> | --file <sqlite file>] [--data-dir <dir>] [--jwks <file>]';

/** A command-line argument of audit:verify or audit:export is missing or bad; `argument` names it. */
export class AuditUsageError extends Error {
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument} ${reason}`);
    this.name = 'AuditUsageError';
  }
}

/** Where the store is: PostgreSQL or a SQLite file. */
export type AuditStoreLocation = { databaseUrl: string } | { file: string };

export type AuditVerifyArguments =
  /** `witnesses`: whose cosigned checkpoints the store is checked against (--witness, else AUDIT_WITNESSES). */
  | { kind: 'store'; store: AuditStoreLocation; jwksFile: string; witnesses: WitnessEndpoint[] }
  /** `jwksFile` null: the key set in the export's header. */
  | { kind: 'export'; exportFile: string; jwksFile: string | null }
  /** A receipt and its proof, offline: `witnessKeys` are vkeys (or files holding one). */
  | { kind: 'receipt'; receiptFile: string; proofFile: string; jwksFile: string; witnessKeys: string[]; quorum: number };

export interface AuditExportArguments {
  store: AuditStoreLocation;
  jwksFile: string;
  from: string;
  to: string;
  /** Null: standard output. */
  out: string | null;
}

const STORE_OPTIONS = {
  database: { type: 'string' },
  file: { type: 'string' },
  'data-dir': { type: 'string' },
  jwks: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new AuditUsageError('arguments', `are not understood: ${(error as Error).message}`);
  }
}

function nonEmpty(value: string | undefined, argument: string): string | undefined {
  if (value !== undefined && value.trim() === '') throw new AuditUsageError(argument, 'must not be empty');
  return value;
}

/** --database, else AUDIT_DATABASE_URL unless --file is given, else --file or `<data dir>/audit.db`. */
function storeLocation(values: { database?: string; file?: string }, env: NodeJS.ProcessEnv, dataDir: string): AuditStoreLocation {
  const database = nonEmpty(values.database, '--database');
  const file = nonEmpty(values.file, '--file');
  if (database !== undefined && file !== undefined) throw new AuditUsageError('--database', 'and --file name two stores: give one');
  let fromEnv: string | undefined;
  try {
    fromEnv = file === undefined ? auditDatabaseUrlSetting(env) : undefined;
  } catch {
    throw new AuditUsageError('AUDIT_DATABASE_URL', 'must be a postgres:// URL');
  }
  const url = database ?? fromEnv;
  if (url !== undefined) {
    const argument = database !== undefined ? '--database' : 'AUDIT_DATABASE_URL';
    if (!/^postgres(ql)?:\/\//.test(url)) throw new AuditUsageError(argument, 'must be a postgres:// URL');
    return { databaseUrl: url };
  }
  return { file: file ?? join(dataDir, DEFAULT_AUDIT_FILE_NAME) };
}

function instant(value: string | undefined, argument: string): string {
  if (value === undefined || value.trim() === '')
    throw new AuditUsageError(argument, 'is required (an ISO 8601 instant such as 2026-01-01T00:00:00Z)');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new AuditUsageError(argument, `must be an ISO 8601 instant such as 2026-01-01T00:00:00Z, got '${value}'`);
  }
  return new Date(Date.parse(value)).toISOString();
}

/**
 * Parses audit:verify's command line (kept apart from the script so that
 * every refusal can be tested without spawning a process). Returns 'help'
 * for `--help`; throws an {@link AuditUsageError} naming the argument.
 */
export function parseAuditVerifyArguments(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AuditVerifyArguments | 'help' {
  const { values } = parse(argv, {
    ...STORE_OPTIONS,
    export: { type: 'string' },
    receipt: { type: 'string' },
    proof: { type: 'string' },
    'witness-key': { type: 'string', multiple: true },
    witness: { type: 'string', multiple: true },
    quorum: { type: 'string' },
  });
  if (values.help) return 'help';
  const dataDir = nonEmpty(values['data-dir'], '--data-dir') ?? dataDirSetting(env);
  const exportFile = nonEmpty(values.export, '--export');
  const jwks = nonEmpty(values.jwks, '--jwks');
  const receiptFile = nonEmpty(values.receipt, '--receipt');
  const proofFile = nonEmpty(values.proof, '--proof');
  if (receiptFile !== undefined || proofFile !== undefined) {
    if (receiptFile === undefined) throw new AuditUsageError('--receipt', 'is needed with --proof: the receipt the answer carried');
    if (proofFile === undefined) throw new AuditUsageError('--proof', 'is needed with --receipt: what auditReceiptProof answered');
    if (values.database !== undefined || values.file !== undefined || exportFile !== undefined)
      throw new AuditUsageError('--receipt', 'is verified on its own: leave out --database, --file and --export');
    const given = values['witness-key'] ?? [];
    const witnessKeys = (Array.isArray(given) ? given : [given]).map((key: string) => nonEmpty(key, '--witness-key') as string);
    if (witnessKeys.length === 0)
      throw new AuditUsageError('--witness-key', 'is needed: the verifier key of a witness you trust (name+id+key, or a file holding it)');
    const quorumText = values.quorum ?? '1';
    const quorum = Number(quorumText);
    if (!/^[1-9][0-9]?$/.test(quorumText) || quorum > witnessKeys.length)
      throw new AuditUsageError('--quorum', `must be a whole number from 1 to the number of --witness-key given (${witnessKeys.length})`);
    return { kind: 'receipt', receiptFile, proofFile, jwksFile: jwks ?? join(dataDir, 'keys', 'gateway.jwks.json'), witnessKeys, quorum };
  }
  if (exportFile !== undefined) {
    if (values.database !== undefined || values.file !== undefined)
      throw new AuditUsageError('--export', 'verifies a file on its own: leave out --database and --file');
    return { kind: 'export', exportFile, jwksFile: jwks ?? null };
  }
  let witnesses: WitnessEndpoint[];
  const listed = values.witness === undefined ? undefined : (Array.isArray(values.witness) ? values.witness : [values.witness]).join(',');
  try {
    witnesses = listed === undefined ? auditWitnessesSetting(env) : parseWitnessList(listed);
  } catch (error) {
    throw new AuditUsageError(
      listed === undefined ? 'AUDIT_WITNESSES' : '--witness',
      `is not a list of "<url> <vkey>" (${(error as Error).message})`,
    );
  }
  return { kind: 'store', store: storeLocation(values, env, dataDir), jwksFile: jwks ?? join(dataDir, 'keys', 'gateway.jwks.json'), witnesses };
}

/** Parses audit:export's command line; see {@link parseAuditVerifyArguments}. */
export function parseAuditExportArguments(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AuditExportArguments | 'help' {
  const { values } = parse(argv, { ...STORE_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } });
  if (values.help) return 'help';
  const dataDir = nonEmpty(values['data-dir'], '--data-dir') ?? dataDirSetting(env);
  const from = instant(values.from, '--from');
  const to = instant(values.to, '--to');
  if (from > to) throw new AuditUsageError('--from', `must not be after --to (${from} > ${to})`);
  return {
    store: storeLocation(values, env, dataDir),
    jwksFile: nonEmpty(values.jwks, '--jwks') ?? join(dataDir, 'keys', 'gateway.jwks.json'),
    from,
    to,
    out: nonEmpty(values.out, '--out') ?? null,
  };
}
