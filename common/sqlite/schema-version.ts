/**
 * Schema versions of the project's SQLite databases. Each file records the
 * version of its tables in its header (`PRAGMA user_version`); the code
 * that owns a file declares the version it reads and writes, and the steps
 * that bring an older file up to it. Opening a file then either finds its
 * version, migrates an older one (every step in one transaction: all or
 * nothing), or refuses a newer one, naming the file and both versions.
 *
 * Version 0 is SQLite's default: a file created before versions were
 * recorded. The step `{ to: 1 }` is where such a file joins.
 */
import type Database from 'better-sqlite3';
import { DatabaseFileError } from './errors.js';

export interface SchemaMigration {
  /** The version a file has after this step; the step runs on a file at version `to - 1`. */
  to: number;
  /** What the step changes, in a few words (start-up says it). */
  description: string;
  /** Runs inside the migration's transaction: no VACUUM, no journal_mode changes. */
  migrate(db: Database.Database): void;
}

export interface DatabaseSchema {
  /** The version this code reads and writes. */
  version: number;
  /** One step to each version from 1 to `version`. */
  migrations: readonly SchemaMigration[];
  /**
   * Checks that the file holds what this version promises (its tables),
   * throwing a DatabaseFileError when it does not. Run on a current file,
   * and after the steps of a migration, inside its transaction: a file that
   * fails it is left as it was.
   */
  verify?: (db: Database.Database) => void;
}

/** What opening a file did to its schema. */
export interface MigrationOutcome {
  file: string;
  from: number;
  to: number;
  /** The descriptions of the steps applied, in order (empty when the file was current). */
  applied: string[];
}

/**
 * Checks a schema declaration once, where it is made: a step to each
 * version from 1 to `version`, no gap and no duplicate. Throws TypeError.
 */
export function defineSchema(schema: DatabaseSchema): DatabaseSchema {
  const { version, migrations } = schema;
  if (!Number.isInteger(version) || version < 1) throw new TypeError(`schema version must be a positive integer, got ${version}`);
  const sorted = [...migrations].sort((a, b) => a.to - b.to);
  sorted.forEach((step, i) => {
    if (step.to !== i + 1) throw new TypeError(`schema migrations must lead to each version from 1 to ${version} once; found a step to ${step.to}`);
  });
  if (sorted.length !== version) throw new TypeError(`schema version ${version} needs ${version} migration steps, got ${sorted.length}`);
  return { ...schema, migrations: sorted };
}

/** The schema version a file records (`PRAGMA user_version`; 0 when none is). */
export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** The refusal of a file written by a newer release. */
export function newerVersionError(file: string, found: number, expected: number): DatabaseFileError {
  return new DatabaseFileError(
    'NEWER_VERSION',
    file,
    `${file} has schema version ${found}, newer than version ${expected}, the one this code reads and writes: it was written by a newer release`,
    { foundVersion: found, expectedVersion: expected },
  );
}

/**
 * Brings the file open as `db` to `schema.version`: refuses a newer file
 * (DatabaseFileError NEWER_VERSION), returns at once for a current one, and
 * runs the steps above the file's version in one IMMEDIATE transaction for
 * an older one (a failing step, or a failing `verify`, leaves the file as it
 * was). `db` must be
 * open read-write unless the file is current.
 */
export function migrateSchema(db: Database.Database, file: string, schema: DatabaseSchema): MigrationOutcome {
  const check = (): number => {
    const found = schemaVersionOf(db);
    if (found > schema.version) throw newerVersionError(file, found, schema.version);
    return found;
  };
  let from = check();
  if (from === schema.version) {
    schema.verify?.(db);
    return { file, from, to: from, applied: [] };
  }
  const applied: string[] = [];
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated the file meanwhile.
    from = check();
    for (const step of schema.migrations) {
      if (step.to <= from) continue;
      step.migrate(db);
      db.pragma(`user_version = ${step.to}`);
      applied.push(step.description);
    }
    schema.verify?.(db);
  }).immediate();
  return { file, from, to: schema.version, applied };
}
