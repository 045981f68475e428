import { randomUUID } from 'node:crypto';
import type { SignedCheckpoint } from './checkpoint.js';
import type { AuditEntry } from './record.js';
import type { AuditPrune, AuditPruneRecorder, AuditPruneResult } from './store-contract.js';

/**
 * How pruning decides what may go, shared by both stores. A store supplies
 * the queries ({@link PruneView}) and a way to run one step atomically
 * ({@link PruneBackend}); the rules live here, once:
 *
 * - only whole checkpointed ranges: a chain is cut right after a checkpoint,
 *   so what is left starts from a signed head hash;
 * - only records older than the cutoff: the cut is below the chain's first
 *   record at or after `before`;
 * - never destroy evidence: a range with a gap, or whose last record does
 *   not match its checkpoint, is refused and left for the verifier to report.
 */

/** Records deleted per transaction at most (unless checkpoints are sparser): appends wait for no longer than that. */
export const PRUNE_STEP_RECORDS = 5000;

/** Queries pruning needs, run inside the step's transaction. */
export interface PruneView {
  latestPrune(chainId: string): Promise<AuditPrune | null>;
  /** Lowest seq above `afterSeq` whose time is at or after `before`; null when none. */
  firstSeqFrom(chainId: string, afterSeq: number, before: string): Promise<number | null>;
  /** Checkpoints with `afterSeq < seq < belowSeq` (no upper bound when null): the highest at most `maxSeq`, else the lowest. */
  checkpointIn(chainId: string, afterSeq: number, belowSeq: number | null, maxSeq: number): Promise<SignedCheckpoint | null>;
  /** How many records have `afterSeq < seq ≤ upToSeq`, and the hash of the one at `upToSeq`. */
  countAndHash(chainId: string, afterSeq: number, upToSeq: number): Promise<{ count: number; hash: string | null }>;
}

export interface PruneTransaction {
  view: PruneView;
  /**
   * Deletes the step's records, their subject rows and the checkpoints below
   * `range.upToSeq`, and writes the chain's prune row for this run: inserted
   * on the first step, moved forward (`previous` is the row so far) after.
   */
  apply(range: AuditPrune, previous: AuditPrune | null): Promise<void>;
}

export interface PruneBackend {
  chains(): Promise<string[]>;
  /** Runs `work` as one transaction on the chain, with no other prune of that chain in between. */
  step<T>(chainId: string, work: (tx: PruneTransaction) => Promise<T>): Promise<T>;
}

type StepPlan = { range: AuditPrune } | { refused: string } | null;

async function planStep(view: PruneView, chainId: string, before: string, time: string): Promise<StepPlan> {
  const latest = await view.latestPrune(chainId);
  const start = latest?.upToSeq ?? 0;
  const firstKept = await view.firstSeqFrom(chainId, start, before);
  const checkpoint = await view.checkpointIn(chainId, start, firstKept, start + PRUNE_STEP_RECORDS);
  if (!checkpoint) return null;
  const { count, hash } = await view.countAndHash(chainId, start, checkpoint.seq);
  if (hash !== checkpoint.headHash) return { refused: `record ${checkpoint.seq} does not match the checkpoint at that seq` };
  if (count !== checkpoint.seq - start) return { refused: `records ${start + 1}–${checkpoint.seq} are not all present` };
  return {
    range: { chainId, fromSeq: start + 1, upToSeq: checkpoint.seq, headHash: hash, checkpoint, records: count, before, time },
  };
}

/** Prunes every chain of `backend` older than `before`, step by step; records the run in `writer`'s chain when given. */
export async function runPrune(backend: PruneBackend, before: string, writer?: AuditPruneRecorder): Promise<AuditPruneResult> {
  const started = performance.now();
  const time = new Date().toISOString();
  const ranges: AuditPrune[] = [];
  const refused: AuditPruneResult['refused'] = [];
  for (const chainId of await backend.chains()) {
    let run: AuditPrune | null = null;
    for (;;) {
      const previous: AuditPrune | null = run;
      const plan: StepPlan = await backend.step(chainId, async (tx): Promise<StepPlan> => {
        const planned = await planStep(tx.view, chainId, before, time);
        if (planned && 'range' in planned) {
          const range: AuditPrune = previous
            ? { ...planned.range, fromSeq: previous.fromSeq, records: previous.records + planned.range.records }
            : planned.range;
          await tx.apply(range, previous);
          return { range };
        }
        return planned;
      });
      if (plan === null) break;
      if ('refused' in plan) {
        refused.push({ chainId, reason: plan.refused });
        break;
      }
      run = plan.range;
    }
    if (run) ranges.push(run);
  }
  let record = null;
  if (writer && ranges.length > 0) record = await writer.append(pruneEntry(writer, before, ranges, refused, time, performance.now() - started));
  return { before, ranges, refused, record };
}

/** The `PRUNE` entry: what was deleted, so that the deletion is itself in the tamper-evident log. */
function pruneEntry(
  writer: AuditPruneRecorder,
  before: string,
  ranges: AuditPrune[],
  refused: AuditPruneResult['refused'],
  time: string,
  latencyMs: number,
): AuditEntry {
  return {
    kind: 'PRUNE',
    time,
    requestId: `prune-${randomUUID()}`,
    replica: writer.replica ?? writer.chainId,
    caller: null,
    matter: null,
    caseNumber: null,
    operation: { name: null, type: null, hash: null },
    requested: [],
    denied: [],
    disclosed: [],
    outcome: 'ALLOWED',
    httpStatus: 0,
    errorCodes: [],
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    detail: {
      before,
      ranges: ranges.map((r) => ({ chainId: r.chainId, fromSeq: r.fromSeq, upToSeq: r.upToSeq, headHash: r.headHash, records: r.records })),
      refused,
    },
  };
}
