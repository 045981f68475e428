import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeAuditEntry, sealRecord } from '../../gateway/audit/audit-entry.js';
import {
  auditKeyFile,
  canonicalRecord,
  ensureAuditKey,
  hashRecord,
  loadAuditKey,
  subjectHash,
  type AuditRecord,
} from '../../gateway/audit/audit-record.js';
import { requestEntry } from '../support/audit-store-suite.js';

const folders: string[] = [];
const temporaryFolder = (): string => {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-audit-key-'));
  folders.push(folder);
  return folder;
};

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function withoutHash(record: AuditRecord): Omit<AuditRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  return rest;
}

describe('audit record', () => {
  describe('hashRecord', () => {
    const record = sealRecord(requestEntry(1, { detail: { b: 1, a: ['x'] } }), 'gateway-a', 1, '0'.repeat(64));

    it('hashes the documented canonical serialisation (records already written must keep verifying)', () => {
      expect(canonicalRecord(withoutHash(record))).toBe(
        '["kuasheng-audit-record/1","gateway-a",1,"0000000000000000000000000000000000000000000000000000000000000000",' +
          '"REQUEST","2026-03-01T08:00:01.000Z","req-1","gateway-test",' +
          '["system-a","org-bj-hr","110000","https://idp.bj.example.cn","jti-1"],"TB-HJ-004","CASE-1",' +
          '["Dossier","query","ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"],' +
          '["Query.person","Person.name"],[],[["household","Person","a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"]],' +
          '"ALLOWED",200,[],12.5,{"a":["x"],"b":1}]',
      );
      expect(record.hash).toBe('2c426e31dbbc94348de011e7ba059b6a1319e2fc46e5a0c5041241f2bf586d91');
    });

    it('does not depend on the order of object keys (jsonb reorders them)', () => {
      const reordered = JSON.parse(JSON.stringify({ ...record, detail: { a: ['x'], b: 1 }, caller: { ...record.caller!, tokenId: 'jti-1' } }));
      const shuffled = Object.fromEntries(Object.entries(reordered).reverse()) as unknown as AuditRecord;
      expect(hashRecord(shuffled)).toBe(record.hash);
    });

    it.each<[string, Partial<AuditRecord>]>([
      ['chainId', { chainId: 'gateway-b' }],
      ['seq', { seq: 2 }],
      ['prevHash', { prevHash: '1'.repeat(64) }],
      ['time', { time: '2026-03-01T08:00:01.001Z' }],
      ['caller', { caller: null }],
      ['matter', { matter: null }],
      ['requested', { requested: ['Query.person'] }],
      ['disclosed', { disclosed: [] }],
      ['outcome', { outcome: 'PARTIAL' }],
      ['latencyMs', { latencyMs: 12.6 }],
      ['detail', { detail: { b: 2, a: ['x'] } }],
    ])('changes when %s changes', (_field, change) => {
      expect(hashRecord({ ...record, ...change })).not.toBe(record.hash);
    });
  });

  describe('subjectHash', () => {
    const key = new Uint8Array(32);

    it('is HMAC-SHA256 of `type:identifier` under the audit key', () => {
      expect(subjectHash(key, 'Person', '110101199003071234')).toBe('b5ac8217e6b514d54bc7d9e09a56637b2636caf6ff5bc80079734b388119c5e3');
    });

    it('tells types apart and depends on the key', () => {
      expect(subjectHash(key, 'Organisation', '110101199003071234')).not.toBe(subjectHash(key, 'Person', '110101199003071234'));
      expect(subjectHash(new Uint8Array(32).fill(1), 'Person', '110101199003071234')).not.toBe(subjectHash(key, 'Person', '110101199003071234'));
    });
  });

  describe('audit key file', () => {
    it('is created once, 32 bytes, readable by its owner only', async () => {
      const dataDir = temporaryFolder();
      const key = await ensureAuditKey(dataDir);
      expect(key).toHaveLength(32);
      expect(statSync(auditKeyFile(dataDir)).mode & 0o777).toBe(0o600);
      expect(await ensureAuditKey(dataDir)).toEqual(key);
      expect(await loadAuditKey(auditKeyFile(dataDir))).toEqual(key);
    });

    it('is the same for processes that start together', async () => {
      const dataDir = temporaryFolder();
      const keys = await Promise.all(Array.from({ length: 8 }, () => ensureAuditKey(dataDir)));
      expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(1);
    });

    it('is refused when it does not hold exactly 32 bytes (INVALID_AUDIT_KEY)', async () => {
      const file = join(temporaryFolder(), 'short.key');
      writeFileSync(file, 'too short');
      await expect(loadAuditKey(file)).rejects.toMatchObject({ code: 'INVALID_AUDIT_KEY', file });
      await expect(loadAuditKey(join(temporaryFolder(), 'missing.key'))).rejects.toMatchObject({ code: 'INVALID_AUDIT_KEY' });
    });
  });

  describe('normalizeAuditEntry', () => {
    it('stores time as toISOString, fills absent optional fields, and copies the entry', () => {
      const entry = requestEntry(1, { time: '2026-03-01T16:00:01+08:00', detail: undefined });
      const normalized = normalizeAuditEntry(entry);
      expect(normalized.time).toBe('2026-03-01T08:00:01.000Z');
      expect(normalized).not.toHaveProperty('detail');
      entry.requested.push('Person.credit');
      expect(normalized.requested).toEqual(['Query.person', 'Person.name']);
    });

    it('replaces characters PostgreSQL cannot store, before the hash is computed', () => {
      const normalized = normalizeAuditEntry(requestEntry(1, { requestId: 'a\u0000b\uD800', detail: { 'k\u0000': 'v\u0000' } }));
      expect(normalized.requestId).toBe('a\uFFFDb\uFFFD');
      expect(normalized.detail).toEqual({ 'k\uFFFD': 'v\uFFFD' });
    });

    it.each([
      ['disclosed[0].subject', { disclosed: [{ subgraph: 'household', type: 'Person', subject: '110101199003071234' }] }],
      // Each subject is checked once per entry: a raw identifier after a checked hash is still refused.
      ['disclosed[2].subject', { disclosed: [
        { subgraph: 'household', type: 'Person', subject: 'a1'.repeat(32) },
        { subgraph: 'credit', type: 'Person', subject: 'a1'.repeat(32) },
        { subgraph: 'credit', type: 'Person', subject: '110101199003071234' },
      ] }],
      ['disclosed[1].subgraph', { disclosed: [
        { subgraph: 'household', type: 'Person', subject: 'a1'.repeat(32) },
        { subgraph: 7, type: 'Person', subject: 'a1'.repeat(32) },
      ] }],
      ['outcome', { outcome: 'MAYBE' }],
      ['time', { time: 'yesterday' }],
      ['caller.tokenId', { caller: { subject: 's', organisation: 'o', province: 'p', issuer: 'i' } }],
      ['httpStatus', { httpStatus: 200.5 }],
      ['latencyMs', { latencyMs: Number.NaN }],
      ['operation.type', { operation: { name: null, type: 'query!', hash: null } }],
    ])('refuses an entry with a bad %s (INVALID_AUDIT_ENTRY), never storing a raw identifier', (field, change) => {
      expect(() => normalizeAuditEntry(requestEntry(1, change as never))).toThrow(expect.objectContaining({ code: 'INVALID_AUDIT_ENTRY', field }));
    });
  });
});
