import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_COLUMNS } from '../../common/audit/columns.js';
import { recordLeafHash, treeHash } from '../../common/audit/merkle.js';
import { auditLogOrigin, parseCheckpoint, parseNote } from '../../common/audit/note.js';
import { recordHashMatches, type AuditEntry, type AuditRecord } from '../../common/audit/record.js';
import type { AuditStore } from '../../common/audit/store.js';
import { exportAudit, verifyAuditExport, verifyAuditStore } from '../../common/audit/verifier.js';
import { AuditUnavailableError, createAuditWriter, type AuditWriter, type AuditWriterOptions } from '../../gateway/audit/writer.js';
import { createIntegrityMonitor, type IntegrityAnswer, type IntegrityMonitor } from '../../subgraphs/audit/integrity.js';

/** One isolated, empty audit database of a backend (a SQLite file, a PostgreSQL schema). */
export interface AuditTestDatabase {
  /** Opens a store on this database; call again to reopen it, as a restarted gateway would. */
  open(): Promise<AuditStore>;
  /** Runs SQL straight on the real database, as an intruder would; `?` placeholders. */
  execute(sql: string, params?: unknown[]): Promise<void>;
  /** How `scripts/audit-verify.ts` finds this database. */
  cliArguments: string[];
  /** Makes every append fail as a broken database would, until {@link AuditTestDatabase.mendWrites}. */
  breakWrites(): Promise<void>;
  mendWrites(): Promise<void>;
  /** As an intruder: removes the person-search index's rows of a record. */
  dropIndexRows(chainId: string, seq: number): Promise<void>;
  /** As an intruder: files a record in the person-search index under a subject it did not disclose. */
  forgeIndexRow(chainId: string, seq: number, subjectHash: string): Promise<void>;
  /** Removes the database and closes the connection `execute` used. */
  drop(): Promise<void>;
}

export interface AuditStoreBackend {
  name: string;
  createDatabase(): Promise<AuditTestDatabase>;
  /** A store whose database cannot be reached or opened. */
  openUnavailable(): Promise<AuditStore>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE_TIME = Date.parse('2026-03-01T08:00:00.000Z');
const at = (seconds: number): string => new Date(BASE_TIME + seconds * 1000).toISOString();
/** Subject hashes as the gateway would compute them; any 64 hex digits will do here. */
const SUBJECT = { wang: 'a1'.repeat(32), li: 'b2'.repeat(32), company: 'c3'.repeat(32) };

/** A plausible request entry; `i` varies it, `overrides` pins what a test needs. */
export function requestEntry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    kind: 'REQUEST',
    time: at(i),
    requestId: `req-${i}`,
    replica: 'gateway-test',
    caller: { subject: 'system-a', organisation: 'org-bj-hr', province: '110000', issuer: 'https://idp.bj.example.cn', tokenId: `jti-${i}` },
    matter: 'TB-HJ-004',
    caseNumber: `CASE-${i}`,
    operation: { name: 'Dossier', type: 'query', hash: 'f'.repeat(64) },
    requested: ['Query.person', 'Person.name'],
    denied: [],
    disclosed: [{ subgraph: 'household', type: 'Person', subject: SUBJECT.wang }],
    outcome: 'ALLOWED',
    httpStatus: 200,
    errorCodes: [],
    latencyMs: 12.5,
    ...overrides,
  };
}

async function runCli(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', script), ...args], {
    cwd: ROOT,
    env: { ...process.env, AUDIT_DATABASE_URL: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Newest first, as `search` orders: time, then chain, then seq, all descending. */
function newestFirst(a: AuditRecord, b: AuditRecord): number {
  if (a.time !== b.time) return a.time < b.time ? 1 : -1;
  if (a.chainId !== b.chainId) return a.chainId < b.chainId ? 1 : -1;
  return b.seq - a.seq;
}

const key = (r: AuditRecord): string => `${r.chainId}:${r.seq}`;

/**
 * The audit store's specification, run against each backend by
 * `test/unit/audit-sqlite.test.ts` and `test/unit/audit-postgres.test.ts`:
 * both must pass the same suite.
 */
export function defineAuditStoreSuite(backend: AuditStoreBackend): void {
  describe(`audit store (${backend.name})`, () => {
    const databases: AuditTestDatabase[] = [];
    const stores: AuditStore[] = [];
    const writers: AuditWriter[] = [];
    let signingOld: AuditWriterOptions['signing'];
    let signingNew: AuditWriterOptions['signing'];
    /** Both keys, as after a rotation: checkpoints signed by either verify. */
    let jwks: { keys: JWK[] };
    let keysDir: string;
    let jwksFile: string;

    beforeAll(async () => {
      const keys = [];
      for (const kid of ['gateway-old', 'gateway-new']) {
        const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        keys.push({ signing: { key: privateKey, kid }, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } });
      }
      [signingOld, signingNew] = keys.map((k) => k.signing);
      jwks = { keys: keys.map((k) => k.jwk) };
      keysDir = mkdtempSync(join(tmpdir(), 'kuasheng-audit-keys-'));
      jwksFile = join(keysDir, 'gateway.jwks.json');
      writeFileSync(jwksFile, JSON.stringify(jwks));
    });

    afterEach(async () => {
      await Promise.all(writers.splice(0).map((w) => w.close()));
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    afterAll(async () => {
      await Promise.all(databases.map((d) => d.drop()));
      rmSync(keysDir, { recursive: true, force: true });
    });

    async function database(): Promise<AuditTestDatabase> {
      const db = await backend.createDatabase();
      databases.push(db);
      return db;
    }

    async function open(db: AuditTestDatabase): Promise<AuditStore> {
      const store = await db.open();
      stores.push(store);
      return store;
    }

    async function writer(store: AuditStore, chainId: string, options: Partial<AuditWriterOptions> = {}): Promise<AuditWriter> {
      const created = await createAuditWriter({ store, chainId, signing: signingOld, checkpointIntervalMs: 3_600_000, ...options });
      writers.push(created);
      return created;
    }

    /**
     * A chain of 14 records with checkpoints at 4, 8 and 12 (13 and 14 not
     * yet anchored), written one by one so that each record is its own
     * transaction and the checkpoints fall exactly there.
     */
    async function fourteenRecords(db: AuditTestDatabase, entry: (i: number) => AuditEntry = (i) => requestEntry(i)) {
      const store = await open(db);
      const chain = await writer(store, 'gateway-a', { checkpointEveryRecords: 4 });
      const records: AuditRecord[] = [];
      for (let i = 1; i <= 14; i++) records.push(await chain.append(entry(i)));
      return { store, chain, records };
    }

    describe('appending', () => {
      it('gives back exactly what was appended, after reopening, with hashes that verify', async () => {
        const db = await database();
        const store = await open(db);
        const chain = await writer(store, 'gateway-a');
        const appended = [
          await chain.append(requestEntry(1)),
          await chain.append(
            requestEntry(2, {
              caller: null,
              matter: null,
              caseNumber: null,
              outcome: 'DENIED',
              httpStatus: 401,
              errorCodes: ['UNAUTHENTICATED'],
              disclosed: [],
            }),
          ),
          await chain.append(
            requestEntry(3, {
              outcome: 'PARTIAL',
              denied: ['Person.credit'],
              latencyMs: 0.1 + 0.2,
              detail: { zeta: [1, 'двa', { b: null }], alpha: '户籍' },
            }),
          ),
          await chain.append(
            requestEntry(4, {
              operation: { name: 'odd\u0000name', type: 'mutation', hash: null },
              disclosed: [
                { subgraph: 'household', type: 'Person', subject: SUBJECT.wang },
                { subgraph: 'credit', type: 'Organisation', subject: SUBJECT.company },
              ],
            }),
          ),
        ];
        expect(appended.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
        expect(appended[0].prevHash).toBe('0'.repeat(64));
        expect(appended[1].prevHash).toBe(appended[0].hash);
        // NUL cannot be stored in PostgreSQL text: it is replaced, before hashing.
        expect(appended[3].operation.name).toBe('odd\uFFFDname');

        await chain.close();
        await store.close();
        const reopened = await open(db);
        const readBack = await collect(reopened.readChain('gateway-a'));
        expect(readBack).toEqual(appended);
        expect(readBack.every(recordHashMatches)).toBe(true);
        expect(await reopened.get('gateway-a', 3)).toEqual(appended[2]);
        expect(await reopened.get('gateway-a', 99)).toBeNull();
        expect(await reopened.head('gateway-a')).toEqual({ seq: 4, hash: appended[3].hash });
        expect(await verifyAuditStore(reopened, jwks)).toMatchObject({ ok: true, problem: null });
      });

      it('reads, searches and verifies records stored with one object per disclosed item (written before the compact form)', async () => {
        const db = await database();
        let store = await open(db);
        const chain = await writer(store, 'gateway-a');
        const written: AuditRecord[] = [];
        for (let i = 1; i <= 4; i++) {
          const subjects = [[SUBJECT.wang, SUBJECT.li], [SUBJECT.li], [], [SUBJECT.company]][i - 1];
          written.push(
            await chain.append(requestEntry(i, { disclosed: subjects.map((subject) => ({ subgraph: 'household', type: 'Person', subject })) })),
          );
        }
        await chain.close();
        await store.close();
        for (const record of written) {
          const objects = JSON.stringify(record.disclosed.map((d) => ({ subgraph: d.subgraph, type: d.type, subject: d.subject })));
          await db.execute('UPDATE audit_records SET disclosed = ? WHERE chain_id = ? AND seq = ?', [objects, record.chainId, record.seq]);
        }
        store = await open(db);
        expect(await collect(store.readChain('gateway-a'))).toEqual(written);
        const found = async (subjectHash: string) => (await store.search({ subjectHash }, { first: 10 })).records.map((r) => r.seq);
        expect(await found(SUBJECT.li)).toEqual([2, 1]);
        expect(await found(SUBJECT.company)).toEqual([4]);
        expect((await store.accessReport(SUBJECT.wang, at(0), at(100))).reduce((n, row) => n + row.accesses, 0)).toBe(1);
        expect(await verifyAuditStore(store, jwks)).toMatchObject({ ok: true, problem: null });
      });

      it('keeps a WITHHELD record after the one whose answer it withholds: found by person, counted as withheld, verified and exported', async () => {
        const store = await open(await database());
        const chain = await writer(store, 'gateway-a');
        const disclosed = [{ subgraph: 'household', type: 'Person', subject: SUBJECT.wang }];
        const delivered = await chain.append(requestEntry(1, { disclosed }));
        const cut = await chain.append(requestEntry(2, { disclosed }));
        chain.withhold(cut, { httpStatus: 0, errorCode: 'SHUTTING_DOWN' });
        await chain.close();
        const records = await collect(store.readChain('gateway-a'));
        expect(records.map((r) => [r.kind, r.seq])).toEqual([
          ['REQUEST', 1],
          ['REQUEST', 2],
          ['WITHHELD', 3],
        ]);
        expect(records[2]).toMatchObject({
          requestId: cut.requestId,
          caller: cut.caller,
          matter: cut.matter,
          disclosed: cut.disclosed,
          httpStatus: 0,
          errorCodes: ['SHUTTING_DOWN'],
          detail: { withholds: 'gateway-a:2' },
        });
        await store.settleIndex();
        expect((await store.search({ subjectHash: SUBJECT.wang }, { first: 10 })).records.map((r) => r.kind)).toEqual([
          'WITHHELD',
          'REQUEST',
          'REQUEST',
        ]);
        expect(await store.accessReport(SUBJECT.wang, at(0), '2099-01-01T00:00:00.000Z')).toEqual([
          expect.objectContaining({ accesses: 2, withheld: 1, first: delivered.time, last: cut.time }),
        ]);
        expect(await verifyAuditStore(store, jwks)).toMatchObject({ ok: true, problem: null });
        const lines: string[] = [];
        for await (const line of exportAudit(store, { from: at(0), to: '2099-01-01T00:00:00.000Z', jwks })) lines.push(line);
        expect(lines.some((line) => line.includes('"kind":"WITHHELD"'))).toBe(true);
        expect(
          await verifyAuditExport(
            (async function* () {
              yield* lines;
            })(),
            jwks,
          ),
        ).toMatchObject({ ok: true });
        await store.close();
      });

      it('commits concurrent appends together in few transactions (group commit)', async () => {
        const store = await open(await database());
        const chain = await writer(store, 'gateway-a');
        const records = await Promise.all(Array.from({ length: 200 }, (_, i) => chain.append(requestEntry(i))));
        expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const stats = chain.stats();
        expect(stats.records).toBe(200);
        expect(stats.commits).toBeLessThan(20);
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });

      it('waits up to commitDelayMs for requests still on their way, so that they share a transaction', async () => {
        const store = await open(await database());
        let onTheirWay = 3;
        const chain = await writer(store, 'gateway-a', { commitDelayMs: 1000, commitSiblings: () => onTheirWay });
        // Each append is one request arriving: it leaves the count of those on their way first, as the request audit does.
        const appends: Promise<AuditRecord>[] = [];
        const started = performance.now();
        for (let i = 0; i < 3; i++) {
          onTheirWay--;
          appends.push(chain.append(requestEntry(i)));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const records = await Promise.all(appends);
        expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
        // The three arrived over 40 ms, well within the delay; the last one ended the wait (no sibling left), long before the delay would have.
        expect(chain.stats()).toMatchObject({ commits: 1, records: 3, largestBatch: 3 });
        expect(performance.now() - started).toBeLessThan(900);
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });

      it('does not delay a transaction when no other request is on its way, or when the batch is full', async () => {
        const store = await open(await database());
        // A delay this long would time the test out if it were applied.
        const alone = await writer(store, 'gateway-a', { commitDelayMs: 1000, commitSiblings: () => 0 });
        for (let i = 0; i < 3; i++) await alone.append(requestEntry(i));
        expect(alone.stats()).toMatchObject({ commits: 3, records: 3 });
        const full = await writer(store, 'gateway-b', { commitDelayMs: 1000, commitSiblings: () => 50, maxBatch: 4 });
        const started = performance.now();
        await Promise.all(Array.from({ length: 4 }, (_, i) => full.append(requestEntry(i))));
        expect(performance.now() - started).toBeLessThan(900);
        expect(full.stats()).toMatchObject({ commits: 1, records: 4 });
      });

      it('commits what waits for its siblings at once when the writer closes', async () => {
        const store = await open(await database());
        const chain = await writer(store, 'gateway-a', { commitDelayMs: 1000, commitSiblings: () => 5 });
        const started = performance.now();
        const pending = chain.append(requestEntry(0));
        // The transaction is waiting for its siblings by now.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await chain.close();
        expect((await pending).seq).toBe(1);
        expect(performance.now() - started).toBeLessThan(900);
      });

      it('puts at most maxBatch records in one transaction', async () => {
        const store = await open(await database());
        const chain = await writer(store, 'gateway-a', { maxBatch: 16 });
        await Promise.all(Array.from({ length: 100 }, (_, i) => chain.append(requestEntry(i))));
        expect(chain.stats().largestBatch).toBeLessThanOrEqual(16);
        expect(chain.stats().commits).toBeGreaterThanOrEqual(7);
      });

      it('continues the chain where it ended when a new writer starts after a restart', async () => {
        const db = await database();
        const first = await open(db);
        const before = await writer(first, 'gateway-a');
        await before.append(requestEntry(1));
        const third = (await Promise.all([before.append(requestEntry(2)), before.append(requestEntry(3))]))[1];
        await before.close();
        await first.close();

        const second = await open(db);
        const after = await writer(second, 'gateway-a');
        const next = await after.append(requestEntry(4));
        expect(next).toMatchObject({ seq: 4, prevHash: third.hash });
        expect((await verifyAuditStore(second, jwks)).ok).toBe(true);
      });

      it('keeps the chains of two writers apart when their appends interleave, across a key rotation', async () => {
        const store = await open(await database());
        const a = await writer(store, 'gateway-a', { signing: signingOld, checkpointEveryRecords: 5 });
        const b = await writer(store, 'gateway-b', { signing: signingNew, checkpointEveryRecords: 5 });
        const records = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).append(requestEntry(i))));
        for (const chainId of ['gateway-a', 'gateway-b']) {
          expect(
            records
              .filter((r) => r.chainId === chainId)
              .map((r) => r.seq)
              .sort((x, y) => x - y),
          ).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
        }
        await a.close();
        await b.close();
        expect(await store.chains()).toEqual(['gateway-a', 'gateway-b']);
        const report = await verifyAuditStore(store, jwks);
        expect(report).toMatchObject({ ok: true, problem: null });
        expect(report.chains.map((c) => [c.chainId, c.records, c.unanchoredRecords])).toEqual([
          ['gateway-a', 15, 0],
          ['gateway-b', 15, 0],
        ]);
      });

      it('serves several replicas that start at once on a new database, each appending its own chain', async () => {
        const db = await database();
        const replicas = await Promise.all([open(db), open(db), open(db)]);
        const chains = await Promise.all(replicas.map((store, i) => writer(store, `gateway-${i}`)));
        await Promise.all(chains.flatMap((chain) => Array.from({ length: 20 }, (_, i) => chain.append(requestEntry(i)))));
        expect(await replicas[0].chains()).toEqual(['gateway-0', 'gateway-1', 'gateway-2']);
        expect((await verifyAuditStore(replicas[1], jwks)).chains.map((c) => c.records)).toEqual([20, 20, 20]);
      });

      it('signs a checkpoint on a timer while records arrive, and a final one on close', async () => {
        const store = await open(await database());
        const timed = await writer(store, 'gateway-a', { checkpointIntervalMs: 20 });
        const third = (await Promise.all([1, 2, 3].map((i) => timed.append(requestEntry(i)))))[2];
        for (let waited = 0; (await store.checkpoints('gateway-a')).length === 0 && waited < 2000; waited += 10) await sleep(10);
        expect(await store.checkpoints('gateway-a')).toEqual([expect.objectContaining({ chainId: 'gateway-a', seq: 3, headHash: third.hash })]);

        const closing = await writer(store, 'gateway-b', { checkpointIntervalMs: 3_600_000 });
        const second = (await Promise.all([closing.append(requestEntry(1)), closing.append(requestEntry(2))]))[1];
        expect(await store.checkpoints('gateway-b')).toEqual([]);
        await closing.close();
        expect(await store.checkpoints('gateway-b')).toEqual([expect.objectContaining({ seq: 2, headHash: second.hash })]);
        expect(await rejectionOf(closing.append(requestEntry(3)))).toBeInstanceOf(AuditUnavailableError);
      });

      it('refuses a whole batch when one of its sequence numbers is taken, writing none of it', async () => {
        const store = await open(await database());
        const chain = await writer(store, 'gateway-a');
        const [first, second] = [await chain.append(requestEntry(1)), await chain.append(requestEntry(2))];
        const replay = [
          { ...second, requestId: 'again' },
          { ...second, seq: 3, requestId: 'new' },
        ];
        const error = await rejectionOf(store.appendBatch(replay));
        expect((error as { code?: string }).code).toBe('AUDIT_CHAIN_CONFLICT');
        expect(await store.head('gateway-a')).toEqual({ seq: 2, hash: second.hash });
        expect((await collect(store.readChain('gateway-a'))).map((r) => r.requestId)).toEqual([first.requestId, second.requestId]);
      });
    });

    describe('when the store fails', () => {
      it('rejects appends with AUDIT_UNAVAILABLE, writes nothing of the batch and does not advance the chain', async () => {
        const db = await database();
        const store = await open(db);
        const chain = await writer(store, 'gateway-a');
        const second = (await Promise.all([chain.append(requestEntry(1)), chain.append(requestEntry(2))]))[1];

        await db.breakWrites();
        const failed = await Promise.allSettled([chain.append(requestEntry(3)), chain.append(requestEntry(4))]);
        for (const result of failed) {
          expect(result.status).toBe('rejected');
          const reason = (result as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(AuditUnavailableError);
          expect(reason.code).toBe('AUDIT_UNAVAILABLE');
        }
        expect(await store.head('gateway-a')).toEqual({ seq: 2, hash: second.hash });
        expect(await store.get('gateway-a', 3)).toBeNull();

        await db.mendWrites();
        const next = await chain.append(requestEntry(5));
        expect(next).toMatchObject({ seq: 3, prevHash: second.hash, requestId: 'req-5' });
        expect(chain.stats().failedCommits).toBeGreaterThanOrEqual(1);
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });

      it('fails fast with AUDIT_UNAVAILABLE when the database cannot be reached or opened', async () => {
        const store = await backend.openUnavailable();
        stores.push(store);
        const chain = await writer(store, 'gateway-a');
        const started = Date.now();
        const error = await rejectionOf(chain.append(requestEntry(1)));
        expect(error).toBeInstanceOf(AuditUnavailableError);
        expect((error as AuditUnavailableError).code).toBe('AUDIT_UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(3000);
        expect(await rejectionOf(store.search({}, { first: 10 }))).toBeInstanceOf(AuditUnavailableError);
      });
    });

    describe('searching', () => {
      let store: AuditStore;
      const all: AuditRecord[] = [];
      const callers = [
        { subject: 'system-a', organisation: 'org-bj-hr', province: '110000', issuer: 'https://idp.bj.example.cn', tokenId: 't' },
        { subject: 'system-b', organisation: 'org-bj-hr', province: '310000', issuer: 'https://idp.sh.example.cn', tokenId: 't' },
        { subject: 'system-c', organisation: 'org-gd-tax', province: '440000', issuer: 'https://idp.gd.example.cn', tokenId: 't' },
      ];
      const subjects = [[SUBJECT.wang], [SUBJECT.li], [SUBJECT.wang, SUBJECT.li], []];

      beforeAll(async () => {
        store = await (await database()).open();
        const a = await createAuditWriter({ store, chainId: 'chain-a', signing: signingOld });
        const b = await createAuditWriter({ store, chainId: 'chain-b', signing: signingOld });
        const written = await Promise.all(
          Array.from({ length: 42 }, (_, i) =>
            (i % 2 === 0 ? a : b).append(
              requestEntry(Math.floor(i / 3), {
                // Several records share a time, across and within chains: pages must still neither overlap nor skip.
                caller: i % 7 === 6 ? null : callers[i % 3],
                matter: ['TB-HJ-004', 'TB-SB-001', null][i % 3 === 0 ? 0 : i % 5 === 0 ? 2 : 1],
                caseNumber: i % 4 === 0 ? 'CASE-0' : `CASE-${i}`,
                outcome: (['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED'] as const)[i % 4],
                disclosed: subjects[i % 4].map((subject) => ({ subgraph: 'household', type: 'Person', subject })),
              }),
            ),
          ),
        );
        all.push(...written);
        await a.close();
        await b.close();
      });

      afterAll(async () => {
        await store.close();
      });

      async function everyPage(filter: Parameters<AuditStore['search']>[0], first: number): Promise<AuditRecord[][]> {
        const pages: AuditRecord[][] = [];
        let after: string | null = null;
        for (;;) {
          const page = await store.search(filter, { first, after });
          pages.push(page.records);
          if (!page.hasNextPage) return pages;
          after = page.endCursor;
        }
      }

      it.each([
        ['a person (subject hash)', { subjectHash: SUBJECT.li }, (r: AuditRecord) => r.disclosed.some((d) => d.subject === SUBJECT.li)],
        ['caller', { callerSubject: 'system-b' }, (r: AuditRecord) => r.caller?.subject === 'system-b'],
        ['organisation', { organisation: 'org-bj-hr' }, (r: AuditRecord) => r.caller?.organisation === 'org-bj-hr'],
        ['province', { province: '440000' }, (r: AuditRecord) => r.caller?.province === '440000'],
        ['matter', { matter: 'TB-SB-001' }, (r: AuditRecord) => r.matter === 'TB-SB-001'],
        ['case number', { caseNumber: 'CASE-0' }, (r: AuditRecord) => r.caseNumber === 'CASE-0'],
        ['outcome', { outcome: 'DENIED' as const }, (r: AuditRecord) => r.outcome === 'DENIED'],
        ['time range (both ends inclusive)', { from: at(3), to: at(5) }, (r: AuditRecord) => r.time >= at(3) && r.time <= at(5)],
        [
          'several filters at once',
          { subjectHash: SUBJECT.wang, province: '110000', to: at(9) },
          (r: AuditRecord) => r.disclosed.some((d) => d.subject === SUBJECT.wang) && r.caller?.province === '110000' && r.time <= at(9),
        ],
      ])('finds records by %s, newest first', async (_name, filter, matches) => {
        const expected = all.filter(matches).sort(newestFirst);
        expect(expected.length).toBeGreaterThan(0);
        const found = (await everyPage(filter, 200)).flat();
        expect(found.map(key)).toEqual(expected.map(key));
      });

      it('pages through results with its cursor, without duplicates or gaps', async () => {
        const pages = await everyPage({}, 5);
        expect(pages.length).toBe(9);
        expect(pages.slice(0, -1).every((page) => page.length === 5)).toBe(true);
        expect(pages.flat().map(key)).toEqual([...all].sort(newestFirst).map(key));
      });

      it('answers an empty page with no cursor', async () => {
        expect(await store.search({ matter: 'NO-SUCH-MATTER' }, { first: 10 })).toEqual({ records: [], endCursor: null, hasNextPage: false });
      });

      it('refuses a cursor it did not hand out (BAD_CURSOR) and a page over 200 (BAD_SEARCH)', async () => {
        expect((await rejectionOf(store.search({}, { first: 10, after: 'bm90LWEtY3Vyc29y' }))) as { code?: string }).toMatchObject({
          code: 'BAD_CURSOR',
        });
        expect((await rejectionOf(store.search({}, { first: 201 }))) as { code?: string }).toMatchObject({ code: 'BAD_SEARCH' });
        expect((await rejectionOf(store.search({ from: 'yesterday' }, { first: 10 }))) as { code?: string }).toMatchObject({ code: 'BAD_SEARCH' });
      });

      it('reports one person’s accesses grouped by caller and matter, latest first', async () => {
        const report = await store.accessReport(SUBJECT.wang, at(0), at(100));
        const disclosing = all.filter((r) => r.caller && r.disclosed.some((d) => d.subject === SUBJECT.wang));
        const groups = new Map<string, AuditRecord[]>();
        for (const r of disclosing) {
          const group = JSON.stringify([r.caller!.subject, r.caller!.organisation, r.caller!.province, r.matter]);
          groups.set(group, [...(groups.get(group) ?? []), r]);
        }
        const expected = [...groups.values()].map((records) => ({
          callerSubject: records[0].caller!.subject,
          organisation: records[0].caller!.organisation,
          province: records[0].caller!.province,
          matter: records[0].matter,
          accesses: records.length,
          withheld: 0,
          first: records.map((r) => r.time).sort()[0],
          last: records
            .map((r) => r.time)
            .sort()
            .at(-1),
        }));
        expect(report).toHaveLength(expected.length);
        expect(report).toEqual(expect.arrayContaining(expected));
        expect(report.map((row) => row.last)).toEqual(
          report
            .map((row) => row.last)
            .sort()
            .reverse(),
        );
        expect(report.reduce((n, row) => n + row.accesses, 0)).toBe(disclosing.length);
      });

      it('answers searches by person the same before and after the index has caught up', async () => {
        const searches = async () => [
          (await everyPage({ subjectHash: SUBJECT.wang }, 7)).flat().map(key),
          (await everyPage({ subjectHash: SUBJECT.li, province: '110000' }, 3)).flat().map(key),
          await store.accessReport(SUBJECT.li, at(0), at(100)),
        ];
        const before = await searches();
        await store.settleIndex();
        expect(await searches()).toEqual(before);
        expect(before[0].length).toBeGreaterThan(0);
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });
    });

    describe('verifying', () => {
      it('reports an intact store as ok, counting records after the last checkpoint as unanchored', async () => {
        const db = await database();
        await fourteenRecords(db);
        const report = await verifyAuditStore(stores.at(-1)!, jwks);
        expect(report).toEqual({
          ok: true,
          problem: null,
          chains: [
            {
              chainId: 'gateway-a',
              records: 14,
              firstSeq: 1,
              lastSeq: 14,
              checkpoints: 3,
              lastCheckpointSeq: 12,
              unanchoredRecords: 2,
              witnessedSize: null,
            },
          ],
          recordsChecked: 14,
          recordsToCheck: 14,
          // Where a later check can go on from: the last checkpoint, not the unanchored records after it.
          states: [expect.objectContaining({ chainId: 'gateway-a', anchorSeq: null, checkpointSeq: 12, records: 12, checkpoints: 3, firstSeq: 1 })],
        });
      });

      const copyRecord2AsSeq15 = `INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')})
        SELECT ${RECORD_COLUMNS.map((c) => (c === 'seq' ? '15' : c)).join(', ')} FROM audit_records WHERE chain_id = 'gateway-a' AND seq = 2`;

      it.each([
        ['a field is changed', 'ALTERED', 6, ["UPDATE audit_records SET outcome = 'DENIED' WHERE chain_id = 'gateway-a' AND seq = 6"]],
        ['a record in the middle is deleted', 'REMOVED', 6, ["DELETE FROM audit_records WHERE chain_id = 'gateway-a' AND seq = 6"]],
        ['a forged record is added (a copy of record 2)', 'INSERTED', 15, [copyRecord2AsSeq15]],
        [
          'two records swap places',
          'REORDERED',
          5,
          [
            "UPDATE audit_records SET seq = -1 WHERE chain_id = 'gateway-a' AND seq = 5",
            "UPDATE audit_records SET seq = 5 WHERE chain_id = 'gateway-a' AND seq = 7",
            "UPDATE audit_records SET seq = 7 WHERE chain_id = 'gateway-a' AND seq = -1",
          ],
        ],
        ['the tail is cut back past the last checkpoint', 'TRUNCATED', 10, ["DELETE FROM audit_records WHERE chain_id = 'gateway-a' AND seq >= 10"]],
        ['a person-search index row is deleted', 'INDEX_MISMATCH', 5, [(db: AuditTestDatabase) => db.dropIndexRows('gateway-a', 5)]],
        ['a person-search index row is forged', 'INDEX_MISMATCH', 9, [(db: AuditTestDatabase) => db.forgeIndexRow('gateway-a', 9, 'f'.repeat(64))]],
        [
          'a checkpoint signature is corrupted',
          'BAD_CHECKPOINT',
          8,
          [
            "UPDATE audit_checkpoints SET signature = substr(signature, 1, length(signature) - 8) || 'AAAAAAAA' WHERE chain_id = 'gateway-a' AND seq = 8",
          ],
        ],
      ])('when %s, reports %s at the first bad seq', async (_how, kind, seq, statements) => {
        const db = await database();
        const { store } = await fourteenRecords(db);
        // Where records are indexed in the background, the index must hold them before it can be doctored.
        await store.settleIndex();
        for (const change of statements as (string | ((db: AuditTestDatabase) => Promise<void>))[]) {
          if (typeof change === 'string') await db.execute(change);
          else await change(db);
        }
        const report = await verifyAuditStore(store, jwks);
        expect(report.ok).toBe(false);
        expect(report.problem).toMatchObject({ kind, chainId: 'gateway-a', seq });
      });

      describe('while a writer keeps appending', () => {
        /** Appends from `lanes` concurrent requests, each disclosing a few subjects, until stopped. */
        function appendUnderLoad(chain: AuditWriter, lanes: number): { stop(): Promise<number> } {
          let stopped = false;
          let appended = 0;
          const subjects = (i: number) =>
            Array.from({ length: 1 + (i % 5) }, (_, k) => ({
              subgraph: 'household',
              type: 'Person',
              subject: (i * 7 + k).toString(16).padStart(64, '0'),
            }));
          const running = Promise.all(
            Array.from({ length: lanes }, async (_, lane) => {
              for (let i = lane; !stopped; i += lanes) {
                await chain.append(requestEntry(i, { disclosed: subjects(i) }));
                appended++;
              }
            }),
          );
          return {
            async stop() {
              stopped = true;
              await running;
              return appended;
            },
          };
        }

        it('verifies one consistent snapshot every time: records, checkpoints and index never disagree', async () => {
          const db = await database();
          const store = await open(db);
          const chain = await writer(store, 'gateway-live', { checkpointEveryRecords: 20 });
          for (let i = 0; i < 300; i++) await chain.append(requestEntry(i));
          const load = appendUnderLoad(chain, 8);
          let appended = 0;
          try {
            for (let run = 0; run < 25; run++) {
              const report = await verifyAuditStore(store, jwks);
              expect(report.problem).toBeNull();
              expect(report.ok).toBe(true);
            }
            for (let run = 0; run < 2; run++) {
              const cli = await runCli('audit-verify.ts', [...db.cliArguments, '--jwks', jwksFile]);
              expect(cli.stdout).toContain('intact');
              expect(cli.code).toBe(0);
            }
          } finally {
            appended = await load.stop();
          }
          // The runs overlapped real appends.
          expect(appended).toBeGreaterThan(100);
        });
      });

      describe('incrementally, as the audit-review subgraph does', () => {
        const monitors: IntegrityMonitor[] = [];
        afterEach(async () => {
          await Promise.all(monitors.splice(0).map((m) => m.close()));
        });

        /**
         * The store as the monitor sees it, counting the records and index
         * entries its runs read; `hold()` keeps the next runs from taking
         * their snapshot until `let go()`.
         */
        function observed(store: AuditStore) {
          const reads = { records: 0, indexEntries: 0 };
          let gate: Promise<void> = Promise.resolve();
          let open = () => {};
          const view: AuditStore = {
            ...store,
            async snapshot() {
              await gate;
              const snapshot = await store.snapshot();
              return {
                ...snapshot,
                async *readChain(chainId, fromSeq) {
                  for await (const record of snapshot.readChain(chainId, fromSeq)) {
                    reads.records++;
                    yield record;
                  }
                },
                async *readSubjectIndex(chainId, fromSeq) {
                  for await (const entry of snapshot.readSubjectIndex(chainId, fromSeq)) {
                    reads.indexEntries++;
                    yield entry;
                  }
                },
              };
            },
          };
          return {
            store: view,
            reads,
            hold: () => void (gate = new Promise((resolve) => (open = resolve))),
            letGo: () => open(),
          };
        }

        function monitorOf(store: AuditStore, waitMs?: number): IntegrityMonitor {
          const monitor = createIntegrityMonitor({ store, jwks: () => jwks, waitMs });
          monitors.push(monitor);
          return monitor;
        }

        /** Appends records `from`…`to` and waits for the checkpoints every 10 records to be stored (they are signed after the append). */
        async function appendRecords(chain: AuditWriter, from: number, to: number): Promise<void> {
          for (let i = from; i <= to; i++) await chain.append(requestEntry(i));
          const store = stores.at(-1)!;
          while (((await store.lastCheckpoint(chain.chainId))?.seq ?? 0) < to - (to % 10)) await sleep(5);
        }

        it('reads only the records after the last verified checkpoint, and still finds tampering after it', async () => {
          const db = await database();
          const store = await open(db);
          const chain = await writer(store, 'gateway-a', { checkpointEveryRecords: 10 });
          await appendRecords(chain, 1, 100);
          const { store: seen, reads } = observed(store);
          const monitor = monitorOf(seen);

          const first = await monitor.check();
          expect(first).toMatchObject({
            intact: true,
            verification: { mode: 'INCREMENTAL', complete: true, recordsChecked: 100, recordsToCheck: 100, intact: true },
            chains: [{ chainId: 'gateway-a', records: 100, checkpoints: 10, unanchoredRecords: 0, checkedFromSeq: 1, verifiedSeq: 100 }],
          });
          expect(reads.records).toBe(100);

          await appendRecords(chain, 101, 125);
          reads.records = 0;
          const second = await monitor.check();
          expect(second).toMatchObject({
            intact: true,
            verification: { recordsChecked: 25, recordsToCheck: 25 },
            // Reported whole: the records verified before count, unread.
            chains: [
              {
                records: 125,
                firstSeq: 1,
                lastSeq: 125,
                checkpoints: 12,
                lastCheckpointSeq: 120,
                unanchoredRecords: 5,
                checkedFromSeq: 101,
                verifiedSeq: 120,
              },
            ],
          });
          expect(reads.records).toBe(25);

          // Records after the last checkpoint are read again until one anchors them.
          reads.records = 0;
          expect((await monitor.check()).verification.recordsChecked).toBe(5);
          expect(reads.records).toBe(5);

          await appendRecords(chain, 126, 135);
          await db.execute("UPDATE audit_records SET outcome = 'DENIED' WHERE chain_id = 'gateway-a' AND seq = 123");
          const tampered = await monitor.check();
          expect(tampered).toMatchObject({ intact: false, problem: { kind: 'ALTERED', chainId: 'gateway-a', seq: 123 } });
          // The checkpoint at 130 is not taken as verified: the records before it are not all intact.
          expect(tampered.chains[0]).toMatchObject({ checkedFromSeq: 121, verifiedSeq: 120 });
          // Found once, found every time after.
          expect((await monitor.check()).problem).toMatchObject({ kind: 'ALTERED', seq: 123 });
        });

        it('checks the person-search index of the new records only, and finds it doctored', async () => {
          const db = await database();
          const store = await open(db);
          const chain = await writer(store, 'gateway-a', { checkpointEveryRecords: 10 });
          await appendRecords(chain, 1, 50);
          await store.settleIndex();
          const { store: seen, reads } = observed(store);
          const monitor = monitorOf(seen);
          expect((await monitor.check()).intact).toBe(true);
          expect(reads.indexEntries).toBe(50);

          await appendRecords(chain, 51, 60);
          await store.settleIndex();
          reads.indexEntries = 0;
          expect((await monitor.check()).intact).toBe(true);
          expect(reads.indexEntries).toBe(10);

          await appendRecords(chain, 61, 70);
          await store.settleIndex();
          await db.dropIndexRows('gateway-a', 64);
          expect((await monitor.check()).problem).toMatchObject({ kind: 'INDEX_MISMATCH', chainId: 'gateway-a', seq: 64 });
        });

        it('finds a record altered before the verified checkpoint in a full run, and from then on in every incremental one', async () => {
          const db = await database();
          const store = await open(db);
          const chain = await writer(store, 'gateway-a', { checkpointEveryRecords: 10 });
          await appendRecords(chain, 1, 100);
          const monitor = monitorOf(store);
          expect((await monitor.check()).intact).toBe(true);

          await db.execute("UPDATE audit_records SET matter = 'TB-OTHER' WHERE chain_id = 'gateway-a' AND seq = 45");
          // What was verified is not read again: only a full run can find this.
          expect((await monitor.check()).intact).toBe(true);
          const full = await monitor.check({ full: true });
          expect(full).toMatchObject({
            intact: false,
            problem: { kind: 'ALTERED', seq: 45 },
            verification: { mode: 'FULL', complete: true, recordsChecked: 100, intact: false },
            fullVerification: { mode: 'FULL', complete: true, intact: false },
            chains: [{ checkedFromSeq: 1, verifiedSeq: 40 }],
          });
          const after = await monitor.check();
          expect(after).toMatchObject({ intact: false, problem: { kind: 'ALTERED', seq: 45 }, verification: { mode: 'INCREMENTAL' } });
          expect(after.chains[0]).toMatchObject({ checkedFromSeq: 41, verifiedSeq: 40 });
        });

        it('answers within its wait while a run goes on in the background: its progress, then its verdict', async () => {
          const db = await database();
          const store = await open(db);
          const chain = await writer(store, 'gateway-a', { checkpointEveryRecords: 10 });
          await appendRecords(chain, 1, 30);
          const { store: seen, hold, letGo } = observed(store);
          const monitor = monitorOf(seen, 50);
          const settled = async (done: (answer: IntegrityAnswer) => boolean): Promise<IntegrityAnswer> => {
            for (let attempt = 0; attempt < 100; attempt++) {
              const answer = await monitor.check();
              if (done(answer)) return answer;
            }
            throw new Error('the run did not finish');
          };

          hold();
          const waiting = await monitor.check();
          // Nothing verified yet: not intact, and says so.
          expect(waiting).toMatchObject({
            intact: false,
            problem: null,
            chains: [],
            verifiedAt: null,
            verification: { mode: 'INCREMENTAL', complete: false, finishedAt: null },
          });
          letGo();
          const verified = await settled((a) => a.verifiedAt !== null);
          expect(verified).toMatchObject({ intact: true, chains: [{ records: 30 }] });

          hold();
          const asked = await monitor.check({ full: true });
          expect(asked).toMatchObject({ intact: true, fullVerification: { mode: 'FULL', complete: false } });
          letGo();
          const finished = await settled((a) => a.fullVerification?.complete === true);
          expect(finished.fullVerification).toMatchObject({ intact: true, recordsChecked: 30, recordsToCheck: 30 });
        });
      });

      it('exits 0 with a summary when intact, 1 naming the first bad record, 2 on bad arguments (CLI)', async () => {
        const db = await database();
        await fourteenRecords(db);

        const intact = await runCli('audit-verify.ts', [...db.cliArguments, '--jwks', jwksFile]);
        expect(intact.code).toBe(0);
        expect(intact.stdout).toMatch(/intact.*1 chain, 14 records, 3 checkpoints; 2 records are after the last checkpoint/);
        // Its progress, on stderr: not a terminal here, so a line every 10 %.
        expect(intact.stderr).toContain('audit:verify: 0% (0/14 records)\n');
        expect(intact.stderr).toContain('audit:verify: 100% (14/14 records)\n');

        await db.execute("UPDATE audit_records SET matter = 'TB-OTHER' WHERE chain_id = 'gateway-a' AND seq = 9");
        const tampered = await runCli('audit-verify.ts', [...db.cliArguments, '--jwks', jwksFile]);
        expect(tampered.code).toBe(1);
        expect(tampered.stdout).toContain('chain gateway-a seq 9: ALTERED — ');

        const bad = await runCli('audit-verify.ts', [...db.cliArguments, '--jwks', jwksFile, '--export', 'x.ndjson']);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain('--export');
      });
    });

    describe('the Merkle tree', () => {
      const rootOf = (records: readonly AuditRecord[]) => treeHash(records.map((r) => recordLeafHash(r.hash)));

      it('signs each checkpoint as a tree note (origin, size, root of the records) with the compact range beside it', async () => {
        const { store, records } = await fourteenRecords(await database());
        const checkpoints = await store.checkpoints('gateway-a');
        expect(checkpoints.map((c) => c.seq)).toEqual([4, 8, 12]);
        for (const checkpoint of checkpoints) {
          const head = parseCheckpoint(parseNote(checkpoint.note!).text);
          expect(head.origin).toBe(auditLogOrigin('gateway-a'));
          expect(head.size).toBe(checkpoint.seq);
          expect(head.root.equals(rootOf(records.slice(0, checkpoint.seq)))).toBe(true);
          // One subtree per set bit of the size: 4 and 8 are one subtree each, 12 is 8 + 4.
          expect(checkpoint.tree).toHaveLength(checkpoint.seq === 12 ? 2 : 1);
        }
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });

      it('continues the tree after a restart, from the last checkpoint and the records after it', async () => {
        const db = await database();
        const { chain, records } = await fourteenRecords(db);
        await chain.close();
        const reopened = await open(db);
        const again = await writer(reopened, 'gateway-a', { checkpointEveryRecords: 4 });
        for (let i = 15; i <= 17; i++) records.push(await again.append(requestEntry(i)));
        const last = await again.checkpoint();
        expect(last?.seq).toBe(17);
        expect(parseCheckpoint(parseNote(last!.note!).text).root.equals(rootOf(records))).toBe(true);
        expect((await verifyAuditStore(reopened, jwks)).ok).toBe(true);
      });

      it('reports a tree note that the records do not make as BAD_CHECKPOINT', async () => {
        const db = await database();
        const { store } = await fourteenRecords(db);
        // The signed note of seq 4 put on the checkpoint at seq 8: genuinely signed, but not for these records.
        await db.execute(
          "UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints WHERE chain_id = 'gateway-a' AND seq = 4) WHERE chain_id = 'gateway-a' AND seq = 8",
        );
        expect((await verifyAuditStore(store, jwks)).problem).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 8 });
      });

      it('catches, with a witnessed head, the tail cut back together with its checkpoints', async () => {
        const db = await database();
        const { store, records } = await fourteenRecords(db);
        await db.execute("DELETE FROM audit_records WHERE chain_id = 'gateway-a' AND seq >= 10");
        await db.execute("DELETE FROM audit_checkpoints WHERE chain_id = 'gateway-a' AND seq >= 10");
        const witnessed = new Map([['gateway-a', [{ witness: 'witness.test', size: 12, root: rootOf(records.slice(0, 12)), time: at(20) }]]]);
        expect((await verifyAuditStore(store, jwks, { witnessed })).problem).toMatchObject({ kind: 'TRUNCATED', seq: 10 });
        // The chain rewritten from seq 10 on would make another root: the witness's head tells.
        const rewritten = new Map([['gateway-a', [{ witness: 'witness.test', size: 8, root: rootOf(records.slice(1, 9)), time: at(20) }]]]);
        expect((await verifyAuditStore(store, jwks, { witnessed: rewritten })).problem).toMatchObject({ kind: 'WITNESS_MISMATCH', seq: 8 });
      });

      it('reports a stretch without the checkpoint the writer would have signed as CHECKPOINT_MISSING', async () => {
        const db = await database();
        const { store } = await fourteenRecords(db);
        await db.execute("DELETE FROM audit_checkpoints WHERE chain_id = 'gateway-a' AND seq = 8");
        expect((await verifyAuditStore(store, jwks, { maxRecordsBetweenCheckpoints: 4 })).problem).toMatchObject({
          kind: 'CHECKPOINT_MISSING',
          seq: 9,
        });
        // With the writer's default rule (1000 records and a batch), 8 records between checkpoints are fine.
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });
    });

    describe('exporting', () => {
      it('exports a time range, widened to the checkpoints around it, that verifies offline', async () => {
        const { store } = await fourteenRecords(await database());
        const lines = await collect(exportAudit(store, { from: at(6), to: at(9), jwks }));
        const chain = JSON.parse(lines[1]);
        expect(chain).toMatchObject({ type: 'chain', chainId: 'gateway-a', fromSeq: 5, toSeq: 12, anchor: { seq: 4 } });
        expect(lines.filter((l) => l.startsWith('{"type":"record"'))).toHaveLength(8);
        expect(JSON.parse(lines.at(-1)!)).toEqual({ type: 'end', chains: 1, records: 8, checkpoints: 2 });

        const report = await verifyAuditExport(toLines(lines), jwks);
        expect(report).toMatchObject({
          ok: true,
          problem: null,
          chains: [{ chainId: 'gateway-a', records: 8, firstSeq: 5, lastSeq: 12, lastCheckpointSeq: 12, unanchoredRecords: 0 }],
        });
      });

      it('finds the tampered line of an export: a changed field, a removed record', async () => {
        const { store } = await fourteenRecords(await database());
        const lines = await collect(exportAudit(store, { jwks }));
        const recordLine = (seq: number) => lines.findIndex((l) => l.startsWith('{"type":"record"') && JSON.parse(l).seq === seq);

        const changed = [...lines];
        changed[recordLine(7)] = changed[recordLine(7)].replace('"outcome":"ALLOWED"', '"outcome":"DENIED"');
        expect((await verifyAuditExport(toLines(changed), jwks)).problem).toMatchObject({ kind: 'ALTERED', seq: 7 });

        const removed = lines.filter((_, i) => i !== recordLine(10));
        expect((await verifyAuditExport(toLines(removed), jwks)).problem).toMatchObject({ kind: 'REMOVED', seq: 10 });
      });

      it('verifies an export file with the CLI: 0 when intact, 1 when tampered', async () => {
        const { store } = await fourteenRecords(await database());
        const file = join(keysDir, `${backend.name}-export.ndjson`);
        writeFileSync(file, `${(await collect(exportAudit(store, { jwks }))).join('\n')}\n`);
        const intact = await runCli('audit-verify.ts', ['--export', file, '--jwks', jwksFile]);
        expect(intact.code).toBe(0);
        expect(intact.stdout).toContain('14 records');

        writeFileSync(file, readFileSync(file, 'utf8').replace('"requestId":"req-3"', '"requestId":"req-33"'));
        const tampered = await runCli('audit-verify.ts', ['--export', file]);
        expect(tampered.code).toBe(1);
        expect(tampered.stdout).toContain('chain gateway-a seq 3: ALTERED');
      });
    });

    describe('pruning', () => {
      /** Records 1–10 are from 2020, 11–14 from this test's present. */
      const oldThenNew = (i: number) => requestEntry(i, { time: i <= 10 ? new Date(Date.UTC(2020, 0, 1, 0, 0, i)).toISOString() : at(i) });

      it('deletes whole checkpointed ranges older than the cutoff, records the prune, and still verifies', async () => {
        const db = await database();
        const { store, chain, records } = await fourteenRecords(db, oldThenNew);
        const result = await store.prune('2021-01-01T00:00:00.000Z', chain);

        // Records 9 and 10 are old too, but no checkpoint follows them before the new records: they stay.
        expect(result.ranges).toEqual([
          expect.objectContaining({
            chainId: 'gateway-a',
            fromSeq: 1,
            upToSeq: 8,
            headHash: records[7].hash,
            records: 8,
            before: '2021-01-01T00:00:00.000Z',
          }),
        ]);
        expect(result.record).toMatchObject({ kind: 'PRUNE', seq: 15, prevHash: records[13].hash, detail: { before: '2021-01-01T00:00:00.000Z' } });
        expect((await collect(store.readChain('gateway-a'))).map((r) => r.seq)).toEqual([9, 10, 11, 12, 13, 14, 15]);
        expect(await store.prunes('gateway-a')).toEqual([
          expect.objectContaining({ upToSeq: 8, records: 8, checkpoint: expect.objectContaining({ seq: 8 }) }),
        ]);

        const report = await verifyAuditStore(store, jwks);
        expect(report).toMatchObject({ ok: true, chains: [{ firstSeq: 9, lastSeq: 15, records: 7 }] });
        const exported = await collect(exportAudit(store, { jwks }));
        expect((await verifyAuditExport(toLines(exported), jwks)).ok).toBe(true);

        // Pruning again finds nothing more to delete.
        expect((await store.prune('2021-01-01T00:00:00.000Z', chain)).ranges).toEqual([]);
      });

      it('is verified incrementally across a prune: the chain is checked again from its new start', async () => {
        const db = await database();
        const { store, chain } = await fourteenRecords(db, oldThenNew);
        const monitor = createIntegrityMonitor({ store, jwks: () => jwks });
        try {
          expect((await monitor.check()).chains).toMatchObject([{ records: 14, verifiedSeq: 12 }]);
          await store.prune('2021-01-01T00:00:00.000Z', chain);
          const after = await monitor.check();
          // The state from before the prune counted records that are gone: it is not resumed from.
          expect(after).toMatchObject({
            intact: true,
            verification: { recordsChecked: 7 },
            chains: [{ firstSeq: 9, lastSeq: 15, records: 7, checkedFromSeq: 1, verifiedSeq: 12 }],
          });
        } finally {
          await monitor.close();
        }
      });

      it('keeps a fully pruned chain’s head, so that its writer continues from it', async () => {
        const db = await database();
        const store = await open(db);
        const old = await writer(store, 'gateway-a', { checkpointEveryRecords: 4 });
        const records: AuditRecord[] = [];
        for (let i = 1; i <= 8; i++) records.push(await old.append(oldThenNew(i)));
        await old.close();
        writers.splice(writers.indexOf(old), 1);

        expect((await store.prune('2021-01-01T00:00:00.000Z')).ranges).toMatchObject([{ fromSeq: 1, upToSeq: 8 }]);
        expect(await store.head('gateway-a')).toEqual({ seq: 8, hash: records[7].hash });
        const restarted = await writer(store, 'gateway-a');
        expect(await restarted.append(requestEntry(20))).toMatchObject({ seq: 9, prevHash: records[7].hash });
        expect((await verifyAuditStore(store, jwks)).ok).toBe(true);
      });

      it('refuses to prune a range with a record missing, keeping the evidence for the verifier', async () => {
        const db = await database();
        const { store } = await fourteenRecords(db, oldThenNew);
        await db.execute("DELETE FROM audit_records WHERE chain_id = 'gateway-a' AND seq = 3");
        const result = await store.prune('2021-01-01T00:00:00.000Z');
        expect(result.ranges).toEqual([]);
        expect(result.refused).toEqual([{ chainId: 'gateway-a', reason: expect.stringContaining('not all present') }]);
        expect((await verifyAuditStore(store, jwks)).problem).toMatchObject({ kind: 'REMOVED', seq: 3 });
      });
    });
  });
}

async function* toLines(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}
