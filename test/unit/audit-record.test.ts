import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeAuditEntry, sealRecord, withheldEntry } from '../../gateway/audit/entry.js';

const BASE = Date.parse('2026-03-01T08:00:02.000Z');
import { auditKeyFile, canonicalRecord, ensureAuditKey, hashRecord, loadAuditKey, subjectHash, type AuditRecord } from '../../common/audit/record.js';
import { RECORD_COLUMNS, recordToRow } from '../../common/audit/columns.js';
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

    it('serialises a WITHHELD record in the same positions, naming the record it follows in detail', () => {
      const withheld = sealRecord(
        normalizeAuditEntry(withheldEntry(record, { httpStatus: 0, errorCode: 'SHUTTING_DOWN' }, new Date(BASE))),
        'gateway-a',
        2,
        record.hash,
      );
      expect(canonicalRecord(withoutHash(withheld))).toBe(
        `["kuasheng-audit-record/1","gateway-a",2,"${record.hash}",` +
          '"WITHHELD","2026-03-01T08:00:02.000Z","req-1","gateway-test",' +
          '["system-a","org-bj-hr","110000","https://idp.bj.example.cn","jti-1"],"TB-HJ-004","CASE-1",' +
          '["Dossier","query","ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"],' +
          '[],[],[["household","Person","a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"]],' +
          '"FAILED",0,["SHUTTING_DOWN"],0,{"withholds":"gateway-a:1"}]',
      );
    });

    it('refuses a WITHHELD entry that names no record it follows', () => {
      const entry = withheldEntry(record, { httpStatus: 503, errorCode: 'AUDIT_UNAVAILABLE' });
      expect(() => normalizeAuditEntry({ ...entry, detail: {} })).toThrow(/detail\.withholds/);
      expect(() => normalizeAuditEntry({ ...entry, detail: { withholds: 'gateway-a' } })).toThrow(/detail\.withholds/);
      expect(() => normalizeAuditEntry({ ...entry, kind: 'DELIVERED' as never })).toThrow(/kind/);
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

  describe('canonicalRecord on records as they may be found (rows changed by hand included)', () => {
    const base = sealRecord(requestEntry(1), 'gateway-a', 1, '0'.repeat(64));
    /** The documented serialisation, written the plain way: what the optimised one must equal. */
    const reference = (r: Omit<AuditRecord, 'hash'>): string =>
      JSON.stringify([
        'kuasheng-audit-record/1',
        r.chainId,
        r.seq,
        r.prevHash,
        r.kind,
        r.time,
        r.requestId,
        r.replica,
        r.caller === null || r.caller === undefined
          ? null
          : [r.caller.subject, r.caller.organisation, r.caller.province, r.caller.issuer, r.caller.tokenId],
        r.matter ?? null,
        r.caseNumber ?? null,
        [r.operation?.name ?? null, r.operation?.type ?? null, r.operation?.hash ?? null],
        r.requested,
        r.denied,
        Array.isArray(r.disclosed)
          ? r.disclosed.map((d) => (d !== null && typeof d === 'object' ? [d.subgraph, d.type, d.subject] : d))
          : r.disclosed,
        r.outcome,
        r.httpStatus,
        r.errorCodes,
        r.latencyMs,
        r.detail ?? null,
      ]);
    const item = (subgraph: unknown, type: unknown, subject: unknown) => ({ subgraph, type, subject }) as AuditRecord['disclosed'][number];
    it.each<[string, Partial<Record<keyof AuditRecord, unknown>>]>([
      [
        'a 50-person batch from two domains',
        {
          disclosed: ['household', 'credit'].flatMap((subgraph) =>
            Array.from({ length: 50 }, (_, i) => item(subgraph, 'Person', i.toString(16).padStart(64, 'a'))),
          ),
        },
      ],
      ['no disclosure', { disclosed: [] }],
      ['names that need escaping', { disclosed: [item('户籍"\\', 'Per\u2028son', 'x\u0000y'), item('household', 'Organisation', '😀')] }],
      ['a Chinese organisation', { caller: { subject: 's', organisation: '西藏自治区公安厅', province: '540000', issuer: 'i', tokenId: 't' } }],
      ['items that are not objects', { disclosed: [null, 3, 'household', ['household', 'Person', 'a1']] }],
      [
        'items with a field missing or not a string',
        { disclosed: [{ subgraph: 'household', type: 'Person' }, item('household', 'Person', 7), item(null, 'Person', 'a1')] },
      ],
      ['a list that is not a list', { disclosed: 'household:Person:a1' }],
      ['no list at all', { disclosed: undefined }],
      ['a null list', { disclosed: null }],
      ['other fields missing', { requested: undefined, errorCodes: null, operation: undefined, caller: undefined }],
    ])('equals the documented serialisation, and hashes it: %s', (_name, change) => {
      const record = { ...withoutHash(base), ...change } as Omit<AuditRecord, 'hash'>;
      const text = canonicalRecord(record);
      expect(text).toBe(reference(record));
      expect(hashRecord(record)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
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

    it('freezes its own copy of the disclosed list, so the row written is the text that was hashed', () => {
      const entry = requestEntry(1);
      const normalized = normalizeAuditEntry(entry);
      expect(Object.isFrozen(normalized.disclosed)).toBe(true);
      expect(normalized.disclosed.every((item) => Object.isFrozen(item))).toBe(true);
      expect(() => ((normalized.disclosed[0] as { subject: string }).subject = 'f'.repeat(64))).toThrow(TypeError);
      // The caller's entry stays the caller's.
      expect(Object.isFrozen(entry.disclosed) || Object.isFrozen(entry.disclosed[0])).toBe(false);
      const record = sealRecord(normalized, 'gateway-a', 1, '0'.repeat(64));
      const stored = recordToRow(record)[RECORD_COLUMNS.indexOf('disclosed')] as string;
      expect(canonicalRecord(withoutHash(record))).toContain(`,${stored},`);
      expect(JSON.parse(stored)).toEqual(entry.disclosed.map((d) => [d.subgraph, d.type, d.subject]));
    });

    it('writes the disclosed list exactly as JSON.stringify would, whatever the domain and type names hold', () => {
      const names = ['household', '户籍', 'a"b\\c', 'tab\there', 'line\u2028sep', '\u0001ctl', 'emoji 😀'];
      const disclosed = names.flatMap((name, i) => [
        { subgraph: name, type: 'Person', subject: `${i}`.repeat(64) },
        { subgraph: 'credit', type: name, subject: 'ab'.repeat(32) },
      ]);
      const normalized = normalizeAuditEntry(requestEntry(1, { disclosed }));
      const record = sealRecord(normalized, 'gateway-a', 1, '0'.repeat(64));
      const expected = JSON.stringify(disclosed.map((d) => [d.subgraph, d.type, d.subject]));
      expect(recordToRow(record)[RECORD_COLUMNS.indexOf('disclosed')]).toBe(expected);
      // The hash is the one of the list as a reader gets it back (not frozen, so written out by JSON.stringify).
      expect(hashRecord({ ...withoutHash(record), disclosed: JSON.parse(JSON.stringify(disclosed)) })).toBe(record.hash);
    });

    it('still refuses a raw identifier after accepting hashes (the check of each subject is remembered only for hashes)', () => {
      const hash = 'c3'.repeat(32);
      normalizeAuditEntry(requestEntry(1, { disclosed: [{ subgraph: 'household', type: 'Person', subject: hash }] }));
      for (const subject of [hash.toUpperCase(), `${hash} `, '110101199003071234']) {
        expect(() => normalizeAuditEntry(requestEntry(2, { disclosed: [{ subgraph: 'household', type: 'Person', subject }] }))).toThrow(
          expect.objectContaining({ code: 'INVALID_AUDIT_ENTRY', field: 'disclosed[0].subject' }),
        );
      }
    });

    it('replaces characters PostgreSQL cannot store, before the hash is computed', () => {
      const normalized = normalizeAuditEntry(requestEntry(1, { requestId: 'a\u0000b\uD800', detail: { 'k\u0000': 'v\u0000' } }));
      expect(normalized.requestId).toBe('a\uFFFDb\uFFFD');
      expect(normalized.detail).toEqual({ 'k\uFFFD': 'v\uFFFD' });
    });

    it('stores a detail as JSON would give it back, whatever it holds', () => {
      class Box {
        constructor(readonly n: number) {}
      }
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      const details: Record<string, unknown>[] = [
        { clientRequestId: 'r-1', cost: { estimated: 12, actual: 7 }, tags: ['a', true, null, 0] },
        { when: new Date('2026-01-02T03:04:05Z'), box: new Box(3), nested: { x: [1, { y: 'z' }] } },
        { gone: undefined, inArray: [undefined, Number.NaN, Number.POSITIVE_INFINITY], fn: () => 1 },
        { '2': 'b', '1': 'a', z: 'last', own: Object.create(null) },
        { custom: { toJSON: () => 'as text' } },
        { deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 'ten levels' } } } } } } } } } } },
      ];
      for (const detail of details) {
        const normalized = normalizeAuditEntry(requestEntry(1, { detail }));
        expect(JSON.stringify(normalized.detail)).toBe(JSON.stringify(detail));
        expect(normalized.detail).not.toBe(detail); // a copy: later changes to the draft do not reach the record
      }
      expect(() => normalizeAuditEntry(requestEntry(1, { detail: cyclic }))).toThrow(
        expect.objectContaining({ code: 'INVALID_AUDIT_ENTRY', field: 'detail' }),
      );
      expect(() => normalizeAuditEntry(requestEntry(1, { detail: { n: 10n } }))).toThrow(expect.objectContaining({ field: 'detail' }));
    });

    it.each([
      ['disclosed[0].subject', { disclosed: [{ subgraph: 'household', type: 'Person', subject: '110101199003071234' }] }],
      // A raw identifier after an accepted hash is still refused.
      [
        'disclosed[2].subject',
        {
          disclosed: [
            { subgraph: 'household', type: 'Person', subject: 'a1'.repeat(32) },
            { subgraph: 'credit', type: 'Person', subject: 'a1'.repeat(32) },
            { subgraph: 'credit', type: 'Person', subject: '110101199003071234' },
          ],
        },
      ],
      [
        'disclosed[1].subgraph',
        {
          disclosed: [
            { subgraph: 'household', type: 'Person', subject: 'a1'.repeat(32) },
            { subgraph: 7, type: 'Person', subject: 'a1'.repeat(32) },
          ],
        },
      ],
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
