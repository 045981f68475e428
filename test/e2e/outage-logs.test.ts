import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { loadGatewayConfig, subgraphUrlVariable } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { gatewayEnvironment, postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** Reads one person from every domain. */
const DOSSIER = /* GraphQL */ `
  query Dossier($id: ID!) {
    person(idNumber: $id) {
      name
      registration { address { full } }
      socialInsurance { enrolments { insuranceType status } }
      providentFundAccounts { status }
      credit { dishonestJudgmentDebtor }
      licences { title }
    }
  }
`;
const PERSON = DEMO_PERSONS[0];
/** Requests driven through each outage: the outage's lines must not grow with them. */
const REQUESTS = 200;
/** Requests in flight at once. */
const CONCURRENCY = 20;

interface LogLine {
  level: number;
  msg: string;
  outage?: string;
  [field: string]: unknown;
}

/** The gateway's log as it writes it (the real logger, redaction and all), parsed line by line. */
function capturedLog() {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ name: 'gateway', level: 'info', destination: sink }),
    raw,
    lines: () => raw.map((line) => JSON.parse(line) as LogLine),
  };
}

let dataDir: string;
let federation: TestFederation;
let log: ReturnType<typeof capturedLog>;
let gateway: RunningGateway | undefined;
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  dataDir = await seedTemporaryData(150);
  federation = await startTestFederation({ dataDir });
});

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

async function startLoggedGateway(env: NodeJS.ProcessEnv): Promise<RunningGateway> {
  log = capturedLog();
  // The subgraph addresses of `env` win over the federation's: a test puts a proxy in front of one.
  const config = loadGatewayConfig({ ...gatewayEnvironment(federation, { GATEWAY_REPLICA_ID: `outage-${randomUUID()}` }), ...env });
  gateway = await startGateway({ config, logger: log.logger });
  return gateway;
}

/** A proxy in front of a real service, as an outage looks to the gateway: stopped (down) or frozen (hanging), then restored. */
interface OutageProxy {
  port: number;
  url(scheme: string, path?: string): string;
  stop(): void;
  freeze(): void;
  restore(): void;
}

async function proxy(port: number): Promise<OutageProxy> {
  const started = await startTcpProxy({ host: '127.0.0.1', port });
  proxies.push(started);
  return {
    port: started.port,
    url: (scheme, path = '') => `${scheme}://${started.host}:${started.port}${path}`,
    stop: () => started.stop(),
    freeze: () => started.freeze(),
    restore: () => {
      started.thaw();
      started.start();
    },
  };
}

/** `count` dossier requests, `CONCURRENCY` at a time; their statuses. */
async function drive(count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let sent = 0; sent < count; sent += CONCURRENCY) {
    const wave = Array.from({ length: Math.min(CONCURRENCY, count - sent) }, () =>
      postGraphQL(gateway!.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders),
    );
    statuses.push(...(await Promise.all(wave)).map((response) => response.status));
  }
  return statuses;
}

/** Retries until `check` passes (a service coming back takes a moment to be noticed). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What every outage's log must look like: the per-request access lines stay
 * (one per request), the outage adds a bounded handful however many requests
 * it affects, nothing is an error with a stack trace, and the end is logged
 * with how long it lasted and how many requests it affected.
 */
function expectBoundedOutageLog(
  outage: string,
  code: string,
  { during, after }: { during: LogLine[]; after: LogLine[] },
  fields: Record<string, unknown> = {},
): void {
  const ofThisOutage = (line: LogLine) => line.outage === outage && Object.entries(fields).every(([key, value]) => line[key] === value);
  const affectedRequests = during.filter((line) => line.msg === 'request' && (line.codes as string[]).includes(code));
  expect(affectedRequests.length).toBeGreaterThanOrEqual(REQUESTS);
  // Beside them a handful at most (on a loaded machine another dependency may be slow for a moment), never one per request.
  const others = during.filter((line) => line.msg !== 'request');
  expect(others.length, JSON.stringify(others.slice(0, 3).map((line) => [line.level, line.msg]))).toBeLessThan(10);
  expect(log.raw.filter((line) => line.includes('"stack"') || line.includes('    at '))).toEqual([]);
  expect(log.lines().filter((line) => line.level >= 50)).toEqual([]);
  expect(log.raw.join('\n')).not.toContain(PERSON.idNumber);
  expect(log.raw.join('\n')).not.toContain(federation.defaultHeaders.authorization.slice('Bearer '.length));

  const outageLines = during.filter(ofThisOutage);
  expect(outageLines.length).toBeGreaterThanOrEqual(1);
  expect(outageLines.length).toBeLessThanOrEqual(3);

  expect(outageLines[0]).toMatchObject({ level: 40, event: 'began', reason: expect.any(String) });
  const ended = after.filter(ofThisOutage);
  expect(ended).toHaveLength(1);
  expect(ended[0]).toMatchObject({ level: 30, event: 'ended', lastedMs: expect.any(Number) });
  expect(ended[0].affected).toBeGreaterThanOrEqual(REQUESTS);
}

/** Whether a dossier request is answered in full. */
async function served(): Promise<boolean> {
  const { status, body } = await postGraphQL(gateway!.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders);
  return status === 200 && body.errors === undefined;
}

/** Runs an outage: warm up, take the dependency out, drive the requests, bring it back, drive until served again. */
async function outage(options: { begin(): Promise<void> | void; end(): Promise<void> | void }) {
  await eventually(served);
  await drive(CONCURRENCY);
  await options.begin();
  const from = log.raw.length;
  const statuses = await drive(REQUESTS);
  const to = log.raw.length;
  await options.end();
  await eventually(served);
  const lines = log.lines();
  return { statuses, during: lines.slice(from, to), after: lines.slice(to) };
}

describe('the log during an outage', () => {
  describe('when Redis is down', () => {
    it('logs one warning, not a line per refused request, and one line when Redis is back', async () => {
      const redis = await proxy(6379);
      await startLoggedGateway({ REDIS_URL: redis.url('redis'), REDIS_KEY_PREFIX: `outage-${randomUUID()}:` });
      const { statuses, ...lines } = await outage({ begin: () => redis.stop(), end: () => redis.restore() });
      expect(new Set(statuses)).toEqual(new Set([503]));
      expectBoundedOutageLog('redis', 'REVOCATION_UNAVAILABLE', lines);
    });
  });

  describe('when a subgraph is down', () => {
    it('logs one warning for the domain, not a stack trace per request, and one line when it is back', async () => {
      const credit = await proxy(Number(new URL(federation.subgraphs.get('credit')!.url).port));
      await startLoggedGateway({ [subgraphUrlVariable('credit')]: credit.url('http', '/') });
      const { statuses, ...lines } = await outage({ begin: () => credit.stop(), end: () => credit.restore() });
      expect(new Set(statuses)).toEqual(new Set([200]));
      expectBoundedOutageLog('subgraph', 'SUBGRAPH_UNAVAILABLE', lines, { subgraph: 'credit' });
    });
  });

  describe('when a subgraph hangs', () => {
    it('logs one warning for the domain, not one per timed-out request, and one line when it answers again', async () => {
      const credit = await proxy(Number(new URL(federation.subgraphs.get('credit')!.url).port));
      await startLoggedGateway({ [subgraphUrlVariable('credit')]: credit.url('http', '/'), SUBGRAPH_TIMEOUT_MS: '1000' });
      const { statuses, ...lines } = await outage({ begin: () => credit.freeze(), end: () => credit.restore() });
      expect(new Set(statuses)).toEqual(new Set([200]));
      expectBoundedOutageLog('subgraph', 'SUBGRAPH_UNAVAILABLE', lines, { subgraph: 'credit' });
    });
  });

  describe('when the PostgreSQL audit store is down', () => {
    const schema = `audit_outage_${randomUUID().replace(/-/g, '')}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
    });

    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });

    it('logs one warning, not an error with a stack trace per withheld answer, and one line when it is back', async () => {
      const postgres = await proxy(5432);
      await startLoggedGateway({ AUDIT_DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/test?options=-c%20search_path%3D${schema}` });
      const { statuses, ...lines } = await outage({ begin: () => postgres.stop(), end: () => postgres.restore() });
      expect(new Set(statuses)).toEqual(new Set([503]));
      expectBoundedOutageLog('audit-store', 'AUDIT_UNAVAILABLE', lines);
    });
  });

  describe('when the SQLite audit file cannot be written', () => {
    it('logs one warning, not an error with a stack trace per withheld answer, and one line when it is writable again', async () => {
      await startLoggedGateway({});
      const file = join(dataDir, 'audit.db');
      const alter = (sql: string) => {
        const db = new Database(file);
        try {
          db.pragma('busy_timeout = 5000');
          db.exec(sql);
        } finally {
          db.close();
        }
      };
      const { statuses, ...lines } = await outage({
        begin: () => alter("CREATE TRIGGER outage_broken BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"),
        end: () => alter('DROP TRIGGER outage_broken'),
      });
      expect(new Set(statuses)).toEqual(new Set([503]));
      expectBoundedOutageLog('audit-store', 'AUDIT_UNAVAILABLE', lines);
    });
  });
});
