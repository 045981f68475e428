import type { AuditJwks, SignedCheckpoint } from './checkpoint.js';
import type { AuditRecord } from './record.js';
import { normalizeInstant } from './search.js';
import type { AuditStore } from './store-contract.js';

/**
 * The NDJSON export format, version 1. One JSON object per line, `type` first:
 *
 * 1. `{"type":"header","format":"kuasheng-audit-export","version":1,"exportedAt",…,"range":{"from","to"},"jwks":{…}}`
 * 2. per chain, in chain id order:
 *    - `{"type":"chain","chainId","fromSeq","toSeq","anchor"}` — `anchor` is the signed
 *      checkpoint at `fromSeq - 1` the records continue from (null when `fromSeq` is 1);
 *    - its checkpoints with `fromSeq ≤ seq ≤ toSeq`: `{"type":"checkpoint",…SignedCheckpoint}`;
 *    - its records `fromSeq`…`toSeq` in seq order: `{"type":"record",…AuditRecord}`;
 * 3. `{"type":"end","chains","records","checkpoints"}` — a file cut short is noticed.
 *
 * A range export is widened to whole checkpointed stretches: it starts right
 * after the last checkpoint before the first record in range and ends at the
 * first checkpoint at or after the last one (when there is one yet), so that
 * every exported record is anchored by a signature at both ends and an
 * offline verifier needs nothing but the file and the public keys.
 */
export const AUDIT_EXPORT_FORMAT = 'kuasheng-audit-export';
export const AUDIT_EXPORT_VERSION = 1;

export interface ExportHeaderLine {
  type: 'header';
  format: typeof AUDIT_EXPORT_FORMAT;
  version: number;
  exportedAt: string;
  range: { from: string | null; to: string | null };
  jwks: AuditJwks;
}

export interface ExportChainLine {
  type: 'chain';
  chainId: string;
  fromSeq: number;
  toSeq: number;
  anchor: SignedCheckpoint | null;
}

export type ExportCheckpointLine = { type: 'checkpoint' } & SignedCheckpoint;
export type ExportRecordLine = { type: 'record' } & AuditRecord;

export interface ExportEndLine {
  type: 'end';
  chains: number;
  records: number;
  checkpoints: number;
}

export interface ExportOptions {
  /** Records with time at or after this instant (widened to the checkpoint before). Default: from the start. */
  from?: string;
  /** Records with time at or before this instant (widened to the checkpoint after). Default: to the end. */
  to?: string;
  /** The public keys a verifier needs, written into the header. */
  jwks: AuditJwks;
  /** Clock of `exportedAt`. Default `() => new Date()`. */
  now?: () => Date;
}

/**
 * Exports a time range of the audit store as NDJSON lines (without line
 * terminators), streamed: memory stays flat for any range. See
 * {@link AUDIT_EXPORT_FORMAT} above for the layout.
 */
export async function* exportAudit(store: AuditStore, options: ExportOptions): AsyncGenerator<string> {
  const from = options.from ? normalizeInstant(options.from, 'from') : undefined;
  const to = options.to ? normalizeInstant(options.to, 'to') : undefined;
  const header: ExportHeaderLine = {
    type: 'header',
    format: AUDIT_EXPORT_FORMAT,
    version: AUDIT_EXPORT_VERSION,
    exportedAt: (options.now ?? (() => new Date()))().toISOString(),
    range: { from: from ?? null, to: to ?? null },
    jwks: options.jwks,
  };
  yield JSON.stringify(header);
  const totals = { chains: 0, records: 0, checkpoints: 0 };
  for (const chainId of await store.chains()) {
    const inRange = await store.seqRange(chainId, { from, to });
    if (!inRange) continue;
    const anchor = await store.lastCheckpoint(chainId, inRange.firstSeq);
    const fromSeq = (anchor?.seq ?? 0) + 1;
    let toSeq = inRange.lastSeq;
    for await (const checkpoint of store.readCheckpoints(chainId, { fromSeq: inRange.lastSeq })) {
      toSeq = checkpoint.seq;
      break;
    }
    const chain: ExportChainLine = { type: 'chain', chainId, fromSeq, toSeq, anchor };
    yield JSON.stringify(chain);
    totals.chains++;
    for await (const checkpoint of store.readCheckpoints(chainId, { fromSeq, toSeq })) {
      yield JSON.stringify({ type: 'checkpoint', ...checkpoint } satisfies ExportCheckpointLine);
      totals.checkpoints++;
    }
    for await (const record of store.readChain(chainId, fromSeq)) {
      if (record.seq > toSeq) break;
      yield JSON.stringify({ type: 'record', ...record } satisfies ExportRecordLine);
      totals.records++;
    }
  }
  yield JSON.stringify({ type: 'end', ...totals } satisfies ExportEndLine);
}
