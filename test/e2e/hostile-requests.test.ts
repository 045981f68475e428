import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import type { RunningGateway } from '../../gateway/server.js';
import { SERVICES } from '../../subgraphs/catalog.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { ASSERTION_HEADER, createAssertionSigner } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { bareGet, barePost, rawRequest } from '../support/raw-http.js';
import { testToken } from '../support/identity.js';
import { auditRecordsOf, auditRecordsWhere } from '../support/audit-records.js';
import { CRASHING_TARGETS } from '../fuzz/http-requests.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PERSON_QUERY = JSON.stringify({ query: 'query($id: ID!) { person(idNumber: $id) { name } }', variables: { id: DEMO_PERSONS[0].idNumber } });

let dataDir: string;
let federation: TestFederation;
let store: AuditStore;

beforeAll(async () => {
  dataDir = await seedTemporaryData(100);
  federation = await startTestFederation({ dataDir });
  store = await openAuditStore({ dataDir });
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

const portOf = (url: string) => Number(new URL(url).port);

const recordsOf = (requestId: string): Promise<AuditRecord[]> => auditRecordsOf(store, requestId);
const recordCount = async (): Promise<number> => (await auditRecordsWhere(store, () => true)).length;

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const headerLines = (headers: Record<string, string>) => Object.entries(headers).map(([name, value]) => `${name}: ${value}`);

describe('a request target that no URL parser accepts', () => {
  const services = () => [
    { name: 'gateway', port: portOf(federation.gatewayUrl), endpoint: '/graphql' },
    ...SERVICES.map((s) => ({ name: s.name, port: portOf(federation.subgraphs.get(s.name)!.url), endpoint: '/' })),
  ];

  it.each(['gateway', ...SERVICES.map((s) => s.name)])('is answered 4xx by %s, which goes on serving', async (name) => {
    const service = services().find((s) => s.name === name)!;
    for (const target of CRASHING_TARGETS) {
      for (const send of [bareGet(target), barePost(target, '{"query":"{ __typename }"}', ['Connection: close'])]) {
        const reply = await rawRequest(service.port, { send });
        expect(reply.status, `${send.split('\r\n')[0]} at ${name}`).toBeGreaterThanOrEqual(400);
        expect(reply.status, `${send.split('\r\n')[0]} at ${name}`).toBeLessThan(500);
        expect(JSON.parse(reply.body).errors[0].extensions.code).toMatch(/^(BAD_REQUEST|NOT_FOUND)$/);
      }
    }
    // Still serving: its health, and GraphQL (at a subgraph, a request without the gateway's assertion is refused 401).
    const health = await fetch(`http://127.0.0.1:${service.port}/health`);
    expect(health.status).toBe(200);
    if (name === 'gateway') {
      const { status, body } = await federation.query('query($id: ID!) { person(idNumber: $id) { name } }', { id: DEMO_PERSONS[0].idNumber });
      expect(status).toBe(200);
      expect(body.data!.person.name).toBe(DEMO_PERSONS[0].name);
    } else {
      const reply = await rawRequest(service.port, { send: barePost(service.endpoint, '{"query":"{ _service { sdl } }"}', ['Connection: close']) });
      expect(reply.status).toBe(401);
    }
  });
});

describe('request ids at the gateway', () => {
  it('are the gateway’s own for every request: two requests with the same x-request-id get two ids, each keeping the client’s beside it', async () => {
    const first = await federation.query(
      'query($id: ID!) { person(idNumber: $id) { name } }',
      { id: DEMO_PERSONS[0].idNumber },
      { 'x-request-id': 'dup-fixed-id' },
    );
    const second = await federation.query(
      'query($id: ID!) { person(idNumber: $id) { name } }',
      { id: DEMO_PERSONS[0].idNumber },
      { 'x-request-id': 'dup-fixed-id' },
    );
    const ids = [first.headers.get('x-request-id')!, second.headers.get('x-request-id')!];
    expect(ids[0]).toMatch(UUID);
    expect(ids[1]).toMatch(UUID);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) {
      const records = await recordsOf(id);
      expect(records).toHaveLength(1);
      expect(records[0].detail?.clientRequestId).toBe('dup-fixed-id');
    }
    expect(await recordsOf('dup-fixed-id')).toHaveLength(0);

    // An auditor sees both ids through the API.
    const [record] = await recordsOf(ids[0]);
    const auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'], subject: 'auditor-1' })}`, 'x-matter-code': '' };
    const review = await federation.query(
      'query($id: ID!) { auditRecord(id: $id) { requestId clientRequestId } }',
      { id: `${record.chainId}:${record.seq}` },
      auditor,
    );
    expect(review.body.data!.auditRecord).toEqual({ requestId: ids[0], clientRequestId: 'dup-fixed-id' });
  });

  it('leave out the correlation id when the client sent none', async () => {
    const { headers } = await federation.query('{ __typename }');
    const [record] = await recordsOf(headers.get('x-request-id')!);
    expect(record.detail?.clientRequestId).toBeUndefined();
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with a space', 'my request'],
    ['with a slash', 'a/b'],
    ['holding an ID number', `case-${DEMO_PERSONS[0].idNumber}`],
  ])('refuse an x-request-id %s with 400 INVALID_REQUEST_ID, audited', async (_label, value) => {
    const { status, headers, body } = await federation.query('{ __typename }', {}, { 'x-request-id': value });
    expect(status).toBe(400);
    expect(body.errors![0].extensions!.code).toBe('INVALID_REQUEST_ID');
    const [record] = await recordsOf(headers.get('x-request-id')!);
    expect(record.errorCodes).toEqual(['INVALID_REQUEST_ID']);
    expect(record.httpStatus).toBe(400);
    // What was refused is not stored either.
    expect(JSON.stringify(record)).not.toContain(value);
  });
});

describe('requests the HTTP parser refuses, at the gateway', () => {
  it.each([
    ['a request line that is not HTTP', 400, 'MALFORMED_HTTP_REQUEST', 'HELLO\r\n\r\n'],
    ['an invalid method', 400, 'MALFORMED_HTTP_REQUEST', 'G@T /graphql HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header without a colon', 400, 'MALFORMED_HTTP_REQUEST', 'GET /graphql HTTP/1.1\r\nHost x\r\n\r\n'],
    ['two content lengths', 400, 'MALFORMED_HTTP_REQUEST', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}'],
    ['headers of 20 KB', 431, 'HEADERS_TOO_LARGE', `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ])('answers %s with %i %s, recorded in the audit trail', async (_label, status, code, send) => {
    const reply = await rawRequest(portOf(federation.gatewayUrl), { send });
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.body).errors[0].extensions.code).toBe(code);
    const requestId = reply.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    const records = await recordsOf(requestId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ caller: null, httpStatus: status, errorCodes: [code], outcome: 'FAILED' });
    expect(reply.closedByServer || reply.headers.connection === 'close').toBe(true);
  });

  it('answers the requests before a malformed one on the same connection, then refuses it (audited) and closes', async () => {
    const good = barePost('/graphql', PERSON_QUERY, headerLines(federation.defaultHeaders));
    const reply = await rawRequest(portOf(federation.gatewayUrl), { send: `${good}HELLO\r\n\r\n`, firstResponseOnly: false, waitMs: 5_000 });
    expect(reply.statuses).toEqual([200, 400]);
    expect(reply.closedByServer).toBe(true);
    expect(JSON.parse(reply.body).data.person.name).toBe(DEMO_PERSONS[0].name);
    const [first, second] = [...reply.raw.matchAll(/x-request-id: ([0-9a-f-]{36})/gi)].map((m) => m[1]);
    expect((await recordsOf(first))[0]).toMatchObject({ httpStatus: 200, outcome: 'ALLOWED' });
    expect((await recordsOf(second))[0]).toMatchObject({ httpStatus: 400, errorCodes: ['MALFORMED_HTTP_REQUEST'] });
  });

  it('records nothing for a connection that sends nothing (there was no request), and closes it', async () => {
    const before = await recordCount();
    // Stopped with the federation.
    const gateway = await federation.startGateway({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '600' });
    const reply = await rawRequest(portOf(gateway.url), { send: '', waitMs: 5_000 });
    expect(reply.closedByServer).toBe(true);
    expect(reply.status).toBeNull();
    expect(reply.elapsedMs).toBeLessThan(2_000);
    expect(await recordCount()).toBe(before);
  });
});

describe('slow clients at the gateway (HTTP_HEADERS_TIMEOUT_MS 400, HTTP_REQUEST_TIMEOUT_MS 800)', () => {
  let gateway: RunningGateway;
  let port: number;
  beforeAll(async () => {
    gateway = await federation.startGateway({ HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_REQUEST_TIMEOUT_MS: '800' });
    port = portOf(gateway.url);
  });
  // Stopped with the federation.

  it('cuts headers that never end with 408 REQUEST_TIMEOUT within the headers timeout, audited', async () => {
    const reply = await rawRequest(port, {
      send: 'POST /graphql HTTP/1.1\r\nHost: x\r\n',
      trickle: [{ afterMs: 300, bytes: 'X-Slow: 1\r\n' }],
      waitMs: 5_000,
    });
    expect(reply.status).toBe(408);
    expect(reply.elapsedMs).toBeLessThan(2_500);
    const [record] = await recordsOf(reply.headers['x-request-id']);
    expect(record).toMatchObject({ httpStatus: 408, errorCodes: ['REQUEST_TIMEOUT'] });
  });

  it('cuts an incomplete chunked body with 408 REQUEST_TIMEOUT within the request timeout, audited with its caller', async () => {
    const head = [
      'POST /graphql HTTP/1.1',
      'Host: x',
      'Content-Type: application/json',
      'Transfer-Encoding: chunked',
      ...headerLines(federation.defaultHeaders),
      '',
      '',
    ].join('\r\n');
    const reply = await rawRequest(port, { send: `${head}5\r\n{"que\r\n`, trickle: [{ afterMs: 400, bytes: '3\r\nry"\r\n' }], waitMs: 10_000 });
    expect(reply.status).toBe(408);
    expect(reply.elapsedMs).toBeLessThan(3_000);
    expect(reply.headers.connection).toBe('close');
    const [record] = await recordsOf(reply.headers['x-request-id']);
    expect(record).toMatchObject({ httpStatus: 408, errorCodes: ['REQUEST_TIMEOUT'] });
    expect(record.caller?.subject).toBeTruthy();
  });

  it('records a client that closes the connection before its body arrived as 499 CLIENT_CLOSED_REQUEST', async () => {
    const correlation = `closed-early-${Date.now()}`;
    const head = [
      'POST /graphql HTTP/1.1',
      'Host: x',
      'Content-Type: application/json',
      'Content-Length: 1000',
      `X-Request-Id: ${correlation}`,
      ...headerLines(federation.defaultHeaders),
      '',
      '',
    ].join('\r\n');
    const reply = await rawRequest(port, { send: `${head}{"query":`, waitMs: 200 });
    expect(reply.status).toBeNull();
    const record = await eventually(async () => (await auditRecordsWhere(store, (r) => r.detail?.clientRequestId === correlation))[0]);
    expect(record).toMatchObject({ httpStatus: 499, errorCodes: ['CLIENT_CLOSED_REQUEST'] });
  });

  it('still serves a client that sends at an ordinary pace', async () => {
    const reply = await rawRequest(port, {
      send: barePost('/graphql', PERSON_QUERY, [...headerLines(federation.defaultHeaders), 'Connection: close']),
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).data.person.name).toBe(DEMO_PERSONS[0].name);
  });
});

describe('documents the fuzz run found answered 500', () => {
  async function household(body: Record<string, unknown>) {
    const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
    const assertion = sign('household', {
      caller: { subject: 'gateway-test', organisation: '测试', province: '540000', issuer: 'national', tokenId: 'test-token' },
      scopes: ['household:read'],
      matter: 'TB-HJ-004',
      caseNumber: null,
    });
    const response = await fetch(federation.subgraphs.get('household')!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { errors?: { extensions?: { code?: string } }[] } };
  }

  it.each(['mutation { __typename }', 'subscription { __typename }'])(
    'a subgraph refuses %s (no such root type) with 400 GRAPHQL_VALIDATION_FAILED',
    async (query) => {
      const { status, body } = await household({ query });
      expect(status).toBe(400);
      expect(body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    },
  );

  it('the gateway refuses subscription { __typename } with 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const { status, body } = await federation.query('subscription { __typename }', {}, { accept: 'application/graphql-response+json' });
    expect(status).toBe(400);
    expect(body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it.each([[{}], [{ __typename: 'Nothing' }], [{ __typename: 7 }], [[]]])(
    'a subgraph refuses the entity representation %j with BAD_USER_INPUT',
    async (representation) => {
      const { body } = await household({
        query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name } } }',
        variables: { r: [representation] },
      });
      expect(body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    },
  );

  it('a subgraph answers a persisted-query hash it was never sent with PERSISTED_QUERY_NOT_SUPPORTED', async () => {
    const { body } = await household({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } });
    expect(body.errors![0].extensions!.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });
});
