import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../common/audit/record.js';
import { subjectIndexFile } from '../../common/audit/store-sqlite.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { BLOCK_ENTRIES, blockLength, keyAt, keyHex, packBlocks, seqAt, seqsOfKey, subjectKey } from '../../common/audit/subject-runs.js';
import { verifyAuditStore } from '../../common/audit/verifier.js';
import { createAuditWriter, type AuditWriter, type AuditWriterOptions } from '../../gateway/audit/writer.js';
import { rejectionOf, requestEntry } from '../support/audit-store-suite.js';

const hex = (prefix: string): string => prefix.padEnd(64, '0');
/** Two persons whose hashes share the 13 digits the index keys on, and a third. */
const TWINS = [`${'abcdef0123456'}${'1'.repeat(51)}`, `${'abcdef0123456'}${'2'.repeat(51)}`];
const OTHER = hex('7');

describe('the SQLite person-search index (runs of sorted keys)', () => {
  describe('blocks', () => {
    it('sorts entries by key then seq, and finds every seq of a key and none of another', () => {
      const keys = [5, 3, 5, 9, 3, 5];
      const seqs = [4, 2, 1, 7, 9, 3];
      const [block] = packBlocks(keys, seqs);
      const pairs = Array.from({ length: blockLength(block.entries) }, (_, i) => [keyAt(block.entries, i), seqAt(block.entries, i)]);
      expect(pairs).toEqual([
        [3, 2],
        [3, 9],
        [5, 1],
        [5, 3],
        [5, 4],
        [9, 7],
      ]);
      expect(block.firstKey).toBe(3);
      expect(seqsOfKey(block.entries, 5)).toEqual([1, 3, 4]);
      expect(seqsOfKey(block.entries, 9)).toEqual([7]);
      expect(seqsOfKey(block.entries, 4)).toEqual([]);
      expect(seqsOfKey(block.entries, 10)).toEqual([]);
    });

    it('cuts blocks between keys, never through one, so a search reads one block per run', () => {
      const count = BLOCK_ENTRIES * 3;
      // One key holds more entries than a block; the others one each.
      const keys = Array.from({ length: count }, (_, i) => (i < BLOCK_ENTRIES + 10 ? 42 : 1000 + i));
      const seqs = Array.from({ length: count }, (_, i) => i + 1);
      const blocks = packBlocks(keys, seqs);
      expect(blocks.length).toBeGreaterThan(1);
      expect(blocks.map((b) => blockLength(b.entries)).reduce((a, b) => a + b)).toBe(count);
      const holding42 = blocks.filter((b) => seqsOfKey(b.entries, 42).length > 0);
      expect(holding42).toHaveLength(1);
      expect(seqsOfKey(holding42[0].entries, 42)).toHaveLength(BLOCK_ENTRIES + 10);
      for (let i = 1; i < blocks.length; i++)
        expect(blocks[i].firstKey).toBeGreaterThan(keyAt(blocks[i - 1].entries, blockLength(blocks[i - 1].entries) - 1));
    });

    it('keys a hash by its first 13 hex digits, and anything else by its SHA-256', () => {
      expect(subjectKey(TWINS[0])).toBe(0xabcdef0123456);
      expect(subjectKey(TWINS[0])).toBe(subjectKey(TWINS[1]));
      expect(keyHex(subjectKey(hex('0000000000001')))).toBe('0000000000001');
      expect(subjectKey('not a hash')).toBe(subjectKey('not a hash'));
      expect(Number.isSafeInteger(subjectKey('not a hash'))).toBe(true);
      // As parseInt reads the digits, upper case included; a non-hex digit among the 13 means the SHA-256 path.
      for (const head of ['0123456789abc', 'ABCDEF0123456', 'fffffffffffff', '0000000000000', '9f8E7d6C5b4A3']) {
        expect(subjectKey(`${head}${'9'.repeat(51)}`)).toBe(Number.parseInt(head, 16));
      }
      for (const odd of [`012345678901g${'0'.repeat(51)}`, 'abc', 'Person:110101199003071234']) {
        expect(subjectKey(odd)).toBe(Number.parseInt(createHash('sha256').update(odd, 'utf8').digest('hex').slice(0, 13), 16));
      }
    });
  });

  describe('in a store', () => {
    const folders: string[] = [];
    const stores: AuditStore[] = [];
    const writers: AuditWriter[] = [];
    let signing: AuditWriterOptions['signing'];
    let jwks: { keys: JWK[] };

    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      signing = { key: privateKey, kid: 'gateway-test' };
      jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'gateway-test', alg: 'EdDSA', use: 'sig' }] };
    });

    afterEach(async () => {
      await Promise.all(writers.splice(0).map((w) => w.close()));
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    afterAll(() => {
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    });

    function auditFile(): string {
      const folder = mkdtempSync(join(tmpdir(), 'kuasheng-audit-index-'));
      folders.push(folder);
      return join(folder, 'audit.db');
    }

    async function open(file: string): Promise<AuditStore> {
      const store = await openAuditStore({ file });
      stores.push(store);
      return store;
    }

    async function writer(store: AuditStore, options: Partial<AuditWriterOptions> = {}): Promise<AuditWriter> {
      const created = await createAuditWriter({ store, chainId: 'gateway-a', signing, checkpointIntervalMs: 3_600_000, ...options });
      writers.push(created);
      return created;
    }

    /** Record i discloses persons[i % persons.length]. */
    function entry(i: number, persons: string[][], time?: string) {
      return requestEntry(i, {
        ...(time ? { time } : {}),
        disclosed: persons[i % persons.length].map((subject) => ({ subgraph: 'household', type: 'Person', subject })),
      });
    }

    /** Everything a search by person finds, newest first, as chain:seq. */
    async function searchAll(store: AuditStore, subjectHash: string): Promise<string[]> {
      const found: AuditRecord[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.search({ subjectHash }, { first: 50, after });
        found.push(...page.records);
        if (!page.hasNextPage) return found.map((r) => `${r.chainId}:${r.seq}`);
        after = page.endCursor;
      }
    }

    function indexRuns(file: string): { level: number; entries: number; from_seq: number; to_seq: number }[] {
      const db = new Database(subjectIndexFile(file), { readonly: true });
      try {
        return db.prepare('SELECT level, entries, from_seq, to_seq FROM subject_runs ORDER BY from_seq').all() as never;
      } finally {
        db.close();
      }
    }

    it('keeps the index in a file of its own beside the audit file', () => {
      expect(subjectIndexFile('/var/lib/kuasheng/audit.db')).toBe('/var/lib/kuasheng/audit.subjects.db');
      expect(subjectIndexFile('/data/audit')).toBe('/data/audit.subjects.db');
    });

    it('merges runs as they accumulate, finding the same records at every stage', async () => {
      const file = auditFile();
      const store = await open(file);
      const chain = await writer(store);
      const persons = [[TWINS[0], OTHER], [OTHER], [TWINS[1]], []];
      const expected: string[] = [];
      for (let i = 1; i <= 40; i++) {
        const record = await chain.append(entry(i, persons));
        if (record.disclosed.some((d) => d.subject === TWINS[0])) expected.unshift(`gateway-a:${record.seq}`);
        // A settle after every few records makes a run of each: enough of them to merge twice.
        if (i % 2 === 0) await store.settleIndex();
      }
      const runs = indexRuns(file);
      expect(runs.some((r) => r.level === 1)).toBe(true);
      expect(runs.length).toBeLessThan(20);
      // Runs of a chain follow each other without gap or overlap.
      expect(runs[0].from_seq).toBe(1);
      for (let i = 1; i < runs.length; i++) expect(runs[i].from_seq).toBe(runs[i - 1].to_seq + 1);
      // The twin shares the key: the index names its records too, and the search must drop them.
      expect(await searchAll(store, TWINS[0])).toEqual(expected);
      expect((await searchAll(store, TWINS[1])).length).toBe(10);
      expect(await store.accessReport(TWINS[1], '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z')).toEqual([
        expect.objectContaining({ accesses: 10 }),
      ]);
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
    });

    it('rebuilds a lost index from the records, and searches stay complete meanwhile', async () => {
      const file = auditFile();
      let store = await open(file);
      const chain = await writer(store);
      for (let i = 1; i <= 12; i++) await chain.append(entry(i, [[OTHER], [TWINS[0]]]));
      await store.settleIndex();
      const before = await searchAll(store, OTHER);
      expect(before).toHaveLength(6);
      await chain.close();
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(subjectIndexFile(file) + suffix, { force: true });

      store = await open(file);
      expect(existsSync(subjectIndexFile(file))).toBe(false);
      expect(await searchAll(store, OTHER)).toEqual(before);
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      await store.settleIndex();
      expect(indexRuns(file).reduce((n, r) => n + r.entries, 0)).toBe(12);
      expect(await searchAll(store, OTHER)).toEqual(before);
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
    });

    it('indexes records that another process appended, reading them back from the file', async () => {
      const file = auditFile();
      const appending = await open(file);
      const chain = await writer(appending);
      for (let i = 1; i <= 5; i++) await chain.append(entry(i, [[OTHER]]));
      const other = await open(file);
      await other.settleIndex();
      expect(indexRuns(file).reduce((n, r) => n + r.entries, 0)).toBe(5);
      // The appending store's own index thread finds the work done and does not file them twice.
      await appending.settleIndex();
      expect(indexRuns(file).reduce((n, r) => n + r.entries, 0)).toBe(5);
      expect(await searchAll(other, OTHER)).toEqual(['gateway-a:5', 'gateway-a:4', 'gateway-a:3', 'gateway-a:2', 'gateway-a:1']);
      expect((await verifyAuditStore(other, jwks)).ok).toBe(true);
    });

    it('hands the last records over when the store closes, without warning the operator of a failing index', async () => {
      const file = auditFile();
      const warnings: { object: object; message: string }[] = [];
      const store = await openAuditStore({ file, logger: { warn: (object, message) => warnings.push({ object, message }) } });
      const chain = await writer(store);
      for (let i = 1; i <= 3; i++) await chain.append(entry(i, [[OTHER]]));
      await chain.close();
      await store.close();
      expect(warnings).toEqual([]);
      const reopened = await open(file);
      await reopened.settleIndex();
      expect(await searchAll(reopened, OTHER)).toEqual(['gateway-a:3', 'gateway-a:2', 'gateway-a:1']);
    });

    it('never holds up the audit: when the index cannot be written, appends succeed and searches read the records', async () => {
      const file = auditFile();
      // A folder where the index file should be: the index thread cannot open it.
      mkdirSync(subjectIndexFile(file));
      const warnings: { object: object; message: string }[] = [];
      const store = await openAuditStore({ file, logger: { warn: (object, message) => warnings.push({ object, message }) } });
      stores.push(store);
      const chain = await writer(store);
      for (let i = 1; i <= 6; i++) await chain.append(entry(i, [[OTHER], [TWINS[0]]]));
      expect(await searchAll(store, OTHER)).toEqual(['gateway-a:6', 'gateway-a:4', 'gateway-a:2']);
      expect(await rejectionOf(store.settleIndex())).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      // Reported to the operator, once for the minute however many records came.
      expect(warnings).toEqual([
        { object: expect.objectContaining({ indexFile: subjectIndexFile(file) }), message: expect.stringContaining('person-search index') },
      ]);
    });

    it('drops the runs that pruning emptied, and still verifies', async () => {
      const file = auditFile();
      const store = await open(file);
      const chain = await writer(store, { checkpointEveryRecords: 4 });
      const time = (i: number) => (i <= 8 ? new Date(Date.UTC(2020, 0, 1, 0, 0, i)).toISOString() : undefined);
      for (let i = 1; i <= 12; i++) {
        await chain.append(entry(i, [[OTHER]], time(i)));
        if (i % 4 === 0) await store.settleIndex();
      }
      expect(indexRuns(file).map((r) => [r.from_seq, r.to_seq])).toEqual([
        [1, 4],
        [5, 8],
        [9, 12],
      ]);
      expect((await store.prune('2021-01-01T00:00:00.000Z', chain)).ranges).toMatchObject([{ upToSeq: 8 }]);
      await store.settleIndex();
      // The PRUNE record (13) disclosed no one: it moves the watermark without a run.
      expect(indexRuns(file).map((r) => r.from_seq)).toEqual([9]);
      expect(await searchAll(store, OTHER)).toEqual(['gateway-a:12', 'gateway-a:11', 'gateway-a:10', 'gateway-a:9']);
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
    });

    it.each([
      ['lowered', -3],
      ['raised', 3],
    ])('reports INDEX_MISMATCH when the watermark is %s', async (_how, by) => {
      const file = auditFile();
      const store = await open(file);
      const chain = await writer(store);
      for (let i = 1; i <= 10; i++) await chain.append(entry(i, [[OTHER], [TWINS[0], TWINS[1]]]));
      await chain.append(entry(11, [[OTHER]]));
      await store.settleIndex();
      await chain.close();
      const db = new Database(subjectIndexFile(file));
      db.prepare('UPDATE subject_chains SET indexed_seq = indexed_seq + ?').run(by);
      db.close();
      expect((await verifyAuditStore(store, jwks)).problem).toMatchObject({ kind: 'INDEX_MISMATCH', chainId: 'gateway-a' });
    });

    it('reads records stored with one object per disclosed item (stores written before the compact form)', async () => {
      const file = auditFile();
      let store = await open(file);
      const chain = await writer(store);
      const written: AuditRecord[] = [];
      for (let i = 1; i <= 6; i++) written.push(await chain.append(entry(i, [[OTHER, TWINS[0]], [TWINS[1]]])));
      await Promise.all(writers.splice(0).map((w) => w.close()));
      await store.close();
      // The rows as the previous version wrote them, and no index: it is rebuilt from these rows.
      const legacy = new Database(file);
      const stored = legacy.prepare('SELECT disclosed FROM audit_records WHERE seq = 2').get() as { disclosed: string };
      expect(JSON.parse(stored.disclosed)).toEqual([
        ['household', 'Person', OTHER],
        ['household', 'Person', TWINS[0]],
      ]);
      const rewrite = legacy.prepare('UPDATE audit_records SET disclosed = ? WHERE chain_id = ? AND seq = ?');
      for (const record of written)
        rewrite.run(
          JSON.stringify(record.disclosed.map((d) => ({ subgraph: d.subgraph, type: d.type, subject: d.subject }))),
          record.chainId,
          record.seq,
        );
      legacy.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(subjectIndexFile(file) + suffix, { force: true });

      store = await open(file);
      const expected = {
        [OTHER]: ['gateway-a:6', 'gateway-a:4', 'gateway-a:2'],
        [TWINS[0]]: ['gateway-a:6', 'gateway-a:4', 'gateway-a:2'],
        [TWINS[1]]: ['gateway-a:5', 'gateway-a:3', 'gateway-a:1'],
      };
      for (const [subject, found] of Object.entries(expected)) expect(await searchAll(store, subject)).toEqual(found);
      const read: AuditRecord[] = [];
      for await (const record of store.readChain('gateway-a')) read.push(record);
      expect(read).toEqual(written);
      await store.settleIndex();
      expect(indexRuns(file).reduce((n, r) => n + r.entries, 0)).toBe(9);
      for (const [subject, found] of Object.entries(expected)) expect(await searchAll(store, subject)).toEqual(found);
      expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
    });

    it('drops the person index of an older version of the store when it opens', async () => {
      const file = auditFile();
      let store = await open(file);
      await (await writer(store)).append(entry(1, [[OTHER]]));
      await Promise.all(writers.splice(0).map((w) => w.close()));
      await store.close();
      // A store of a release before schema versions: the in-file person index, and no version recorded.
      const legacy = new Database(file);
      legacy.exec('CREATE TABLE audit_subjects (subject_hash TEXT, chain_id TEXT, seq INTEGER)');
      legacy.pragma('user_version = 0');
      legacy.close();

      store = await open(file);
      await (await writer(store)).append(entry(2, [[OTHER]]));
      const check = new Database(file, { readonly: true });
      expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'audit_subjects'").all()).toEqual([]);
      check.close();
      expect(await searchAll(store, OTHER)).toEqual(['gateway-a:2', 'gateway-a:1']);
    });
  });
});
