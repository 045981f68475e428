import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A subgraph's embedded SQLite database. */
export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** Open read-only (serving). Default: false (seeding and tests write). */
  readonly?: boolean;
  /** Called with the SQL of every statement executed; tests count statements with it. */
  onStatement?: (sql: string) => void;
}

/**
 * Opens (and creates when missing) a subgraph database with the settings every
 * store relies on: WAL journal so readers never wait for the seeder,
 * `synchronous = NORMAL` (durable at checkpoints; the records are reference
 * data that the seeder can rebuild), a memory map for reads, and foreign keys.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    verbose: options.onStatement ? (sql) => options.onStatement!(String(sql)) : undefined,
  });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('mmap_size = 268435456');
  db.pragma('cache_size = -65536');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Tables and indexes of one subgraph, applied idempotently. */
export function applyTables(db: SqliteDatabase, ddl: string): void {
  db.exec(ddl);
}

/** Parameter for `IN (SELECT value FROM json_each(?))`: one prepared statement serves any batch size. */
export function jsonList(values: readonly string[]): string {
  return JSON.stringify(values);
}
