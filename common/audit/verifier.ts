import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkChain, type AuditProblem, type ChainCheckState, type ChainReport, type WitnessedHead } from './chain-check.js';
import { createCheckpointVerifier, type AuditJwks, type SignedCheckpoint } from './checkpoint.js';
import { AuditExportFormatError } from './errors.js';
import { AUDIT_EXPORT_FORMAT, AUDIT_EXPORT_VERSION, type ExportChainLine, type ExportEndLine, type ExportHeaderLine } from './export.js';
import type { AuditRecord } from './record.js';
import type { AuditSnapshot, AuditStore } from './store-contract.js';

export { exportAudit, type ExportOptions } from './export.js';
export type { AuditProblem, AuditProblemKind, ChainCheckState, ChainReport, WitnessedHead } from './chain-check.js';

/** What verification checks beyond the store itself. */
export interface VerifyOptions {
  /**
   * Tree heads witnesses cosigned, by chain id (see `witnessedHeads`). A
   * chain a witness knows must be in the store and make the root it
   * cosigned: this catches a store rewritten whole, checkpoints included.
   */
  witnessed?: ReadonlyMap<string, readonly WitnessedHead[]>;
  /** Most records between two checkpoints before a missing checkpoint is reported. Default: the writer's rule, 1000 records plus one batch of 512. */
  maxRecordsBetweenCheckpoints?: number;
}

/** The writer checkpoints after every 1000 records, and a batch may carry 512 more past that. */
export const DEFAULT_MAX_RECORDS_BETWEEN_CHECKPOINTS = 1000 + 512;

export interface VerificationReport {
  /** True when every chain is intact and every checkpoint verifies. */
  ok: boolean;
  chains: ChainReport[];
  /** The first problem found (chains in id order, then by seq); null when ok. */
  problem: AuditProblem | null;
}

/** How far a verification of a store has got. */
export interface VerificationProgress {
  /** Records read and checked so far. */
  recordsChecked: number;
  /** Records it reads in all (those after each chain's resume point), as of the snapshot it reads. */
  recordsToCheck: number;
}

export interface StoreVerificationOptions extends VerifyOptions {
  /**
   * Where earlier checks of these chains stand: each chain is checked only
   * after its state's checkpoint (records, checkpoints and the person-search
   * index), and reported whole. A state from before the chain's last prune
   * is ignored. Default: none, every record from the start.
   */
  resume?: ReadonlyMap<string, ChainCheckState>;
  /** Told how far the run has got: at the start, every 1,000 records, and at the end. */
  onProgress?: (progress: VerificationProgress) => void;
}

export interface StoreVerificationReport extends VerificationReport, VerificationProgress {
  /**
   * Per chain, where a later check can go on from: the last checkpoint up to
   * which everything verified (records, checkpoints, index). A chain whose
   * problem lies before any verified checkpoint has none (check it from the
   * start).
   */
  states: ChainCheckState[];
}

/** Progress is reported every this many records. */
const PROGRESS_EVERY = 1000;

/**
 * Verifies every chain of the store against the gateway's public keys (the
 * key set may hold rotated keys: each checkpoint names its `kid`). A pruned
 * chain is checked from its prune point: the prune row carries the signed
 * checkpoint there, whose head hash the first remaining record must link to.
 *
 * Everything is read in one snapshot of the store ({@link AuditStore.snapshot}),
 * so that a store the gateway keeps appending to is verified as it was at
 * one moment: records, checkpoints and index never disagree only because
 * they were read at different times. The records are read once: the
 * person-search index is compared with them as they stream past.
 */
export async function verifyAuditStore(store: AuditStore, jwks: AuditJwks, options: StoreVerificationOptions = {}): Promise<StoreVerificationReport> {
  const verifier = createCheckpointVerifier(jwks);
  const snapshot = await store.snapshot();
  try {
    const plans: { chainId: string; anchor: SignedCheckpoint | null; resume: ChainCheckState | null }[] = [];
    const progress: VerificationProgress = { recordsChecked: 0, recordsToCheck: 0 };
    const stored = await snapshot.chains();
    let problem: AuditProblem | null = null;
    for (const [chainId, heads] of options.witnessed ?? []) {
      const head = [...heads].sort((a, b) => b.size - a.size)[0];
      if (!stored.includes(chainId) && head) {
        problem ??= {
          kind: 'REMOVED',
          chainId,
          seq: 1,
          detail: `witness ${head.witness} cosigned ${head.size} records of chain ${chainId} at ${head.time}; the store has no such chain`,
        };
      }
    }
    for (const chainId of stored) {
      const anchor = (await snapshot.prunes(chainId)).at(-1)?.checkpoint ?? null;
      let resume = options.resume?.get(chainId) ?? null;
      if (resume && resume.anchorSeq !== (anchor?.seq ?? null)) resume = null;
      const head = await snapshot.head(chainId);
      progress.recordsToCheck += Math.max(0, (head?.seq ?? 0) - (resume?.checkpointSeq ?? anchor?.seq ?? 0));
      plans.push({ chainId, anchor, resume });
    }
    options.onProgress?.({ ...progress });

    const chains: ChainReport[] = [];
    const states: ChainCheckState[] = [];
    for (const { chainId, anchor, resume } of plans) {
      const fromSeq = resume ? resume.checkpointSeq + 1 : 1;
      const index = new IndexComparison(snapshot, chainId, fromSeq);
      async function* records(): AsyncGenerator<AuditRecord> {
        for await (const record of snapshot.readChain(chainId, fromSeq)) {
          await index.compare(record);
          if (++progress.recordsChecked % PROGRESS_EVERY === 0) options.onProgress?.({ ...progress });
          yield record;
        }
      }
      const result = await checkChain(
        {
          chainId,
          anchor,
          resume,
          checkpoints: snapshot.readCheckpoints(chainId, { fromSeq: resume ? fromSeq : undefined }),
          records: records(),
          witnessed: options.witnessed?.get(chainId),
          maxRecordsBetweenCheckpoints: options.maxRecordsBetweenCheckpoints ?? DEFAULT_MAX_RECORDS_BETWEEN_CHECKPOINTS,
        },
        verifier,
      );
      const indexProblem = await index.finish();
      chains.push(result.report);
      problem ??= result.problem ?? indexProblem;
      // The index matched up to the seq of its first mismatch; a state beyond it would vouch for what did not.
      const state = indexProblem && indexProblem.seq <= result.state.checkpointSeq ? resume : result.state;
      if (state) states.push(state);
    }
    // Records appended while the run went on are not in its snapshot: the count may end below the estimate.
    progress.recordsToCheck = Math.max(progress.recordsChecked, progress.recordsToCheck);
    options.onProgress?.({ ...progress });
    return { ok: problem === null, chains, problem, states, ...progress };
  } finally {
    await snapshot.release();
  }
}

/**
 * The person-search index is not hashed into the chain, so it is checked
 * against the records: for every record, exactly the subjects it
 * disclosed. A doctored index would make a search by person miss accesses
 * or invent them. Both sides are streamed in seq order and merged; the
 * records are handed in as the chain check reads them.
 */
class IndexComparison {
  private readonly index: AsyncIterator<{ seq: number; subject: string }>;
  private next: IteratorResult<{ seq: number; subject: string }> | null = null;
  private problem: AuditProblem | null = null;

  constructor(
    private readonly snapshot: AuditSnapshot,
    private readonly chainId: string,
    fromSeq: number,
  ) {
    this.index = snapshot.readSubjectIndex(chainId, fromSeq)[Symbol.asyncIterator]();
  }

  async compare(record: AuditRecord): Promise<void> {
    if (this.problem) return;
    this.next ??= await this.index.next();
    const next = this.next;
    if (!next.done && next.value.seq < record.seq) {
      this.problem = this.mismatch(next.value.seq, `the person-search index names record ${next.value.seq}, which is not in the chain`);
      return;
    }
    const expected = [...new Set(record.disclosed.map((d) => d.subject))].map((subject) => this.snapshot.indexKey(subject)).sort();
    const found: string[] = [];
    while (!this.next.done && this.next.value.seq === record.seq) {
      found.push(this.next.value.subject);
      this.next = await this.index.next();
    }
    if (expected.length !== found.length || expected.some((subject, i) => subject !== found[i])) {
      this.problem = this.mismatch(record.seq, `the person-search index does not list exactly the subjects record ${record.seq} disclosed`);
    }
  }

  /** The first mismatch, once every record was compared. */
  async finish(): Promise<AuditProblem | null> {
    if (this.problem) return this.problem;
    this.next ??= await this.index.next();
    if (!this.next.done) {
      this.problem = this.mismatch(this.next.value.seq, `the person-search index names record ${this.next.value.seq}, which is not in the chain`);
    }
    return this.problem;
  }

  private mismatch(seq: number, detail: string): AuditProblem {
    return { kind: 'INDEX_MISMATCH', chainId: this.chainId, seq, detail };
  }
}

interface ParsedLine {
  number: number;
  value: Record<string, unknown> | null;
}

/**
 * Verifies an NDJSON export (see `exportAudit`) offline: the file at a path,
 * or its lines (an item may hold several lines, never part of one). Against
 * `jwks` when given — pass the gateway's published key set to trust the
 * result; the key set inside the export only proves the file is consistent
 * with itself. Throws an `AuditExportFormatError` when the input is not an
 * export at all; tampering is reported in the result.
 */
export async function verifyAuditExport(
  ndjson: AsyncIterable<string> | string,
  jwks?: AuditJwks,
  options: Pick<VerifyOptions, 'witnessed'> = {},
): Promise<VerificationReport> {
  const lines = parsedLines(typeof ndjson === 'string' ? createInterface({ input: createReadStream(ndjson, 'utf8'), crlfDelay: Infinity }) : ndjson);
  const first = await lines.next();
  const header = first.done ? null : (first.value.value as unknown as ExportHeaderLine | null);
  if (header?.type !== 'header' || header.format !== AUDIT_EXPORT_FORMAT) {
    throw new AuditExportFormatError(first.done ? 1 : first.value.number, 'the export must start with its header line');
  }
  if (header.version !== AUDIT_EXPORT_VERSION)
    throw new AuditExportFormatError(first.value.number, `unknown export version ${String(header.version)}`);
  const keys = jwks ?? header.jwks;
  if (!Array.isArray(keys?.keys)) throw new AuditExportFormatError(first.value.number, 'no key set given and none in the header');
  const verifier = createCheckpointVerifier(keys);

  const chains: ChainReport[] = [];
  let problem: AuditProblem | null = null;
  let end: ExportEndLine | null = null;
  let pending: ParsedLine | undefined;
  const take = async (): Promise<ParsedLine | undefined> => {
    if (pending) {
      const line = pending;
      pending = undefined;
      return line;
    }
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };

  for (let line = await take(); line !== undefined; line = await take()) {
    const type = line.value?.type;
    if (end) throw new AuditExportFormatError(line.number, 'lines after the end line');
    if (type === 'end') {
      end = line.value as unknown as ExportEndLine;
      continue;
    }
    if (type !== 'chain')
      throw new AuditExportFormatError(
        line.number,
        `expected a chain line, found ${line.value ? `a ${String(type)} line` : 'a line that is not JSON'}`,
      );
    const chain = line.value as unknown as ExportChainLine;
    const checkpoints: SignedCheckpoint[] = [];
    for (let next = await take(); next !== undefined; next = await take()) {
      if (next.value?.type !== 'checkpoint') {
        pending = next;
        break;
      }
      const { type: _type, ...checkpoint } = next.value as unknown as SignedCheckpoint & { type: string };
      checkpoints.push(checkpoint);
    }
    checkpoints.sort((a, b) => a.seq - b.seq);
    // Every line up to the next chain or end line is taken as a record, so a damaged one is a finding, not a format error.
    async function* records(): AsyncGenerator<AuditRecord> {
      let lastSeq = chain.fromSeq - 1;
      for (let next = await take(); next !== undefined; next = await take()) {
        if (next.value?.type === 'chain' || next.value?.type === 'end') {
          pending = next;
          return;
        }
        const record = next.value ? recordOf(next.value) : unreadable(chain.chainId, lastSeq + 1, next.number);
        lastSeq = record.seq;
        yield record;
      }
    }
    const result = await checkChain(
      {
        chainId: chain.chainId,
        anchor: chain.anchor,
        checkpoints,
        records: records(),
        expectedLastSeq: chain.toSeq,
        // A witnessed head inside the exported range is checked (the tree continues from the anchor's compact range).
        witnessed: options.witnessed?.get(chain.chainId)?.filter((head) => head.size > (chain.anchor?.seq ?? 0) && head.size <= chain.toSeq),
      },
      verifier,
    );
    chains.push(result.report);
    problem ??= result.problem;
  }

  if (!problem) {
    const recordsFound = chains.reduce((n, c) => n + c.records, 0);
    const last = chains.at(-1);
    if (!end) {
      problem = {
        kind: 'TRUNCATED',
        chainId: last?.chainId ?? '',
        seq: (last?.lastSeq ?? 0) + 1,
        detail: 'the export has no end line: it was cut short',
      };
    } else if (end.chains !== chains.length || end.records !== recordsFound) {
      problem = {
        kind: 'REMOVED',
        chainId: last?.chainId ?? '',
        seq: (last?.lastSeq ?? 0) + 1,
        detail: `the end line counts ${end.records} records in ${end.chains} chains, the export holds ${recordsFound} in ${chains.length}`,
      };
    }
  }
  return { ok: problem === null, chains, problem };
}

async function* parsedLines(source: AsyncIterable<string>): AsyncGenerator<ParsedLine> {
  let number = 0;
  for await (const chunk of source) {
    for (const text of chunk.split('\n')) {
      number++;
      if (text.trim() === '') continue;
      let value: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) value = parsed as Record<string, unknown>;
      } catch {
        value = null;
      }
      yield { number, value };
    }
  }
}

function recordOf(value: Record<string, unknown>): AuditRecord {
  const { type: _type, ...record } = value;
  return { ...(record as unknown as AuditRecord), seq: Number(record.seq) };
}

/** A line that is not JSON where a record should be: it takes that record's place and fails its hash. */
function unreadable(chainId: string, seq: number, line: number): AuditRecord {
  return {
    chainId,
    seq,
    prevHash: '',
    hash: '',
    kind: 'REQUEST',
    time: '',
    requestId: `(line ${line} is not JSON)`,
    replica: '',
    caller: null,
    matter: null,
    caseNumber: null,
    operation: { name: null, type: null, hash: null },
    requested: [],
    denied: [],
    disclosed: [],
    outcome: 'FAILED',
    httpStatus: 0,
    errorCodes: [],
    latencyMs: 0,
  };
}
