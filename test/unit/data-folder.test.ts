import Database from 'better-sqlite3';
import { cpSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFileOf } from '../../subgraphs/catalog.js';
import { DOMAIN_SCHEMA_VERSION, openDomainDatabase } from '../../subgraphs/shared/domain-database.js';
import { createIssuedDocumentStore } from '../../subgraphs/shared/issued-documents.js';
import { checkDataFolder, DataFolderError } from '../../scripts/start/data-folder.js';
import { seedDatabases } from '../../scripts/seed/index.js';

const folders: string[] = [];
const scratch = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'data-folder-test-'));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

let seeded: string;
beforeAll(async () => {
  seeded = scratch();
  await seedDatabases({ dataDir: seeded, persons: 40 });
});

/** A copy of the seeded folder, to damage. */
function copyOfSeeded(): string {
  const folder = scratch();
  cpSync(seeded, folder, { recursive: true });
  return folder;
}

function refusal(dataDir: string): DataFolderError {
  try {
    checkDataFolder(dataDir);
  } catch (error) {
    if (error instanceof DataFolderError) return error;
    throw error;
  }
  throw new Error('the folder was not refused');
}

/** A licences database as seeded before versions were recorded: no issued-documents table, user_version 0, one licence row kept. */
function unversionedLicences(dataDir: string): number {
  const db = new Database(databaseFileOf(dataDir, 'licences'));
  db.exec('DROP TABLE issued_documents');
  db.pragma('user_version = 0');
  const licences = db.prepare('SELECT count(*) FROM licences').pluck().get() as number;
  db.close();
  return licences;
}

function readLicences(dataDir: string): { version: number; tables: string[]; licences: number } {
  const db = new Database(databaseFileOf(dataDir, 'licences'), { readonly: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }) as number,
      tables: db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[],
      licences: db.prepare('SELECT count(*) FROM licences').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

describe('checkDataFolder (what npm start may do with the data folder)', () => {
  describe('when the folder holds no database', () => {
    it('says to seed it, also when it already holds the keys of the demo identity providers', () => {
      expect(checkDataFolder(join(scratch(), 'not-yet-created'))).toEqual({ kind: 'empty' });
      const withKeys = scratch();
      mkdirSync(join(withKeys, 'dev-idp'));
      writeFileSync(join(withKeys, 'dev-idp', 'national.jwks.json'), '{}');
      expect(checkDataFolder(withKeys)).toEqual({ kind: 'empty' });
    });
  });

  describe('when the folder has been used but its domain databases are gone', () => {
    it('refuses to seed it, naming what is still there', () => {
      const folder = scratch();
      mkdirSync(join(folder, 'seals', 'si-540100'), { recursive: true });
      writeFileSync(join(folder, 'seals', 'si-540100', 'key.json'), '{}');
      const error = refusal(folder);
      expect(error.message).toContain('seals/');
      expect(error.message).toContain('household.db');
    });
  });

  describe('when the databases are seeded and current', () => {
    it('says they are ready, migrating nothing', () => {
      expect(checkDataFolder(copyOfSeeded())).toEqual({ kind: 'ready', migrations: [] });
    });
  });

  describe('when a domain database records an older schema version', () => {
    it('migrates it: the version is recorded, the missing table created, the records kept', () => {
      const folder = copyOfSeeded();
      const licences = unversionedLicences(folder);
      const state = checkDataFolder(folder);
      expect(state.kind).toBe('ready');
      expect(state.kind === 'ready' && state.migrations.map((m) => [m.file, m.from, m.to])).toEqual([
        [databaseFileOf(folder, 'licences'), 0, DOMAIN_SCHEMA_VERSION],
      ]);
      const after = readLicences(folder);
      expect(after.version).toBe(DOMAIN_SCHEMA_VERSION);
      expect(after.tables).toContain('issued_documents');
      expect(after.licences).toBe(licences);
      // The subgraph can record documents in it again.
      const db = openDomainDatabase(databaseFileOf(folder, 'licences'), 'licences');
      try {
        expect(createIssuedDocumentStore(db).bySerials(['none'])).toEqual([]);
      } finally {
        db.close();
      }
    });

    it('is migrated too by the subgraph opening it on its own (no npm start)', () => {
      const folder = copyOfSeeded();
      unversionedLicences(folder);
      openDomainDatabase(databaseFileOf(folder, 'licences'), 'licences', { readonly: true }).close();
      expect(readLicences(folder).version).toBe(DOMAIN_SCHEMA_VERSION);
      expect(readLicences(folder).tables).toContain('issued_documents');
    });
  });

  describe('when a database of the audit trail or the revocation list is damaged', () => {
    it('refuses an empty audit trail, saying it cannot be rebuilt', () => {
      const folder = copyOfSeeded();
      writeFileSync(join(folder, 'audit.db'), '');
      const [problem] = refusal(folder).problems;
      expect(problem.file).toBe(join(folder, 'audit.db'));
      expect(problem.what).toMatch(/empty \(0 bytes\)/);
      expect(problem.remedy).toMatch(/backup/);
    });

    it('refuses a damaged person-search index, saying it may be deleted and rebuilt', () => {
      const folder = copyOfSeeded();
      writeFileSync(join(folder, 'audit.db'), '');
      const audit = new Database(join(folder, 'audit.db'));
      audit.exec('CREATE TABLE audit_records (seq INTEGER)');
      audit.pragma('user_version = 1');
      audit.close();
      writeFileSync(join(folder, 'audit.subjects.db'), 'not an index');
      const [problem] = refusal(folder).problems;
      expect(problem.file).toBe(join(folder, 'audit.subjects.db'));
      expect(problem.remedy).toMatch(/delete it/);
    });

    it('refuses a revocation list of a newer release, naming both versions', () => {
      const folder = copyOfSeeded();
      const revocations = new Database(join(folder, 'revocations.db'));
      revocations.pragma('user_version = 9');
      revocations.exec('CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY)');
      revocations.close();
      const [problem] = refusal(folder).problems;
      expect(problem.what).toMatch(/revocations\.db has schema version 9, newer than version 1/);
    });
  });

  describe('when several databases are wrong', () => {
    it('names every one, and changes none (an older one is not migrated either)', () => {
      const folder = copyOfSeeded();
      unversionedLicences(folder);
      truncateSync(databaseFileOf(folder, 'household'), 0);
      rmSync(databaseFileOf(folder, 'credit'));
      const files = refusal(folder).problems.map((problem) => problem.file);
      expect(files.sort()).toEqual([databaseFileOf(folder, 'credit'), databaseFileOf(folder, 'household')].sort());
      expect(readLicences(folder).version).toBe(0);
    });
  });
});
