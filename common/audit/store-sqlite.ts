import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import {
  RECORD_COLUMNS,
  recordToRow,
  pruneUpdateValues,
  rowToCheckpoint,
  treeColumns,
  rowToPrune,
  rowToRecord,
  type CheckpointRow,
  type PruneRow,
  type RecordRow,
} from './columns.js';
import { AuditChainConflictError, AuditUnavailableError } from './errors.js';
import { runPrune, type PruneBackend, type PruneView } from './prune.js';
import type { AuditRecord } from './record.js';
import {
  accessReportStatement,
  encodeCursor,
  normalizeAuditSearch,
  normalizeInstant,
  normalizePage,
  searchStatement,
  sqliteDisclosedSubject,
  type SqlDialect,
} from './search.js';
import type { AccessReportRow, AuditPrune, AuditSnapshot, AuditStore, NormalizedAuditStoreOptions } from './store-contract.js';
import { blockLength, keyAt, keyHex, seqAt, seqsOfKey, subjectKey } from './subject-runs.js';
import { createSqliteThread } from './sqlite-thread.js';
// The threads' requests, so that what is sent is checked against what each thread handles.
import type { WriteStep, WriterRequest } from './store-sqlite-worker.js';
import type { IndexerRequest } from './index-worker.js';

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
  -- The person-search index lives in its own file now (index-worker.ts); this is the old one.
  DROP TABLE IF EXISTS audit_subjects;
  CREATE TABLE IF NOT EXISTS audit_checkpoints (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    signature TEXT NOT NULL,
    note TEXT,
    tree TEXT,
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
    note TEXT,
    tree TEXT,
    PRIMARY KEY (chain_id, up_to_seq)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS audit_cosignatures (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    witness TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq, witness)
  ) WITHOUT ROWID;
`;

const COLUMNS = RECORD_COLUMNS.join(', ');
const INSERT_RECORD = `INSERT INTO audit_records (${COLUMNS}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_CHAIN = 'INSERT OR IGNORE INTO audit_chains (chain_id, created_at) VALUES (?, ?)';
const INSERT_CHECKPOINT =
  'INSERT OR IGNORE INTO audit_checkpoints (chain_id, seq, head_hash, time, signature, note, tree) VALUES (?, ?, ?, ?, ?, ?, ?)';
const INSERT_COSIGNATURE = 'INSERT OR IGNORE INTO audit_cosignatures (chain_id, seq, witness, cosignature) VALUES (?, ?, ?, ?)';
const CHECKPOINT_COLUMNS = 'chain_id, seq, head_hash, time, signature, note, tree';
const PRUNE_COLUMNS = 'chain_id, from_seq, up_to_seq, head_hash, checkpoint_time, signature, records, cutoff, pruned_at, note, tree';

/** Rows per page when streaming a chain or its checkpoints. */
const PAGE = 1000;
// The threads' modules are TypeScript, loaded with tsx registered inside each thread (see sqlite-thread.ts).
const WRITER_URL = new URL('./store-sqlite-worker.ts', import.meta.url);
const INDEXER_URL = new URL('./index-worker.ts', import.meta.url);
/** Committed records' subject keys go to the index thread this often… */
const HANDOVER_MS = 200;
/** …or as soon as this many wait. */
const HANDOVER_KEYS = 20_000;
/** A failing index is reported at most this often. */
const INDEX_WARNING_INTERVAL_MS = 60_000;

/** The person-search index's file, beside the audit file: `audit.db` → `audit.subjects.db`. */
export function subjectIndexFile(file: string): string {
  const extension = extname(file);
  return `${file.slice(0, file.length - extension.length)}.subjects${extension || '.db'}`;
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
    readOlderVersion(db);
    db.pragma('query_only = ON');
  } catch {
    db = new Database(file, { readonly: true, fileMustExist: true });
    readOlderVersion(db);
  }
  db.pragma('busy_timeout = 1000');
  return db;
}

/** Reads rows through one connection (the store's, or a snapshot's); `AuditUnavailableError` when the file cannot be read. */
type ReadRows = <T>(sql: string, ...params: unknown[]) => Promise<T[]>;

/** A reader over one connection, with its own prepared statements. */
function rowReader(connection: () => Promise<Database.Database>, file: string): { all: ReadRows; clear(): void } {
  const statements = new Map<string, Database.Statement>();
  return {
    async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
      const db = await connection();
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
    },
    clear: () => statements.clear(),
  };
}

/** The record side's reads, the same through the store's connection and through a snapshot's. */
function recordReads(all: ReadRows): Pick<AuditSnapshot, 'chains' | 'prunes' | 'head' | 'readCheckpoints' | 'readChain'> {
  return {
    async chains() {
      const rows = await all<{ chain_id: string }>(
        'SELECT chain_id FROM audit_chains UNION SELECT chain_id FROM audit_checkpoints UNION SELECT chain_id FROM audit_prunes ORDER BY chain_id',
      );
      return rows.map((r) => r.chain_id);
    },
    async prunes(chainId) {
      const rows = await all<PruneRow>(`SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = ? ORDER BY up_to_seq`, chainId);
      return rows.map(rowToPrune);
    },
    async head(chainId) {
      const [row] = await all<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_records WHERE chain_id = ? ORDER BY seq DESC LIMIT 1',
        chainId,
      );
      if (row) return { seq: row.seq, hash: row.hash };
      const [pruned] = await all<PruneRow>(`SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = ? ORDER BY up_to_seq DESC LIMIT 1`, chainId);
      return pruned ? { seq: rowToPrune(pruned).upToSeq, hash: rowToPrune(pruned).headHash } : null;
    },
    async *readCheckpoints(chainId, range = {}) {
      let from = range.fromSeq ?? 0;
      const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
      for (;;) {
        const rows = await all<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
          chainId,
          from,
          to,
          PAGE,
        );
        for (const row of rows) yield rowToCheckpoint(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },
    async *readChain(chainId, fromSeq = 1) {
      let from = fromSeq;
      for (;;) {
        const rows = await all<RecordRow>(
          `SELECT ${COLUMNS} FROM audit_records WHERE chain_id = ? AND seq >= ? ORDER BY seq LIMIT ?`,
          chainId,
          from,
          PAGE,
        );
        for (const row of rows) yield rowToRecord(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },
  };
}

/**
 * The chain's person-search index from `fromSeq`, by seq then key, as the
 * verifier compares it with the records: the runs `index` holds (a
 * connection in a read transaction; null when there is no index yet) up to
 * the chain's watermark, then the subjects of the records after it, which
 * are not expected in the index. `records` must see the audit file as it
 * was when, or after, `index` saw the index file.
 */
async function* subjectIndexOf(
  index: Database.Database | null,
  records: Pick<AuditSnapshot, 'prunes' | 'head' | 'readChain'>,
  indexFile: string,
  chainId: string,
  fromSeq: number,
): AsyncGenerator<{ seq: number; subject: string }> {
  const prunedSeq = (await records.prunes(chainId)).at(-1)?.upToSeq ?? 0;
  const firstSeq = Math.max(prunedSeq + 1, fromSeq);
  let watermark = 0;
  try {
    if (index) {
      watermark =
        (index.prepare('SELECT indexed_seq FROM subject_chains WHERE chain_id = ?').get(chainId) as { indexed_seq: number } | undefined)
          ?.indexed_seq ?? 0;
      const runs = index.prepare('SELECT run FROM subject_runs WHERE chain_id = ? AND to_seq >= ? ORDER BY from_seq').all(chainId, firstSeq) as {
        run: number;
      }[];
      const blocks = index.prepare('SELECT entries FROM subject_blocks WHERE run = ?');
      // Runs of a chain cover stretches that follow each other: one run at a time, in seq order, is the whole index in seq order.
      for (const { run } of runs) {
        // A run may hold millions of entries: numbers in typed arrays, sorted through a permutation, not objects.
        const rows = (blocks.all(run) as { entries: Buffer }[]).map((row) => row.entries);
        const count = rows.reduce((sum, entries) => sum + blockLength(entries), 0);
        const keys = new Float64Array(count);
        const seqs = new Float64Array(count);
        let kept = 0;
        for (const entries of rows) {
          for (let i = 0; i < blockLength(entries); i++) {
            const seq = seqAt(entries, i);
            if (seq < firstSeq) continue;
            keys[kept] = keyAt(entries, i);
            seqs[kept++] = seq;
          }
        }
        const order = new Uint32Array(kept);
        for (let i = 0; i < kept; i++) order[i] = i;
        // By seq, then key: 13-digit hex keys sort as their numbers do.
        order.sort((a, b) => seqs[a] - seqs[b] || keys[a] - keys[b]);
        for (const i of order) yield { seq: seqs[i], subject: keyHex(keys[i]) };
      }
    }
  } catch (error) {
    throw new AuditUnavailableError(`Cannot read ${indexFile}.`, { cause: error });
  }
  // After the watermark, the index is the records themselves.
  for await (const record of records.readChain(chainId, Math.max(watermark + 1, firstSeq))) {
    const keys = [...new Set(record.disclosed.map((d) => d.subject))].map((subject) => keyHex(subjectKey(subject))).sort();
    for (const subject of keys) yield { seq: record.seq, subject };
  }
  // A watermark past the chain's head claims records that do not exist, and would hide the next ones from searches.
  const head = await records.head(chainId);
  if (watermark > (head?.seq ?? 0)) yield { seq: watermark, subject: '' };
}

/**
 * A file of schema version 1, read without migrating it (a read-only store,
 * `npm run audit:verify` on a copy): its checkpoints and prunes have no tree
 * columns and it has no cosignatures. Temporary views of the same names,
 * which name resolution prefers to the file's tables, read them as if they
 * had: the columns null, the cosignatures none. The file itself is untouched.
 */
function readOlderVersion(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA main.table_info(audit_checkpoints)').all() as { name: string }[]).map((c) => c.name));
  if (columns.size === 0 || columns.has('note')) return;
  db.exec(`
    CREATE TEMP VIEW audit_checkpoints AS SELECT *, NULL AS note, NULL AS tree FROM main.audit_checkpoints;
    CREATE TEMP VIEW audit_prunes AS SELECT *, NULL AS note, NULL AS tree FROM main.audit_prunes;
    CREATE TEMP VIEW audit_cosignatures AS SELECT NULL AS chain_id, NULL AS seq, NULL AS witness, NULL AS cosignature WHERE 0;
  `);
}

/** What the index holds for one subject, read in one snapshot of the index file. */
interface SubjectSnapshot {
  /** [chainId, seq] of the records filed under the subject's key (a few may be another subject's). */
  candidates: [string, number][];
  /** [chainId, seq]: every record of the chain after seq is not indexed yet (0: none is). */
  watermarks: [string, number][];
}

/**
 * The embedded audit store: one SQLite file in WAL mode with
 * synchronous=FULL. Writes run in a worker thread (better-sqlite3 is
 * synchronous, and an fsync on the event loop would stall every request);
 * reads use a read-only connection on the main thread, which WAL lets run
 * beside the writer. The thread is started on the first write and again
 * after it dies; until it runs, writes reject with `AuditUnavailableError`.
 *
 * The person-search index is kept by a second thread in a second file
 * (`subjectIndexFile`), from the records once they are committed; see
 * index-worker.ts for why. A search by person reads the index up to
 * its watermark and the records after it, so it never misses a record.
 */
export async function openSqliteAuditStore(options: Extract<NormalizedAuditStoreOptions, { backend: 'sqlite' }>): Promise<AuditStore> {
  const { file, readOnly, logger } = options;
  const indexFile = subjectIndexFile(file);
  let closed = false;
  let reader: Database.Database | null = null;
  let indexReader: Database.Database | null = null;
  let pruning: Promise<unknown> = Promise.resolve();

  const beforeStart = (): void => {
    if (closed) throw new AuditUnavailableError('The audit store is closed.');
    if (readOnly) throw new AuditUnavailableError('The audit store was opened read-only.');
  };
  const prepare = (): void => {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw new AuditUnavailableError(`Cannot create the folder of ${file}.`, { cause: error });
    }
  };
  const writer = createSqliteThread<WriterRequest>({
    url: WRITER_URL,
    name: 'the audit writer thread',
    open: { op: 'open', file, schema: SCHEMA },
    beforeStart,
    prepare,
  });
  let lastIndexWarning = 0;
  /** The index failing never fails a request, but an operator should know: searches by person slow down as the tail grows. */
  const indexWarning = (detail: object): void => {
    if (Date.now() - lastIndexWarning < INDEX_WARNING_INTERVAL_MS) return;
    lastIndexWarning = Date.now();
    logger.warn(
      { ...detail, indexFile },
      'the audit person-search index is not being updated; searches by person read the records after its watermark meanwhile',
    );
  };
  const indexer = createSqliteThread<IndexerRequest>({
    url: INDEXER_URL,
    name: 'the audit index thread',
    open: { op: 'open', file, indexFile },
    beforeStart,
    prepare,
    onEvent: (event) => indexWarning({ error: event.message, code: event.code }),
  });
  const startIndexer = (): void => {
    // Once the store is closing the thread is not started again: the last handover goes to it if it runs, else the next open catches up.
    if (closed) return;
    indexer.start().catch((error: Error) => {
      if (!closed) indexWarning({ error: error.message, cause: (error.cause as Error | undefined)?.message });
    });
  };

  /** Runs write steps as one transaction in the writer thread. */
  async function write(steps: WriteStep[]): Promise<number[]> {
    try {
      return (await writer.call({ op: 'run', steps })) as number[];
    } catch (error) {
      if (error instanceof AuditUnavailableError) throw error;
      throw new AuditUnavailableError(`Cannot write to ${file}.`, { cause: error });
    }
  }

  async function read(): Promise<Database.Database> {
    if (closed) throw new AuditUnavailableError('The audit store is closed.');
    if (reader) return reader;
    // The thread creates the file and its tables, and migrates an older file: a reader alone would find nothing to open, or old tables.
    if (!readOnly) await writer.start().catch((error: unknown) => (existsSync(file) ? undefined : Promise.reject(error)));
    try {
      reader = openReader(file);
    } catch (error) {
      throw new AuditUnavailableError(`Cannot read ${file}.`, { cause: error });
    }
    return reader;
  }

  const reads = rowReader(read, file);
  const all = reads.all;
  const shared = recordReads(all);

  async function one<T>(sql: string, ...params: unknown[]): Promise<T | null> {
    return (await all<T>(sql, ...params))[0] ?? null;
  }

  async function latestPrune(chainId: string): Promise<AuditPrune | null> {
    const row = await one<PruneRow>(`SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = ? ORDER BY up_to_seq DESC LIMIT 1`, chainId);
    return row ? rowToPrune(row) : null;
  }

  const indexStatements = new Map<string, Database.Statement>();

  /** The index file's reader; null while there is no index to read (none written yet, or not readable). */
  function indexConnection(): Database.Database | null {
    if (indexReader) return indexReader;
    if (!existsSync(indexFile)) return null;
    let db: Database.Database | null = null;
    try {
      db = openReader(indexFile);
      // The file may exist before the index thread has created its tables.
      db.prepare('SELECT 1 FROM subject_chains, subject_runs, subject_blocks LIMIT 0').all();
    } catch {
      db?.close();
      return null;
    }
    indexReader = db;
    return db;
  }

  function indexStatement(db: Database.Database, sql: string): Database.Statement {
    let prepared = indexStatements.get(sql);
    if (!prepared) {
      prepared = db.prepare(sql);
      indexStatements.set(sql, prepared);
    }
    return prepared;
  }

  /** The records the index files under the subject's key, and each chain's watermark, in one snapshot of the index. */
  async function subjectSnapshot(subjectHash: string): Promise<SubjectSnapshot> {
    const watermarks = new Map((await all<{ chain_id: string }>('SELECT chain_id FROM audit_chains')).map((c) => [c.chain_id, 0]));
    const candidates: [string, number][] = [];
    const index = indexConnection();
    if (index) {
      const key = subjectKey(subjectHash);
      try {
        index.transaction(() => {
          for (const row of indexStatement(index, 'SELECT chain_id, indexed_seq FROM subject_chains').all() as {
            chain_id: string;
            indexed_seq: number;
          }[]) {
            watermarks.set(row.chain_id, row.indexed_seq);
          }
          const block = indexStatement(index, 'SELECT entries FROM subject_blocks WHERE run = ? AND first_key <= ? ORDER BY first_key DESC LIMIT 1');
          for (const { run, chain_id } of indexStatement(index, 'SELECT run, chain_id FROM subject_runs').all() as {
            run: number;
            chain_id: string;
          }[]) {
            const found = block.get(run, key) as { entries: Buffer } | undefined;
            if (found) for (const seq of seqsOfKey(found.entries, key)) candidates.push([chain_id, seq]);
          }
        })();
      } catch (error) {
        throw new AuditUnavailableError(`Cannot read ${indexFile}.`, { cause: error });
      }
    }
    return { candidates, watermarks: [...watermarks] };
  }

  /** SQLite's way to a subject's records: the index's candidates, confirmed, and every record after the watermark. */
  function dialectFor(snapshot: SubjectSnapshot | null): SqlDialect {
    return {
      param: () => '?',
      subjectRecords(subjectHash, bind) {
        if (!snapshot) throw new Error('a subject search needs the index snapshot');
        return {
          source: `SELECT c.value ->> 0 AS chain_id, c.value ->> 1 AS seq FROM json_each(${bind(JSON.stringify(snapshot.candidates))}) c
            UNION SELECT t.chain_id, t.seq FROM json_each(${bind(JSON.stringify(snapshot.watermarks))}) w
              JOIN audit_records t ON t.chain_id = w.value ->> 0 AND t.seq > w.value ->> 1`,
          confirm: sqliteDisclosedSubject(bind, subjectHash),
        };
      },
    };
  }

  const pruneView: PruneView = {
    latestPrune,
    async firstSeqFrom(chainId, afterSeq, before) {
      const row = await one<{ seq: number | null }>(
        'SELECT MIN(seq) AS seq FROM audit_records WHERE chain_id = ? AND seq > ? AND time >= ?',
        chainId,
        afterSeq,
        before,
      );
      return row?.seq ?? null;
    },
    async checkpointIn(chainId, afterSeq, belowSeq, maxSeq) {
      const below = belowSeq ?? Number.MAX_SAFE_INTEGER;
      const highest = await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq > ? AND seq < ? AND seq <= ? ORDER BY seq DESC LIMIT 1`,
        chainId,
        afterSeq,
        below,
        maxSeq,
      );
      const row =
        highest ??
        (await one<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT 1`,
          chainId,
          afterSeq,
          below,
        ));
      return row ? rowToCheckpoint(row) : null;
    },
    async countAndHash(chainId, afterSeq, upToSeq) {
      const count = await one<{ count: number }>(
        'SELECT COUNT(*) AS count FROM audit_records WHERE chain_id = ? AND seq > ? AND seq <= ?',
        chainId,
        afterSeq,
        upToSeq,
      );
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
            const row = [
              chainId,
              range.fromSeq,
              upToSeq,
              range.headHash,
              checkpoint.time,
              checkpoint.signature,
              range.records,
              range.before,
              range.time,
              ...treeColumns(checkpoint),
            ];
            await write([
              { sql: 'DELETE FROM audit_records WHERE chain_id = ? AND seq <= ?', rows: [[chainId, upToSeq]] },
              { sql: 'DELETE FROM audit_checkpoints WHERE chain_id = ? AND seq < ?', rows: [[chainId, upToSeq]] },
              previous
                ? {
                    sql: 'UPDATE audit_prunes SET up_to_seq = ?, head_hash = ?, checkpoint_time = ?, signature = ?, records = ?, note = ?, tree = ? WHERE chain_id = ? AND up_to_seq = ?',
                    rows: [pruneUpdateValues(range, previous)],
                  }
                : { sql: `INSERT INTO audit_prunes (${PRUNE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rows: [row] },
            ]);
          },
        }),
      );
      pruning = run.catch(() => {});
      return run;
    },
  };

  /**
   * Subject keys of committed records, on their way to the index thread.
   * They go in one message every HANDOVER_MS (or HANDOVER_KEYS keys), not
   * one per commit: each message wakes the thread, and the wake-up, not the
   * copy, is what costs the main thread. Keys lost with a crash are read
   * back from the records by the thread.
   */
  const handOver = {
    chains: [] as string[],
    seqs: [] as number[],
    counts: [] as number[],
    keys: [] as number[],
    timer: null as NodeJS.Timeout | null,
    add(records: readonly AuditRecord[]): void {
      for (const record of records) {
        const subjects = new Set(record.disclosed.map((d) => d.subject));
        this.chains.push(record.chainId);
        this.seqs.push(record.seq);
        this.counts.push(subjects.size);
        for (const subject of subjects) this.keys.push(subjectKey(subject));
      }
      if (this.keys.length >= HANDOVER_KEYS) this.send();
      else if (!this.timer) {
        this.timer = setTimeout(() => this.send(), HANDOVER_MS);
        this.timer.unref();
      }
    },
    send(): void {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (this.chains.length === 0) return;
      startIndexer();
      // Typed arrays are moved to the thread, not copied value by value.
      const message = {
        op: 'records',
        chains: this.chains,
        seqs: Float64Array.from(this.seqs),
        counts: Uint32Array.from(this.counts),
        keys: Float64Array.from(this.keys),
      } satisfies IndexerRequest;
      indexer.post(message, [message.seqs.buffer, message.counts.buffer, message.keys.buffer]);
      this.chains = [];
      this.seqs = [];
      this.counts = [];
      this.keys = [];
    },
  };

  const store: AuditStore = {
    backend: 'sqlite',

    async appendBatch(records) {
      if (records.length === 0) return;
      const chains = [...new Set(records.map((r) => r.chainId))].map((chainId) => [chainId, records[0].time]);
      try {
        await write([
          { sql: INSERT_CHAIN, rows: chains },
          { sql: INSERT_RECORD, rows: records.map(recordToRow) },
        ]);
      } catch (error) {
        const cause = (error as Error).cause as { code?: string } | undefined;
        // Chains are inserted OR IGNORE: a key conflict can only be a record's (chain_id, seq).
        if (cause?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AuditChainConflictError(records[0].chainId, { cause });
        throw error;
      }
      // Committed: the index thread files each record under its subjects' keys, once per subject.
      // Should the thread be down, it reads these records back from the file when it runs again.
      handOver.add(records);
    },

    head: shared.head,

    async appendCheckpoint(checkpoint) {
      await write([
        {
          sql: INSERT_CHECKPOINT,
          rows: [[checkpoint.chainId, checkpoint.seq, checkpoint.headHash, checkpoint.time, checkpoint.signature, ...treeColumns(checkpoint)]],
        },
      ]);
    },

    async appendCosignatures(chainId, seq, cosignatures) {
      if (cosignatures.length === 0) return;
      await write([{ sql: INSERT_COSIGNATURE, rows: cosignatures.map(({ witness, line }) => [chainId, seq, witness, line]) }]);
    },

    async latestCosigned(chainId) {
      const top = await one<{ seq: number }>('SELECT MAX(seq) AS seq FROM audit_cosignatures WHERE chain_id = ?', chainId);
      if (top?.seq == null) return null;
      const checkpoint = await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq = ?`,
        chainId,
        top.seq,
      );
      if (!checkpoint) return null;
      const lines = await all<{ witness: string; cosignature: string }>(
        'SELECT witness, cosignature FROM audit_cosignatures WHERE chain_id = ? AND seq = ? ORDER BY witness',
        chainId,
        top.seq,
      );
      return { checkpoint: rowToCheckpoint(checkpoint), cosignatures: lines.map((row) => ({ witness: row.witness, line: row.cosignature })) };
    },

    async readLeafHashes(chainId, fromSeq, toSeq) {
      const rows = await all<{ hash: string }>(
        'SELECT hash FROM audit_records WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq',
        chainId,
        fromSeq,
        toSeq,
      );
      return rows.map((row) => row.hash);
    },

    async checkpoints(chainId) {
      const rows = await all<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? ORDER BY seq`, chainId);
      return rows.map(rowToCheckpoint);
    },

    readCheckpoints: shared.readCheckpoints,

    async lastCheckpoint(chainId, beforeSeq = Number.MAX_SAFE_INTEGER) {
      const row = await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1`,
        chainId,
        beforeSeq,
      );
      return row ? rowToCheckpoint(row) : null;
    },

    prunes: shared.prunes,
    chains: shared.chains,

    async settleIndex() {
      if (readOnly) return;
      await writer.start();
      handOver.send();
      await indexer.call({ op: 'settle' });
    },

    indexKey: (subjectHash) => keyHex(subjectKey(subjectHash)),

    async *readSubjectIndex(chainId, fromSeq = 1) {
      const snapshot = await store.snapshot();
      try {
        yield* snapshot.readSubjectIndex(chainId, fromSeq);
      } finally {
        await snapshot.release();
      }
    },

    readChain: shared.readChain,

    async snapshot() {
      await read();
      // The index first: then its watermark can never point past the records the snapshot sees.
      let index: Database.Database | null = null;
      let records: Database.Database | null = null;
      try {
        if (indexConnection()) {
          index = openReader(indexFile);
          index.prepare('BEGIN').run();
          // A read transaction takes its snapshot at its first read, not at BEGIN.
          index.prepare('SELECT COUNT(*) FROM subject_chains').get();
        }
        records = openReader(file);
        records.prepare('BEGIN').run();
        records.prepare('SELECT COUNT(*) FROM audit_chains').get();
      } catch (error) {
        index?.close();
        records?.close();
        throw new AuditUnavailableError(`Cannot read ${file}.`, { cause: error });
      }
      const connection = records;
      let released = false;
      const snapshotReads = rowReader(async () => {
        if (released) throw new AuditUnavailableError('The audit snapshot was released.');
        return connection;
      }, file);
      const view = recordReads(snapshotReads.all);
      return {
        ...view,
        readSubjectIndex: (chainId, fromSeq = 1) => subjectIndexOf(index, view, indexFile, chainId, fromSeq),
        indexKey: store.indexKey,
        async release() {
          if (released) return;
          released = true;
          snapshotReads.clear();
          connection.close();
          index?.close();
        },
      };
    },

    async seqRange(chainId, range = {}) {
      const from = range.from ? normalizeInstant(range.from, 'from') : '';
      const to = range.to ? normalizeInstant(range.to, 'to') : '\uffff';
      const row = await one<{ first: number | null; last: number | null }>(
        'SELECT MIN(seq) AS first, MAX(seq) AS last FROM audit_records WHERE chain_id = ? AND time >= ? AND time <= ?',
        chainId,
        from,
        to,
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
      const { sql, params } = searchStatement(
        search,
        after,
        first + 1,
        dialectFor(search.subjectHash ? await subjectSnapshot(search.subjectHash) : null),
      );
      const rows = await all<RecordRow>(sql, ...params);
      const records: AuditRecord[] = rows.slice(0, first).map(rowToRecord);
      return { records, endCursor: records.length > 0 ? encodeCursor(records[records.length - 1]) : null, hasNextPage: rows.length > first };
    },

    async accessReport(subjectHash, from, to) {
      const range = [normalizeInstant(from, 'from'), normalizeInstant(to, 'to')] as const;
      const { sql, params } = accessReportStatement(subjectHash, range[0], range[1], dialectFor(await subjectSnapshot(subjectHash)));
      const rows = await all<{
        caller_subject: string;
        caller_organisation: string;
        caller_province: string;
        matter: string | null;
        accesses: number;
        withheld: number | null;
        first_time: string;
        last_time: string;
      }>(sql, ...params);
      return rows.map(
        (r): AccessReportRow => ({
          callerSubject: r.caller_subject,
          organisation: r.caller_organisation,
          province: r.caller_province,
          matter: r.matter,
          accesses: Number(r.accesses),
          withheld: Number(r.withheld ?? 0),
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
      await writer.stop({ op: 'close' });
      handOver.send();
      await indexer.stop({ op: 'close' });
      reader?.close();
      reader = null;
      indexReader?.close();
      indexReader = null;
      reads.clear();
      indexStatements.clear();
    },
  };
  return store;
}
