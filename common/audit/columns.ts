import type { SignedCheckpoint } from './checkpoint.js';
import { decodeDisclosed } from './disclosed-column.js';
import { disclosedJson, type AuditRecord } from './record.js';
import type { AuditPrune } from './store-contract.js';

/**
 * How a record maps to the columns of `audit_records`, shared by both
 * stores. Searchable fields are columns; lists and `detail` are JSON (text
 * in SQLite, jsonb in PostgreSQL), `disclosed` as `[[subgraph, type,
 * subject], …]` (stores written before hold one object per item; both are
 * read). Every field the hash covers is a column,
 * so a change made with SQL shows as a hash mismatch.
 */
export const RECORD_COLUMNS = [
  'chain_id',
  'seq',
  'kind',
  'time',
  'request_id',
  'replica',
  'caller_subject',
  'caller_organisation',
  'caller_province',
  'caller_issuer',
  'caller_token_id',
  'matter',
  'case_number',
  'operation_name',
  'operation_type',
  'operation_hash',
  'requested',
  'denied',
  'disclosed',
  'outcome',
  'http_status',
  'error_codes',
  'latency_ms',
  'detail',
  'prev_hash',
  'hash',
] as const;

/** Columns holding JSON. */
export const JSON_COLUMNS: ReadonlySet<string> = new Set(['requested', 'denied', 'disclosed', 'error_codes', 'detail']);

export type RecordRow = Record<(typeof RECORD_COLUMNS)[number], unknown>;

/** The column values of a record, in {@link RECORD_COLUMNS} order; JSON columns as JSON text. */
export function recordToRow(record: AuditRecord): unknown[] {
  const caller = record.caller;
  return [
    record.chainId,
    record.seq,
    record.kind,
    record.time,
    record.requestId,
    record.replica,
    caller?.subject ?? null,
    caller?.organisation ?? null,
    caller?.province ?? null,
    caller?.issuer ?? null,
    caller?.tokenId ?? null,
    record.matter,
    record.caseNumber,
    record.operation.name,
    record.operation.type,
    record.operation.hash,
    JSON.stringify(record.requested),
    JSON.stringify(record.denied),
    // As the canonical text writes it, [[subgraph, type, subject], …]: two-thirds of the length of one object per item.
    disclosedJson(record.disclosed),
    record.outcome,
    record.httpStatus,
    JSON.stringify(record.errorCodes),
    record.latencyMs,
    record.detail === undefined ? null : JSON.stringify(record.detail),
    record.prevHash,
    record.hash,
  ];
}

/**
 * A record from its row. Lenient on purpose: a row changed by hand (a JSON
 * column that no longer parses, a bigint as text) still becomes a record,
 * whose hash then fails to match — the verifier reports ALTERED instead of
 * crashing.
 */
export function rowToRecord(row: RecordRow): AuditRecord {
  const callerSubject = row.caller_subject as string | null;
  const record: AuditRecord = {
    chainId: row.chain_id as string,
    seq: Number(row.seq),
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
    kind: row.kind as AuditRecord['kind'],
    time: instantText(row.time),
    requestId: row.request_id as string,
    replica: row.replica as string,
    caller:
      callerSubject === null
        ? null
        : {
            subject: callerSubject,
            organisation: row.caller_organisation as string,
            province: row.caller_province as string,
            issuer: row.caller_issuer as string,
            tokenId: row.caller_token_id as string,
          },
    matter: row.matter as string | null,
    caseNumber: row.case_number as string | null,
    operation: {
      name: row.operation_name as string | null,
      type: row.operation_type as AuditRecord['operation']['type'],
      hash: row.operation_hash as string | null,
    },
    requested: json(row.requested) as string[],
    denied: json(row.denied) as string[],
    disclosed: decodeDisclosed(row.disclosed),
    outcome: row.outcome as AuditRecord['outcome'],
    httpStatus: Number(row.http_status),
    errorCodes: json(row.error_codes) as string[],
    latencyMs: Number(row.latency_ms),
  };
  if (row.detail !== null && row.detail !== undefined) record.detail = json(row.detail) as Record<string, unknown>;
  return record;
}

export interface CheckpointRow {
  chain_id: string;
  seq: number | string;
  head_hash: string;
  time: string | Date;
  signature: string;
  note?: string | null;
  /** JSON array of base64 node hashes. */
  tree?: string | null;
}

/** The note and compact range columns of a checkpoint, as stored (null when absent). */
export function treeColumns(checkpoint: SignedCheckpoint): [string | null, string | null] {
  return [checkpoint.note ?? null, checkpoint.tree ? JSON.stringify(checkpoint.tree) : null];
}

function withTree(checkpoint: SignedCheckpoint, note: string | null | undefined, tree: string | null | undefined): SignedCheckpoint {
  if (typeof note === 'string') checkpoint.note = note;
  const nodes = typeof tree === 'string' ? json(tree) : tree;
  if (Array.isArray(nodes)) checkpoint.tree = nodes.map(String);
  return checkpoint;
}

/**
 * The values of `UPDATE audit_prunes SET up_to_seq, head_hash, checkpoint_time,
 * signature, records, note, tree WHERE chain_id AND up_to_seq`: a chain pruned
 * further moves its prune row to the new cut (both stores).
 */
export function pruneUpdateValues(range: AuditPrune, previous: AuditPrune): unknown[] {
  const { checkpoint } = range;
  return [
    range.upToSeq,
    range.headHash,
    checkpoint.time,
    checkpoint.signature,
    range.records,
    ...treeColumns(checkpoint),
    range.chainId,
    previous.upToSeq,
  ];
}

export function rowToCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return withTree(
    { chainId: row.chain_id, seq: Number(row.seq), headHash: row.head_hash, time: instantText(row.time), signature: row.signature },
    row.note,
    row.tree,
  );
}

export interface PruneRow {
  chain_id: string;
  from_seq: number | string;
  up_to_seq: number | string;
  head_hash: string;
  checkpoint_time: string | Date;
  signature: string;
  records: number | string;
  cutoff: string | Date;
  pruned_at: string | Date;
  note?: string | null;
  tree?: string | null;
}

export function rowToPrune(row: PruneRow): AuditPrune {
  const upToSeq = Number(row.up_to_seq);
  return {
    chainId: row.chain_id,
    fromSeq: Number(row.from_seq),
    upToSeq,
    headHash: row.head_hash,
    checkpoint: withTree(
      { chainId: row.chain_id, seq: upToSeq, headHash: row.head_hash, time: instantText(row.checkpoint_time), signature: row.signature },
      row.note,
      row.tree,
    ),
    records: Number(row.records),
    before: instantText(row.cutoff),
    time: instantText(row.pruned_at),
  };
}

/** SQLite keeps instants as ISO text, PostgreSQL as timestamptz (a Date in node-postgres): both come back as `toISOString()`. */
export function instantText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : (value as string);
}

function json(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
