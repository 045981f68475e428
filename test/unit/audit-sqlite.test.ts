import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { subjectIndexFile } from '../../common/audit/store-sqlite.js';
import { openAuditStore } from '../../common/audit/store.js';
import { blockLength, keyAt, packBlocks, seqAt, subjectKey } from '../../common/audit/subject-runs.js';
import { defineAuditStoreSuite } from '../support/audit-store-suite.js';

const folders: string[] = [];
const temporaryFolder = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-audit-sqlite-'));
  folders.push(folder);
  return folder;
};

/** A second connection, as an intruder with write access to the file would use. */
function tamper(file: string, change: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.transaction(() => change(db))();
  } finally {
    db.close();
  }
}

/** Rewrites the index run that covers a record, as an intruder who understands the format would. */
function rewriteRun(file: string, chainId: string, seq: number, change: (keys: number[], seqs: number[]) => void): void {
  tamper(subjectIndexFile(file), (db) => {
    const found = db.prepare('SELECT run FROM subject_runs WHERE chain_id = ? AND from_seq <= ? AND to_seq >= ?').get(chainId, seq, seq) as
      | { run: number }
      | undefined;
    if (!found) throw new Error(`no index run covers ${chainId} ${seq}`);
    const keys: number[] = [];
    const seqs: number[] = [];
    for (const { entries } of db.prepare('SELECT entries FROM subject_blocks WHERE run = ?').all(found.run) as { entries: Buffer }[]) {
      for (let i = 0; i < blockLength(entries); i++) {
        keys.push(keyAt(entries, i));
        seqs.push(seqAt(entries, i));
      }
    }
    change(keys, seqs);
    db.prepare('DELETE FROM subject_blocks WHERE run = ?').run(found.run);
    for (const block of packBlocks(keys, seqs))
      db.prepare('INSERT INTO subject_blocks (run, first_key, entries) VALUES (?, ?, ?)').run(found.run, block.firstKey, block.entries);
  });
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

defineAuditStoreSuite({
  name: 'SQLite',
  async createDatabase() {
    const folder = temporaryFolder();
    const file = join(folder, 'audit.db');
    return {
      open: () => openAuditStore({ file }),
      async execute(sql, params = []) {
        tamper(file, (db) => db.prepare(sql).run(...params));
      },
      cliArguments: ['--file', file],
      async breakWrites() {
        tamper(file, (db) =>
          db.exec("CREATE TRIGGER audit_broken BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'the disk is broken'); END"),
        );
      },
      async mendWrites() {
        tamper(file, (db) => db.exec('DROP TRIGGER audit_broken'));
      },
      async dropIndexRows(chainId, seq) {
        rewriteRun(file, chainId, seq, (keys, seqs) => {
          for (let i = seqs.length - 1; i >= 0; i--) {
            if (seqs[i] !== seq) continue;
            keys.splice(i, 1);
            seqs.splice(i, 1);
          }
        });
      },
      async forgeIndexRow(chainId, seq, subjectHash) {
        rewriteRun(file, chainId, seq, (keys, seqs) => {
          keys.push(subjectKey(subjectHash));
          seqs.push(seq);
        });
      },
      async drop() {
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
  async openUnavailable() {
    // The "folder" is a file: the database can be neither created nor opened, whoever runs the test (root ignores modes).
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'not-a-folder'), '');
    return openAuditStore({ file: join(folder, 'not-a-folder', 'audit.db') });
  },
});
