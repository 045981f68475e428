import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAuditKey, subjectHash } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { verifyAuditStore } from '../../common/audit/verifier.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGatewayConfig, subgraphUrlVariable } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { auditRecordsWhere } from '../support/audit-records.js';
import { deliveredOutcome, reconcileDeliveries, type ClientOutcome } from '../support/delivery.js';
import { gatewayEnvironment, quietLogger, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { testToken } from '../support/identity.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Discloses a person from two domains: household (the name) and credit. */
const QUERY = 'query Delivery($id: ID!) { person(idNumber: $id) { name credit { dishonestJudgmentDebtor } } }';
const NAME_ONLY = 'query Name($id: ID!) { person(idNumber: $id) { name } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done` holds, for up to `ms`. */
async function eventually(done: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done()) && Date.now() < deadline) await sleep(100);
}

const schema = `audit_delivery_${randomUUID().replace(/-/g, '')}`;
const searchPath = `options=-c%20search_path%3D${schema}`;
const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?${searchPath}`;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
let dataDir: string;
let federation: TestFederation;
let store: AuditStore;
let counter = 0;

/** A request with a correlation id of its own, so that the trail can be matched with what its client received. */
function ask(url: string, query = QUERY, signal?: AbortSignal): Promise<ClientOutcome> {
  const person = DEMO_PERSONS[counter % DEMO_PERSONS.length];
  return deliveredOutcome(url, query, { id: person.idNumber }, federation.defaultHeaders, `delivery-${++counter}`, signal);
}

/** What the trail says of these requests must be what their clients received; and the chains still verify. */
async function expectTruthfulTrail(outcomes: readonly ClientOutcome[]): Promise<void> {
  expect(await reconcileDeliveries(store, outcomes)).toEqual([]);
  const jwks = JSON.parse(readFileSync(join(dataDir, 'keys', 'gateway.jwks.json'), 'utf8'));
  const report = await verifyAuditStore(store, jwks);
  expect(report.problem).toBeNull();
}

function withheldOf(chainId: string) {
  return auditRecordsWhere(store, (record) => record.chainId === chainId && record.kind === 'WITHHELD');
}

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  dataDir = await seedTemporaryData(120);
  federation = await startTestFederation({ dataDir, env: { AUDIT_DATABASE_URL: databaseUrl, GATEWAY_REPLICA_ID: 'delivery-review' } });
  store = await openAuditStore({ databaseUrl });
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  if (dataDir) removeData(dataDir);
});

describe('audit records and what clients actually received, with the PostgreSQL store behind a real TCP proxy', () => {
  let proxy: TcpProxy;
  let gateway: RunningGateway | null = null;

  /** A gateway on its own chain whose audit store is reached through the proxy. */
  async function gatewayThroughProxy(chainId: string): Promise<RunningGateway> {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    gateway = await startGateway({
      config: loadGatewayConfig(
        gatewayEnvironment(federation, {
          GATEWAY_REPLICA_ID: chainId,
          AUDIT_DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test?${searchPath}`,
        }),
      ),
      logger: quietLogger(),
    });
    return gateway;
  }

  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
  });

  describe('when the store is stopped mid-commit', () => {
    it('follows each record that landed after its client got 503 with a WITHHELD record, first once the store is back', async () => {
      const { url, stop } = await gatewayThroughProxy('delivery-stopped');
      const outcomes: ClientOutcome[] = [await ask(url), await ask(url)];
      const tripped = proxy.stopAfter((chunk) => chunk.includes('INSERT INTO audit_records'));
      outcomes.push(...(await Promise.all(Array.from({ length: 5 }, () => ask(url)))));
      await tripped;
      expect(outcomes.slice(2).filter((o) => o.code === 'AUDIT_UNAVAILABLE').length).toBeGreaterThan(0);
      outcomes.push(await ask(url)); // refused: the store is still away
      proxy.start();
      outcomes.push(await ask(url), await ask(url));
      expect(outcomes.at(-1)!.status).toBe(200);

      await expectTruthfulTrail(outcomes);
      const withheld = await withheldOf('delivery-stopped');
      // The statement reached PostgreSQL before the proxy stopped: its records are there, and so is the truth about them.
      expect(withheld.length).toBeGreaterThan(0);
      expect(withheld.every((r) => r.httpStatus === 503 && r.errorCodes.join() === 'AUDIT_UNAVAILABLE' && r.disclosed.length > 0)).toBe(true);

      // Auditors see it: the record says what the client got, and the person's access report counts the access as withheld.
      const auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'] })}`, 'x-matter-code': '' };
      const id = `${withheld[0].chainId}:${withheld[0].seq}`;
      const shown = await federation.query('query($id: ID!) { auditRecord(id: $id) { kind withholds httpStatus errorCodes } }', { id }, auditor);
      expect(shown.body.data!.auditRecord).toEqual({
        kind: 'WITHHELD',
        withholds: withheld[0].detail!.withholds,
        httpStatus: 503,
        errorCodes: ['AUDIT_UNAVAILABLE'],
      });
      const key = await ensureAuditKey(dataDir);
      const person = DEMO_PERSONS.find((p) => subjectHash(key, 'Person', p.idNumber) === withheld[0].disclosed[0].subject)!;
      const report = await federation.query(
        'query($id: ID!) { accessReport(subject: { idNumber: $id }, from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z") { totalAccesses totalWithheld entries { accesses withheld } } }',
        { id: person.idNumber },
        auditor,
      );
      expect(report.body.errors).toBeUndefined();
      expect(report.body.data!.accessReport.totalWithheld).toBeGreaterThanOrEqual(1);
      expect(report.body.data!.accessReport.totalAccesses).toBeGreaterThanOrEqual(report.body.data!.accessReport.totalWithheld);
      await stop();
      gateway = null;
      await proxy.close();
    }, 60_000);
  });

  describe('when the store is frozen', () => {
    it('records that an answer whose commit landed after the 503 was withheld', async () => {
      const { url, stop } = await gatewayThroughProxy('delivery-frozen');
      const outcomes: ClientOutcome[] = [await ask(url), await ask(url)];
      proxy.freeze();
      // The statement waits in the network until the pool gives up on it (statementTimeoutMillis + 2 s): the client gets 503.
      let answered: (outcome: ClientOutcome) => void = () => {};
      const first = new Promise<ClientOutcome>((resolve) => {
        answered = resolve;
      });
      const frozen = Promise.all(
        Array.from({ length: 3 }, () =>
          ask(url).then((outcome) => {
            answered(outcome);
            return outcome;
          }),
        ),
      );
      expect((await first).code).toBe('AUDIT_UNAVAILABLE');
      // Thawed: what was held reaches PostgreSQL, which commits it, after the gateway answered 503.
      proxy.thaw();
      outcomes.push(...(await frozen));
      await sleep(500);
      outcomes.push(await ask(url), await ask(url));
      expect(outcomes.at(-1)!.status).toBe(200);

      await expectTruthfulTrail(outcomes);
      const withheld = await withheldOf('delivery-frozen');
      expect(withheld.length).toBeGreaterThan(0);
      expect(withheld.every((r) => r.httpStatus === 503 && r.errorCodes.join() === 'AUDIT_UNAVAILABLE')).toBe(true);
      await stop();
      gateway = null;
      await proxy.close();
    }, 60_000);
  });

  describe('when the store is slow', () => {
    it('delivers every answer after its record, and records one whose client left before it was ready as withheld', async () => {
      const { url, stop } = await gatewayThroughProxy('delivery-slow');
      await ask(url);
      proxy.slow(300);
      const impatient = new AbortController();
      const leaving = ask(url, QUERY, impatient.signal);
      setTimeout(() => impatient.abort(), 150);
      const outcomes = await Promise.all([leaving, ...Array.from({ length: 6 }, () => ask(url))]);
      expect(outcomes[0].status).toBeNull();
      expect(outcomes.slice(1).map((o) => o.status)).toEqual([200, 200, 200, 200, 200, 200]);
      proxy.slow(0);
      // The gateway finishes the request whose client left: its record, then the WITHHELD one.
      await eventually(async () => (await withheldOf('delivery-slow')).length > 0);

      await expectTruthfulTrail(outcomes);
      const withheld = await withheldOf('delivery-slow');
      expect(withheld.map((r) => [r.httpStatus, r.errorCodes])).toEqual([[0, ['CLIENT_CLOSED_REQUEST']]]);
      await stop();
      gateway = null;
      await proxy.close();
    }, 60_000);
  });
});

describe('a stop whose SHUTDOWN_GRACE_MS runs out with the store frozen', () => {
  it('ends within the grace, and the next start records as withheld the answers whose records landed after it', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const chainId = 'delivery-frozen-stop';
    const env = (url: string) => gatewayEnvironment(federation, { GATEWAY_REPLICA_ID: chainId, AUDIT_DATABASE_URL: url, SHUTDOWN_GRACE_MS: '2000' });
    const proxied = `postgres://postgres@127.0.0.1:${proxy.port}/test?${searchPath}`;
    try {
      const first = await startGateway({ config: loadGatewayConfig(env(proxied)), logger: quietLogger() });
      const outcomes: ClientOutcome[] = [await ask(first.url)];
      proxy.freeze();
      const stuck = ask(first.url);
      await sleep(200);
      const started = Date.now();
      await first.stop();
      expect(Date.now() - started).toBeLessThan(2_000 + 500);
      outcomes.push(await stuck);
      expect(outcomes[1].status).toBeNull();
      // The statement held in the network reaches PostgreSQL after the gateway has gone: the record claims a 200.
      proxy.thaw();
      // The chain's lease is released once the held release reaches PostgreSQL too.
      let second: RunningGateway | null = null;
      await eventually(async () => {
        second = await startGateway({ config: loadGatewayConfig(env(databaseUrl)), logger: quietLogger() }).catch(() => null);
        return second !== null;
      });
      if (!second) throw new Error('the chain was not released');
      const next: RunningGateway = second;
      outcomes.push(await ask(next.url));
      await next.stop();
      await expectTruthfulTrail(outcomes);
      const withheld = await withheldOf(chainId);
      expect(withheld.map((r) => [r.httpStatus, r.errorCodes])).toEqual([[0, ['SHUTTING_DOWN']]]);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('a stop whose SHUTDOWN_GRACE_MS runs out with a subgraph frozen', () => {
  it('exits within the grace, the frozen calls cancelled and recorded as SHUTTING_DOWN, and the trail true to every client', async () => {
    const credit = federation.subgraphs.get('credit')!;
    const creditPort = Number(new URL(credit.url).port);
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: creditPort });
    const chainId = 'delivery-shutdown';
    const child = fork(`${ROOT}gateway/main.ts`, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        ...gatewayEnvironment(federation, {
          GATEWAY_REPLICA_ID: chainId,
          AUDIT_DATABASE_URL: databaseUrl,
          SHUTDOWN_GRACE_MS: '3000',
          SUBGRAPH_TIMEOUT_MS: '10000',
          LOG_LEVEL: 'error',
        }),
        [subgraphUrlVariable('credit')]: credit.url.replace(`:${creditPort}`, `:${proxy.port}`),
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.once('message', (m: { ready?: string }) => (m.ready ? resolve(m.ready) : reject(new Error('no url'))));
        child.once('exit', () => reject(new Error('gateway exited before it was ready')));
      });
      const outcomes: ClientOutcome[] = [await ask(url)];
      expect(outcomes[0].status).toBe(200);
      proxy.freeze();
      const stalled = Array.from({ length: 4 }, () => ask(url));
      const quick = await ask(url, NAME_ONLY);
      expect(quick.status).toBe(200);
      await sleep(300);
      const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
      const signalled = Date.now();
      child.kill('SIGTERM');
      outcomes.push(quick, ...(await Promise.all(stalled)));
      const stoppedAfter = (await exited) - signalled;
      // The grace bounds the whole stop; the margin is the process's own exit (a loaded machine included).
      expect(stoppedAfter).toBeLessThan(3_000 + 1_500);
      expect(stoppedAfter).toBeGreaterThan(1_500);
      // The calls to the frozen domain were cancelled at the end of the grace; the answers went out, recorded as such.
      expect(outcomes.slice(2).map((o) => [o.status, o.code])).toEqual(Array.from({ length: 4 }, () => [200, 'SHUTTING_DOWN']));
      const cut = await auditRecordsWhere(store, (r) => r.chainId === chainId && r.errorCodes.includes('SHUTTING_DOWN'));
      expect(cut.map((r) => [r.kind, r.outcome, r.httpStatus])).toEqual(Array.from({ length: 4 }, () => ['REQUEST', 'PARTIAL', 200]));
      await expectTruthfulTrail(outcomes);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await proxy.close();
    }
  }, 60_000);
});
