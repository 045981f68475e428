/**
 * What a seeding run would replace: the domain databases already in the
 * data folder, and the sealed documents the issuing domains keep in theirs
 * (with their live status: a revocation lives only there). Seeding writes
 * the five domain databases and nothing else; the audit trail, the
 * revocation list of tokens, and the keys (seals/, keys/, dev-idp/) are
 * never touched.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SUBGRAPHS, databaseFileOf } from '../../subgraphs/catalog.js';
import { inspectDatabaseFile } from '../../common/sqlite/database-file.js';
import { DatabaseFileError } from '../../common/sqlite/errors.js';

/** The domain database files present in `dataDir`, whatever their state (an empty or damaged one counts). */
export function existingDomainDatabases(dataDir: string): string[] {
  return SUBGRAPHS.map((subgraph) => databaseFileOf(dataDir, subgraph.name)).filter((file) => existsSync(file));
}

/** Issued documents one domain database keeps, or why that cannot be told. */
export type IssuedDocumentsFinding = { file: string; documents: number; revoked: number } | { file: string; unreadable: string };

/**
 * The issued documents of each issuing domain's database in `dataDir`
 * that keeps any, and the databases that cannot be read (which may keep
 * some). A missing or empty (0-byte) file keeps none.
 */
export function issuedDocumentsIn(dataDir: string): IssuedDocumentsFinding[] {
  const findings: IssuedDocumentsFinding[] = [];
  for (const subgraph of SUBGRAPHS.filter((s) => s.issuesDocuments)) {
    const file = databaseFileOf(dataDir, subgraph.name);
    try {
      const { tables } = inspectDatabaseFile(file, { integrity: false });
      if (!tables.includes('issued_documents')) continue;
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("SELECT count(*) AS documents, count(*) FILTER (WHERE status = 'REVOKED') AS revoked FROM issued_documents").get() as {
          documents: number;
          revoked: number;
        };
        if (row.documents > 0) findings.push({ file, ...row });
      } finally {
        db.close();
      }
    } catch (error) {
      if (error instanceof DatabaseFileError && (error.code === 'MISSING' || error.code === 'EMPTY')) continue;
      findings.push({ file, unreadable: (error as Error).message });
    }
  }
  return findings;
}

/** The findings in words, one clause per file. */
export function describeIssuedDocuments(findings: readonly IssuedDocumentsFinding[]): string {
  return findings
    .map((finding) =>
      'unreadable' in finding
        ? `${finding.unreadable}, so whether it keeps issued documents cannot be told`
        : `${finding.file} keeps ${finding.documents} issued document${finding.documents === 1 ? '' : 's'} (${finding.revoked} revoked)`,
    )
    .join('; ');
}
