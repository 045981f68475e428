/**
 * The five database files of a seeding run, written beside the served ones
 * under a temporary name and swapped in only when all five are complete.
 *
 *   data/household.db.seeding  …  data/licences.db.seeding   (while seeding)
 *   data/household.db          …  data/licences.db           (after install)
 *
 * While seeding, the temporary files run without a journal and without
 * fsync: a crash can only lose a temporary file, which the next run deletes.
 * Secondary indexes are created after the bulk insert (one sort instead of a
 * million random B-tree updates). Before the final close the journal mode is
 * set to WAL, which SQLite records in the file header, so the installed file
 * is served in WAL mode like every database `openDatabase` creates.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { SUBGRAPHS, databaseFileOf, type SubgraphName } from '../../subgraphs/catalog.js';
import { openDatabase, type SqliteDatabase } from '../../subgraphs/common/database.js';

const TEMPORARY_SUFFIX = '.seeding';
/** Files SQLite may keep beside a database. */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

export interface SeedDatabase {
  name: SubgraphName;
  /** The file served once installed. */
  file: string;
  /** The file written while seeding. */
  temporaryFile: string;
  db: SqliteDatabase;
  /** CREATE INDEX statements of the table contract, run after the bulk insert. */
  deferredIndexes: string[];
}

export type SeedDatabases = Record<SubgraphName, SeedDatabase>;

/** Splits a subgraph's DDL into table statements (run first) and index statements (run last). */
export function splitDdl(ddl: string): { tables: string[]; indexes: string[] } {
  const statements = ddl
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
  return {
    tables: statements.filter((statement) => !/^CREATE\s+(UNIQUE\s+)?INDEX/i.test(statement)),
    indexes: statements.filter((statement) => /^CREATE\s+(UNIQUE\s+)?INDEX/i.test(statement)),
  };
}

function removeWithCompanions(file: string): void {
  for (const path of [file, ...COMPANION_SUFFIXES.map((suffix) => file + suffix)]) rmSync(path, { force: true });
}

/** Opens fresh temporary databases for all five subgraphs, deleting leftovers of an interrupted run. */
export function openSeedDatabases(dataDir: string): SeedDatabases {
  const opened: Partial<SeedDatabases> = {};
  try {
    for (const subgraph of SUBGRAPHS) {
      const file = databaseFileOf(dataDir, subgraph.name);
      const temporaryFile = file + TEMPORARY_SUFFIX;
      removeWithCompanions(temporaryFile);
      const db = openDatabase(temporaryFile);
      // Bulk-load settings: the temporary file is disposable until installed.
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma('foreign_keys = OFF');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('temp_store = MEMORY');
      db.pragma('cache_size = -131072');
      const { tables, indexes } = splitDdl(subgraph.tables);
      for (const statement of tables) db.exec(statement);
      opened[subgraph.name] = { name: subgraph.name, file, temporaryFile, db, deferredIndexes: indexes };
    }
  } catch (error) {
    discardSeedDatabases(opened);
    throw error;
  }
  return opened as SeedDatabases;
}

/** Builds the deferred indexes, gathers planner statistics and switches each file to WAL; closes them. */
export function finishSeedDatabases(databases: SeedDatabases): void {
  for (const { db, deferredIndexes } of Object.values(databases)) {
    for (const statement of deferredIndexes) db.exec(statement);
    db.pragma('analysis_limit = 1000');
    db.exec('ANALYZE');
    db.pragma('locking_mode = NORMAL');
    db.pragma('journal_mode = WAL');
    db.close();
  }
}

/**
 * Moves the five finished files into place. Stale `-wal`/`-shm` files of the
 * old databases are deleted first: SQLite would otherwise replay the old
 * database's write-ahead log into the new file.
 */
export function installSeedDatabases(databases: SeedDatabases): void {
  for (const { temporaryFile } of Object.values(databases)) {
    if (!existsSync(temporaryFile)) throw new Error(`${temporaryFile} is missing; nothing was installed`);
  }
  for (const { file, temporaryFile } of Object.values(databases)) {
    for (const suffix of COMPANION_SUFFIXES) rmSync(file + suffix, { force: true });
    for (const suffix of COMPANION_SUFFIXES) rmSync(temporaryFile + suffix, { force: true });
    renameSync(temporaryFile, file);
  }
}

/** Closes and deletes the temporary files of a run that did not complete. */
export function discardSeedDatabases(databases: Partial<SeedDatabases>): void {
  for (const seedDatabase of Object.values(databases)) {
    if (!seedDatabase) continue;
    try {
      if (seedDatabase.db.open) seedDatabase.db.close();
    } finally {
      removeWithCompanions(seedDatabase.temporaryFile);
    }
  }
}
