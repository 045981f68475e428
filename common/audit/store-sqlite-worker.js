// The SQLite audit store's writer thread: every write, and so every fsync,
// happens here, never on the gateway's event loop.
//
// Plain JavaScript on purpose: a worker thread starts without the parent's
// TypeScript loader under some runners (vitest), and this file must load the
// same way under tsx, vitest and plain node. It knows nothing of audit
// records: the main thread sends SQL and rows, this thread runs them as one
// transaction. Protocol, one reply per message, matched by `id`:
//   { id, op: 'open', file, schema }        → null
//   { id, op: 'run', steps: [{ sql, rows }] } → changes per step
//   { id, op: 'close' }                      → null
// A reply is { id, ok: true, result } or { id, ok: false, error: { message, code } }.
import { openWalDatabase, serve, statementCache } from './sqlite-worker-kit.js';

let db = null;
let statement = null;

function open(file, schema) {
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
  // loss, and an acknowledged audit record must never be lost. Please leave it.
  db = openWalDatabase(file, 'FULL');
  statement = statementCache(db);
  db.exec(schema);
  return null;
}

function run(steps) {
  if (!db) throw new Error('the audit database is not open');
  // IMMEDIATE: take the write lock before reading, so two processes never deadlock upgrading.
  return db
    .transaction(() => steps.map(({ sql, rows }) => rows.reduce((changes, row) => changes + statement(sql).run(row).changes, 0)))
    .immediate();
}

function close() {
  db?.close();
  db = null;
  statement = null;
  return null;
}

serve({
  open: (message) => open(message.file, message.schema),
  run: (message) => run(message.steps),
  close,
});
