import type { AuditRecord } from '../../common/audit/record.js';
import type { AuditStore } from '../../common/audit/store.js';

/** Every record of every chain in the store that matches, in chain order. */
export async function auditRecordsWhere(store: AuditStore, match: (record: AuditRecord) => boolean): Promise<AuditRecord[]> {
  const found: AuditRecord[] = [];
  for (const chain of await store.chains()) for await (const record of store.readChain(chain)) if (match(record)) found.push(record);
  return found;
}

/** The records of one request id (the gateway's own, as its answer's `x-request-id` gave it). */
export function auditRecordsOf(store: AuditStore, requestId: string): Promise<AuditRecord[]> {
  return auditRecordsWhere(store, (record) => record.requestId === requestId);
}
