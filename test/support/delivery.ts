import type { AuditRecord } from '../../common/audit/record.js';
import type { AuditStore } from '../../common/audit/store.js';
import { auditRecordsWhere } from './audit-records.js';

/** A record's id as WITHHELD records name it (`<chain>:<seq>`). */
const auditRecordId = (record: AuditRecord): string => `${record.chainId}:${record.seq}`;

/** What one client actually received for one request. */
export interface ClientOutcome {
  /** The `x-request-id` it sent: its correlation id, kept in the record (`detail.clientRequestId`). */
  correlationId: string;
  /** The status it received; null when no answer reached it (connection cut or refused, gave up waiting). */
  status: number | null;
  /** `extensions.code` of the answer's first error, if any. */
  code: string | null;
}

/** Posts one GraphQL request with its own correlation id and notes what came back (or that nothing did). */
export async function deliveredOutcome(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
  correlationId: string,
  signal?: AbortSignal,
): Promise<ClientOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, 'x-request-id': correlationId },
      body: JSON.stringify({ query, variables }),
      signal,
    });
    const text = await response.text();
    let code: string | null = null;
    try {
      code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? null;
    } catch {
      code = null;
    }
    return { correlationId, status: response.status, code };
  } catch {
    return { correlationId, status: null, code: null };
  }
}

/**
 * Reconciles what every client received with the audit trail, and returns
 * each disagreement in words (none: the trail tells the truth):
 *
 * - a request's REQUEST record with no WITHHELD record after it claims its
 *   answer (its status) was delivered: the client must have received that;
 * - with a WITHHELD record, the client must have received what that one
 *   says (its status; 0 for nothing), and never two of them;
 * - an answer the client received has its record — except 503
 *   AUDIT_UNAVAILABLE, the answer given when no record could be made;
 * - a WITHHELD record follows a REQUEST record of its chain, of the same request.
 */
export async function reconcileDeliveries(store: AuditStore, outcomes: readonly ClientOutcome[]): Promise<string[]> {
  const records = await auditRecordsWhere(store, () => true);
  const requests = new Map<string, AuditRecord[]>();
  const byId = new Map<string, AuditRecord>();
  const withheld = new Map<string, AuditRecord[]>();
  for (const record of records) {
    byId.set(auditRecordId(record), record);
    if (record.kind === 'REQUEST' && typeof record.detail?.clientRequestId === 'string') {
      const list = requests.get(record.detail.clientRequestId) ?? [];
      list.push(record);
      requests.set(record.detail.clientRequestId, list);
    }
    if (record.kind === 'WITHHELD') {
      const list = withheld.get(String(record.detail?.withholds)) ?? [];
      list.push(record);
      withheld.set(String(record.detail?.withholds), list);
    }
  }
  const problems: string[] = [];
  for (const [target, followUps] of withheld) {
    const original = byId.get(target);
    for (const followUp of followUps) {
      if (original?.kind !== 'REQUEST' || original.requestId !== followUp.requestId || original.chainId !== followUp.chainId)
        problems.push(`${auditRecordId(followUp)} withholds ${target}, which is no REQUEST record of the same request and chain`);
      else if (followUp.seq <= original.seq) problems.push(`${auditRecordId(followUp)} comes before the record it withholds`);
    }
  }
  for (const outcome of outcomes) {
    const received = outcome.status === null ? 'nothing' : `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`;
    const found = requests.get(outcome.correlationId) ?? [];
    if (found.length > 1) problems.push(`${outcome.correlationId}: ${found.length} REQUEST records`);
    if (found.length === 0) {
      if (outcome.status !== null && outcome.code !== 'AUDIT_UNAVAILABLE')
        problems.push(`${outcome.correlationId}: received ${received}, but no record`);
      continue;
    }
    const record = found[0];
    const followUps = withheld.get(auditRecordId(record)) ?? [];
    if (followUps.length > 1) problems.push(`${outcome.correlationId}: ${followUps.length} WITHHELD records`);
    if (followUps.length === 0) {
      if (outcome.status !== record.httpStatus)
        problems.push(
          `${outcome.correlationId}: record ${auditRecordId(record)} claims ${record.httpStatus} ${record.outcome} delivered (disclosed ${record.disclosed.length}), the client received ${received}`,
        );
      continue;
    }
    const got = followUps[0].httpStatus;
    if ((outcome.status ?? 0) !== got)
      problems.push(
        `${outcome.correlationId}: WITHHELD ${auditRecordId(followUps[0])} says the client got ${got || 'nothing'}, it received ${received}`,
      );
  }
  return problems;
}
