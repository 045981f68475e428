// The SQLite audit store's writer thread: every write, and so every fsync,
// happens here, never on the gateway's event loop.
//
// Started by sqlite-thread.ts, which registers tsx inside the thread before
// importing this file, so that it loads the same way under tsx, vitest and
// plain node. It knows nothing of audit records: the main thread sends SQL
// and rows, this thread runs them as one transaction. Protocol, one reply
// per message, matched by `id`:
//   { id, op: 'open', file, schema }        → null
//   { id, op: 'run', steps: [{ sql, rows }] } → changes per step
//   { id, op: 'close' }                      → null
// A reply is { id, ok: true, result } or { id, ok: false, error: { message, code } }.
import type Database from 'better-sqlite3';
import { openWalDatabase, serve, statementCache, type Statements } from './sqlite-worker-kit.js';
import { defineSchema, migrateSchema } from '../sqlite/schema-version.js';
import { AUDIT_FILE_SCHEMA_VERSION } from './sqlite-versions.js';

/** One statement of a write, run once per row (each row its bound parameters). */
export interface WriteStep {
  sql: string;
  rows: unknown[][];
}

/** What the main thread asks of the writer thread (the `id` is sqlite-thread.ts's). */
export type WriterRequest = { op: 'open'; file: string; schema: string } | { op: 'run'; steps: WriteStep[] } | { op: 'close' };

let db: Database.Database | null = null;
let statement: Statements | null = null;

function open(file: string, schema: string): null {
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
  // loss, and an acknowledged audit record must never be lost. Please leave it.
  const opened = openWalDatabase(file, 'FULL');
  try {
    // A file of a newer release is refused (naming both versions): the writer never starts, and requests are refused, not half-recorded.
    migrateSchema(
      opened,
      file,
      defineSchema({
        version: AUDIT_FILE_SCHEMA_VERSION,
        migrations: [
          {
            to: 1,
            description: 'creates the audit tables (dropping the old in-file person index); records the schema version',
            migrate: (d) => d.exec(schema),
          },
          {
            to: 2,
            description: 'adds the Merkle tree to checkpoints and prunes (note, compact range) and the table of witnesses’ cosignatures',
            migrate: (d) => {
              for (const table of ['audit_checkpoints', 'audit_prunes']) {
                const columns = new Set((d.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
                for (const column of ['note', 'tree']) if (!columns.has(column)) d.exec(`ALTER TABLE ${table} ADD COLUMN ${column} TEXT`);
              }
              // The current schema's CREATE … IF NOT EXISTS adds what is missing (the cosignatures table).
              d.exec(schema);
            },
          },
        ],
      }),
    );
  } catch (error) {
    opened.close();
    throw error;
  }
  db = opened;
  statement = statementCache(db);
  return null;
}

function run(steps: WriteStep[]): number[] {
  // Both are set by open and cleared by close together.
  if (!db || !statement) throw new Error('the audit database is not open');
  const prepared = statement;
  // IMMEDIATE: take the write lock before reading, so two processes never deadlock upgrading.
  return db.transaction(() => steps.map(({ sql, rows }) => rows.reduce((changes, row) => changes + prepared(sql).run(row).changes, 0))).immediate();
}

function close(): null {
  db?.close();
  db = null;
  statement = null;
  return null;
}

serve<WriterRequest>({
  open: (message) => open(message.file, message.schema),
  run: (message) => run(message.steps),
  close,
});
