import type { AuditStore, AuditStoreOptions } from './store-contract.js';
import { normalizeAuditStoreOptions } from './store-contract.js';

export * from './store-contract.js';

/**
 * Opens the audit store: PostgreSQL when `databaseUrl` is given
 * (AUDIT_DATABASE_URL), else the embedded SQLite file. Never fails because
 * the database is down — connections and tables are made on first use, and
 * until then every call rejects with `AuditUnavailableError` — so the
 * gateway starts, answers 503 to data requests, and recovers by itself.
 */
export async function openAuditStore(options: AuditStoreOptions = {}): Promise<AuditStore> {
  const normalized = normalizeAuditStoreOptions(options);
  if (normalized.backend === 'postgres') {
    const { openPostgresAuditStore } = await import('./store-postgres.js');
    return openPostgresAuditStore(normalized);
  }
  const { openSqliteAuditStore } = await import('./store-sqlite.js');
  return openSqliteAuditStore(normalized);
}
