import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  checkpointNoteSigner,
  checkpointTree,
  signCheckpoint,
  withTreeHead,
  type CheckpointSigningKey,
  type SignedCheckpoint,
} from '../../common/audit/checkpoint.js';
import { normalizeAuditEntry, sealRecord, withheldEntry, type WithheldAnswer } from './entry.js';
import { AuditOptionError, AuditUnavailableError } from '../../common/audit/errors.js';
import { CompactRange, consistencyProof, leafRangeHasher, prefixedRangeHasher, recordLeafHash } from '../../common/audit/merkle.js';
import { parseNote } from '../../common/audit/note.js';
import { throttledWarning } from '../../common/throttled-warning.js';
import { auditRecordId, GENESIS_HASH, type AuditEntry, type AuditRecord } from '../../common/audit/record.js';
import type { AuditStore, WitnessCosignature } from '../../common/audit/store-contract.js';

export { AuditUnavailableError } from '../../common/audit/errors.js';
export type { WithheldAnswer } from './entry.js';

/** What a checkpoint's witnesses are asked (C2SP tlog-witness add-checkpoint): the signed note, and a consistency proof from the size a witness last cosigned. */
export interface WitnessRequest {
  origin: string;
  /** The checkpoint as a signed note (the gateway's signature). */
  note: string;
  size: number;
  root: Buffer;
  /** The consistency proof from the tree of `oldSize` records to this one. */
  consistencyFrom(oldSize: number): Promise<Buffer[]>;
}

/** The witnesses of the writer's checkpoints: asks each to cosign and resolves with the cosignatures it verified. Never rejects. */
export interface CheckpointWitnessing {
  cosign(request: WitnessRequest): Promise<WitnessCosignature[]>;
}

/** pino-compatible logger for what the writer cannot report through a promise (timed checkpoints). */
export interface AuditWriterLogger {
  warn(object: object, message: string): void;
}

export interface AuditWriterOptions {
  store: AuditStore;
  /** This writer's chain: one per gateway replica, stable across restarts (GATEWAY_REPLICA_ID). */
  chainId: string;
  /** The gateway's Ed25519 key (`loadGatewaySigningKey`), which signs checkpoints. */
  signing: CheckpointSigningKey;
  /** A checkpoint is signed this often while records arrive. Default 10000 ms. */
  checkpointIntervalMs?: number;
  /** …and after this many records, whichever comes first. Default 1000. */
  checkpointEveryRecords?: number;
  /** Most records per transaction. Default 512. */
  maxBatch?: number;
  /**
   * Group commit delay, as PostgreSQL's `commit_delay`: while other requests
   * are on their way to the writer (`commitSiblings`), a transaction waits up
   * to this long for them, so that several records share one fsync. It
   * starts at once when the siblings have all arrived or `maxBatch` is
   * reached. Default {@link DEFAULT_COMMIT_DELAY_MS} (5); 0 never waits. At most 1000.
   * Without `commitSiblings` there are never siblings, and no delay.
   */
  commitDelayMs?: number;
  /**
   * How many appends are on their way: requests begun whose entries the
   * writer has not received yet. The delay applies only while this is above
   * zero. Default: always 0 (no delay).
   */
  commitSiblings?: () => number;
  /** Clock of checkpoint times. Default `() => new Date()`. */
  now?: () => Date;
  /** Replica named in the `PRUNE` records this writer appends. Default: the chain id. */
  replica?: string;
  /** Default: silent. */
  logger?: AuditWriterLogger;
  /** Witnesses asked to cosign each checkpoint (in the background; their cosignatures are stored beside it). Default: none. */
  witnessing?: CheckpointWitnessing | null;
  /**
   * Where `close` keeps what it could not settle before its deadline — the
   * WITHHELD records not written, the failed batches that may have landed —
   * for the next writer of the chain, which writes and settles them first.
   * The gateway's: `<DATA_DIR>/audit-chains/<chain>.withheld.json`. Default:
   * none (they are only logged).
   */
  spoolFile?: string;
}

export interface NormalizedAuditWriterOptions {
  store: AuditStore;
  chainId: string;
  signing: CheckpointSigningKey;
  checkpointIntervalMs: number;
  checkpointEveryRecords: number;
  maxBatch: number;
  commitDelayMs: number;
  commitSiblings: () => number;
  now: () => Date;
  replica: string;
  logger: AuditWriterLogger;
  witnessing: CheckpointWitnessing | null;
  spoolFile: string | null;
}

/** Counters for tests and benchmarks: `records / commits` is the group commit factor. */
export interface AuditWriterStats {
  /** Transactions committed. */
  commits: number;
  /** Records committed. */
  records: number;
  largestBatch: number;
  /** Transactions that failed (their appends rejected). */
  failedCommits: number;
  checkpoints: number;
  /** `WITHHELD` records committed: answers recorded that did not reach their clients as recorded. */
  withheld: number;
  /** Failed transactions whose records may yet be found in the store (a lost COMMIT reply), not resolved yet. */
  unsettledBatches: number;
}

export interface AuditWriter {
  readonly chainId: string;
  readonly replica: string;
  /**
   * Seals the entry as the next link of the chain and resolves once its
   * transaction is durable. Rejects with {@link AuditUnavailableError} when
   * the store fails (the chain then does not advance; the next append starts
   * again from the last durable head), with `AuditEntryError` when the entry
   * is malformed.
   */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /**
   * Records that the answer of `record` (a record this writer committed) did
   * not reach its client as recorded: a `WITHHELD` record follows it in the
   * chain, first in the next transaction, retried until the store takes it.
   * Never rejects; what cannot be written before `close` ends is logged.
   */
  withhold(record: AuditRecord, answer: WithheldAnswer): void;
  /** Signs and stores a checkpoint at the current head; null when the head is already anchored. */
  checkpoint(): Promise<SignedCheckpoint | null>;
  stats(): AuditWriterStats;
  /**
   * Commits what is queued, signs a final checkpoint, stops the timer. Never
   * rejects (failures go to the logger). Does not close the store. With a
   * `deadline` (epoch ms) it stops waiting then: appends still queued are
   * rejected, and the follow-ups it could not write are logged.
   */
  close(options?: { deadline?: number }): Promise<void>;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;
export const DEFAULT_CHECKPOINT_EVERY_RECORDS = 1000;
export const DEFAULT_MAX_BATCH = 512;
export const MAX_COMMIT_DELAY_MS = 1000;

/** The commit delay unless AUDIT_COMMIT_DELAY_MS says otherwise: measured side by side at 0, 2, 5 and 10 ms (docs/benchmarks.md). */
export const DEFAULT_COMMIT_DELAY_MS = 5;

const silent: AuditWriterLogger = { warn: () => {} };
const noSiblings = () => 0;

/** Fills defaults and checks every option; throws an {@link AuditOptionError} naming the bad one. */
export function normalizeAuditWriterOptions(options: AuditWriterOptions): NormalizedAuditWriterOptions {
  if (typeof options?.store?.appendBatch !== 'function') throw new AuditOptionError('store', 'must be an AuditStore (openAuditStore)');
  if (typeof options.chainId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(options.chainId)) {
    throw new AuditOptionError('chainId', 'must be 1-128 letters, digits, dots, colons, dashes or underscores');
  }
  if (typeof options.signing?.kid !== 'string' || options.signing.kid === '')
    throw new AuditOptionError('signing.kid', 'must be the key id of the signing key');
  if (!options.signing.key) throw new AuditOptionError('signing.key', 'must be the gateway’s private Ed25519 key');
  const integer = (value: number, option: string, min: number, max: number): number => {
    if (!Number.isInteger(value) || value < min || value > max) throw new AuditOptionError(option, `must be a whole number from ${min} to ${max}`);
    return value;
  };
  const now = options.now ?? (() => new Date());
  if (typeof now !== 'function') throw new AuditOptionError('now', 'must be a function returning a Date');
  const logger = options.logger ?? silent;
  if (typeof logger?.warn !== 'function') throw new AuditOptionError('logger', 'must have a warn(object, message) method');
  const commitSiblings = options.commitSiblings ?? noSiblings;
  if (typeof commitSiblings !== 'function') throw new AuditOptionError('commitSiblings', 'must be a function returning a count');
  const replica = options.replica ?? options.chainId;
  if (typeof replica !== 'string' || replica === '') throw new AuditOptionError('replica', 'must be a non-empty string');
  const spoolFile = options.spoolFile ?? null;
  if (spoolFile !== null && (typeof spoolFile !== 'string' || spoolFile === '')) throw new AuditOptionError('spoolFile', 'must be a file path');
  return {
    store: options.store,
    chainId: options.chainId,
    signing: options.signing,
    checkpointIntervalMs: integer(options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS, 'checkpointIntervalMs', 10, 86_400_000),
    checkpointEveryRecords: integer(options.checkpointEveryRecords ?? DEFAULT_CHECKPOINT_EVERY_RECORDS, 'checkpointEveryRecords', 1, 1_000_000),
    maxBatch: integer(options.maxBatch ?? DEFAULT_MAX_BATCH, 'maxBatch', 1, 10_000),
    commitDelayMs: integer(options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS, 'commitDelayMs', 0, MAX_COMMIT_DELAY_MS),
    commitSiblings,
    now,
    replica,
    logger,
    witnessing: options.witnessing ?? null,
    spoolFile,
  };
}

/** What one writer left for the next (see `spoolFile`). */
interface Spool {
  format: 'kuasheng-audit-withheld/1';
  chainId: string;
  /** WITHHELD entries not written. */
  withheld: AuditEntry[];
  /** Failed batches that may have landed, and what their clients got. */
  unsettled: { records: AuditRecord[]; answer: WithheldAnswer }[];
}

async function readSpool(file: string, chainId: string): Promise<Spool | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const spool = JSON.parse(text) as Spool;
  if (spool?.format !== 'kuasheng-audit-withheld/1' || spool.chainId !== chainId)
    throw new AuditOptionError('spoolFile', `${file} is not the withheld records of chain ${chainId}`);
  return spool;
}

interface Queued {
  entry: AuditEntry;
  resolve(record: AuditRecord): void;
  reject(error: Error): void;
}

/**
 * A `WITHHELD` entry on its way: waiting, sent in a transaction whose
 * outcome is not known yet, or committed. The same object may ride in two
 * failed transactions at the same seqs; at most one of them can land.
 */
interface FollowUp {
  entry: AuditEntry;
  state: 'waiting' | 'sent' | 'committed';
}

/**
 * A failed transaction whose records may have landed nonetheless (the
 * connection was lost, or the reply never came, after the statement left).
 * Its REQUEST records' answers were withheld (503): if they did land, each
 * needs its WITHHELD record.
 */
interface Unsettled {
  records: AuditRecord[];
  followUps: FollowUp[];
  /** What the clients of its REQUEST records got: 503 when the append was rejected, nothing when cut at shutdown. */
  answer: WithheldAnswer;
}

/** Records of failed transactions kept to be checked against the store; beyond it the oldest are given up (and logged). */
const MAX_UNSETTLED_RECORDS = 10_000;

/** What the client of a request whose append was rejected got: the gateway answers 503 AUDIT_UNAVAILABLE (see the audit trail). */
const REJECTED_APPEND: WithheldAnswer = { httpStatus: 503, errorCode: 'AUDIT_UNAVAILABLE' };

/** What the clients of a batch still in flight at the writer's deadline got: nothing, their connections were cut. */
const CUT_AT_SHUTDOWN: WithheldAnswer = { httpStatus: 0, errorCode: 'SHUTTING_DOWN' };

/** The entry a sealed record was made of: to write a WITHHELD record again that may not have landed. */
function entryOf(record: AuditRecord): AuditEntry {
  const { chainId: _chain, seq: _seq, prevHash: _prev, hash: _hash, ...entry } = record;
  return normalizeAuditEntry(entry);
}

function unavailable(error: unknown): AuditUnavailableError {
  return error instanceof AuditUnavailableError ? error : new AuditUnavailableError('The audit store refused the records.', { cause: error });
}

/**
 * The appender of one chain, with group commit: `append` queues the entry;
 * while a transaction is in flight new entries wait, and the next
 * transaction takes all of them (up to `maxBatch`). With a commit delay, a
 * transaction also waits briefly for requests still on their way
 * (`commitDelayMs`, `commitSiblings`). Sequence numbers and
 * hashes are assigned only when a batch is built, from the last durable
 * head, so a failed batch leaves no hole and no fork: nothing of it was
 * written, and the next batch reuses its numbers.
 *
 * After any failure the head is re-read from the store before the next
 * batch — a batch reported as failed may in fact have committed (a lost
 * COMMIT reply), and the chain must continue from what is really there.
 * Such a batch is kept until the store tells: if its records are found
 * there, their clients were answered 503 all the same, and each gets a
 * `WITHHELD` record saying so. Records are never rewritten; follow-ups
 * (those and {@link AuditWriter.withhold}'s) go first in the next batch.
 *
 * Starts from `store.head(chainId)`, so a restarted gateway continues its
 * chain. If the store is down at start, the writer is created anyway and
 * appends fail until it is back.
 */
export async function createAuditWriter(options: AuditWriterOptions): Promise<AuditWriter> {
  const {
    store,
    chainId,
    signing,
    checkpointIntervalMs,
    checkpointEveryRecords,
    maxBatch,
    commitDelayMs,
    commitSiblings,
    now,
    replica,
    logger,
    witnessing,
    spoolFile,
  } = normalizeAuditWriterOptions(options);
  const noteSigner = checkpointNoteSigner(chainId, signing);
  // While the store is down a checkpoint fails every interval: once a minute, its cause without a stack trace, the rest counted.
  const checkpointWarning = throttledWarning(logger, 60_000, Date.now);
  /** Last durable record; null until read from the store (at start and after a failure). */
  let head: { seq: number; hash: string } | null = null;
  /**
   * The chain's Merkle tree up to `head` (its compact range), read back with
   * the head. Null when it cannot be rebuilt (a chain pruned before
   * checkpoints carried trees): checkpoints are then signed without a note.
   */
  let tree: CompactRange | null = null;
  let treeWarned = false;
  /** The witness submission in flight, and the newest checkpoint waiting for it to end. */
  let witnessing_: Promise<void> | null = null;
  let witnessNext: SignedCheckpoint | null = null;
  let anchoredSeq = 0;
  const queue: Queued[] = [];
  /** WITHHELD entries to write, oldest first: they go before the queue. */
  const followUps: FollowUp[] = [];
  /** Failed batches that may have landed, oldest first. */
  let unsettled: Unsettled[] = [];
  /** The batch whose statement is out, until the store answers: unsettled if the writer's deadline comes first. */
  let inFlight: Unsettled | null = null;
  const stats: AuditWriterStats = {
    commits: 0,
    records: 0,
    largestBatch: 0,
    failedCommits: 0,
    checkpoints: 0,
    withheld: 0,
    unsettledBatches: 0,
  };
  let scheduled = false;
  /** Ends the commit delay early; set while a transaction waits for its siblings. */
  let gathered: (() => void) | null = null;
  let closed = false;
  /** Closed and drained (or given up at the deadline): nothing more is written. */
  let finished = false;
  let closing: Promise<void> | null = null;

  // Commits and checkpoints run one at a time, in order.
  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = tail.then(work);
    tail = run.catch(() => {});
    return run;
  }

  async function resync(): Promise<{ seq: number; hash: string }> {
    const [stored, lastCheckpoint] = await Promise.all([store.head(chainId), store.lastCheckpoint(chainId)]);
    const current = stored ?? { seq: 0, hash: GENESIS_HASH };
    if (unsettled.length > 0) await settle(current);
    tree = await rebuildTree(current.seq, lastCheckpoint);
    head = current;
    anchoredSeq = lastCheckpoint?.seq ?? 0;
    // Follow-ups found or put back while the store was away go first, even if no request comes to carry them.
    if (followUps.length > 0) schedule();
    return head;
  }

  /** The tree at `seq`: from the last checkpoint's compact range (or the chain's start, or its prune point) and the record hashes after it. */
  async function rebuildTree(seq: number, lastCheckpoint: SignedCheckpoint | null): Promise<CompactRange | null> {
    let start: CompactRange | null = lastCheckpoint && lastCheckpoint.seq <= seq ? checkpointTree(lastCheckpoint) : null;
    if (!start) {
      const pruned = (await store.prunes(chainId)).at(-1);
      start = pruned ? checkpointTree(pruned.checkpoint) : CompactRange.empty();
    }
    if (start) {
      const leaves = seq > start.size ? await store.readLeafHashes(chainId, start.size + 1, seq) : [];
      if (leaves.length === seq - start.size) {
        for (const leaf of leaves) start.append(recordLeafHash(leaf));
        return start;
      }
    }
    if (!treeWarned) {
      treeWarned = true;
      logger.warn(
        { chainId, seq },
        'the chain’s Merkle tree cannot be rebuilt (pruned before checkpoints carried trees): checkpoints are signed without a tree note',
      );
    }
    return null;
  }

  /** Asks the witnesses to cosign `checkpoint` (one submission at a time; a newer checkpoint replaces one still waiting). */
  function witness(checkpoint: SignedCheckpoint): void {
    if (!witnessing || !checkpoint.note) return;
    witnessNext = checkpoint;
    if (witnessing_) return;
    witnessing_ = (async () => {
      while (witnessNext) {
        const next = witnessNext;
        witnessNext = null;
        await submitToWitnesses(next).catch((error: unknown) => checkpointWarning({ err: error, chainId }, 'asking the audit witnesses failed'));
      }
      witnessing_ = null;
    })();
  }

  async function submitToWitnesses(checkpoint: SignedCheckpoint): Promise<void> {
    const note = checkpoint.note as string;
    const { text } = parseNote(note);
    const [origin, , rootLine] = text.split('\n');
    const cosignatures = await (witnessing as CheckpointWitnessing).cosign({
      origin,
      note,
      size: checkpoint.seq,
      root: Buffer.from(rootLine, 'base64'),
      consistencyFrom: (oldSize) => consistencyFrom(oldSize, checkpoint.seq),
    });
    if (cosignatures.length > 0) await store.appendCosignatures(chainId, checkpoint.seq, cosignatures);
  }

  /** The consistency proof from `oldSize` to `size`: from the checkpoint at `oldSize` (its compact range) and the record hashes after it. */
  async function consistencyFrom(oldSize: number, size: number): Promise<Buffer[]> {
    if (oldSize === 0 || oldSize >= size) return [];
    const atOld = await store.lastCheckpoint(chainId, oldSize + 1);
    const prefix = atOld?.seq === oldSize ? checkpointTree(atOld) : null;
    if (prefix) {
      const after = (await store.readLeafHashes(chainId, oldSize + 1, size)).map(recordLeafHash);
      return consistencyProof(oldSize, size, prefixedRangeHasher(prefix, after));
    }
    const leaves = (await store.readLeafHashes(chainId, 1, size)).map(recordLeafHash);
    if (leaves.length !== size) throw new Error(`records 1–${size} are not all in the store: no consistency proof from ${oldSize}`);
    return consistencyProof(oldSize, size, leafRangeHasher(leaves));
  }

  function followUp(entry: AuditEntry): void {
    followUps.push({ entry: normalizeAuditEntry(entry), state: 'waiting' });
  }

  /** Sent follow-ups of a batch that did not land wait again (unless another batch carried them in). */
  function putBack(items: FollowUp[]): void {
    for (const item of items) {
      if (item.state !== 'sent') continue;
      item.state = 'waiting';
      followUps.push(item);
    }
  }

  /** A failed batch's records, checked against the store's head: landed (follow-ups due), not landed, or not known yet. */
  async function settle(current: { seq: number; hash: string }): Promise<void> {
    const found = new Map<number, string | null>();
    const open: Unsettled[] = [];
    for (const batch of unsettled) {
      const first = batch.records[0];
      if (current.seq < first.seq) {
        // Not there (yet): it may still land, but only at these seqs, where at most one batch can. Its follow-ups may ride again.
        putBack(batch.followUps);
        open.push(batch);
        continue;
      }
      if (!found.has(first.seq)) found.set(first.seq, (await store.get(chainId, first.seq))?.hash ?? null);
      if (found.get(first.seq) !== first.hash) {
        putBack(batch.followUps);
        continue;
      }
      // It landed (all of it: a batch is one transaction), after its clients had been answered 503.
      for (const item of batch.followUps) {
        if (item.state === 'committed') continue;
        item.state = 'committed';
        stats.withheld++;
      }
      for (const record of batch.records) if (record.kind === 'REQUEST') followUp(withheldEntry(record, batch.answer, now()));
      logger.warn(
        { chainId, fromSeq: first.seq, toSeq: batch.records[batch.records.length - 1].seq },
        'audit records reported as failed were committed after all; their withheld answers are recorded',
      );
    }
    unsettled = open;
    stats.unsettledBatches = unsettled.length;
  }

  /** Keeps a failed batch to be checked against the store, within {@link MAX_UNSETTLED_RECORDS}. */
  function remember(batch: Unsettled): void {
    unsettled.push(batch);
    let kept = unsettled.reduce((n, b) => n + b.records.length, 0);
    while (kept > MAX_UNSETTLED_RECORDS && unsettled.length > 1) {
      const dropped = unsettled.shift()!;
      kept -= dropped.records.length;
      putBack(dropped.followUps);
      logger.warn(
        { chainId, records: dropped.records.map(auditRecordId) },
        'too many failed audit transactions to check: these are no longer checked for having been committed',
      );
    }
    stats.unsettledBatches = unsettled.length;
  }

  async function checkpointNow(): Promise<SignedCheckpoint | null> {
    try {
      const current = head ?? (await resync());
      if (current.seq === 0 || current.seq <= anchoredSeq) return null;
      const signed = await signCheckpoint({ chainId, seq: current.seq, headHash: current.hash, time: now().toISOString() }, signing);
      const checkpoint = tree?.size === current.seq ? withTreeHead(signed, tree, noteSigner) : signed;
      await store.appendCheckpoint(checkpoint);
      anchoredSeq = checkpoint.seq;
      stats.checkpoints++;
      witness(checkpoint);
      return checkpoint;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Whether the last transaction committed: follow-ups alone are retried only then (never in a loop against a store that is down). */
  let lastCommitted = true;

  function failed(): void {
    head = null;
    stats.failedCommits++;
    lastCommitted = false;
  }

  async function commitNext(): Promise<void> {
    if (queue.length === 0 && followUps.length === 0) return;
    let from: { seq: number; hash: string };
    try {
      from = head ?? (await resync());
    } catch (error) {
      failed();
      const failure = unavailable(error);
      for (const queued of queue.splice(0, maxBatch)) queued.reject(failure);
      return;
    }
    // Follow-ups first: they tell the truth about answers already given, and they wait while the store is down.
    // Taken only after the head is known: settling a failed batch may put its follow-ups back, or find them committed.
    const carried = followUps.length === 0 ? [] : followUps.splice(0, maxBatch).filter((item) => item.state === 'waiting');
    for (const item of carried) item.state = 'sent';
    const batch = queue.splice(0, maxBatch - carried.length);
    if (batch.length === 0 && carried.length === 0) return;
    let prevHash = from.hash;
    const entries = carried.map((item) => item.entry);
    for (const queued of batch) entries.push(queued.entry);
    const records = entries.map((entry, i) => {
      const record = sealRecord(entry, chainId, from.seq + 1 + i, prevHash);
      prevHash = record.hash;
      return record;
    });
    inFlight = { records, followUps: carried, answer: CUT_AT_SHUTDOWN };
    try {
      await store.appendBatch(records);
    } catch (error) {
      inFlight = null;
      failed();
      tree = null;
      // The statement was sent: the batch may have landed all the same (a lost reply), which settle finds out.
      remember({ records, followUps: carried, answer: REJECTED_APPEND });
      const failure = unavailable(error);
      for (const queued of batch) queued.reject(failure);
      return;
    }
    inFlight = null;
    lastCommitted = true;
    const last = records[records.length - 1];
    head = { seq: last.seq, hash: last.hash };
    if (tree) for (const record of records) tree.append(recordLeafHash(record.hash));
    stats.commits++;
    stats.records += records.length;
    stats.largestBatch = Math.max(stats.largestBatch, records.length);
    for (const item of carried) item.state = 'committed';
    stats.withheld += carried.length;
    if (unsettled.length > 0) {
      // These seqs are taken now: no failed batch that was waiting for them can land any more.
      const first = records[0].seq;
      const open: Unsettled[] = [];
      for (const doubtful of unsettled) {
        if (doubtful.records[0].seq >= first && doubtful.records[0].seq <= last.seq) putBack(doubtful.followUps);
        else open.push(doubtful);
      }
      unsettled = open;
      stats.unsettledBatches = unsettled.length;
    }
    const offset = carried.length;
    batch.forEach((queued, i) => {
      queued.resolve(records[offset + i]);
    });
    if (spoolPending && spoolFile && followUps.length === 0 && unsettled.length === 0) {
      spoolPending = false;
      await rm(spoolFile, { force: true }).catch((error: unknown) => logger.warn({ err: error, chainId }, 'could not remove the withheld spool'));
    }
    if (head.seq - anchoredSeq >= checkpointEveryRecords) {
      await checkpointNow().catch((error: unknown) =>
        checkpointWarning({ err: error, chainId }, 'audit checkpoint failed; retried with the next one'),
      );
    }
  }

  /** Whether a waiting transaction has what it waits for: every sibling's entry, or a full batch. */
  function siblingsArrived(): boolean {
    return queue.length >= maxBatch || closed || commitSiblings() <= 0;
  }

  /** The commit delay: resolves after `commitDelayMs`, or as soon as {@link siblingsArrived}. */
  function gather(): Promise<void> | undefined {
    if (commitDelayMs === 0 || siblingsArrived()) return undefined;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => gathered?.(), commitDelayMs);
      gathered = () => {
        clearTimeout(timer);
        gathered = null;
        resolve();
      };
    });
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    exclusive(async () => {
      // Appends arriving while the transaction gathers join it; from the line after, they schedule the next one.
      await gather();
      scheduled = false;
      await commitNext();
      if (queue.length > 0 || (followUps.length > 0 && lastCommitted)) schedule();
    }).catch((error: unknown) => logger.warn({ err: error, chainId }, 'audit commit failed unexpectedly'));
  }

  // What the last writer of this chain could not settle: written and settled first (the head read below settles it).
  const spooled = spoolFile
    ? await readSpool(spoolFile, chainId).catch((error: unknown) => {
        // Kept where it is, for an operator to look at; the chain goes on without it.
        logger.warn({ err: error, chainId, spoolFile }, 'the withheld answers kept by the last writer cannot be read');
        return null;
      })
    : null;
  /** The spool file still holds something not yet written or settled. */
  let spoolPending = spooled !== null;
  if (spooled) {
    for (const entry of spooled.withheld) followUp(entry);
    for (const { records, answer } of spooled.unsettled) {
      if (records.length === 0) continue;
      // Its WITHHELD records are written again unless the batch turns out to have landed.
      const followUps = records.filter((r) => r.kind === 'WITHHELD').map((r): FollowUp => ({ entry: entryOf(r), state: 'sent' }));
      unsettled.push({ records, followUps, answer });
    }
  }

  await exclusive(resync).catch((error: unknown) => {
    if (!(error instanceof AuditUnavailableError)) throw error;
    head = null;
    logger.warn({ err: error, chainId }, 'audit store unavailable at start; appends fail until it is back');
  });

  const timer = setInterval(() => {
    if (head === null || head.seq > anchoredSeq) {
      exclusive(checkpointNow).catch((error: unknown) => checkpointWarning({ err: error, chainId }, 'timed audit checkpoint failed'));
    }
  }, checkpointIntervalMs);
  timer.unref();

  return {
    chainId,
    replica,

    append(entry) {
      if (closed) return Promise.reject(new AuditUnavailableError('The audit writer is closed.'));
      let normalized: AuditEntry;
      try {
        normalized = normalizeAuditEntry(entry);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<AuditRecord>((resolve, reject) => {
        queue.push({ entry: normalized, resolve, reject });
        if (gathered && siblingsArrived()) gathered();
        schedule();
      });
    },

    withhold(record, answer) {
      if (finished) {
        logger.warn({ chainId, withholds: auditRecordId(record), ...answer }, 'audit writer closed: a withheld answer could not be recorded');
        return;
      }
      followUp(withheldEntry(record, answer, now()));
      // While closing, the loop in close writes it; otherwise it rides with the next transaction (at once if none is due).
      if (!closed) schedule();
    },

    checkpoint() {
      return exclusive(checkpointNow);
    },

    stats() {
      return { ...stats };
    },

    close(options = {}) {
      closing ??= (async () => {
        closed = true;
        gathered?.();
        clearInterval(timer);
        const drained = (async () => {
          await exclusive(async () => {
            // Follow-ups too, but not in a loop against a store that is down: what is left then is logged below.
            while (queue.length > 0 || (followUps.length > 0 && lastCommitted)) await commitNext();
          });
          await exclusive(checkpointNow).catch((error: unknown) => logger.warn({ err: error, chainId }, 'final audit checkpoint failed'));
          // The final checkpoint's witnesses, within the deadline (their client bounds each exchange too).
          while (witnessing_) await witnessing_;
        })();
        const deadline = options.deadline;
        if (deadline === undefined) await drained;
        else {
          let timeout: NodeJS.Timeout | undefined;
          const inTime = await Promise.race([
            drained.then(() => true),
            new Promise<boolean>((resolve) => {
              timeout = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
            }),
          ]);
          clearTimeout(timeout);
          if (!inTime) {
            const failure = new AuditUnavailableError('The audit writer closed before the record was committed.');
            for (const queued of queue.splice(0)) queued.reject(failure);
            logger.warn({ chainId }, 'audit writer closed at its deadline with a transaction still in flight');
          }
        }
        finished = true;
        const waiting = followUps.filter((item) => item.state !== 'committed');
        const lost = waiting.map((item) => item.entry.detail?.withholds);
        // A batch still in flight at the deadline may land after the process is gone; its clients' connections were cut.
        if (inFlight) unsettled.push(inFlight);
        const doubtful = unsettled.flatMap((batch) => batch.records.filter((r) => r.kind === 'REQUEST').map(auditRecordId));
        if (spoolFile && (waiting.length > 0 || unsettled.length > 0)) {
          // Kept for the next writer of this chain, which writes and settles them first.
          const spool: Spool = {
            format: 'kuasheng-audit-withheld/1',
            chainId,
            withheld: waiting.map((item) => item.entry),
            unsettled: unsettled.map((batch) => ({ records: batch.records, answer: batch.answer })),
          };
          try {
            await mkdir(dirname(spoolFile), { recursive: true });
            await writeFile(`${spoolFile}.next`, JSON.stringify(spool));
            await rename(`${spoolFile}.next`, spoolFile);
            logger.warn(
              { chainId, withheldNotRecorded: lost, maybeCommittedAnswered503: doubtful, spoolFile },
              'audit writer closed with withheld answers it could not record yet; the next start records them',
            );
            return;
          } catch (error) {
            logger.warn({ err: error, chainId }, 'could not keep the withheld answers for the next start');
          }
        } else if (spoolFile && spoolPending) await rm(spoolFile, { force: true }).catch(() => {});
        if (lost.length > 0 || doubtful.length > 0) {
          // The store is gone: the operational log is the only place left to say which recorded answers were not delivered.
          logger.warn(
            { chainId, withheldNotRecorded: lost, maybeCommittedAnswered503: doubtful },
            'audit writer closed with withheld answers it could not record',
          );
        }
      })();
      return closing;
    },
  };
}
