import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('an audit.db of schema version 1 (checkpoints without trees)', () => {
  it('is migrated when opened, keeps verifying, and signs tree notes from then on', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { createAuditWriter } = await import('../../gateway/audit/writer.js');
    const { verifyAuditStore } = await import('../../common/audit/verifier.js');
    const { requestEntry } = await import('../support/audit-store-suite.js');
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] };
    const dataDir = temporaryFolder();
    const file = join(dataDir, 'audit.db');
    const first = await openAuditStore({ dataDir });
    const writer = await createAuditWriter({
      store: first,
      chainId: 'gateway-old',
      signing: { key: privateKey, kid: 'k1' },
      checkpointEveryRecords: 3,
    });
    for (let i = 1; i <= 6; i++) await writer.append(requestEntry(i));
    await writer.close();
    await first.close();
    // Back to what version 1 wrote: no tree columns, no cosignatures table, checkpoints without notes.
    tamper(file, (db) => {
      db.exec('DROP TABLE audit_cosignatures');
      for (const table of ['audit_checkpoints', 'audit_prunes'])
        for (const column of ['note', 'tree']) db.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
      db.pragma('user_version = 1');
    });

    // Read as it is (npm run audit:verify opens read-only): nothing migrated, the old checkpoints verify.
    const readOnly = await openAuditStore({ dataDir, readOnly: true });
    try {
      expect(await verifyAuditStore(readOnly, jwks)).toMatchObject({ ok: true, problem: null });
      expect(await readOnly.latestCosigned('gateway-old')).toBeNull();
    } finally {
      await readOnly.close();
    }
    const unmigrated = new Database(file, { readonly: true });
    expect(unmigrated.pragma('user_version', { simple: true })).toBe(1);
    unmigrated.close();

    const reopened = await openAuditStore({ dataDir });
    try {
      const again = await createAuditWriter({
        store: reopened,
        chainId: 'gateway-old',
        signing: { key: privateKey, kid: 'k1' },
        checkpointEveryRecords: 3,
      });
      for (let i = 7; i <= 9; i++) await again.append(requestEntry(i));
      await again.close();
      const checkpoints = await reopened.checkpoints('gateway-old');
      expect(checkpoints.map((c) => [c.seq, c.note !== undefined])).toEqual([
        [3, false],
        [6, false],
        [9, true],
      ]);
      expect(await verifyAuditStore(reopened, jwks)).toMatchObject({ ok: true, problem: null });
      const version = new Database(file, { readonly: true });
      expect(version.pragma('user_version', { simple: true })).toBe(2);
      version.close();
    } finally {
      await reopened.close();
    }
  });
});
