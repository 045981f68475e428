import {
  checkpointNoteSigner,
  checkpointTree,
  signCheckpoint,
  withTreeHead,
  type CheckpointSigningKey,
  type SignedCheckpoint,
} from '../../common/audit/checkpoint.js';
import { normalizeAuditEntry, sealRecord } from './entry.js';
import { AuditOptionError, AuditUnavailableError } from '../../common/audit/errors.js';
import { CompactRange, consistencyProof, leafRangeHasher, prefixedRangeHasher, recordLeafHash } from '../../common/audit/merkle.js';
import { parseNote } from '../../common/audit/note.js';
import { GENESIS_HASH, type AuditEntry, type AuditRecord } from '../../common/audit/record.js';
import type { AuditStore, WitnessCosignature } from '../../common/audit/store-contract.js';

export { AuditUnavailableError } from '../../common/audit/errors.js';

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
  /** Signs and stores a checkpoint at the current head; null when the head is already anchored. */
  checkpoint(): Promise<SignedCheckpoint | null>;
  stats(): AuditWriterStats;
  /** Commits what is queued, signs a final checkpoint, stops the timer. Never rejects (failures go to the logger). Does not close the store. */
  close(): Promise<void>;
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
  };
}

interface Queued {
  entry: AuditEntry;
  resolve(record: AuditRecord): void;
  reject(error: Error): void;
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
  } = normalizeAuditWriterOptions(options);
  const noteSigner = checkpointNoteSigner(chainId, signing);
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
  const stats: AuditWriterStats = { commits: 0, records: 0, largestBatch: 0, failedCommits: 0, checkpoints: 0 };
  let scheduled = false;
  /** Ends the commit delay early; set while a transaction waits for its siblings. */
  let gathered: (() => void) | null = null;
  let closed = false;
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
    tree = await rebuildTree(current.seq, lastCheckpoint);
    head = current;
    anchoredSeq = lastCheckpoint?.seq ?? 0;
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
        await submitToWitnesses(next).catch((error: unknown) => logger.warn({ err: error, chainId }, 'asking the audit witnesses failed'));
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

  async function commitNext(): Promise<void> {
    const batch = queue.splice(0, maxBatch);
    if (batch.length === 0) return;
    let records: AuditRecord[];
    try {
      const from = head ?? (await resync());
      let prevHash = from.hash;
      records = batch.map(({ entry }, i) => {
        const record = sealRecord(entry, chainId, from.seq + 1 + i, prevHash);
        prevHash = record.hash;
        return record;
      });
      await store.appendBatch(records);
    } catch (error) {
      head = null;
      tree = null;
      stats.failedCommits++;
      const failure = unavailable(error);
      for (const queued of batch) queued.reject(failure);
      return;
    }
    const last = records[records.length - 1];
    head = { seq: last.seq, hash: last.hash };
    if (tree) for (const record of records) tree.append(recordLeafHash(record.hash));
    stats.commits++;
    stats.records += records.length;
    stats.largestBatch = Math.max(stats.largestBatch, records.length);
    batch.forEach((queued, i) => {
      queued.resolve(records[i]);
    });
    if (head.seq - anchoredSeq >= checkpointEveryRecords) {
      await checkpointNow().catch((error: unknown) => logger.warn({ err: error, chainId }, 'audit checkpoint failed; retried with the next one'));
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
      if (queue.length > 0) schedule();
    }).catch((error: unknown) => logger.warn({ err: error, chainId }, 'audit commit failed unexpectedly'));
  }

  await exclusive(resync).catch((error: unknown) => {
    if (!(error instanceof AuditUnavailableError)) throw error;
    head = null;
    logger.warn({ err: error, chainId }, 'audit store unavailable at start; appends fail until it is back');
  });

  const timer = setInterval(() => {
    if (head === null || head.seq > anchoredSeq) {
      exclusive(checkpointNow).catch((error: unknown) => logger.warn({ err: error, chainId }, 'timed audit checkpoint failed'));
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

    checkpoint() {
      return exclusive(checkpointNow);
    },

    stats() {
      return { ...stats };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        gathered?.();
        clearInterval(timer);
        await exclusive(async () => {
          while (queue.length > 0) await commitNext();
        });
        await exclusive(checkpointNow).catch((error: unknown) => logger.warn({ err: error, chainId }, 'final audit checkpoint failed'));
        // The final checkpoint's witnesses, for as long as their client lets a request take.
        while (witnessing_) await witnessing_;
      })();
      return closing;
    },
  };
}
