/**
 * Why a database file cannot be used as it is, with a stable `code` callers
 * can branch on (npm start turns them into its refusal; a service that meets
 * one stops before serving anything).
 */
export type DatabaseFileErrorCode =
  /** The file does not exist. */
  | 'MISSING'
  /** The file is there but holds nothing (0 bytes): truncated, or created and never written. */
  | 'EMPTY'
  /** The file does not start with SQLite's header: another kind of file. */
  | 'NOT_SQLITE'
  /** SQLite cannot read it, or `PRAGMA quick_check` finds damage. */
  | 'CORRUPT'
  /** Its schema version is newer than the one this code knows: written by a newer release. */
  | 'NEWER_VERSION'
  /** It is SQLite of this schema version but lacks tables of its contract: another application's file, or a damaged one. */
  | 'UNEXPECTED_SCHEMA';

export class DatabaseFileError extends Error {
  readonly code: DatabaseFileErrorCode;
  /** The file at fault, as it was given. */
  readonly file: string;
  /** For NEWER_VERSION: the version found in the file. */
  readonly foundVersion?: number;
  /** For NEWER_VERSION: the version this code reads and writes. */
  readonly expectedVersion?: number;

  constructor(
    code: DatabaseFileErrorCode,
    file: string,
    message: string,
    options: { foundVersion?: number; expectedVersion?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatabaseFileError';
    this.code = code;
    this.file = file;
    this.foundVersion = options.foundVersion;
    this.expectedVersion = options.expectedVersion;
  }
}
