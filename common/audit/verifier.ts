import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkChain, type AuditProblem, type ChainReport, type WitnessedHead } from './chain-check.js';
import { createCheckpointVerifier, type AuditJwks, type SignedCheckpoint } from './checkpoint.js';
import { AuditExportFormatError } from './errors.js';
import { AUDIT_EXPORT_FORMAT, AUDIT_EXPORT_VERSION, type ExportChainLine, type ExportEndLine, type ExportHeaderLine } from './export.js';
import type { AuditRecord } from './record.js';
import type { AuditStore } from './store-contract.js';

export { exportAudit, type ExportOptions } from './export.js';
export type { AuditProblem, AuditProblemKind, ChainReport, WitnessedHead } from './chain-check.js';

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

/**
 * Verifies every chain of the store against the gateway's public keys (the
 * key set may hold rotated keys: each checkpoint names its `kid`). A pruned
 * chain is checked from its prune point: the prune row carries the signed
 * checkpoint there, whose head hash the first remaining record must link to.
 */
export async function verifyAuditStore(store: AuditStore, jwks: AuditJwks, options: VerifyOptions = {}): Promise<VerificationReport> {
  const verifier = createCheckpointVerifier(jwks);
  const chains: ChainReport[] = [];
  let problem: AuditProblem | null = null;
  const stored = await store.chains();
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
    const pruned = (await store.prunes(chainId)).at(-1);
    const result = await checkChain(
      {
        chainId,
        anchor: pruned?.checkpoint ?? null,
        checkpoints: store.readCheckpoints(chainId),
        records: store.readChain(chainId),
        witnessed: options.witnessed?.get(chainId),
        maxRecordsBetweenCheckpoints: options.maxRecordsBetweenCheckpoints ?? DEFAULT_MAX_RECORDS_BETWEEN_CHECKPOINTS,
      },
      verifier,
    );
    chains.push(result.report);
    problem ??= result.problem;
    problem ??= await checkSubjectIndex(store, chainId);
  }
  return { ok: problem === null, chains, problem };
}

/**
 * The person-search index is not hashed into the chain, so it is checked
 * against the (verified) records: for every record, exactly the subjects it
 * disclosed. A doctored index would make a search by person miss accesses
 * or invent them. Both sides are streamed in seq order and merged.
 */
async function checkSubjectIndex(store: AuditStore, chainId: string): Promise<AuditProblem | null> {
  const index = store.readSubjectIndex(chainId)[Symbol.asyncIterator]();
  let next = await index.next();
  const mismatch = (seq: number, detail: string): AuditProblem => ({ kind: 'INDEX_MISMATCH', chainId, seq, detail });
  for await (const record of store.readChain(chainId)) {
    if (!next.done && next.value.seq < record.seq)
      return mismatch(next.value.seq, `the person-search index names record ${next.value.seq}, which is not in the chain`);
    const expected = [...new Set(record.disclosed.map((d) => d.subject))].map((subject) => store.indexKey(subject)).sort();
    const found: string[] = [];
    while (!next.done && next.value.seq === record.seq) {
      found.push(next.value.subject);
      next = await index.next();
    }
    if (expected.length !== found.length || expected.some((subject, i) => subject !== found[i])) {
      return mismatch(record.seq, `the person-search index does not list exactly the subjects record ${record.seq} disclosed`);
    }
  }
  return next.done ? null : mismatch(next.value.seq, `the person-search index names record ${next.value.seq}, which is not in the chain`);
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
