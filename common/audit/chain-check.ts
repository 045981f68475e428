import { checkpointTree, type CheckpointVerifier, type SignedCheckpoint } from './checkpoint.js';
import { CompactRange, recordLeafHash } from './merkle.js';
import { GENESIS_HASH, hashRecord, recordHashMatches, type AuditRecord } from './record.js';

/** What the verifier found for one chain. */
export interface ChainReport {
  chainId: string;
  /** Records present. */
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  checkpoints: number;
  lastCheckpointSeq: number | null;
  /** Records after the last checkpoint: intact as far as anyone can tell, but not yet signed for. Not an error. */
  unanchoredRecords: number;
  /** The largest tree size a witness cosigned that the chain was checked against (null: none given). */
  witnessedSize: number | null;
}

export type AuditProblemKind =
  | 'ALTERED'
  | 'REMOVED'
  | 'INSERTED'
  | 'REORDERED'
  | 'TRUNCATED'
  | 'BAD_CHECKPOINT'
  | 'CHECKPOINT_MISSING'
  | 'WITNESS_MISMATCH'
  | 'INDEX_MISMATCH';

/** A tree head a witness cosigned (its signatures already verified): the chain's first `size` records must make `root`. */
export interface WitnessedHead {
  witness: string;
  size: number;
  root: Uint8Array;
  /** When the witness cosigned it (ISO 8601). */
  time: string;
}

export interface AuditProblem {
  kind: AuditProblemKind;
  chainId: string;
  seq: number;
  detail: string;
}

/**
 * Where the check of one chain stands after the records up to a verified
 * checkpoint: enough to go on from there later, reading only the records
 * after it, and to report the whole chain. A plain object, kept by whoever
 * checks a live store again and again (the audit-review subgraph); fields
 * may be added. Taken only at a checkpoint that verified, after records that
 * all did, so that what it vouches for is signed.
 */
export interface ChainCheckState {
  chainId: string;
  /** The prune point the check started from (the anchor's seq); null when the chain started at seq 1. A new prune starts the check over. */
  anchorSeq: number | null;
  /** The last verified checkpoint's seq: records up to it are verified (0 when none is yet). */
  checkpointSeq: number;
  /** The hash of the record at `checkpointSeq` (the anchor's head hash, or the genesis hash, at the start): what record `checkpointSeq + 1` must link to. */
  headHash: string;
  /** The previous hash of that record (null at the start), to tell a rewritten record from a forged one at the boundary. */
  headPrevHash: string | null;
  /**
   * The chain's Merkle tree up to `checkpointSeq`, as its compact range
   * (size, and the subtree roots in base64, largest first), so that the tree
   * grows on from there; null when the chain continues from a checkpoint
   * signed before trees. Witnessed heads up to this size count as checked.
   */
  tree: { size: number; nodes: string[] } | null;
  /** Records, and checkpoints, up to `checkpointSeq`, and the first record's seq: for the report. */
  records: number;
  checkpoints: number;
  firstSeq: number | null;
}

/** One chain to check, from a store or from an export. */
export interface ChainInput {
  chainId: string;
  /**
   * Signed head the records continue from: the checkpoint a prune ended at,
   * or the one an export starts after. Null: the chain starts at seq 1 with
   * the genesis hash.
   */
  anchor: SignedCheckpoint | null;
  /** The chain's checkpoints by seq. */
  checkpoints: AsyncIterable<SignedCheckpoint> | Iterable<SignedCheckpoint>;
  /** The chain's records as stored, by stored seq (an export: in line order). */
  records: AsyncIterable<AuditRecord>;
  /** The last seq the records must reach (an export declares it); checkpoints do this for stores. */
  expectedLastSeq?: number | null;
  /** Tree heads witnesses cosigned for this chain: held outside the store, they catch what rewrites the store whole. */
  witnessed?: readonly WitnessedHead[];
  /**
   * Most records allowed between two checkpoints (from where the chain starts,
   * and after the last one): the writer checkpoints every so many records,
   * so a longer stretch means checkpoints were deleted. Default: no limit.
   */
  maxRecordsBetweenCheckpoints?: number;
  /**
   * Go on from an earlier check of the same chain (from the same anchor):
   * `records` and `checkpoints` then hold only those after its
   * `checkpointSeq`, and the report counts the whole chain.
   */
  resume?: ChainCheckState | null;
}

/** How far ahead the checker looks to tell a reordering from a removal, and how far a record's true seq is searched. */
const WINDOW = 256;

/** An async iterator that can look ahead without consuming. */
class Lookahead<T> {
  private readonly buffer: T[] = [];
  private done = false;
  private readonly iterator: AsyncIterator<T>;

  constructor(iterable: AsyncIterable<T> | Iterable<T>) {
    this.iterator = Symbol.asyncIterator in iterable ? iterable[Symbol.asyncIterator]() : toAsync(iterable[Symbol.iterator]());
  }

  async next(): Promise<T | undefined> {
    if (this.buffer.length > 0) return this.buffer.shift();
    return this.pull();
  }

  async peek(count: number): Promise<T[]> {
    while (this.buffer.length < count && !this.done) {
      const item = await this.pull();
      if (item === undefined) break;
      this.buffer.push(item);
    }
    return this.buffer.slice(0, count);
  }

  private async pull(): Promise<T | undefined> {
    if (this.done) return undefined;
    const { value, done } = await this.iterator.next();
    if (done) {
      this.done = true;
      return undefined;
    }
    return value;
  }
}

function toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return { next: async () => iterator.next() };
}

/**
 * Checks one chain in a single streaming pass (memory stays flat however
 * long the chain): every record must hash to its own `hash`, carry the next
 * seq, and link to the previous record's hash; every checkpoint must be
 * signed by a key of the set, over exactly its fields, and name the hash of
 * the record at its seq; the chain must reach its last checkpoint.
 *
 * At the first record that breaks a rule, the kind of tampering is told
 * apart by looking a little around it (see `classify`). Only the first
 * problem is reported; the rest of the chain is still counted.
 */
export async function checkChain(
  input: ChainInput,
  verifier: CheckpointVerifier,
): Promise<{ report: ChainReport; problem: AuditProblem | null; state: ChainCheckState }> {
  const { chainId, anchor, resume } = input;
  const report: ChainReport = {
    chainId,
    records: 0,
    firstSeq: null,
    lastSeq: null,
    checkpoints: 0,
    lastCheckpointSeq: null,
    unanchoredRecords: 0,
    witnessedSize: null,
  };
  let problem: AuditProblem | null = null;
  const found = (kind: AuditProblemKind, seq: number, detail: string) => {
    problem ??= { kind, chainId, seq, detail };
  };

  let expectedSeq = 1;
  let expectedPrev = GENESIS_HASH;
  let previous: Pick<AuditRecord, 'hash' | 'prevHash'> | null = null;
  // The chain's Merkle tree, grown record by record; null when the chain continues from a checkpoint without one (signed before trees).
  let tree: CompactRange | null = CompactRange.empty();
  if (anchor) {
    expectedSeq = anchor.seq + 1;
    expectedPrev = anchor.headHash;
    report.lastCheckpointSeq = anchor.seq;
    const why =
      anchor.chainId !== chainId ? `belongs to chain ${anchor.chainId}` : ((await verifier.check(anchor)) ?? verifier.checkNote(anchor, null));
    // Checked even when resuming: one signature, and a state is taken before it is known to verify.
    if (why) found('BAD_CHECKPOINT', anchor.seq, `the checkpoint the chain continues from (where it was pruned or the export starts) ${why}`);
    tree = checkpointTree(anchor);
  }
  const stateAt = (seq: number, head: Pick<AuditRecord, 'hash' | 'prevHash'> | null): ChainCheckState => ({
    chainId,
    anchorSeq: anchor?.seq ?? null,
    checkpointSeq: seq,
    headHash: head?.hash ?? anchor?.headHash ?? GENESIS_HASH,
    headPrevHash: head?.prevHash ?? null,
    tree: tree && { size: tree.size, nodes: tree.nodes().map((node) => node.toString('base64')) },
    records: report.records,
    checkpoints: report.checkpoints,
    firstSeq: report.firstSeq,
  });
  let state = stateAt(anchor?.seq ?? 0, null);
  if (resume) {
    // Verified before: the records and checkpoints up to the state's checkpoint.
    state = resume;
    expectedSeq = resume.checkpointSeq + 1;
    expectedPrev = resume.headHash;
    if (resume.headPrevHash !== null) previous = { hash: resume.headHash, prevHash: resume.headPrevHash };
    tree =
      resume.tree &&
      CompactRange.of(
        resume.tree.size,
        resume.tree.nodes.map((node) => Buffer.from(node, 'base64')),
      );
    report.records = resume.records;
    report.checkpoints = resume.checkpoints;
    report.firstSeq = resume.firstSeq;
    report.lastSeq = resume.records > 0 ? resume.checkpointSeq : null;
    report.lastCheckpointSeq = resume.checkpointSeq > 0 ? resume.checkpointSeq : report.lastCheckpointSeq;
  }
  const witnessed = [...(input.witnessed ?? [])].sort((a, b) => a.size - b.size);
  /** Witnessed sizes this pass must find a checkpoint at (those after where it resumes: earlier ones were found before). */
  const checkpointsDue = new Map(
    witnessed.filter((head) => head.size > Math.max(resume?.checkpointSeq ?? 0, anchor?.seq ?? 0)).map((head) => [head.size, head]),
  );
  report.witnessedSize = witnessed.at(-1)?.size ?? null;
  const checkWitnessed = () => {
    while (witnessed.length > 0 && tree && witnessed[0].size <= tree.size) {
      const head = witnessed.shift() as WitnessedHead;
      if (head.size === tree.size && !tree.root().equals(head.root)) {
        found(
          'WITNESS_MISMATCH',
          head.size,
          `records 1–${head.size} do not make the tree root witness ${head.witness} cosigned at ${head.time}: the chain was rewritten`,
        );
      }
    }
  };
  checkWitnessed();
  const maxGap = input.maxRecordsBetweenCheckpoints ?? Number.POSITIVE_INFINITY;
  let anchoredAt = resume?.checkpointSeq ?? anchor?.seq ?? 0;
  const checkGap = (uptoSeq: number, what: string) => {
    if (uptoSeq - anchoredAt > maxGap) {
      found(
        'CHECKPOINT_MISSING',
        anchoredAt + maxGap + 1,
        `${uptoSeq - anchoredAt} records follow the checkpoint at seq ${anchoredAt} ${what}; the gateway checkpoints at least every ${maxGap}: checkpoints were removed`,
      );
    }
  };

  const checkpoints = new Lookahead(input.checkpoints);
  let nextCheckpoint = await checkpoints.next();
  /** Checks and consumes a checkpoint; `headHash` is the hash of the record at its seq when known. */
  const consumeCheckpoint = async (checkpoint: SignedCheckpoint, headHash: string | undefined) => {
    report.checkpoints++;
    report.lastCheckpointSeq = Math.max(report.lastCheckpointSeq ?? 0, checkpoint.seq);
    checkpointsDue.delete(checkpoint.seq);
    if (!problem) {
      if (checkpoint.seq > anchoredAt) {
        checkGap(checkpoint.seq, `before the next one, at seq ${checkpoint.seq}`);
        anchoredAt = checkpoint.seq;
      }
      const root = tree && tree.size === checkpoint.seq && headHash !== undefined ? tree.root() : null;
      const why =
        checkpoint.chainId !== chainId
          ? `belongs to chain ${checkpoint.chainId}`
          : ((await verifier.check(checkpoint)) ?? verifier.checkNote(checkpoint, root));
      if (why) found('BAD_CHECKPOINT', checkpoint.seq, `the checkpoint at seq ${checkpoint.seq} ${why}`);
      else if (headHash !== undefined && headHash !== checkpoint.headHash) {
        found(
          'BAD_CHECKPOINT',
          checkpoint.seq,
          `the checkpoint at seq ${checkpoint.seq} signs a different head hash than record ${checkpoint.seq} has: the chain up to it was rewritten`,
        );
      }
    }
    nextCheckpoint = await checkpoints.next();
  };

  const records = new Lookahead(input.records);
  for (let record = await records.next(); record !== undefined; record = await records.next()) {
    report.records++;
    report.firstSeq ??= record.seq;
    report.lastSeq = Math.max(report.lastSeq ?? record.seq, record.seq);
    if (problem) continue;
    // Checkpoints below the chain's start (at a prune point): their record is gone, only the signature can be checked.
    while (nextCheckpoint && nextCheckpoint.seq < expectedSeq) {
      await consumeCheckpoint(nextCheckpoint, nextCheckpoint.seq === anchor?.seq ? anchor.headHash : undefined);
    }
    if (problem) continue;
    if (input.expectedLastSeq != null && record.seq > input.expectedLastSeq) {
      found('INSERTED', record.seq, `record ${record.seq} lies beyond seq ${input.expectedLastSeq}, where the export says the chain ends`);
      continue;
    }
    const verdict = await classify(record, expectedSeq, expectedPrev, previous, records);
    if (verdict) {
      found(verdict.kind, verdict.seq, verdict.detail);
      continue;
    }
    previous = record;
    expectedSeq = record.seq + 1;
    expectedPrev = record.hash;
    if (tree) {
      tree.append(recordLeafHash(record.hash));
      checkWitnessed();
    }
    let signed = false;
    while (nextCheckpoint && nextCheckpoint.seq === record.seq) {
      await consumeCheckpoint(nextCheckpoint, record.hash);
      signed = true;
    }
    if (signed && !problem) state = stateAt(record.seq, record);
  }

  const lastVerified = expectedSeq - 1;
  while (nextCheckpoint) {
    const checkpoint = nextCheckpoint;
    const beyondEnd = checkpoint.seq > lastVerified;
    await consumeCheckpoint(checkpoint, checkpoint.seq === anchor?.seq ? anchor.headHash : undefined);
    if (!problem && beyondEnd) {
      found(
        'TRUNCATED',
        lastVerified + 1,
        `the chain ends at seq ${lastVerified}, but the checkpoint signed at ${checkpoint.time} vouches for ${checkpoint.seq} records`,
      );
    }
  }
  if (!problem && input.expectedLastSeq != null && lastVerified < input.expectedLastSeq) {
    found('TRUNCATED', lastVerified + 1, `the records stop at seq ${lastVerified}; the export declares the chain up to seq ${input.expectedLastSeq}`);
  }
  if (!problem && witnessed.length > 0 && tree && witnessed[0].size > lastVerified) {
    const head = witnessed[witnessed.length - 1];
    found(
      'TRUNCATED',
      lastVerified + 1,
      `the chain ends at seq ${lastVerified}, but witness ${head.witness} cosigned a tree of ${head.size} records at ${head.time}`,
    );
  }
  if (!problem && tree) {
    // The gateway signed every checkpoint a witness cosigned: one missing from the store was deleted.
    const missing = [...checkpointsDue.values()].find((head) => head.size <= lastVerified);
    if (missing) {
      found(
        'CHECKPOINT_MISSING',
        missing.size,
        `witness ${missing.witness} cosigned the checkpoint at seq ${missing.size} (${missing.time}); the store has no checkpoint there: it was removed`,
      );
    }
  }
  if (!problem && lastVerified > 0) checkGap(lastVerified, 'to the end of the chain');
  if (report.lastSeq !== null) report.unanchoredRecords = Math.max(0, report.lastSeq - (report.lastCheckpointSeq ?? 0));
  return { report, problem, state };
}

/**
 * Why `record`, found where seq `expected` should be (linking to
 * `expectedPrev`), breaks the chain — or null when it does not.
 *
 * - a seq above the expected one: REORDERED if the expected record turns up
 *   a little later, else REMOVED;
 * - a seq below: INSERTED (a second record with that seq);
 * - right seq, contents match the hash, wrong link: INSERTED (a forged
 *   record) — unless the next record links to this one, in which case this
 *   one is genuine and its predecessor was ALTERED and re-hashed;
 * - contents do not match the hash but the link is right: ALTERED;
 * - contents match the hash only under another seq s (the record was moved):
 *   s below: INSERTED (a copy, or the previous record was slipped in before
 *   it); s above: REORDERED if the record that belongs here comes later,
 *   else REMOVED (a record deleted and the rest renumbered);
 * - otherwise ALTERED.
 */
async function classify(
  record: AuditRecord,
  expected: number,
  expectedPrev: string,
  previous: Pick<AuditRecord, 'hash' | 'prevHash'> | null,
  ahead: Lookahead<AuditRecord>,
): Promise<{ kind: AuditProblemKind; seq: number; detail: string } | null> {
  if (record.seq < expected) return { kind: 'INSERTED', seq: record.seq, detail: `a second record with seq ${record.seq}` };
  if (record.seq > expected) {
    if ((await ahead.peek(WINDOW)).some((r) => r.seq === expected)) {
      return { kind: 'REORDERED', seq: expected, detail: `record ${expected} comes after record ${record.seq}` };
    }
    const missing = record.seq === expected + 1 ? `record ${expected} is missing` : `records ${expected}–${record.seq - 1} are missing`;
    return { kind: 'REMOVED', seq: expected, detail: missing };
  }
  const intact = recordHashMatches(record);
  if (intact && record.prevHash === expectedPrev) return null;
  if (intact) {
    const [next] = await ahead.peek(1);
    if (previous && next && next.seq === expected + 1 && next.prevHash === record.hash && recordHashMatches(next)) {
      return {
        kind: 'ALTERED',
        seq: expected - 1,
        detail: `record ${expected - 1} was rewritten with a recomputed hash: record ${expected} still links to the original`,
      };
    }
    return {
      kind: 'INSERTED',
      seq: expected,
      detail: `record ${expected} is well-formed but does not link to record ${expected - 1}: it was forged or slipped in`,
    };
  }
  if (record.prevHash === expectedPrev) return { kind: 'ALTERED', seq: expected, detail: `the contents of record ${expected} do not match its hash` };
  const writtenAs = seqItWasWrittenAs(record, expected);
  if (writtenAs === null)
    return {
      kind: 'ALTERED',
      seq: expected,
      detail: `the contents of record ${expected} do not match its hash, and it does not link to record ${expected - 1}`,
    };
  if (writtenAs < expected) {
    if (writtenAs === expected - 1 && previous && record.hash !== previous.hash && record.prevHash === previous.prevHash) {
      return {
        kind: 'INSERTED',
        seq: expected - 1,
        detail: `record ${expected - 1} was slipped in: what is now record ${expected} was written as ${expected - 1}, after record ${expected - 2}`,
      };
    }
    return { kind: 'INSERTED', seq: expected, detail: `record ${expected} is a copy of record ${writtenAs}` };
  }
  if ((await ahead.peek(WINDOW)).some((r) => r.prevHash === expectedPrev)) {
    return {
      kind: 'REORDERED',
      seq: expected,
      detail: `record ${expected} holds the record written as ${writtenAs}; the record written as ${expected} comes later`,
    };
  }
  return {
    kind: 'REMOVED',
    seq: expected,
    detail: `the record written as ${expected} is missing and later records were renumbered (record ${expected} was written as ${writtenAs})`,
  };
}

/** The seq near `around` under which the record's contents hash to its `hash`, if any. */
function seqItWasWrittenAs(record: AuditRecord, around: number): number | null {
  for (let distance = 1; distance <= WINDOW; distance++) {
    for (const seq of [around - distance, around + distance]) {
      if (seq >= 1 && hashRecord({ ...record, seq }) === record.hash) return seq;
    }
  }
  return null;
}
