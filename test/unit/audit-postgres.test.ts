import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openAuditStore } from '../../common/audit/store.js';
import { defineAuditStoreSuite } from '../support/audit-store-suite.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** Nothing listens on port 1: connections are refused at once. */
const UNREACHABLE_URL = 'postgres://postgres@127.0.0.1:1/test';

defineAuditStoreSuite({
  name: 'PostgreSQL',
  async createDatabase() {
    // Each database is a schema of its own, dropped afterwards: runs never see each other's chains.
    const schema = `audit_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${schema}` });
    return {
      open: () => openAuditStore({ databaseUrl: DATABASE_URL, schema }),
      async execute(sql, params = []) {
        let n = 0;
        await admin.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      },
      cliArguments: ['--database', `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`],
      // The subject index is written in the same transaction as the records: without it, a batch must fail as a whole.
      breakWrites: async () => void (await admin.query('ALTER TABLE audit_subjects RENAME TO audit_subjects_away')),
      mendWrites: async () => void (await admin.query('ALTER TABLE audit_subjects_away RENAME TO audit_subjects')),
      dropIndexRows: async (chainId, seq) => void (await admin.query('DELETE FROM audit_subjects WHERE chain_id = $1 AND seq = $2', [chainId, seq])),
      forgeIndexRow: async (chainId, seq, subjectHash) =>
        void (await admin.query('INSERT INTO audit_subjects (subject_hash, chain_id, seq) VALUES ($1, $2, $3)', [subjectHash, chainId, seq])),
      async drop() {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      },
    };
  },
  async openUnavailable() {
    return openAuditStore({ databaseUrl: UNREACHABLE_URL, connectionTimeoutMillis: 1000 });
  },
});
