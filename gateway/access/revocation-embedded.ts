import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspectDatabaseFile } from '../../common/sqlite/database-file.js';
import { defineSchema, migrateSchema } from '../../common/sqlite/schema-version.js';
import { RevocationUnavailableError } from './errors.js';
import { checkRevocation, keepUntilMs, type RevocationList } from './revocation-list.js';

export interface EmbeddedRevocationListOptions {
  /** SQLite file, created when missing (e.g. `data/revocations.db`). */
  file: string;
  leewaySeconds: number;
  /** Clock in epoch milliseconds. */
  now: () => number;
}

/** The embedded list also answers synchronously (SQLite lookups are), sparing the hot path a promise. */
export interface EmbeddedRevocationList extends RevocationList {
  /** Same as `isRevoked`, without the promise; throws `RevocationUnavailableError`. */
  isRevokedNow(tokenId: string): boolean;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    token_expires_at REAL NOT NULL,   -- the token's exp, epoch seconds
    keep_until INTEGER NOT NULL,      -- exp + leeway, epoch ms: the entry matters until then
    reason TEXT,
    revoked_at INTEGER NOT NULL       -- epoch ms
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS revoked_tokens_keep_until ON revoked_tokens (keep_until);
`;

/** The schema version of the revocation file (`PRAGMA user_version`): 0 unversioned, 1 version recorded. */
export const REVOCATION_SCHEMA = defineSchema({
  version: 1,
  migrations: [{ to: 1, description: 'creates the revocation table; records the schema version', migrate: (db) => db.exec(TABLES) }],
});

/**
 * Revocations in a small SQLite file, for the single-replica setup without
 * Redis. WAL lets the revoke-token CLI write from another process while the
 * gateway reads: each lookup is one prepared statement that sees the latest
 * committed revocation, so a revoked token is refused by the next request.
 *
 * Expired rows are pruned when the list is opened and on every revocation:
 * the table only grows through revocations, so that bounds it without
 * putting a write on the request path.
 */
export function createEmbeddedRevocationList(options: EmbeddedRevocationListOptions): EmbeddedRevocationList {
  mkdirSync(dirname(options.file), { recursive: true });
  // A file that is there must be a revocation list: an empty (truncated) or damaged one is refused (DatabaseFileError),
  // never silently started afresh, which would accept revoked tokens again. Please leave it.
  if (existsSync(options.file)) inspectDatabaseFile(options.file, { integrity: false });
  const db = new Database(options.file);
  try {
    db.pragma('journal_mode = WAL');
    // FULL, not NORMAL: a revocation must survive a power cut; writes are rare.
    db.pragma('synchronous = FULL');
    // Short: better-sqlite3 is synchronous, so waiting on a lock stalls every request.
    db.pragma('busy_timeout = 250');
    // Refuses a file of a newer release, naming both versions.
    migrateSchema(db, options.file, REVOCATION_SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }

  const lookup = db.prepare<[string, number], number>('SELECT 1 FROM revoked_tokens WHERE jti = ? AND keep_until > ?').pluck();
  const insert = db.prepare<[string, number, number, string | null, number]>(`
    INSERT INTO revoked_tokens (jti, token_expires_at, keep_until, reason, revoked_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (jti) DO UPDATE SET
      token_expires_at = max(token_expires_at, excluded.token_expires_at),
      keep_until = max(keep_until, excluded.keep_until),
      reason = coalesce(excluded.reason, reason)`);
  const prune = db.prepare<[number]>('DELETE FROM revoked_tokens WHERE keep_until <= ?');
  prune.run(options.now());

  function isRevokedNow(tokenId: string): boolean {
    try {
      return lookup.get(tokenId, options.now()) !== undefined;
    } catch (error) {
      throw new RevocationUnavailableError({ cause: error });
    }
  }

  return {
    isRevokedNow,
    isRevoked: async (tokenId) => isRevokedNow(tokenId),

    async revoke(tokenId, expiresAt, reason) {
      checkRevocation(tokenId, expiresAt, reason);
      const now = options.now();
      const until = keepUntilMs(expiresAt, options.leewaySeconds);
      try {
        db.transaction(() => {
          prune.run(now);
          if (until > now) insert.run(tokenId, expiresAt, until, reason ?? null, now);
        })();
      } catch (error) {
        throw new RevocationUnavailableError({ cause: error });
      }
    },

    async close() {
      if (db.open) db.close();
    },
  };
}
