/**
 * Schema versions of the embedded audit store's two files, recorded in each
 * file's header (`PRAGMA user_version`, see common/sqlite/schema-version.ts).
 * Raise one, and add the step to it in the thread that owns the file, for
 * every change an existing file needs.
 *
 *   audit.db            0 unversioned · 1 version recorded · 2 checkpoints and prunes hold the Merkle tree's note and
 *                       compact range, witnesses' cosignatures kept (audit_cosignatures)
 *   audit.subjects.db   0 unversioned · 1 version recorded (tables as in index-worker.ts)
 */
export const AUDIT_FILE_SCHEMA_VERSION = 2;
export const SUBJECT_INDEX_SCHEMA_VERSION = 1;
