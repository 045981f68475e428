/**
 * What `npm start` makes of the data folder before it starts, or seeds,
 * anything. Stored state is never replaced behind the user's back:
 *
 * - a folder that holds no database (and no seal keys) is seeded;
 * - otherwise all five domain databases must be there, and every database
 *   in the folder (the five, the audit trail and its index, the token
 *   revocation list) must be SQLite, intact (`PRAGMA quick_check`) and of a
 *   schema version this code knows. Anything else stops start-up with a
 *   `DataFolderError` naming each file, what is wrong with it and what to
 *   do; nothing has been changed then;
 * - a domain database of an older schema version is migrated (the audit
 *   and revocation files are migrated by the gateway that owns them).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SUBGRAPHS, databaseFileOf, type DomainSubgraphName } from '../../subgraphs/catalog.js';
import { DOMAIN_SCHEMA_VERSION, domainSchema, prepareDomainDatabase, tablesOf } from '../../subgraphs/shared/domain-database.js';
import { inspectDatabaseFile } from '../../common/sqlite/database-file.js';
import { DatabaseFileError } from '../../common/sqlite/errors.js';
import { newerVersionError, type MigrationOutcome } from '../../common/sqlite/schema-version.js';
import { DEFAULT_AUDIT_FILE_NAME } from '../../common/audit/store-contract.js';
import { subjectIndexFile } from '../../common/audit/store-sqlite.js';
import { AUDIT_FILE_SCHEMA_VERSION, SUBJECT_INDEX_SCHEMA_VERSION } from '../../common/audit/sqlite-versions.js';
import { sealsFolder } from '../../common/documents/seal-keys.js';
import { REVOCATION_FILE_NAME } from '../../gateway/access/options.js';
import { REVOCATION_SCHEMA } from '../../gateway/access/revocation-embedded.js';

/** What to do about a damaged or missing domain database. */
const RESEED_OR_RESTORE =
  'if the folder holds the demo data, `npm run seed -- --force` seeds the five domain databases afresh ' +
  '(it refuses while they keep issued documents; see --discard-issued-documents). If it holds real records, restore the file from your backup.';
const NEWER_RELEASE = 'run the release that wrote it, or restore a backup made for this one.';

interface OtherDatabase {
  file: string;
  version: number;
  /** What to do when it is empty or damaged. */
  remedy: string;
}

export interface DataFolderOptions {
  /** The embedded audit store is in use (AUDIT_DATABASE_URL unset): its files are checked. Default true. */
  auditFiles?: boolean;
  /** The embedded revocation list is in use (REDIS_URL unset): its file is checked. Default true. */
  revocationFile?: boolean;
}

/** One file that stops start-up. */
export interface DataFolderProblem {
  file: string;
  /** What is wrong with it (starts with the file's path). */
  what: string;
  /** What to do about it. */
  remedy: string;
}

export class DataFolderError extends Error {
  readonly problems: readonly DataFolderProblem[];
  constructor(dataDir: string, problems: readonly DataFolderProblem[]) {
    // Each problem on its line, then each remedy once, naming the files it concerns.
    const remedies = new Map<string, string[]>();
    for (const problem of problems) remedies.set(problem.remedy, [...(remedies.get(problem.remedy) ?? []), basename(problem.file)]);
    super(
      [
        `npm start: the data folder ${dataDir} cannot be used as it is; nothing was started or changed.`,
        ...problems.map((problem) => `  - ${problem.what}.`),
        ...[...remedies].map(([remedy, files]) => `What to do (${files.join(', ')}): ${remedy}`),
      ].join('\n'),
    );
    this.name = 'DataFolderError';
    this.problems = problems;
  }
}

export type DataFolderState =
  /** Nothing stored yet: seed it. */
  | { kind: 'empty' }
  /** Every database is usable; those of an older schema version were migrated (`migrations`, one per file migrated). */
  | { kind: 'ready'; migrations: MigrationOutcome[] };

function otherDatabases(dataDir: string, options: DataFolderOptions): OtherDatabase[] {
  const files: OtherDatabase[] = [];
  if (options.auditFiles ?? true) {
    const audit = join(dataDir, DEFAULT_AUDIT_FILE_NAME);
    files.push(
      { file: audit, version: AUDIT_FILE_SCHEMA_VERSION, remedy: 'the audit trail cannot be rebuilt: restore the file from your backup.' },
      {
        file: subjectIndexFile(audit),
        version: SUBJECT_INDEX_SCHEMA_VERSION,
        remedy: `it is only an index, rebuilt from ${basename(audit)}: delete it (and its -wal and -shm files).`,
      },
    );
  }
  if (options.revocationFile ?? true) {
    files.push({
      file: join(dataDir, REVOCATION_FILE_NAME),
      version: REVOCATION_SCHEMA.version,
      remedy: 'restore it from your backup: without it, revoked tokens would be accepted again until they expire.',
    });
  }
  return files;
}

/** Any file under seals/: documents have been sealed with keys of this folder. */
function hasSealKeys(dataDir: string): boolean {
  try {
    return readdirSync(sealsFolder(dataDir)).length > 0;
  } catch {
    return false;
  }
}

function problemOf(error: unknown, remedy: string): DataFolderProblem {
  if (!(error instanceof DatabaseFileError)) throw error;
  return { file: error.file, what: error.message, remedy: error.code === 'NEWER_VERSION' ? NEWER_RELEASE : remedy };
}

/** Checks one domain database without changing it; returns its schema version. */
function checkDomainDatabase(file: string, name: DomainSubgraphName): number {
  const { version, tables } = inspectDatabaseFile(file);
  if (version > DOMAIN_SCHEMA_VERSION) throw newerVersionError(file, version, DOMAIN_SCHEMA_VERSION);
  const contract = tablesOf(SUBGRAPHS.find((s) => s.name === name)!.tables);
  // A current file must hold every table of its contract; an older one at least some (the migration adds the rest, and checks).
  const missing = contract.filter((table) => !tables.includes(table));
  if (version === domainSchema(name).version ? missing.length > 0 : missing.length === contract.length) {
    throw new DatabaseFileError(
      'UNEXPECTED_SCHEMA',
      file,
      `${file} is not a ${name} database: it lacks the table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  return version;
}

/**
 * Decides what start-up may do with `dataDir`: seed it (`empty`), or serve
 * it (`ready`, after migrating domain databases of an older version).
 * Throws a `DataFolderError` listing every file that stops start-up; in that
 * case no file has been changed.
 */
export function checkDataFolder(dataDir: string, options: DataFolderOptions = {}): DataFolderState {
  const domains = SUBGRAPHS.map((subgraph) => ({ name: subgraph.name, file: databaseFileOf(dataDir, subgraph.name) }));
  const present = domains.filter((domain) => existsSync(domain.file));
  const others = otherDatabases(dataDir, options).filter((other) => existsSync(other.file));
  const sealed = hasSealKeys(dataDir);
  if (present.length === 0 && others.length === 0 && !sealed) return { kind: 'empty' };

  const problems: DataFolderProblem[] = [];
  if (present.length === 0) {
    const used = [...others.map((other) => basename(other.file)), ...(sealed ? ['seals/'] : [])].join(', ');
    problems.push({
      file: domains[0].file,
      what: `The five domain databases (${domains.map((domain) => basename(domain.file)).join(', ')}) are missing, while the folder holds ${used}: it has been used before`,
      remedy:
        'restore them from your backup; or, if the folder held demo data, `npm run seed` seeds them afresh (the audit trail and the keys are kept; documents issued before lose their records).',
    });
  } else {
    for (const domain of domains.filter((d) => !present.includes(d))) {
      problems.push({
        file: domain.file,
        what: `${domain.file} is missing, while ${present.map((d) => basename(d.file)).join(', ')} ${present.length === 1 ? 'is' : 'are'} there`,
        remedy: RESEED_OR_RESTORE,
      });
    }
  }
  const older: typeof domains = [];
  for (const domain of present) {
    try {
      if (checkDomainDatabase(domain.file, domain.name) < DOMAIN_SCHEMA_VERSION) older.push(domain);
    } catch (error) {
      problems.push(problemOf(error, RESEED_OR_RESTORE));
    }
  }
  for (const other of others) {
    try {
      const { version } = inspectDatabaseFile(other.file);
      if (version > other.version) throw newerVersionError(other.file, version, other.version);
    } catch (error) {
      problems.push(problemOf(error, other.remedy));
    }
  }
  if (problems.length > 0) throw new DataFolderError(dataDir, problems);

  // Every file is usable: only now is anything changed.
  const migrations: MigrationOutcome[] = [];
  for (const domain of older) {
    try {
      migrations.push(prepareDomainDatabase(domain.file, domain.name));
    } catch (error) {
      throw new DataFolderError(dataDir, [problemOf(error, RESEED_OR_RESTORE)]);
    }
  }
  return { kind: 'ready', migrations };
}
