import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectDatabaseFile } from '../../common/sqlite/database-file.js';
import { DatabaseFileError } from '../../common/sqlite/errors.js';
import { defineSchema, migrateSchema, schemaVersionOf, type DatabaseSchema } from '../../common/sqlite/schema-version.js';

const folder = mkdtempSync(join(tmpdir(), 'schema-version-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let files = 0;
/** A fresh file path in the scratch folder. */
const scratch = () => join(folder, `db-${++files}.db`);

/** A file with the `notes` table of version 1, at `version`, holding a few rows. */
function notesFile(version: number): string {
  const file = scratch();
  const db = new Database(file);
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); INSERT INTO notes (text) VALUES ('a'), ('b')");
  db.pragma(`user_version = ${version}`);
  db.close();
  return file;
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Three versions of a notes database: 1 the table, 2 a column, 3 an index; each file must keep its rows. */
const NOTES: DatabaseSchema = defineSchema({
  version: 3,
  migrations: [
    {
      to: 1,
      description: 'creates the notes table',
      migrate: (db) => db.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)'),
    },
    { to: 2, description: 'adds notes.author', migrate: (db) => db.exec("ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'") },
    { to: 3, description: 'indexes notes by author', migrate: (db) => db.exec('CREATE INDEX notes_by_author ON notes (author)') },
  ],
  verify(db) {
    const columns = (db.prepare('PRAGMA table_info(notes)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('author')) throw new DatabaseFileError('UNEXPECTED_SCHEMA', db.name, `${db.name} lacks notes.author`);
  },
});

function withFile<T>(file: string, use: (db: Database.Database) => T, options?: Database.Options): T {
  const db = new Database(file, options);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

describe('migrateSchema', () => {
  describe('when the file records an older version', () => {
    it('runs the steps above it in order, records the version, and keeps the rows', () => {
      const file = notesFile(1);
      const outcome = withFile(file, (db) => migrateSchema(db, file, NOTES));
      expect(outcome).toEqual({ file, from: 1, to: 3, applied: ['adds notes.author', 'indexes notes by author'] });
      withFile(file, (db) => {
        expect(schemaVersionOf(db)).toBe(3);
        expect(db.prepare('SELECT text, author FROM notes ORDER BY id').all()).toEqual([
          { text: 'a', author: 'unknown' },
          { text: 'b', author: 'unknown' },
        ]);
        expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'notes_by_author'").pluck().get()).toBe('notes_by_author');
      });
    });

    it('migrates a file that records no version (0) from the first step', () => {
      const file = scratch();
      const outcome = withFile(file, (db) => migrateSchema(db, file, NOTES));
      expect(outcome.from).toBe(0);
      expect(outcome.applied).toHaveLength(3);
      expect(withFile(file, schemaVersionOf)).toBe(3);
    });

    it('leaves the file as it was when a step fails', () => {
      const file = notesFile(1);
      const failing = defineSchema({
        ...NOTES,
        migrations: [
          NOTES.migrations[0],
          NOTES.migrations[1],
          {
            to: 3,
            description: 'fails',
            migrate: () => {
              throw new Error('disk full');
            },
          },
        ],
      });
      expect(() => withFile(file, (db) => migrateSchema(db, file, failing))).toThrow('disk full');
      withFile(file, (db) => {
        expect(schemaVersionOf(db)).toBe(1);
        expect((db.prepare('PRAGMA table_info(notes)').all() as { name: string }[]).map((c) => c.name)).toEqual(['id', 'text']);
      });
    });

    it('leaves the file as it was when the migrated file fails the check of its version', () => {
      const file = notesFile(1);
      const skipping = defineSchema({
        version: 2,
        migrations: [NOTES.migrations[0], { to: 2, description: 'forgets the column', migrate: () => {} }],
        verify: NOTES.verify,
      });
      const error = (() => {
        try {
          withFile(file, (db) => migrateSchema(db, file, skipping));
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toMatchObject({ code: 'UNEXPECTED_SCHEMA' });
      expect(withFile(file, schemaVersionOf)).toBe(1);
    });
  });

  describe('when the file records the current version', () => {
    it('changes nothing, even opened read-only', () => {
      const file = notesFile(1);
      withFile(file, (db) => migrateSchema(db, file, NOTES));
      const before = digest(file);
      const outcome = withFile(file, (db) => migrateSchema(db, file, NOTES), { readonly: true });
      expect(outcome).toEqual({ file, from: 3, to: 3, applied: [] });
      expect(digest(file)).toBe(before);
    });
  });

  describe('when the file records a newer version', () => {
    it('refuses it, naming the file and both versions, and leaves it as it was', () => {
      const file = notesFile(7);
      const before = digest(file);
      let error: unknown;
      try {
        withFile(file, (db) => migrateSchema(db, file, NOTES));
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(DatabaseFileError);
      expect(error).toMatchObject({ code: 'NEWER_VERSION', file, foundVersion: 7, expectedVersion: 3 });
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/version 7.*version 3/);
      expect(digest(file)).toBe(before);
    });
  });
});

describe('defineSchema', () => {
  it('refuses a declaration without a step to every version', () => {
    expect(() => defineSchema({ version: 2, migrations: [NOTES.migrations[0]] })).toThrow(TypeError);
    expect(() => defineSchema({ version: 2, migrations: [NOTES.migrations[0], NOTES.migrations[2]] })).toThrow(TypeError);
  });
});

describe('inspectDatabaseFile', () => {
  const codeOf = (file: string) => {
    try {
      inspectDatabaseFile(file);
      return 'ok';
    } catch (error) {
      expect((error as Error).message).toContain(file);
      return (error as DatabaseFileError).code;
    }
  };

  it('reports the version and tables of an intact file', () => {
    expect(inspectDatabaseFile(notesFile(2))).toEqual({ version: 2, tables: ['notes'] });
  });

  it('tells a missing file, an empty one, and one that is not SQLite', () => {
    expect(codeOf(join(folder, 'absent.db'))).toBe('MISSING');
    const empty = scratch();
    writeFileSync(empty, '');
    expect(codeOf(empty)).toBe('EMPTY');
    const text = scratch();
    writeFileSync(text, 'household records, exported as text\n'.repeat(100));
    expect(codeOf(text)).toBe('NOT_SQLITE');
  });

  it('tells a file whose pages are damaged (quick_check), without changing it', () => {
    const file = scratch();
    withFile(file, (db) => {
      db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO rows (text) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run(`row ${i} `.repeat(10));
      })();
    });
    const bytes = readFileSync(file);
    // Keep the header page, scramble the B-tree pages after it.
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = (bytes[i] + 101) % 256;
    writeFileSync(file, bytes);
    const before = digest(file);
    expect(codeOf(file)).toBe('CORRUPT');
    expect(digest(file)).toBe(before);
  });
});
