import { Worker } from 'node:worker_threads';
import { AuditUnavailableError } from './errors.js';

/** A call the thread has not answered after this long counts as failed. */
const CALL_TIMEOUT_MS = 15_000;
/** After the thread fails to start, calls fail at once for this long before it is tried again. */
const RESTART_PAUSE_MS = 1000;

/**
 * The worker's first code, run as a script (`eval`): it registers tsx in the
 * thread, then imports the worker's module, a TypeScript file. Registering
 * inside the thread is what works the same in the three ways this code runs:
 * - under tsx (`node --import tsx`, `npm start`), the worker does not get
 *   the parent's loader: on Node 20 tsx's `--import` entry registers itself
 *   in the main thread only (in workers too only from Node 22.22.3 and
 *   24.11.1), so `execArgv: ['--import', 'tsx']`, passed or inherited, still
 *   fails on a `.ts` file (ERR_UNKNOWN_FILE_EXTENSION);
 * - under vitest the process has no tsx at all (vitest transforms the tests
 *   itself, which a worker does not inherit);
 * - with tsx's `register()` called on the main thread, its hooks do not
 *   reach a worker either.
 * A module that fails to load rejects, which ends the thread with an 'error'
 * event like any other failure. The URLs come in `workerData`, resolved
 * here, so that the thread's working directory does not matter.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => {
  register();
  return import(workerData.module);
});
`;
/** tsx's ESM API (`register()`), as a URL. */
const TSX_API = import.meta.resolve('tsx/esm/api');

/** A message to a thread: `{ op, … }` (see the thread's module for its operations). */
export interface ThreadRequest {
  op: string;
}

export interface SqliteThreadOptions<R extends ThreadRequest> {
  /** The worker's module, a TypeScript file (see BOOTSTRAP). */
  url: URL;
  /** Names the thread in errors: "the audit writer thread". */
  name: string;
  /** The first message, sent whenever the thread (re)starts; the thread is usable once it is answered. */
  open: R;
  /** Checked before every call: throw to refuse (store closed, read-only). */
  beforeStart?: () => void;
  /** Runs before the thread is launched (create its folder); throw to fail the start. */
  prepare?: () => void;
  /** Messages the thread sends of its own accord (`{ event, … }`, no id). */
  onEvent?: (event: { event: string; [field: string]: unknown }) => void;
}

/**
 * One of the SQLite store's worker threads, as the main thread sees it. The
 * thread starts on first use and again after it dies; calls in flight when
 * it dies reject with `AuditUnavailableError`. An idle thread does not keep
 * the process alive.
 *
 * Each message is `{ id, op, … }`; the thread answers
 * `{ id, ok: true, result }` or `{ id, ok: false, error: { message, code } }`.
 * Messages sent with {@link SqliteThread.post} carry no id and get no answer.
 */
export interface SqliteThread<R extends ThreadRequest> {
  call(message: R): Promise<unknown>;
  /** Sends to the running thread without waiting (moving `transfer`'s buffers, not copying them); dropped when none runs. */
  post(message: R, transfer?: ArrayBuffer[]): void;
  /** Starts the thread if it does not run. */
  start(): Promise<void>;
  /** Sends `closing` after whatever is in flight, then stops the thread. */
  stop(closing: R): Promise<void>;
}

interface Pending {
  worker: Worker;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { message: string; code: string | null };
}

export function createSqliteThread<R extends ThreadRequest>(options: SqliteThreadOptions<R>): SqliteThread<R> {
  const { url, name } = options;
  let worker: Worker | null = null;
  let ready: Promise<Worker> | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let lastStartFailure: { at: number; error: AuditUnavailableError } | null = null;

  function fail(failed: Worker, cause: unknown): void {
    if (worker === failed) {
      worker = null;
      ready = null;
    }
    for (const [id, call] of pending) {
      if (call.worker !== failed) continue;
      pending.delete(id);
      clearTimeout(call.timer);
      call.reject(new AuditUnavailableError(`${capitalised(name)} stopped.`, { cause }));
    }
    void failed.terminate();
  }

  function send(target: Worker, message: R): Promise<unknown> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        if (![...pending.values()].some((p) => p.worker === target)) target.unref();
        reject(new AuditUnavailableError(`${capitalised(name)} did not answer within ${CALL_TIMEOUT_MS} ms.`));
      }, CALL_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { worker: target, resolve, reject, timer });
      // Keep the process alive only while a call is in flight: an idle store must not hold up exit.
      target.ref();
      target.postMessage({ id, ...message });
    });
  }

  function onReply(reply: Reply | { event: string; [field: string]: unknown }): void {
    if ('event' in reply) {
      options.onEvent?.(reply);
      return;
    }
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    clearTimeout(call.timer);
    if (![...pending.values()].some((p) => p.worker === call.worker)) call.worker.unref();
    if (reply.ok) call.resolve(reply.result);
    else call.reject(Object.assign(new Error(reply.error!.message), { code: reply.error!.code }));
  }

  async function launch(): Promise<Worker> {
    options.prepare?.();
    // No execArgv of the parent's, as before the threads were TypeScript: tsx's own flags, vitest's
    // --conditions or a V8 flag (which a Worker refuses) are not the thread's business.
    const thread = new Worker(BOOTSTRAP, { eval: true, workerData: { tsx: TSX_API, module: url.href }, execArgv: [] });
    thread.unref();
    thread.on('message', onReply);
    thread.on('error', (error) => fail(thread, error));
    thread.on('exit', (code) => fail(thread, new Error(`exit code ${code}`)));
    worker = thread;
    try {
      await send(thread, options.open);
    } catch (error) {
      fail(thread, error);
      throw error instanceof AuditUnavailableError
        ? error
        : new AuditUnavailableError(`${capitalised(name)} cannot open its database.`, { cause: error });
    }
    return thread;
  }

  async function running(): Promise<Worker> {
    options.beforeStart?.();
    // A file that cannot be opened is not retried for every call: they fail at once until the pause is over.
    if (lastStartFailure && Date.now() - lastStartFailure.at < RESTART_PAUSE_MS) throw lastStartFailure.error;
    ready ??= launch().catch((error: unknown) => {
      const failure = error instanceof AuditUnavailableError ? error : new AuditUnavailableError(`Cannot start ${name}.`, { cause: error });
      ready = null;
      lastStartFailure = { at: Date.now(), error: failure };
      throw failure;
    });
    return ready;
  }

  return {
    async call(message) {
      return send(await running(), message);
    },
    post(message, transfer) {
      worker?.postMessage(message, transfer);
    },
    async start() {
      await running();
    },
    async stop(closing) {
      const current = worker;
      worker = null;
      ready = null;
      if (!current) return;
      // The closing message is queued behind the calls in flight, so they finish first.
      await send(current, closing).catch(() => {});
      await current.terminate();
    },
  };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
