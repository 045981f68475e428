// What the SQLite store's worker threads (audit-store-sqlite-worker.js,
// audit-index-worker.js) share: opening a file in WAL mode, prepared
// statements kept per connection, and the message protocol that
// sqlite-thread.ts speaks from the main thread. Plain JavaScript, as the
// workers are: they load without a TypeScript loader.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** Opens (creating) a file in WAL mode with the given `synchronous` level and a busy timeout. */
export function openWalDatabase(file, synchronous) {
  const db = new Database(file);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    db.close();
    throw new Error(`cannot switch ${file} to WAL mode (got ${mode})`);
  }
  db.pragma(`synchronous = ${synchronous}`);
  // The thread may wait for another process (the verifier, a prune, another replica) without stalling requests.
  db.pragma('busy_timeout = 5000');
  return db;
}

/** `statement(sql)`: the connection's prepared statement for `sql`, prepared once. */
export function statementCache(db) {
  const prepared = new Map();
  return (sql) => {
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      prepared.set(sql, statement);
    }
    return statement;
  };
}

/**
 * Answers the main thread: each message `{ id, op, … }` goes to
 * `handlers[op]`, whose result (or error) is sent back as
 * `{ id, ok: true, result }` or `{ id, ok: false, error: { message, code } }`.
 * Messages without an id are posted one way: their handler's result is not sent.
 */
export function serve(handlers) {
  parentPort.on('message', (message) => {
    const handler = Object.hasOwn(handlers, message.op) ? handlers[message.op] : null;
    if (message.id === undefined) {
      handler?.(message);
      return;
    }
    let reply;
    try {
      if (!handler) throw new Error(`unknown operation ${message.op}`);
      reply = { id: message.id, ok: true, result: handler(message) ?? null };
    } catch (error) {
      reply = { id: message.id, ok: false, error: { message: String(error?.message ?? error), code: error?.code ?? null } };
    }
    parentPort.postMessage(reply);
  });
}

/** Sends the main thread a message of the thread's own accord (see `SqliteThreadOptions.onEvent`). */
export function report(event) {
  parentPort.postMessage(event);
}
