/**
 * What every audit store implements and how its options are normalised:
 * the interface the SQLite and PostgreSQL back-ends share, without either
 * (`store.ts` opens one).
 */
import { join } from 'node:path';
import type { SignedCheckpoint } from './checkpoint.js';
import { DEFAULT_DATA_DIR } from '../settings.js';
import { AuditOptionError } from './errors.js';
import type { AuditEntry, AuditOutcome, AuditRecord } from './record.js';

export type { SignedCheckpoint } from './checkpoint.js';

/** A witness's cosignature of a checkpoint: the witness's key name and its signature line (C2SP tlog-cosignature). */
export interface WitnessCosignature {
  witness: string;
  line: string;
}

/**
 * What an auditor can search by. All given filters must match (AND).
 * `from` and `to` are ISO 8601 instants and both inclusive.
 */
export interface AuditSearch {
  /** {@link subjectHash} of a person or organisation: records that disclosed it. */
  subjectHash?: string;
  callerSubject?: string;
  organisation?: string;
  province?: string;
  matter?: string;
  caseNumber?: string;
  outcome?: AuditOutcome;
  from?: string;
  to?: string;
}

/** One page of search results, newest first. */
export interface AuditPage {
  records: AuditRecord[];
  /** Pass as `after` for the next page; null when the page is empty. */
  endCursor: string | null;
  hasNextPage: boolean;
}

/** One line of a person's access report: who looked, under which matter, how often, first and last time. */
export interface AccessReportRow {
  callerSubject: string;
  organisation: string;
  province: string;
  matter: string | null;
  /** Records that disclosed the subject to this caller under this matter (WITHHELD records are not counted here). */
  accesses: number;
  /** Of those, the answers that never reached the caller as recorded: WITHHELD records for the subject. */
  withheld: number;
  first: string;
  last: string;
}

/**
 * A pruned range of one chain, as kept in the prune table: records
 * `fromSeq`…`upToSeq` were deleted; `checkpoint` is the signed checkpoint at
 * `upToSeq`, from which the verifier continues the chain.
 */
export interface AuditPrune {
  chainId: string;
  fromSeq: number;
  upToSeq: number;
  headHash: string;
  checkpoint: SignedCheckpoint;
  /** Records deleted. */
  records: number;
  /** The retention cutoff the prune applied. */
  before: string;
  /** When it was pruned. */
  time: string;
}

/** What one prune run did. */
export interface AuditPruneResult {
  before: string;
  ranges: AuditPrune[];
  /** Chains that were old enough but not pruned, and why (a gap or a head that does not match its checkpoint: evidence is kept). */
  refused: { chainId: string; reason: string }[];
  /** The `PRUNE` record appended to the pruning writer's chain; null when nothing was pruned or no writer was given. */
  record: AuditRecord | null;
}

/** The writer that records a prune in its own chain (an {@link AuditWriter}). */
export interface AuditPruneRecorder {
  readonly chainId: string;
  readonly replica?: string;
  append(entry: AuditEntry): Promise<AuditRecord>;
}

/**
 * One consistent view of the whole store, for reading it from end to end
 * while writers go on appending (the verifier): every read through it sees
 * the store as it was at one moment — records, checkpoints, prunes and the
 * person-search index alike. PostgreSQL: one `REPEATABLE READ READ ONLY`
 * transaction on a connection of its own, streamed with cursors. SQLite:
 * one read transaction on a connection of its own to each file, the index
 * first, so that its watermark never points past the records seen.
 * Holding it open keeps old row versions (PostgreSQL) and WAL frames
 * (SQLite) alive: release it as soon as the reading is done.
 */
export interface AuditSnapshot {
  /** Every chain id with records, checkpoints or prunes, sorted. */
  chains(): Promise<string[]>;
  /** The chain's pruned ranges, oldest first. */
  prunes(chainId: string): Promise<AuditPrune[]>;
  /** The last record's seq and hash (or, when everything was pruned, the pruned head); null for a chain without either. */
  head(chainId: string): Promise<{ seq: number; hash: string } | null>;
  /** Checkpoints with `fromSeq ≤ seq ≤ toSeq`, by seq. */
  readCheckpoints(chainId: string, range?: { fromSeq?: number; toSeq?: number }): AsyncIterable<SignedCheckpoint>;
  /** Records with seq ≥ `fromSeq` (default 1), by seq. */
  readChain(chainId: string, fromSeq?: number): AsyncIterable<AuditRecord>;
  /** As {@link AuditStore.readSubjectIndex}, from `fromSeq`. Records after an index's watermark are read as their own index entries. */
  readSubjectIndex(chainId: string, fromSeq?: number): AsyncIterable<{ seq: number; subject: string }>;
  indexKey(subjectHash: string): string;
  /** Ends the read transaction and gives its connections back; reading after it rejects. */
  release(): Promise<void>;
}

/**
 * Durable, searchable storage of audit chains. Every method rejects with
 * `AuditUnavailableError` when the database cannot be used; `appendBatch`
 * also with `AuditChainConflictError`, and `search` with `AuditQueryError`.
 */
export interface AuditStore {
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Stores the records and their chain in ONE durable transaction (SQLite:
   * WAL with synchronous=FULL, in a worker thread; PostgreSQL: an ordinary
   * commit, with the person-search index rows). All or nothing; rejects with
   * `AuditChainConflictError` when a `(chainId, seq)` is already taken.
   * SQLite indexes the committed records in the background (see
   * {@link AuditStore.settleIndex}); searches are complete either way.
   */
  appendBatch(records: readonly AuditRecord[]): Promise<void>;
  /** The last record of the chain (or, when everything was pruned, the pruned head); null for a new chain. */
  head(chainId: string): Promise<{ seq: number; hash: string } | null>;
  /** Stores a checkpoint; storing the same `(chainId, seq)` again keeps the first. */
  appendCheckpoint(checkpoint: SignedCheckpoint): Promise<void>;
  /** Stores witnesses' cosignature lines of the checkpoint at `(chainId, seq)`; one per witness, the first kept. */
  appendCosignatures(chainId: string, seq: number, cosignatures: readonly WitnessCosignature[]): Promise<void>;
  /** The chain's highest checkpoint that a witness cosigned, with every cosignature it has; null when none has one. */
  latestCosigned(chainId: string): Promise<{ checkpoint: SignedCheckpoint; cosignatures: WitnessCosignature[] } | null>;
  /** The record hashes (hex) of seqs `fromSeq`…`toSeq`, in seq order: the leaves of the chain's Merkle tree. */
  readLeafHashes(chainId: string, fromSeq: number, toSeq: number): Promise<string[]>;
  /** All checkpoints of a chain, by seq. For long chains prefer {@link AuditStore.readCheckpoints}. */
  checkpoints(chainId: string): Promise<SignedCheckpoint[]>;
  /** Checkpoints with `fromSeq ≤ seq ≤ toSeq`, by seq, streamed in pages. */
  readCheckpoints(chainId: string, range?: { fromSeq?: number; toSeq?: number }): AsyncIterable<SignedCheckpoint>;
  /** The checkpoint with the highest seq below `beforeSeq` (any seq when omitted). */
  lastCheckpoint(chainId: string, beforeSeq?: number): Promise<SignedCheckpoint | null>;
  /** The chain's pruned ranges, oldest first; the last one is where the chain now starts. */
  prunes(chainId: string): Promise<AuditPrune[]>;
  /** Every chain id with records, checkpoints or prunes, sorted. */
  chains(): Promise<string[]>;
  /** The chain's records in seq order from `fromSeq` (default 1), streamed in pages. */
  readChain(chainId: string, fromSeq?: number): AsyncIterable<AuditRecord>;
  /**
   * The chain's person-search index as stored, one row per (record, subject),
   * by seq then subject, streamed; `subject` is the subject as the index
   * names it ({@link AuditStore.indexKey}). For the verifier, which checks it
   * against the records.
   */
  readSubjectIndex(chainId: string, fromSeq?: number): AsyncIterable<{ seq: number; subject: string }>;
  /** A consistent view of the whole store for one long read (see {@link AuditSnapshot}); release it when done. */
  snapshot(): Promise<AuditSnapshot>;
  /** How the person-search index names a subject hash: the hash itself (PostgreSQL) or a key made of its first digits (SQLite). */
  indexKey(subjectHash: string): string;
  /** Resolves once every record committed before the call is in the person-search index (at once where records are indexed as they are written). */
  settleIndex(): Promise<void>;
  /** Lowest and highest seq of the chain's records with `from ≤ time ≤ to` (either bound optional); null when none. */
  seqRange(chainId: string, range?: { from?: string; to?: string }): Promise<{ firstSeq: number; lastSeq: number } | null>;
  get(chainId: string, seq: number): Promise<AuditRecord | null>;
  /** Newest first (time, then chain, then seq), with an opaque cursor; `first` from 1 to 200. */
  search(filter: AuditSearch, page: { first: number; after?: string | null }): Promise<AuditPage>;
  /** One subject's disclosures with `from ≤ time ≤ to`, grouped by caller (subject, organisation, province) and matter, with how many were withheld; latest first. */
  accessReport(subjectHash: string, from: string, to: string): Promise<AccessReportRow[]>;
  /**
   * Deletes whole checkpointed ranges of every chain whose records are all
   * older than `before` (from the chain's start up to the last checkpoint
   * before the first record at or after `before`), in steps of a few
   * thousand records so that appends are never held up long. Each chain's
   * range is kept in the prune table with the checkpoint it ends at, which
   * is where the verifier then starts the chain. With a `writer`, a `PRUNE`
   * record describing the run is appended to the writer's chain.
   *
   * This is the mechanism, not the policy: call it through
   * `pruneExpiredAudit`, which enforces the retention period.
   */
  prune(before: string, writer?: AuditPruneRecorder): Promise<AuditPruneResult>;
  /** Closes connections and the writer thread; waits for writes in flight. */
  close(): Promise<void>;
}

/** Where the audit store is. */
export interface AuditStoreOptions {
  /** `postgres://…` selects PostgreSQL (several replicas). Default: none, the embedded SQLite file. */
  databaseUrl?: string;
  /** The SQLite file. Default `<dataDir>/audit.db`. */
  file?: string;
  /** Default `data`. */
  dataDir?: string;
  /**
   * Only read: no writer thread, no tables created (the verifier CLI).
   * SQLite then needs the file to exist. Default false.
   */
  readOnly?: boolean;
  /** PostgreSQL schema of the tables, created if missing. Default: the connection's search_path (usually `public`). Tests use a random one. */
  schema?: string;
  /** PostgreSQL: connecting may take this long before the store counts as unavailable. Default 2000 ms. */
  connectionTimeoutMillis?: number;
  /** PostgreSQL: statements are cancelled after this long (and a server that does not answer is given up 2 s later). Default 10000 ms. */
  statementTimeoutMillis?: number;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /**
   * pino-compatible logger for what no call can report: SQLite's person
   * index failing in the background (searches stay complete, but slower).
   * Default: silent.
   */
  logger?: AuditStoreLogger;
}

export interface AuditStoreLogger {
  warn(object: object, message: string): void;
}

export type NormalizedAuditStoreOptions =
  | { backend: 'sqlite'; file: string; readOnly: boolean; logger: AuditStoreLogger }
  | {
      backend: 'postgres';
      databaseUrl: string;
      readOnly: boolean;
      schema: string | undefined;
      connectionTimeoutMillis: number;
      statementTimeoutMillis: number;
      poolSize: number;
    };

export const DEFAULT_AUDIT_FILE_NAME = 'audit.db';

/** Fills defaults and checks every setting; throws an {@link AuditOptionError} naming the bad one. */
export function normalizeAuditStoreOptions(options: AuditStoreOptions = {}): NormalizedAuditStoreOptions {
  const readOnly = options.readOnly ?? false;
  if (typeof readOnly !== 'boolean') throw new AuditOptionError('readOnly', 'must be true or false');
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    let url: URL;
    try {
      url = new URL(options.databaseUrl);
    } catch {
      throw new AuditOptionError('databaseUrl', 'must be a postgres:// URL');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
      throw new AuditOptionError('databaseUrl', `must use postgres:, got ${url.protocol}`);
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new AuditOptionError('schema', 'must be a lower-case SQL identifier (letters, digits, underscores)');
    }
    return {
      backend: 'postgres',
      databaseUrl: options.databaseUrl,
      readOnly,
      schema: options.schema,
      connectionTimeoutMillis: positiveInteger(options.connectionTimeoutMillis ?? 2000, 'connectionTimeoutMillis'),
      statementTimeoutMillis: positiveInteger(options.statementTimeoutMillis ?? 10_000, 'statementTimeoutMillis'),
      poolSize: positiveInteger(options.poolSize ?? 10, 'poolSize'),
    };
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir.trim() === '') throw new AuditOptionError('dataDir', 'must be a non-empty path');
  const file = options.file ?? join(dataDir, DEFAULT_AUDIT_FILE_NAME);
  if (typeof file !== 'string' || file.trim() === '') throw new AuditOptionError('file', 'must be a non-empty path');
  const logger = options.logger ?? { warn: () => {} };
  if (typeof logger?.warn !== 'function') throw new AuditOptionError('logger', 'must have a warn(object, message) method');
  return { backend: 'sqlite', file, readOnly, logger };
}

function positiveInteger(value: unknown, option: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new AuditOptionError(option, 'must be a positive whole number');
  return value as number;
}
