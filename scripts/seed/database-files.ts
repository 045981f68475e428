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
 * million random B-tree updates). Tables whose primary key arrives in random
 * order (persons by ID number, enrolments, licences…) are first appended to a
 * plain staging table in an attached scratch file and copied over sorted by
 * key at the end: SQLite then appends to the WITHOUT ROWID B-tree instead of
 * splitting pages all over it, which halves the cost of those tables. Before
 * the final close the journal mode is set to WAL, which SQLite records in the
 * file header, so the installed file is served in WAL mode like every
 * database `openDatabase` creates.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { SUBGRAPHS, databaseFileOf, type DomainSubgraphName as SubgraphName } from '../../subgraphs/catalog.js';
import { openDatabase, type SqliteDatabase } from '../../subgraphs/shared/database.js';
import { DOMAIN_SCHEMA_VERSION, tablesOf } from '../../subgraphs/shared/domain-database.js';

const TEMPORARY_SUFFIX = '.seeding';
const STAGING_SUFFIX = '-staging';

/** Tables written through a staging table (their keys are not generated in order). */
const STAGED_TABLES: ReadonlySet<string> = new Set(['persons', 'insured_persons', 'enrolments', 'licences', 'licence_events']);
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
  /** Tables of this database written through `staging.<table>`. */
  stagedTables: string[];
  /** Scratch file attached as `staging`, deleted once the rows are copied. */
  stagingFile: string;
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

/** Whether rows of `table` are written to `staging.<table>` first. */
export function isStaged(database: SeedDatabase, table: string): boolean {
  return database.stagedTables.includes(table);
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
      const stagingFile = temporaryFile + STAGING_SUFFIX;
      removeWithCompanions(temporaryFile);
      removeWithCompanions(stagingFile);
      const db = openDatabase(temporaryFile);
      // Bulk-load settings: the temporary file is disposable until installed.
      // 16 KiB pages: fewer, fuller B-tree pages for the bulk load and the index sorts.
      // The page size of a file that was in WAL mode changes only through VACUUM in rollback mode.
      db.pragma('journal_mode = DELETE');
      db.pragma('page_size = 16384');
      db.exec('VACUUM');
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma('foreign_keys = OFF');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('cache_size = -131072');
      // The final sorted copies may use a helper thread for sorting.
      db.pragma('threads = 2');
      const { tables, indexes } = splitDdl(subgraph.tables);
      for (const statement of tables) db.exec(statement);
      // The file says which version of the tables it holds: the subgraphs migrate an older one and refuse a newer one.
      db.pragma(`user_version = ${DOMAIN_SCHEMA_VERSION}`);
      const stagedTables = tablesOf(subgraph.tables).filter((table) => STAGED_TABLES.has(table));
      opened[subgraph.name] = { name: subgraph.name, file, temporaryFile, db, deferredIndexes: indexes, stagedTables, stagingFile };
      if (stagedTables.length > 0) {
        db.prepare('ATTACH DATABASE ? AS staging').run(stagingFile);
        db.exec(
          'PRAGMA staging.page_size = 16384; PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF; PRAGMA staging.cache_size = -32768',
        );
        for (const table of stagedTables) {
          const columns = (db.prepare(`PRAGMA main.table_info(${table})`).all() as { name: string }[]).map((column) => column.name);
          db.exec(`CREATE TABLE staging.${table} (${columns.join(', ')})`);
        }
      }
    }
  } catch (error) {
    discardSeedDatabases(opened);
    throw error;
  }
  return opened as SeedDatabases;
}

/** Copies staged rows in key order, builds the deferred indexes, gathers planner statistics and switches each file to WAL; closes them. */
export function finishSeedDatabases(databases: SeedDatabases): void {
  for (const { db, deferredIndexes, stagedTables, stagingFile } of Object.values(databases)) {
    if (stagedTables.length > 0) {
      db.exec('BEGIN');
      for (const table of stagedTables) {
        const columns = db.prepare(`PRAGMA main.table_info(${table})`).all() as { name: string; pk: number }[];
        const names = columns.map((column) => column.name).join(', ');
        const key = columns
          .filter((column) => column.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((column) => column.name)
          .join(', ');
        db.exec(`INSERT INTO main.${table} (${names}) SELECT ${names} FROM staging.${table} ORDER BY ${key}`);
      }
      db.exec('COMMIT');
      db.exec('DETACH DATABASE staging');
      removeWithCompanions(stagingFile);
    }
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
      removeWithCompanions(seedDatabase.stagingFile);
    }
  }
}
