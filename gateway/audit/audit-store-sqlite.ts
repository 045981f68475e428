import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  RECORD_COLUMNS,
  recordToRow,
  rowToCheckpoint,
  rowToPrune,
  rowToRecord,
  type CheckpointRow,
  type PruneRow,
  type RecordRow,
} from './audit-columns.js';
import { AuditChainConflictError, AuditUnavailableError } from './audit-errors.js';
import { runPrune, type PruneBackend, type PruneView } from './audit-prune.js';
import type { AuditRecord } from './audit-record.js';
import { accessReportStatement, encodeCursor, normalizeAuditSearch, normalizeInstant, normalizePage, searchStatement, type SqlDialect } from './audit-search.js';
import type { AccessReportRow, AuditPrune, AuditStore, NormalizedAuditStoreOptions } from './audit-store.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS audit_chains (
    chain_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS audit_records (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,                -- ISO 8601 with milliseconds: sorts as text
    request_id TEXT NOT NULL,
    replica TEXT NOT NULL,
    caller_subject TEXT,
    caller_organisation TEXT,
    caller_province TEXT,
    caller_issuer TEXT,
    caller_token_id TEXT,
    matter TEXT,
    case_number TEXT,
    operation_name TEXT,
    operation_type TEXT,
    operation_hash TEXT,
    requested TEXT NOT NULL,           -- JSON
    denied TEXT NOT NULL,              -- JSON
    disclosed TEXT NOT NULL,           -- JSON
    outcome TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    error_codes TEXT NOT NULL,         -- JSON
    latency_ms REAL NOT NULL,
    detail TEXT,                       -- JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
  );
  CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time, chain_id, seq);
  CREATE INDEX IF NOT EXISTS audit_records_caller ON audit_records (caller_subject, time);
  CREATE INDEX IF NOT EXISTS audit_records_organisation ON audit_records (caller_organisation, time);
  CREATE INDEX IF NOT EXISTS audit_records_matter ON audit_records (matter, time);
  CREATE INDEX IF NOT EXISTS audit_records_case ON audit_records (case_number, time);
  CREATE TABLE IF NOT EXISTS audit_subjects (
    subject_hash TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (subject_hash, chain_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS audit_subjects_record ON audit_subjects (chain_id, seq);
  CREATE TABLE IF NOT EXISTS audit_checkpoints (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS audit_prunes (
    chain_id TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    up_to_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    checkpoint_time TEXT NOT NULL,
    signature TEXT NOT NULL,
    records INTEGER NOT NULL,
    cutoff TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    PRIMARY KEY (chain_id, up_to_seq)
  ) WITHOUT ROWID;
`;

const COLUMNS = RECORD_COLUMNS.join(', ');
const INSERT_RECORD = `INSERT INTO audit_records (${COLUMNS}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`;
/** A record's subjects in one statement: `?` 1 and 2 are chain and seq, 3 a JSON array of distinct subject hashes. */
const INSERT_SUBJECTS = 'INSERT OR IGNORE INTO audit_subjects (subject_hash, chain_id, seq) SELECT value, ?, ? FROM json_each(?)';
const INSERT_CHAIN = 'INSERT OR IGNORE INTO audit_chains (chain_id, created_at) VALUES (?, ?)';
const INSERT_CHECKPOINT = 'INSERT OR IGNORE INTO audit_checkpoints (chain_id, seq, head_hash, time, signature) VALUES (?, ?, ?, ?, ?)';
const CHECKPOINT_COLUMNS = 'chain_id, seq, head_hash, time, signature';
const PRUNE_COLUMNS = 'chain_id, from_seq, up_to_seq, head_hash, checkpoint_time, signature, records, cutoff, pruned_at';

/** Rows per page when streaming a chain or its checkpoints. */
const PAGE = 1000;
/** A write the thread has not answered after this long counts as failed (the writer then re-reads the head). */
const WRITE_TIMEOUT_MS = 15_000;
/** After the thread fails to start, writes fail at once for this long before it is tried again. */
const RESTART_PAUSE_MS = 1000;
const WORKER_URL = new URL('./audit-store-sqlite-worker.js', import.meta.url);

const dialect: SqlDialect = { param: () => '?' };

interface Pending {
  worker: Worker;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The main thread's connection, for reads only (`query_only`). Opened
 * read-write when the file allows it: after a crash (kill -9) the WAL index
 * may need rebuilding, which a read-only connection cannot do; read-only
 * otherwise (a copy on read-only media, for the verifier).
 */
function openReader(file: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('query_only = ON');
  } catch {
    db = new Database(file, { readonly: true, fileMustExist: true });
  }
  db.pragma('busy_timeout = 1000');
  return db;
}

/**
 * The embedded audit store: one SQLite file in WAL mode with
 * synchronous=FULL. Writes run in a worker thread (better-sqlite3 is
 * synchronous, and an fsync on the event loop would stall every request);
 * reads use a read-only connection on the main thread, which WAL lets run
 * beside the writer. The thread is started on the first write and again
 * after it dies; until it runs, writes reject with `AuditUnavailableError`.
 */
export async function openSqliteAuditStore(options: Extract<NormalizedAuditStoreOptions, { backend: 'sqlite' }>): Promise<AuditStore> {
  const { file, readOnly } = options;
  let closed = false;
  let worker: Worker | null = null;
  let ready: Promise<Worker> | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let reader: Database.Database | null = null;
  const statements = new Map<string, Database.Statement>();
  let pruning: Promise<unknown> = Promise.resolve();
  let lastStartFailure: { at: number; error: AuditUnavailableError } | null = null;

  function failThread(failed: Worker, cause: unknown): void {
    if (worker === failed) {
      worker = null;
      ready = null;
    }
    for (const [id, call] of pending) {
      if (call.worker !== failed) continue;
      pending.delete(id);
      clearTimeout(call.timer);
      call.reject(new AuditUnavailableError('The audit writer thread stopped.', { cause }));
    }
    void failed.terminate();
  }

  function send(target: Worker, message: Record<string, unknown>): Promise<unknown> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        if (pending.size === 0) target.unref();
        reject(new AuditUnavailableError(`The audit writer thread did not answer within ${WRITE_TIMEOUT_MS} ms.`));
      }, WRITE_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { worker: target, resolve, reject, timer });
      // Keep the process alive only while a write is in flight: an idle store must not hold up exit.
      target.ref();
      target.postMessage({ id, ...message });
    });
  }

  function onReply(reply: { id: number; ok: boolean; result?: unknown; error?: { message: string; code: string | null } }): void {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    clearTimeout(call.timer);
    if (![...pending.values()].some((p) => p.worker === call.worker)) call.worker.unref();
    if (reply.ok) call.resolve(reply.result);
    else call.reject(Object.assign(new Error(reply.error!.message), { code: reply.error!.code }));
  }

  async function startThread(): Promise<Worker> {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw new AuditUnavailableError(`Cannot create the folder of ${file}.`, { cause: error });
    }
    const thread = new Worker(WORKER_URL, { execArgv: [] });
    thread.unref();
    thread.on('message', onReply);
    thread.on('error', (error) => failThread(thread, error));
    thread.on('exit', (code) => failThread(thread, new Error(`exit code ${code}`)));
    worker = thread;
    try {
      await send(thread, { op: 'open', file, schema: SCHEMA });
    } catch (error) {
      failThread(thread, error);
      throw error instanceof AuditUnavailableError ? error : new AuditUnavailableError(`Cannot open ${file}.`, { cause: error });
    }
    return thread;
  }

  async function thread(): Promise<Worker> {
    if (closed) throw new AuditUnavailableError('The audit store is closed.');
    if (readOnly) throw new AuditUnavailableError('The audit store was opened read-only.');
    // A file that cannot be opened is not retried for every request: they fail at once until the pause is over.
    if (lastStartFailure && Date.now() - lastStartFailure.at < RESTART_PAUSE_MS) throw lastStartFailure.error;
    ready ??= startThread().catch((error: unknown) => {
      const failure = error instanceof AuditUnavailableError ? error : new AuditUnavailableError('Cannot start the audit writer thread.', { cause: error });
      ready = null;
      lastStartFailure = { at: Date.now(), error: failure };
      throw failure;
    });
    return ready;
  }

  /** Runs write steps as one transaction in the thread. */
  async function write(steps: { sql: string; rows: unknown[][] }[]): Promise<number[]> {
    const target = await thread();
    try {
      return (await send(target, { op: 'run', steps })) as number[];
    } catch (error) {
      if (error instanceof AuditUnavailableError) throw error;
      throw new AuditUnavailableError(`Cannot write to ${file}.`, { cause: error });
    }
  }

  async function read(): Promise<Database.Database> {
    if (closed) throw new AuditUnavailableError('The audit store is closed.');
    if (reader) return reader;
    // The thread creates the file and its tables; a reader alone would find nothing to open.
    if (!readOnly && !existsSync(file)) await thread();
    try {
      reader = openReader(file);
    } catch (error) {
      throw new AuditUnavailableError(`Cannot read ${file}.`, { cause: error });
    }
    return reader;
  }

  async function all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    const db = await read();
    try {
      let prepared = statements.get(sql);
      if (!prepared) {
        prepared = db.prepare(sql);
        statements.set(sql, prepared);
      }
      return prepared.all(...params) as T[];
    } catch (error) {
      throw new AuditUnavailableError(`Cannot read ${file}.`, { cause: error });
    }
  }

  async function one<T>(sql: string, ...params: unknown[]): Promise<T | null> {
    return (await all<T>(sql, ...params))[0] ?? null;
  }

  async function latestPrune(chainId: string): Promise<AuditPrune | null> {
    const row = await one<PruneRow>(`SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = ? ORDER BY up_to_seq DESC LIMIT 1`, chainId);
    return row ? rowToPrune(row) : null;
  }

  const pruneView: PruneView = {
    latestPrune,
    async firstSeqFrom(chainId, afterSeq, before) {
      const row = await one<{ seq: number | null }>('SELECT MIN(seq) AS seq FROM audit_records WHERE chain_id = ? AND seq > ? AND time >= ?', chainId, afterSeq, before);
      return row?.seq ?? null;
    },
    async checkpointIn(chainId, afterSeq, belowSeq, maxSeq) {
      const below = belowSeq ?? Number.MAX_SAFE_INTEGER;
      const highest = await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq > ? AND seq < ? AND seq <= ? ORDER BY seq DESC LIMIT 1`,
        chainId, afterSeq, below, maxSeq,
      );
      const row = highest ?? (await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT 1`,
        chainId, afterSeq, below,
      ));
      return row ? rowToCheckpoint(row) : null;
    },
    async countAndHash(chainId, afterSeq, upToSeq) {
      const count = await one<{ count: number }>('SELECT COUNT(*) AS count FROM audit_records WHERE chain_id = ? AND seq > ? AND seq <= ?', chainId, afterSeq, upToSeq);
      const head = await one<{ hash: string }>('SELECT hash FROM audit_records WHERE chain_id = ? AND seq = ?', chainId, upToSeq);
      return { count: count?.count ?? 0, hash: head?.hash ?? null };
    },
  };

  const pruneBackend: PruneBackend = {
    chains: () => store.chains(),
    // One prune at a time in this process; the writer thread makes each step one transaction.
    async step(_chainId, work) {
      const run = pruning.then(() =>
        work({
          view: pruneView,
          async apply(range, previous) {
            const { chainId, upToSeq, checkpoint } = range;
            const row = [chainId, range.fromSeq, upToSeq, range.headHash, checkpoint.time, checkpoint.signature, range.records, range.before, range.time];
            await write([
              { sql: 'DELETE FROM audit_subjects WHERE chain_id = ? AND seq <= ?', rows: [[chainId, upToSeq]] },
              { sql: 'DELETE FROM audit_records WHERE chain_id = ? AND seq <= ?', rows: [[chainId, upToSeq]] },
              { sql: 'DELETE FROM audit_checkpoints WHERE chain_id = ? AND seq < ?', rows: [[chainId, upToSeq]] },
              previous
                ? {
                    sql: 'UPDATE audit_prunes SET up_to_seq = ?, head_hash = ?, checkpoint_time = ?, signature = ?, records = ? WHERE chain_id = ? AND up_to_seq = ?',
                    rows: [[upToSeq, range.headHash, checkpoint.time, checkpoint.signature, range.records, chainId, previous.upToSeq]],
                  }
                : { sql: `INSERT INTO audit_prunes (${PRUNE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, rows: [row] },
            ]);
          },
        }),
      );
      pruning = run.catch(() => {});
      return run;
    },
  };

  const store: AuditStore = {
    backend: 'sqlite',

    async appendBatch(records) {
      if (records.length === 0) return;
      // The person-search index needs each subject once per record, however many domains disclosed it.
      const subjects: unknown[][] = [];
      for (const record of records) {
        if (record.disclosed.length > 0) subjects.push([record.chainId, record.seq, JSON.stringify([...new Set(record.disclosed.map((d) => d.subject))])]);
      }
      const chains = [...new Set(records.map((r) => r.chainId))].map((chainId) => [chainId, records[0].time]);
      try {
        await write([
          { sql: INSERT_CHAIN, rows: chains },
          { sql: INSERT_RECORD, rows: records.map(recordToRow) },
          { sql: INSERT_SUBJECTS, rows: subjects },
        ]);
      } catch (error) {
        const cause = (error as Error).cause as { code?: string } | undefined;
        // Subjects and chains are inserted OR IGNORE: a key conflict can only be a record's (chain_id, seq).
        if (cause?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AuditChainConflictError(records[0].chainId, { cause });
        throw error;
      }
    },

    async head(chainId) {
      const row = await one<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_records WHERE chain_id = ? ORDER BY seq DESC LIMIT 1', chainId);
      if (row) return { seq: row.seq, hash: row.hash };
      const pruned = await latestPrune(chainId);
      return pruned ? { seq: pruned.upToSeq, hash: pruned.headHash } : null;
    },

    async appendCheckpoint(checkpoint) {
      await write([{ sql: INSERT_CHECKPOINT, rows: [[checkpoint.chainId, checkpoint.seq, checkpoint.headHash, checkpoint.time, checkpoint.signature]] }]);
    },

    async checkpoints(chainId) {
      const rows = await all<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? ORDER BY seq`, chainId);
      return rows.map(rowToCheckpoint);
    },

    async *readCheckpoints(chainId, range = {}) {
      let from = range.fromSeq ?? 0;
      const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
      for (;;) {
        const rows = await all<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
          chainId, from, to, PAGE,
        );
        for (const row of rows) yield rowToCheckpoint(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },

    async lastCheckpoint(chainId, beforeSeq = Number.MAX_SAFE_INTEGER) {
      const row = await one<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1`, chainId, beforeSeq);
      return row ? rowToCheckpoint(row) : null;
    },

    async prunes(chainId) {
      const rows = await all<PruneRow>(`SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = ? ORDER BY up_to_seq`, chainId);
      return rows.map(rowToPrune);
    },

    async chains() {
      const rows = await all<{ chain_id: string }>(
        'SELECT chain_id FROM audit_chains UNION SELECT chain_id FROM audit_checkpoints UNION SELECT chain_id FROM audit_prunes ORDER BY chain_id',
      );
      return rows.map((r) => r.chain_id);
    },

    async *readSubjectIndex(chainId) {
      let after = { seq: 0, subject: '' };
      for (;;) {
        const rows = await all<{ seq: number; subject_hash: string }>(
          'SELECT seq, subject_hash FROM audit_subjects WHERE chain_id = ? AND (seq > ? OR (seq = ? AND subject_hash > ?)) ORDER BY seq, subject_hash LIMIT ?',
          chainId, after.seq, after.seq, after.subject, PAGE,
        );
        for (const row of rows) yield { seq: Number(row.seq), subject: row.subject_hash };
        if (rows.length < PAGE) return;
        after = { seq: Number(rows[rows.length - 1].seq), subject: rows[rows.length - 1].subject_hash };
      }
    },

    async *readChain(chainId, fromSeq = 1) {
      let from = fromSeq;
      for (;;) {
        const rows = await all<RecordRow>(`SELECT ${COLUMNS} FROM audit_records WHERE chain_id = ? AND seq >= ? ORDER BY seq LIMIT ?`, chainId, from, PAGE);
        for (const row of rows) yield rowToRecord(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },

    async seqRange(chainId, range = {}) {
      const from = range.from ? normalizeInstant(range.from, 'from') : '';
      const to = range.to ? normalizeInstant(range.to, 'to') : '\uffff';
      const row = await one<{ first: number | null; last: number | null }>(
        'SELECT MIN(seq) AS first, MAX(seq) AS last FROM audit_records WHERE chain_id = ? AND time >= ? AND time <= ?',
        chainId, from, to,
      );
      return row && row.first !== null && row.last !== null ? { firstSeq: row.first, lastSeq: row.last } : null;
    },

    async get(chainId, seq) {
      const row = await one<RecordRow>(`SELECT ${COLUMNS} FROM audit_records WHERE chain_id = ? AND seq = ?`, chainId, seq);
      return row ? rowToRecord(row) : null;
    },

    async search(filter, page) {
      const search = normalizeAuditSearch(filter);
      const { first, after } = normalizePage(page);
      const { sql, params } = searchStatement(search, after, first + 1, dialect);
      const rows = await all<RecordRow>(sql, ...params);
      const records: AuditRecord[] = rows.slice(0, first).map(rowToRecord);
      return { records, endCursor: records.length > 0 ? encodeCursor(records[records.length - 1]) : null, hasNextPage: rows.length > first };
    },

    async accessReport(subjectHash, from, to) {
      const { sql, params } = accessReportStatement(subjectHash, normalizeInstant(from, 'from'), normalizeInstant(to, 'to'), dialect);
      const rows = await all<{ caller_subject: string; caller_organisation: string; caller_province: string; matter: string | null; accesses: number; first_time: string; last_time: string }>(sql, ...params);
      return rows.map(
        (r): AccessReportRow => ({
          callerSubject: r.caller_subject,
          organisation: r.caller_organisation,
          province: r.caller_province,
          matter: r.matter,
          accesses: Number(r.accesses),
          first: r.first_time,
          last: r.last_time,
        }),
      );
    },

    async prune(before, writer) {
      return runPrune(pruneBackend, normalizeInstant(before, 'before'), writer);
    },

    async close() {
      if (closed) return;
      closed = true;
      const current = worker;
      worker = null;
      ready = null;
      if (current) {
        // 'close' is queued behind the writes in flight, so they finish first.
        await send(current, { op: 'close' }).catch(() => {});
        await current.terminate();
      }
      reader?.close();
      reader = null;
      statements.clear();
    },
  };
  return store;
}
