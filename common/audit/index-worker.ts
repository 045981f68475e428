// The SQLite audit store's index thread: it keeps the person-search index,
// in its own file beside the audit file, in step with the records.
//
// Why a thread and a file of its own: indexing a record that disclosed 50
// persons in place (one B-tree row per person) touches about 50 random pages
// of a large tree, and SQLite's WAL writes every touched page whole at each
// commit. Here the records are committed alone; the main thread then hands
// each committed record's subject keys to this thread, which sorts about a
// second's worth into a run and writes it sequentially (see
// subject-runs.ts), merging runs in the background like an LSM tree.
// Nothing here holds the audit file's write lock, so appends never wait.
//
// The index is derived data: every record lists its subjects. It may lag the
// records (searches read the records after its watermark directly), it may be
// lost (it is rebuilt from the records), and it is checked against them by
// the verifier. So its file uses synchronous=NORMAL: a power cut may lose the
// last runs, never leave them half-written.
//
// Started like store-sqlite-worker.ts: sqlite-thread.ts registers tsx inside
// the thread, then imports this file.
// Protocol (replies matched by `id`; 'records' has none):
//   { id, op: 'open', file, indexFile }      → null
//   { op: 'records', chains, seqs, counts, keys }  committed records, in seq order per chain: record i
//       is chains[i] / seqs[i] (Float64Array) with counts[i] (Uint32Array) subject keys, next in keys (Float64Array)
//   { id, op: 'settle' }                      → null, once every committed record is indexed
//   { id, op: 'close' }                       → null
// Of its own accord: { event: 'failed', message, code } when a round failed (the store throttles the warnings).
import Database from 'better-sqlite3';
import { errorFields, openWalDatabase, report, serve, statementCache, type Statements } from './sqlite-worker-kit.js';
import { disclosedSubjects } from './disclosed-column.js';
import { blockLength, blocksOfSorted, keyAt, packBlocks, seqAt, subjectKey } from './subject-runs.js';
import { defineSchema, migrateSchema } from '../sqlite/schema-version.js';
import { SUBJECT_INDEX_SCHEMA_VERSION } from './sqlite-versions.js';

const INDEX_SCHEMA = `
  CREATE TABLE IF NOT EXISTS subject_chains (
    chain_id TEXT PRIMARY KEY,
    indexed_seq INTEGER NOT NULL       -- every record up to here is in the runs
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS subject_runs (
    run INTEGER PRIMARY KEY,
    chain_id TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    level INTEGER NOT NULL,
    entries INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS subject_runs_chain ON subject_runs (chain_id, from_seq);
  CREATE TABLE IF NOT EXISTS subject_blocks (
    run INTEGER NOT NULL,
    first_key INTEGER NOT NULL,
    entries BLOB NOT NULL,
    PRIMARY KEY (run, first_key)
  ) WITHOUT ROWID;
`;

/** A flush runs this often while records arrive… */
const FLUSH_INTERVAL_MS = 1000;
/** …or as soon as this many entries wait. */
const FLUSH_ENTRIES = 50_000;
/** Records read back from the audit file per step when catching up. */
const CATCH_UP_RECORDS = 5000;
/** The newest FANOUT runs of a chain at the same level merge into one run of the next level… */
const FANOUT = 8;
/** …unless the merged run would hold more entries than this (memory of a merge, about 16 bytes each). */
const MAX_MERGED_ENTRIES = 4_000_000;

/** Committed records, as the main thread hands them over (typed arrays, moved rather than copied). */
export interface RecordsMessage {
  op: 'records';
  chains: string[];
  seqs: Float64Array;
  counts: Uint32Array;
  keys: Float64Array;
}

/** What the main thread asks of the index thread (the `id` is sqlite-thread.ts's; 'records' is posted without one). */
export type IndexerRequest = { op: 'open'; file: string; indexFile: string } | RecordsMessage | { op: 'settle' } | { op: 'close' };

/** A record's subject keys, waiting for a run or read back from the audit file. */
interface Item {
  seq: number;
  keys: number[];
}

/** A row of subject_runs. */
interface RunRow {
  run: number;
  from_seq: number;
  to_seq: number;
  level: number;
  entries: number;
}

// Set by open and cleared by close; a round runs only while they are set (see step), hence the `!`s below.
let db: Database.Database | null = null;
let records: Database.Database | null = null;
let timer: NodeJS.Timeout | null = null;
/** Prepared statements of the index file and of the audit file. */
let indexStatement: Statements | null = null;
let recordStatement: Statements | null = null;
/** chainId → [{ seq, keys }] in seq order: committed records not yet in a run. */
const waiting = new Map<string, Item[]>();
let waitingEntries = 0;
let flushSoon = false;

const INDEX_FILE_SCHEMA = defineSchema({
  version: SUBJECT_INDEX_SCHEMA_VERSION,
  migrations: [{ to: 1, description: 'creates the person-search index tables; records the schema version', migrate: (d) => d.exec(INDEX_SCHEMA) }],
});

function open(file: string, indexFile: string): null {
  const opened = openWalDatabase(indexFile, 'NORMAL');
  try {
    migrateSchema(opened, indexFile, INDEX_FILE_SCHEMA);
  } catch (error) {
    opened.close();
    throw error;
  }
  db = opened;
  indexStatement = statementCache(db);
  // The records are only read here; the writer thread has created the file.
  records = new Database(file, { fileMustExist: true });
  records.pragma('query_only = ON');
  records.pragma('busy_timeout = 5000');
  recordStatement = statementCache(records);
  timer = setInterval(stepQuietly, FLUSH_INTERVAL_MS);
  return null;
}

/** The index file's statement for `sql`; only called while the index is open. */
function indexSql<Result>(sql: string): Database.Statement<unknown[], Result> {
  return indexStatement!<Result>(sql);
}

/** The audit file's statement for `sql`; only called while the index is open. */
function recordSql<Result>(sql: string): Database.Statement<unknown[], Result> {
  return recordStatement!<Result>(sql);
}

function indexedSeq(chainId: string): number {
  return indexSql<{ indexed_seq: number }>('SELECT indexed_seq FROM subject_chains WHERE chain_id = ?').get(chainId)?.indexed_seq ?? 0;
}

/** Subject keys of the records (from, to] of a chain, read back from the audit file. */
function readRecords(chainId: string, from: number, to: number): Item[] {
  const items: Item[] = [];
  for (const row of recordSql<{ seq: number; disclosed: string }>(
    'SELECT seq, disclosed FROM audit_records WHERE chain_id = ? AND seq > ? AND seq <= ? ORDER BY seq',
  ).iterate(chainId, from, to)) {
    const subjects = disclosedSubjects(row.disclosed);
    items.push({ seq: row.seq, keys: [...subjects].map((subject) => subjectKey(String(subject))) });
  }
  return items;
}

/**
 * Writes the next run of a chain: the waiting records that follow its
 * watermark, or, when those are missing (records of an earlier process, or
 * an index rebuilt), the records read back from the audit file. Returns
 * whether the watermark moved.
 */
function flushChain(chainId: string): boolean {
  const from = indexedSeq(chainId);
  const queue = waiting.get(chainId) ?? [];
  while (queue.length > 0 && queue[0].seq <= from) waitingEntries -= queue.shift()!.keys.length;
  let items: Item[];
  if (queue.length > 0 && queue[0].seq === from + 1) {
    let end = 1;
    while (end < queue.length && queue[end].seq === queue[end - 1].seq + 1) end++;
    items = queue.slice(0, end);
  } else {
    const last =
      queue.length > 0
        ? queue[0].seq - 1
        : (recordSql<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM audit_records WHERE chain_id = ?').get(chainId)?.seq ?? 0);
    if (last <= from) return false;
    items = readRecords(chainId, from, Math.min(last, from + CATCH_UP_RECORDS));
    if (items.length === 0) {
      // Nothing left of (from, last]: pruned away. Move the watermark past it.
      items = [{ seq: Math.min(last, from + CATCH_UP_RECORDS), keys: [] }];
    }
  }
  const keys: number[] = [];
  const seqs: number[] = [];
  for (const item of items) {
    for (const key of item.keys) {
      keys.push(key);
      seqs.push(item.seq);
    }
  }
  const to = items[items.length - 1].seq;
  const written = db!
    .transaction(() => {
      // Another process may have indexed this stretch meanwhile: then this run is not needed.
      if (indexedSeq(chainId) !== from) return false;
      if (keys.length > 0) {
        const { lastInsertRowid: run } = indexSql('INSERT INTO subject_runs (chain_id, from_seq, to_seq, level, entries) VALUES (?, ?, ?, 0, ?)').run(
          chainId,
          from + 1,
          to,
          keys.length,
        );
        for (const block of packBlocks(keys, seqs))
          indexSql('INSERT INTO subject_blocks (run, first_key, entries) VALUES (?, ?, ?)').run(run, block.firstKey, block.entries);
      }
      indexSql(
        'INSERT INTO subject_chains (chain_id, indexed_seq) VALUES (?, ?) ON CONFLICT (chain_id) DO UPDATE SET indexed_seq = excluded.indexed_seq',
      ).run(chainId, to);
      return true;
    })
    .immediate();
  if (queue.length > 0 && queue[0].seq <= to) {
    let drop = 0;
    while (drop < queue.length && queue[drop].seq <= to) waitingEntries -= queue[drop++].keys.length;
    queue.splice(0, drop);
  }
  return written;
}

/** All entries of a run in (key, seq) order, dropping those at or below `prunedSeq`. */
function entriesOfRun(run: number, prunedSeq: number): { keys: number[]; seqs: number[] } {
  const keys: number[] = [];
  const seqs: number[] = [];
  for (const { entries } of indexSql<{ entries: Buffer }>('SELECT entries FROM subject_blocks WHERE run = ? ORDER BY first_key').iterate(run)) {
    for (let i = 0; i < blockLength(entries); i++) {
      const seq = seqAt(entries, i);
      if (seq <= prunedSeq) continue;
      keys.push(keyAt(entries, i));
      seqs.push(seq);
    }
  }
  return { keys, seqs };
}

/** Merges the newest FANOUT runs of a chain when they share a level; returns whether it did. */
function mergeChain(chainId: string, prunedSeq: number): boolean {
  const newest = indexSql<RunRow>(
    'SELECT run, from_seq, to_seq, level, entries FROM subject_runs WHERE chain_id = ? ORDER BY from_seq DESC LIMIT ?',
  ).all(chainId, FANOUT);
  if (newest.length < FANOUT || newest.some((r) => r.level !== newest[0].level)) return false;
  if (newest.reduce((sum, r) => sum + r.entries, 0) > MAX_MERGED_ENTRIES) return false;
  // A k-way merge of runs already in (key, seq) order.
  const sources = newest.map((r) => entriesOfRun(r.run, prunedSeq));
  const total = sources.reduce((sum, s) => sum + s.keys.length, 0);
  const keys = new Float64Array(total);
  const seqs = new Float64Array(total);
  const at = sources.map(() => 0);
  for (let out = 0; out < total; out++) {
    let best = -1;
    for (let s = 0; s < sources.length; s++) {
      const i = at[s];
      if (i >= sources[s].keys.length) continue;
      if (best < 0) {
        best = s;
        continue;
      }
      const j = at[best];
      const key = sources[s].keys[i];
      const bestKey = sources[best].keys[j];
      if (key < bestKey || (key === bestKey && sources[s].seqs[i] < sources[best].seqs[j])) best = s;
    }
    keys[out] = sources[best].keys[at[best]];
    seqs[out] = sources[best].seqs[at[best]];
    at[best]++;
  }
  db!
    .transaction(() => {
      const { lastInsertRowid: run } = indexSql('INSERT INTO subject_runs (chain_id, from_seq, to_seq, level, entries) VALUES (?, ?, ?, ?, ?)').run(
        chainId,
        newest[newest.length - 1].from_seq,
        newest[0].to_seq,
        newest[0].level + 1,
        total,
      );
      for (const block of blocksOfSorted(keys, seqs))
        indexSql('INSERT INTO subject_blocks (run, first_key, entries) VALUES (?, ?, ?)').run(run, block.firstKey, block.entries);
      for (const old of newest) {
        indexSql('DELETE FROM subject_blocks WHERE run = ?').run(old.run);
        indexSql('DELETE FROM subject_runs WHERE run = ?').run(old.run);
      }
    })
    .immediate();
  return true;
}

/** Drops the runs whose records were all pruned. */
function dropPruned(chainId: string, prunedSeq: number): void {
  if (prunedSeq <= 0) return;
  const gone = indexSql<{ run: number }>('SELECT run FROM subject_runs WHERE chain_id = ? AND to_seq <= ?').all(chainId, prunedSeq);
  if (gone.length === 0) return;
  db!
    .transaction(() => {
      for (const { run } of gone) {
        indexSql('DELETE FROM subject_blocks WHERE run = ?').run(run);
        indexSql('DELETE FROM subject_runs WHERE run = ?').run(run);
      }
    })
    .immediate();
}

function chainIds(): Set<string> {
  const ids = new Set(waiting.keys());
  for (const row of recordSql<{ chain_id: string }>('SELECT chain_id FROM audit_chains').iterate()) ids.add(row.chain_id);
  return ids;
}

/**
 * One round: a run per chain with records to index, merges, and the runs
 * that pruning emptied. With `untilCaughtUp`, rounds repeat until every
 * record committed before the call is indexed. Errors (a busy file, a disk
 * full) end the round; the next one tries again, and searches meanwhile
 * read the records after the watermark.
 */
function step(untilCaughtUp: boolean): void {
  flushSoon = false;
  if (!db) return;
  for (const chainId of chainIds()) {
    while (flushChain(chainId) && untilCaughtUp);
    const prunedSeq = recordSql<{ seq: number | null }>('SELECT MAX(up_to_seq) AS seq FROM audit_prunes WHERE chain_id = ?').get(chainId)?.seq ?? 0;
    dropPruned(chainId, prunedSeq);
    while (mergeChain(chainId, prunedSeq));
  }
}

function receive({ chains, seqs, counts, keys }: RecordsMessage): void {
  let at = 0;
  for (let i = 0; i < chains.length; i++) {
    const chainId = chains[i];
    const seq = seqs[i];
    const recordKeys = Array.from(keys.subarray(at, at + counts[i]));
    at += counts[i];
    let queue = waiting.get(chainId);
    if (!queue) waiting.set(chainId, (queue = []));
    // Out of order only when an earlier batch's message was lost with a failed thread: start again from the records.
    if (queue.length > 0 && queue[queue.length - 1].seq + 1 !== seq) {
      for (const item of queue) waitingEntries -= item.keys.length;
      queue.length = 0;
    }
    queue.push({ seq, keys: recordKeys });
    waitingEntries += recordKeys.length;
  }
  if (waitingEntries >= FLUSH_ENTRIES && !flushSoon) {
    flushSoon = true;
    setImmediate(stepQuietly);
  }
}

function stepQuietly(): void {
  try {
    step(false);
  } catch (error) {
    // The next round tries again; the records after the watermark stay searchable meanwhile.
    // The store decides how often to tell the operator.
    report({ event: 'failed', ...errorFields(error) });
  }
}

function close(): null {
  if (timer) clearInterval(timer);
  timer = null;
  indexStatement = null;
  recordStatement = null;
  db?.close();
  records?.close();
  db = null;
  records = null;
  return null;
}

serve<IndexerRequest>({
  open: (message) => open(message.file, message.indexFile),
  records: receive,
  settle: () => step(true),
  close,
});
