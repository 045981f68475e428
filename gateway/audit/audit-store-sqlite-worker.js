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
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

let db = null;
const statements = new Map();

function statement(sql) {
  let prepared = statements.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared;
}

function open(file, schema) {
  db = new Database(file);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`cannot switch ${file} to WAL mode (got ${mode})`);
  // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
  // loss, and an acknowledged audit record must never be lost. Please leave it.
  db.pragma('synchronous = FULL');
  // This thread may wait for another process (the verifier, a prune) without stalling requests.
  db.pragma('busy_timeout = 5000');
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
  statements.clear();
  db?.close();
  db = null;
  return null;
}

parentPort.on('message', (message) => {
  let reply;
  try {
    let result;
    if (message.op === 'open') result = open(message.file, message.schema);
    else if (message.op === 'run') result = run(message.steps);
    else if (message.op === 'close') result = close();
    else throw new Error(`unknown operation ${message.op}`);
    reply = { id: message.id, ok: true, result };
  } catch (error) {
    reply = { id: message.id, ok: false, error: { message: String(error?.message ?? error), code: error?.code ?? null } };
  }
  parentPort.postMessage(reply);
});
