/**
 * The schema version of the five domain databases, and how a domain
 * subgraph (and `npm start`, before it starts them) opens one: the file
 * must be there and be SQLite; one of an older version is migrated, one of
 * a newer version refused, naming the file and both versions; and it must
 * hold the tables of its domain's contract.
 *
 * Version history (raise DOMAIN_SCHEMA_VERSION and add a step for every
 * change to a domain's tables that an existing file needs):
 *   0  files seeded before versions were recorded
 *   1  the version is recorded; the issuing domains keep `issued_documents`
 */
import { inspectDatabaseFile } from '../../common/sqlite/database-file.js';
import { DatabaseFileError } from '../../common/sqlite/errors.js';
import { defineSchema, migrateSchema, newerVersionError, type DatabaseSchema, type MigrationOutcome } from '../../common/sqlite/schema-version.js';
import { SUBGRAPHS, type DomainSubgraphName } from '../catalog.js';
import { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from './database.js';
import { ISSUED_DOCUMENTS_TABLE } from './issued-documents-table.js';

/** The schema version the domain subgraphs and the seeder read and write. */
export const DOMAIN_SCHEMA_VERSION = 1;

/** The tables a domain's DDL creates, in the order it creates them. */
export function tablesOf(ddl: string): string[] {
  return [...ddl.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/gi)].map((match) => match[1]);
}

function domainOf(name: DomainSubgraphName) {
  return SUBGRAPHS.find((subgraph) => subgraph.name === name)!;
}

const schemas = new Map<DomainSubgraphName, DatabaseSchema>();

/** The schema of one domain's database: its version, the steps from older ones, and the tables it must hold. */
export function domainSchema(name: DomainSubgraphName): DatabaseSchema {
  let schema = schemas.get(name);
  if (schema) return schema;
  const domain = domainOf(name);
  const tables = tablesOf(domain.tables);
  schema = defineSchema({
    version: DOMAIN_SCHEMA_VERSION,
    migrations: [
      {
        to: 1,
        description: domain.issuesDocuments
          ? 'records the schema version; creates the issued-documents table if the file was seeded before documents were issued'
          : 'records the schema version',
        migrate(db) {
          if (domain.issuesDocuments) db.exec(ISSUED_DOCUMENTS_TABLE);
        },
      },
    ],
    verify(db) {
      const present = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]);
      const missing = tables.filter((table) => !present.has(table));
      if (missing.length > 0) {
        throw new DatabaseFileError(
          'UNEXPECTED_SCHEMA',
          db.name,
          `${db.name} is not a ${name} database of schema version ${DOMAIN_SCHEMA_VERSION}: it lacks the table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
        );
      }
    },
  });
  schemas.set(name, schema);
  return schema;
}

/**
 * Makes a domain database ready to serve: refuses a file that is missing,
 * empty, not SQLite, unreadable (and, with `integrity`, one quick_check
 * finds damaged), of a newer schema version, or without its domain's
 * tables (DatabaseFileError, naming the file); migrates one of an older
 * version. Never creates the file.
 */
export function prepareDomainDatabase(file: string, name: DomainSubgraphName, options: { integrity?: boolean } = {}): MigrationOutcome {
  const report = inspectDatabaseFile(file, { integrity: options.integrity ?? false });
  const schema = domainSchema(name);
  if (report.version > schema.version) throw newerVersionError(file, report.version, schema.version);
  // Read-write only to migrate: a current file is checked read-only.
  const db = openDatabase(file, { readonly: report.version === schema.version });
  try {
    return migrateSchema(db, file, schema);
  } finally {
    db.close();
  }
}

/**
 * Opens a domain subgraph's database to serve it (see `prepareDomainDatabase`
 * for what is refused and migrated first). The integrity check is left to
 * `npm start`, which runs it once for all of them before any subgraph starts.
 */
export function openDomainDatabase(file: string, name: DomainSubgraphName, options: OpenDatabaseOptions = {}): SqliteDatabase {
  prepareDomainDatabase(file, name);
  return openDatabase(file, options);
}
