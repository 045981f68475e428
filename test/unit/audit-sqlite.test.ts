import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openAuditStore } from '../../gateway/audit/audit-store.js';
import { defineAuditStoreSuite } from '../support/audit-store-suite.js';

const folders: string[] = [];
const temporaryFolder = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-audit-sqlite-'));
  folders.push(folder);
  return folder;
};

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
        // A second connection, as an intruder with write access to the file would use.
        const db = new Database(file);
        try {
          db.pragma('busy_timeout = 5000');
          db.prepare(sql).run(...params);
        } finally {
          db.close();
        }
      },
      cliArguments: ['--file', file],
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
