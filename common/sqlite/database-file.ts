/**
 * Looks at a SQLite file without creating or changing it: is it there, does
 * it hold anything, is it SQLite, does SQLite find it intact, and which
 * schema version and tables does it record. `npm start` asks this of every
 * database in the data folder before it starts (or seeds) anything.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { DatabaseFileError } from './errors.js';

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface DatabaseFileReport {
  /** `PRAGMA user_version`: the schema version the file records (0: none recorded). */
  version: number;
  /** Its tables, SQLite's own excepted. */
  tables: string[];
}

export interface InspectOptions {
  /**
   * Run `PRAGMA quick_check` (reads every page: about a second per
   * gigabyte). Default true; false checks the header and the schema only.
   */
  integrity?: boolean;
}

function readHeader(file: string): Buffer {
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  return header;
}

/**
 * Reports the schema version and tables of a SQLite file, or throws a
 * `DatabaseFileError` saying why it cannot be used: MISSING, EMPTY (0 bytes),
 * NOT_SQLITE (another kind of file) or CORRUPT (SQLite cannot read it, or
 * quick_check finds damage). Opens the file read-only: nothing is written.
 */
export function inspectDatabaseFile(file: string, options: InspectOptions = {}): DatabaseFileReport {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DatabaseFileError('MISSING', file, `${file} is missing`);
    throw error;
  }
  if (size === 0) throw new DatabaseFileError('EMPTY', file, `${file} is empty (0 bytes)`);
  if (!readHeader(file).equals(SQLITE_HEADER)) throw new DatabaseFileError('NOT_SQLITE', file, `${file} is not a SQLite database`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    if (options.integrity ?? true) {
      const findings = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
      const problems = findings.map((row) => row.quick_check).filter((finding) => finding !== 'ok');
      if (problems.length > 0) throw new DatabaseFileError('CORRUPT', file, `${file} is damaged (SQLite's quick_check: ${problems.join('; ')})`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    return { version, tables };
  } catch (error) {
    if (error instanceof DatabaseFileError) throw error;
    throw new DatabaseFileError('CORRUPT', file, `${file} cannot be read as a SQLite database (${(error as Error).message})`, { cause: error });
  } finally {
    db?.close();
  }
}
