import { generateKeyPairSync } from 'node:crypto';
import { COSIGNATURE_V1, formatVerifierKey, noteSignerKey } from '../../common/audit/note.js';
import { describe, expect, it } from 'vitest';
import { parseAuditExportArguments, parseAuditVerifyArguments } from '../../common/audit/cli-arguments.js';
import { auditRetentionFromEnv, normalizeAuditRetentionOptions, retentionCutoff } from '../../gateway/audit/retention.js';
import { normalizeAuditStoreOptions, type AuditStore } from '../../common/audit/store.js';
import { normalizeAuditWriterOptions, type AuditWriterOptions } from '../../gateway/audit/writer.js';

/** Enough of a store for option checks, which never call it. */
const store = { appendBatch: async () => {} } as unknown as AuditStore;
const signing = { key: new Uint8Array(32), kid: 'gateway-1' };

describe('audit options', () => {
  describe('writer', () => {
    it('fills the documented defaults: a checkpoint every 10 s or 1000 records, batches of at most 512, the gateway’s 5 ms commit delay', () => {
      expect(normalizeAuditWriterOptions({ store, chainId: 'gateway-a', signing })).toMatchObject({
        checkpointIntervalMs: 10_000,
        checkpointEveryRecords: 1000,
        maxBatch: 512,
        commitDelayMs: 5,
        replica: 'gateway-a',
      });
      expect(normalizeAuditWriterOptions({ store, chainId: 'gateway-a', signing }).commitSiblings()).toBe(0);
    });

    it.each<[string, Partial<AuditWriterOptions>]>([
      ['chainId', { chainId: 'has spaces' }],
      ['signing.kid', { signing: { key: signing.key, kid: '' } }],
      ['checkpointIntervalMs', { checkpointIntervalMs: 0 }],
      ['checkpointEveryRecords', { checkpointEveryRecords: 1.5 }],
      ['maxBatch', { maxBatch: 0 }],
      ['commitDelayMs', { commitDelayMs: 1001 }],
      ['commitDelayMs', { commitDelayMs: -1 }],
      ['commitSiblings', { commitSiblings: 3 as never }],
      ['logger', { logger: {} as never }],
    ])('refuses a bad %s at start-up, naming it (INVALID_AUDIT_OPTION)', (option, change) => {
      expect(() => normalizeAuditWriterOptions({ store, chainId: 'gateway-a', signing, ...change })).toThrow(
        expect.objectContaining({ code: 'INVALID_AUDIT_OPTION', option }),
      );
    });
  });

  describe('store', () => {
    it('defaults to the SQLite file <dataDir>/audit.db and selects PostgreSQL for a postgres:// URL', () => {
      expect(normalizeAuditStoreOptions()).toEqual({
        backend: 'sqlite',
        file: 'data/audit.db',
        readOnly: false,
        logger: { warn: expect.any(Function) },
      });
      expect(normalizeAuditStoreOptions({ dataDir: '/srv/kuasheng' })).toMatchObject({ file: '/srv/kuasheng/audit.db' });
      expect(normalizeAuditStoreOptions({ databaseUrl: 'postgres://audit@db/kuasheng' })).toMatchObject({
        backend: 'postgres',
        connectionTimeoutMillis: 2000,
        statementTimeoutMillis: 10_000,
      });
    });

    it.each([
      ['databaseUrl', { databaseUrl: 'mysql://db/kuasheng' }],
      ['schema', { databaseUrl: 'postgres://db/kuasheng', schema: 'Robert"); DROP' }],
      ['connectionTimeoutMillis', { databaseUrl: 'postgres://db/kuasheng', connectionTimeoutMillis: -1 }],
      ['logger', { logger: { info: () => {} } as never }],
    ])('refuses a bad %s, naming it', (option, options) => {
      expect(() => normalizeAuditStoreOptions(options)).toThrow(expect.objectContaining({ code: 'INVALID_AUDIT_OPTION', option }));
    });
  });

  describe('retention', () => {
    it('keeps records three years by default and refuses less', () => {
      expect(normalizeAuditRetentionOptions().retentionDays).toBe(1095);
      expect(() => normalizeAuditRetentionOptions({ retentionDays: 365 })).toThrow(expect.objectContaining({ option: 'retentionDays' }));
      expect(normalizeAuditRetentionOptions({ retentionDays: 1, allowShortRetention: true }).retentionDays).toBe(1);
    });

    it('reads AUDIT_RETENTION_DAYS, whose minimum only the test override lifts', () => {
      expect(auditRetentionFromEnv({})).toEqual({ retentionDays: 1095, allowShortRetention: false });
      expect(auditRetentionFromEnv({ AUDIT_RETENTION_DAYS: '2000' }).retentionDays).toBe(2000);
      expect(() => auditRetentionFromEnv({ AUDIT_RETENTION_DAYS: '30' })).toThrow(expect.objectContaining({ variable: 'AUDIT_RETENTION_DAYS' }));
      expect(auditRetentionFromEnv({ AUDIT_RETENTION_DAYS: '30', AUDIT_RETENTION_TEST_OVERRIDE: '1' }).retentionDays).toBe(30);
    });

    it('cuts off at now minus the retention', () => {
      const now = () => new Date('2029-03-01T00:00:00.000Z');
      expect(retentionCutoff({ now })).toBe('2026-03-02T00:00:00.000Z');
    });
  });

  describe('audit:verify arguments', () => {
    it('verifies <data dir>/audit.db with <data dir>/keys/gateway.jwks.json by default', () => {
      expect(parseAuditVerifyArguments([], {})).toEqual({
        kind: 'store',
        store: { file: 'data/audit.db' },
        jwksFile: 'data/keys/gateway.jwks.json',
        witnesses: [],
      });
      expect(parseAuditVerifyArguments(['--data-dir', '/srv/k'], {})).toMatchObject({
        store: { file: '/srv/k/audit.db' },
        jwksFile: '/srv/k/keys/gateway.jwks.json',
      });
    });

    it('takes PostgreSQL from --database or AUDIT_DATABASE_URL, unless --file is given', () => {
      const env = { AUDIT_DATABASE_URL: 'postgres://db/audit' };
      expect(parseAuditVerifyArguments([], env)).toMatchObject({ store: { databaseUrl: 'postgres://db/audit' } });
      expect(parseAuditVerifyArguments(['--file', 'x.db'], env)).toMatchObject({ store: { file: 'x.db' } });
      expect(parseAuditVerifyArguments(['--database', 'postgresql://other/audit'], env)).toMatchObject({
        store: { databaseUrl: 'postgresql://other/audit' },
      });
    });

    it('verifies an export against --jwks, or the key set in the export', () => {
      expect(parseAuditVerifyArguments(['--export', 'a.ndjson'], {})).toEqual({ kind: 'export', exportFile: 'a.ndjson', jwksFile: null });
      expect(parseAuditVerifyArguments(['--export', 'a.ndjson', '--jwks', 'k.json'], {})).toMatchObject({ jwksFile: 'k.json' });
    });

    it('checks the store against the witnesses of --witness, else AUDIT_WITNESSES', () => {
      const vkey = formatVerifierKey(noteSignerKey('witness.test', COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
      const env = { AUDIT_WITNESSES: `http://127.0.0.1:4090 ${vkey}` };
      expect(parseAuditVerifyArguments([], env)).toMatchObject({ witnesses: [{ name: 'witness.test', url: 'http://127.0.0.1:4090', vkey }] });
      expect(parseAuditVerifyArguments(['--witness', `http://10.0.0.9:4090 ${vkey}`], env)).toMatchObject({
        witnesses: [{ url: 'http://10.0.0.9:4090' }],
      });
      expect(() => parseAuditVerifyArguments(['--witness', 'http://10.0.0.9:4090'], {})).toThrow(expect.objectContaining({ argument: '--witness' }));
      expect(() => parseAuditVerifyArguments([], { AUDIT_WITNESSES: 'nonsense' })).toThrow(expect.objectContaining({ argument: 'AUDIT_WITNESSES' }));
    });

    it('verifies a receipt with its proof against the witness keys given, a quorum of them', () => {
      expect(
        parseAuditVerifyArguments(['--receipt', 'r.json', '--proof', 'p.json', '--witness-key', 'a', '--witness-key', 'b', '--quorum', '2'], {}),
      ).toEqual({
        kind: 'receipt',
        receiptFile: 'r.json',
        proofFile: 'p.json',
        jwksFile: 'data/keys/gateway.jwks.json',
        witnessKeys: ['a', 'b'],
        quorum: 2,
      });
    });

    it.each([
      ['--proof', ['--receipt', 'r.json', '--witness-key', 'a']],
      ['--receipt', ['--proof', 'p.json', '--witness-key', 'a']],
      ['--witness-key', ['--receipt', 'r.json', '--proof', 'p.json']],
      ['--quorum', ['--receipt', 'r.json', '--proof', 'p.json', '--witness-key', 'a', '--quorum', '2']],
      ['--receipt', ['--receipt', 'r.json', '--proof', 'p.json', '--witness-key', 'a', '--file', 'x.db']],
    ])('refuses a receipt check without what it needs, naming %s', (argument, argv) => {
      expect(() => parseAuditVerifyArguments(argv, {})).toThrow(expect.objectContaining({ argument }));
    });

    it.each([
      ['arguments', ['--verbose']],
      ['--database', ['--database', 'postgres://db/a', '--file', 'x.db']],
      ['--database', ['--database', 'redis://db/a']],
      ['--export', ['--export', 'a.ndjson', '--file', 'x.db']],
      ['--file', ['--file', '']],
    ])('refuses bad arguments, naming %s', (argument, argv) => {
      expect(() => parseAuditVerifyArguments(argv, {})).toThrow(expect.objectContaining({ argument }));
    });
  });

  describe('audit:export arguments', () => {
    it('needs --from and --to, in order', () => {
      expect(parseAuditExportArguments(['--from', '2026-01-01', '--to', '2026-02-01T00:00:00+08:00', '--out', 'x.ndjson'], {})).toEqual({
        store: { file: 'data/audit.db' },
        jwksFile: 'data/keys/gateway.jwks.json',
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-31T16:00:00.000Z',
        out: 'x.ndjson',
      });
      expect(() => parseAuditExportArguments(['--to', '2026-01-01'], {})).toThrow(expect.objectContaining({ argument: '--from' }));
      expect(() => parseAuditExportArguments(['--from', '2026-02-01', '--to', '2026-01-01'], {})).toThrow(
        expect.objectContaining({ argument: '--from' }),
      );
      expect(() => parseAuditExportArguments(['--from', 'last week', '--to', '2026-01-01'], {})).toThrow(
        expect.objectContaining({ argument: '--from' }),
      );
    });
  });
});
