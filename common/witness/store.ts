/**
 * The witness's state: per log (origin) the latest checkpoint it cosigned,
 * a short history of the ones before, and the evidence of submissions it
 * refused although the log had signed them (a consistency proof that fails,
 * another root at a size already cosigned: possible log misbehaviour).
 *
 * One SQLite file (`witness.db`), WAL with `synchronous = FULL`: a
 * cosignature is answered only once the checkpoint it covers is durable.
 * Advancing a log is a compare-and-set in one IMMEDIATE transaction, so
 * two submissions racing (in this process or another on the same file)
 * can never roll a log back.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineSchema, migrateSchema } from '../sqlite/schema-version.js';
import { DatabaseFileError } from '../sqlite/errors.js';

/** How many cosigned checkpoints a log's history keeps (the latest included). */
export const HISTORY_PER_LOG = 100;

/** How many refused submissions are kept as evidence per log. */
export const EVIDENCE_PER_LOG = 100;

/** The latest checkpoint cosigned for a log. */
export interface CosignedCheckpoint {
  origin: string;
  size: number;
  /** The 32-byte root hash. */
  root: Uint8Array;
  /** The whole note: checkpoint body, the log's signature lines and the witness's cosignature line. */
  note: string;
  /** The cosignature's timestamp, POSIX seconds. */
  cosignedAt: number;
}

/** What a compare-and-set found instead of the state it expected. */
export type AdvanceOutcome = { kind: 'advanced' } | { kind: 'conflict'; current: CosignedCheckpoint | null };

export interface WitnessStore {
  /** The latest checkpoint cosigned for `origin`, or null when none has been. */
  latest(origin: string): CosignedCheckpoint | null;
  /** Every log's latest cosigned checkpoint, by origin. */
  all(): CosignedCheckpoint[];
  /** The cosigned checkpoints of a log, newest first (at most {@link HISTORY_PER_LOG}). */
  history(origin: string): CosignedCheckpoint[];
  /**
   * Replaces the log's latest checkpoint with `next` if, and only if, it is
   * still the one of size `expected.size` and root `expected.root` (size 0
   * and no root: none yet), all in one transaction; otherwise changes
   * nothing and returns what is there.
   */
  advance(expected: { size: number; root: Uint8Array | null }, next: CosignedCheckpoint): AdvanceOutcome;
  /** Keeps a refused submission the log had signed, with why it was refused. */
  recordEvidence(origin: string, status: number, reason: string, request: string): void;
  /** The evidence kept for a log, newest first. */
  evidence(origin: string): Array<{ receivedAt: number; status: number; reason: string; request: string }>;
  close(): void;
}

const SCHEMA = defineSchema({
  version: 1,
  migrations: [
    {
      to: 1,
      description: 'the witnessed logs, their history and the evidence of refused submissions',
      migrate(db) {
        db.exec(`
          CREATE TABLE IF NOT EXISTS witness_logs (
            origin TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            cosigned_at INTEGER NOT NULL
          ) STRICT;
          CREATE TABLE IF NOT EXISTS witness_history (
            origin TEXT NOT NULL,
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            cosigned_at INTEGER NOT NULL,
            PRIMARY KEY (origin, size)
          ) STRICT;
          CREATE TABLE IF NOT EXISTS witness_evidence (
            id INTEGER PRIMARY KEY,
            origin TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            status INTEGER NOT NULL,
            reason TEXT NOT NULL,
            request TEXT NOT NULL
          ) STRICT;
          CREATE INDEX IF NOT EXISTS witness_evidence_by_origin ON witness_evidence (origin, id);
        `);
      },
    },
  ],
  verify(db) {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[];
    for (const table of ['witness_logs', 'witness_history', 'witness_evidence']) {
      if (!tables.includes(table))
        throw new DatabaseFileError('UNEXPECTED_SCHEMA', db.name, `${db.name} has no table ${table}: it is not a witness state file`);
    }
  },
});

interface CheckpointRow {
  origin: string;
  size: number;
  root: Buffer;
  note: string;
  cosigned_at: number;
}

function fromRow(row: CheckpointRow): CosignedCheckpoint {
  return { origin: row.origin, size: row.size, root: new Uint8Array(row.root), note: row.note, cosignedAt: row.cosigned_at };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Opens (creating, or migrating) the witness's state file. */
export function openWitnessStore(file: string): WitnessStore {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrateSchema(db, file, SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const selectLatest = db.prepare<[string], CheckpointRow>('SELECT origin, size, root, note, cosigned_at FROM witness_logs WHERE origin = ?');
  const selectAll = db.prepare<[], CheckpointRow>('SELECT origin, size, root, note, cosigned_at FROM witness_logs ORDER BY origin');
  const selectHistory = db.prepare<[string], CheckpointRow>(
    'SELECT origin, size, root, note, cosigned_at FROM witness_history WHERE origin = ? ORDER BY size DESC',
  );
  const upsertLatest = db.prepare(
    `INSERT INTO witness_logs (origin, size, root, note, cosigned_at) VALUES (@origin, @size, @root, @note, @cosignedAt)
     ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, cosigned_at = excluded.cosigned_at`,
  );
  const upsertHistory = db.prepare(
    `INSERT INTO witness_history (origin, size, root, note, cosigned_at) VALUES (@origin, @size, @root, @note, @cosignedAt)
     ON CONFLICT (origin, size) DO UPDATE SET note = excluded.note, cosigned_at = excluded.cosigned_at`,
  );
  const trimHistory = db.prepare(
    `DELETE FROM witness_history WHERE origin = @origin AND size < (
       SELECT size FROM witness_history WHERE origin = @origin ORDER BY size DESC LIMIT 1 OFFSET ${HISTORY_PER_LOG - 1})`,
  );
  const insertEvidence = db.prepare(
    'INSERT INTO witness_evidence (origin, received_at, status, reason, request) VALUES (@origin, @receivedAt, @status, @reason, @request)',
  );
  const trimEvidence = db.prepare(
    `DELETE FROM witness_evidence WHERE origin = @origin AND id < (
       SELECT id FROM witness_evidence WHERE origin = @origin ORDER BY id DESC LIMIT 1 OFFSET ${EVIDENCE_PER_LOG - 1})`,
  );
  const selectEvidence = db.prepare<[string], { received_at: number; status: number; reason: string; request: string }>(
    'SELECT received_at, status, reason, request FROM witness_evidence WHERE origin = ? ORDER BY id DESC',
  );

  const advance = db.transaction((expected: { size: number; root: Uint8Array | null }, next: CosignedCheckpoint): AdvanceOutcome => {
    const row = selectLatest.get(next.origin);
    const current = row ? fromRow(row) : null;
    const matches = current
      ? expected.root !== null && current.size === expected.size && sameBytes(current.root, expected.root)
      : expected.size === 0 && expected.root === null;
    // Please leave this check inside the transaction: it is what makes check-and-update atomic (no rollback of a log).
    if (!matches) return { kind: 'conflict', current };
    const values = { ...next, root: Buffer.from(next.root) };
    upsertLatest.run(values);
    upsertHistory.run(values);
    trimHistory.run({ origin: next.origin });
    return { kind: 'advanced' };
  });

  return {
    latest: (origin) => {
      const row = selectLatest.get(origin);
      return row ? fromRow(row) : null;
    },
    all: () => selectAll.all().map(fromRow),
    history: (origin) => selectHistory.all(origin).map(fromRow),
    advance: (expected, next) => advance.immediate(expected, next),
    recordEvidence(origin, status, reason, request) {
      db.transaction(() => {
        insertEvidence.run({ origin, receivedAt: Math.floor(Date.now() / 1000), status, reason, request });
        trimEvidence.run({ origin });
      }).immediate();
    },
    evidence: (origin) =>
      selectEvidence.all(origin).map((row) => ({ receivedAt: row.received_at, status: row.status, reason: row.reason, request: row.request })),
    close: () => db.close(),
  };
}
