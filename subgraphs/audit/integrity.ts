import type { WitnessReading } from '../../common/witness/witnessed-heads.js';
import type { AuditJwks } from '../../common/audit/checkpoint.js';
import type { AuditStore } from '../../common/audit/store.js';
import {
  verifyAuditStore,
  type AuditProblem,
  type ChainCheckState,
  type ChainReport,
  type StoreVerificationReport,
} from '../../common/audit/verifier.js';

/** INCREMENTAL: only the records after what earlier runs verified; FULL: every record from the start of each chain. */
export type VerificationMode = 'INCREMENTAL' | 'FULL';

/** One verification run and how far it got. */
export interface VerificationRun {
  mode: VerificationMode;
  /** When it took its snapshot of the store: what it verifies is the store as it was then. */
  startedAt: string;
  /** Null while it runs. */
  finishedAt: string | null;
  complete: boolean;
  recordsChecked: number;
  recordsToCheck: number;
  /** Once complete: its verdict. */
  intact: boolean | null;
  problem: AuditProblem | null;
  /** Witnesses that could not be read, and cosigned checkpoints that did not verify: the run checked without them. */
  witnessProblems: string[];
}

/** A chain as the answer reports it: the verifier's report, and where verification stands in it. */
export interface ChainIntegrity extends ChainReport {
  /** Where the run began reading the chain: 1 for a full run, after the last verified checkpoint for an incremental one. */
  checkedFromSeq: number;
  /** Everything up to this checkpoint is verified: the next incremental run reads only after it. Null when nothing is yet. */
  verifiedSeq: number | null;
}

/** What `auditIntegrity` answers. */
export interface IntegrityAnswer {
  /** True only when the last finished run found no problem; false when it found one, or when no run has finished yet. */
  intact: boolean;
  chains: ChainIntegrity[];
  problem: AuditProblem | null;
  /** When this answer was made. */
  checkedAt: string;
  /** The moment of the store the verdict covers (its run's snapshot); null while no run has finished. */
  verifiedAt: string | null;
  /** The run this answer waited for. */
  verification: VerificationRun;
  /** The latest full run since the subgraph started, running or finished; null when none was asked for. */
  fullVerification: VerificationRun | null;
}

export interface IntegrityMonitorOptions {
  store: AuditStore;
  /** The gateway's public keys, read for each run (a rotated key verifies without a restart). */
  jwks: () => AuditJwks;
  /**
   * How long an answer waits for its run; a run still going then goes on in
   * the background, and the answer reports its progress with the last
   * finished verdict. Default 5000 ms: half the gateway's default subgraph
   * timeout (SUBGRAPH_TIMEOUT_MS, 10 s), so that auditors get an answer, not
   * SUBGRAPH_UNAVAILABLE.
   */
  waitMs?: number;
  now?: () => Date;
  /** What the witnesses cosigned, read before each run; their heads are checked, and a witness that cannot be read is named in the answer. */
  witnessed?: () => Promise<WitnessReading>;
}

export interface IntegrityMonitor {
  /** Verifies (incrementally, or in full) and answers within `waitMs`. Rejects with the store's error when the run fails. */
  check(options?: { full?: boolean }): Promise<IntegrityAnswer>;
  /** Stops a run in flight (at its next 1,000 records) and waits for it to end. */
  close(): Promise<void>;
}

class MonitorClosedError extends Error {
  constructor() {
    super('The integrity monitor was closed.');
    this.name = 'MonitorClosedError';
  }
}

interface InFlight {
  run: VerificationRun;
  done: Promise<void>;
  error: unknown;
}

/**
 * Keeps the audit store verified for the audit-review subgraph. What a run
 * verified stays verified: per chain, the verifier's state at the last
 * checkpoint up to which everything verified ({@link ChainCheckState}) is
 * kept, and the next incremental run reads only the records, checkpoints
 * and index entries after it — a call costs the records appended since the
 * last one, not the whole store. A full run reads everything again (records
 * altered or deleted before a verified checkpoint are found only by it, or
 * by `npm run audit:verify`), and its states replace the kept ones, so that
 * a problem it finds is found again by every incremental run after it.
 *
 * One run at a time, each in one snapshot of the store: calls while a run
 * is going wait for it (a full run asked for during an incremental one
 * starts after it). The states live in this object, per subgraph process:
 * after a restart the first run verifies everything.
 */
export function createIntegrityMonitor(options: IntegrityMonitorOptions): IntegrityMonitor {
  const { store, jwks } = options;
  const waitMs = options.waitMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const states = new Map<string, ChainCheckState>();
  let verdict: { chains: ChainIntegrity[]; problem: AuditProblem | null; verifiedAt: string } | null = null;
  let running: InFlight | null = null;
  let lastFull: VerificationRun | null = null;
  let closed = false;

  function start(mode: VerificationMode): InFlight {
    const run: VerificationRun = {
      mode,
      startedAt: now().toISOString(),
      finishedAt: null,
      complete: false,
      recordsChecked: 0,
      recordsToCheck: 0,
      intact: null,
      problem: null,
      witnessProblems: [],
    };
    const resumed = mode === 'INCREMENTAL' ? new Map(states) : undefined;
    const inFlight: InFlight = { run, done: Promise.resolve(), error: null };
    const reading = options.witnessed ? options.witnessed() : Promise.resolve(null);
    inFlight.done = reading
      .then((witnessed) => {
        run.witnessProblems = witnessed?.problems ?? [];
        return verifyAuditStore(store, jwks(), {
          resume: resumed,
          witnessed: witnessed?.heads,
          onProgress(progress) {
            if (closed) throw new MonitorClosedError();
            run.recordsChecked = progress.recordsChecked;
            run.recordsToCheck = progress.recordsToCheck;
          },
        });
      })
      .then(
        (report) => finish(run, report, resumed),
        (error: unknown) => {
          inFlight.error = error;
          run.finishedAt = now().toISOString();
        },
      );
    inFlight.done.finally(() => {
      if (running === inFlight) running = null;
    });
    running = inFlight;
    if (mode === 'FULL') lastFull = run;
    return inFlight;
  }

  function finish(run: VerificationRun, report: StoreVerificationReport, resumed: Map<string, ChainCheckState> | undefined): void {
    states.clear();
    for (const state of report.states) states.set(state.chainId, state);
    verdict = {
      chains: report.chains.map((chain) => {
        const from = resumed?.get(chain.chainId);
        const state = states.get(chain.chainId);
        return {
          ...chain,
          // A state from before the chain's last prune is not resumed from (the verifier starts the chain again).
          checkedFromSeq: from && from.anchorSeq === (state?.anchorSeq ?? from.anchorSeq) ? from.checkpointSeq + 1 : 1,
          verifiedSeq: state && state.checkpointSeq > 0 ? state.checkpointSeq : null,
        };
      }),
      problem: report.problem,
      verifiedAt: run.startedAt,
    };
    Object.assign(run, {
      finishedAt: now().toISOString(),
      complete: true,
      recordsChecked: report.recordsChecked,
      recordsToCheck: report.recordsToCheck,
      intact: report.ok,
      problem: report.problem,
    });
  }

  /** Resolves when `promise` settles or `until` (epoch ms) passes, whichever is first. */
  async function within(promise: Promise<void>, until: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()))))]);
    clearTimeout(timer);
  }

  return {
    async check({ full = false } = {}) {
      if (closed) throw new MonitorClosedError();
      const until = Date.now() + waitMs;
      if (full && running?.run.mode === 'INCREMENTAL') {
        const incremental = running;
        await within(incremental.done, until);
        // Still going: the full run starts when it ends, and this answer reports the incremental one.
        if (running === incremental) {
          void incremental.done.then(() => {
            if (!closed && !running) start('FULL');
          });
        }
      }
      const awaited = running ?? start(full ? 'FULL' : 'INCREMENTAL');
      await within(awaited.done, until);
      if (awaited.run.finishedAt && awaited.error) throw awaited.error;
      return {
        intact: verdict !== null && verdict.problem === null,
        chains: verdict?.chains ?? [],
        problem: verdict?.problem ?? null,
        checkedAt: now().toISOString(),
        verifiedAt: verdict?.verifiedAt ?? null,
        verification: { ...awaited.run },
        fullVerification: lastFull && { ...lastFull },
      };
    },

    async close() {
      closed = true;
      await running?.done;
    },
  };
}
