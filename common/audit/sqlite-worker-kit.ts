// What the SQLite store's worker threads (store-sqlite-worker.ts,
// index-worker.ts) share: opening a file in WAL mode, prepared statements
// kept per connection, and the message protocol that sqlite-thread.ts speaks
// from the main thread. Loaded only inside those threads, where
// sqlite-thread.ts has registered tsx before importing the worker's module.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** A message from the main thread: `{ op, … }`. */
export interface ThreadRequest {
  op: string;
}

/** A request as it arrives: calls carry the `id` sqlite-thread.ts gives them, posts none. */
export type Incoming<R extends ThreadRequest> = R & { id?: number };

/** A thread's operations: one handler per `op` of its requests, given the request of that `op`. */
export type Handlers<R extends ThreadRequest> = { [Op in R['op']]: (message: Extract<R, { op: Op }>) => unknown };

/** What a failed call sends back. */
export interface ErrorFields {
  message: string;
  /** The error's `code` (better-sqlite3's `SQLITE_BUSY`, …), as found; null when it has none. */
  code: unknown;
}

/** The answer to a call: `{ id, ok: true, result }` or `{ id, ok: false, error: { message, code } }`. */
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ErrorFields };

/** A message the thread sends of its own accord (see `SqliteThreadOptions.onEvent`). */
export interface ThreadEvent {
  event: string;
  [field: string]: unknown;
}

/** The prepared statement for `sql`; `Result` names the shape of its rows, as `db.prepare<…, Result>()` does. */
export type Statements = <Result = unknown>(sql: string) => Database.Statement<unknown[], Result>;

/** Opens (creating) a file in WAL mode with the given `synchronous` level and a busy timeout. */
export function openWalDatabase(file: string, synchronous: 'FULL' | 'NORMAL'): Database.Database {
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
export function statementCache(db: Database.Database): Statements {
  const prepared = new Map<string, Database.Statement>();
  return <Result>(sql: string) => {
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      prepared.set(sql, statement);
    }
    // The rows' shape is the caller's word for what its SQL selects; SQLite does not check it.
    return statement as Database.Statement<unknown[], Result>;
  };
}

/** An error's message and code, for the main thread; anything thrown, Error or not, gives one. */
export function errorFields(error: unknown): ErrorFields {
  const fields = error as { message?: unknown; code?: unknown } | null | undefined;
  return { message: String(fields?.message ?? error), code: fields?.code ?? null };
}

/**
 * Answers the main thread: each message `{ id, op, … }` goes to
 * `handlers[op]`, whose result (or error) is sent back as
 * `{ id, ok: true, result }` or `{ id, ok: false, error: { message, code } }`.
 * Messages without an id are posted one way: their handler's result is not sent.
 */
export function serve<R extends ThreadRequest>(handlers: Handlers<R>): void {
  const port = threadPort();
  // Looked up by the message's own op, so each handler only ever gets a request of its op.
  const byOp = handlers as unknown as Record<string, (message: Incoming<R>) => unknown>;
  port.on('message', (message: Incoming<R>) => {
    const handler = Object.hasOwn(byOp, message.op) ? byOp[message.op] : null;
    if (message.id === undefined) {
      handler?.(message);
      return;
    }
    let reply: Reply;
    try {
      if (!handler) throw new Error(`unknown operation ${message.op}`);
      reply = { id: message.id, ok: true, result: handler(message) ?? null };
    } catch (error) {
      reply = { id: message.id, ok: false, error: errorFields(error) };
    }
    port.postMessage(reply);
  });
}

/** Sends the main thread a message of the thread's own accord (see `SqliteThreadOptions.onEvent`). */
export function report(event: ThreadEvent): void {
  threadPort().postMessage(event);
}

function threadPort(): NonNullable<typeof parentPort> {
  if (!parentPort) throw new Error('the SQLite worker kit runs in a worker thread');
  return parentPort;
}
