import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import type { RunningGateway } from '../../gateway/server.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { removeData, takeReceipt, seedTemporaryData, startTestFederation, type GraphQLResponse, type TestFederation } from '../support/federation.js';

/**
 * GraphQL over HTTP as clients expect it, against a real gateway: queries by
 * GET, content negotiation and the status codes of each response type, CSRF
 * prevention, CORS for the listed origins, and graphql-http's server audit.
 */

const PORTAL = 'https://portal.example.gov.cn';
const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
const PERSON = 'query Person($id: ID!) { person(idNumber: $id) { name } }';
const person = DEMO_PERSONS[0];

let dataDir: string;
let federation: TestFederation;
let store: AuditStore;
/** A gateway with the default settings: no CORS origin listed. */
let plain: RunningGateway;

beforeAll(async () => {
  dataDir = await seedTemporaryData(100);
  federation = await startTestFederation({ dataDir, env: { CORS_ORIGINS: `${PORTAL}, http://localhost:5173` } });
  plain = await federation.startGateway({ CORS_ORIGINS: '' });
  store = await openAuditStore({ dataDir });
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

const recordsOf = (requestId: string): Promise<AuditRecord[]> => auditRecordsOf(store, requestId);
const statementCount = () => Object.values(federation.statements).reduce((sum, list) => sum + list.length, 0);

interface Sent {
  status: number;
  headers: Headers;
  requestId: string;
  text: string;
  body: GraphQLResponse['body'];
}

/** A request with exactly these headers (no token unless given); `search` is appended to the endpoint. */
async function send(init: { method?: string; search?: string; headers?: Record<string, string>; body?: string; url?: string } = {}): Promise<Sent> {
  const response = await fetch((init.url ?? federation.gatewayUrl) + (init.search ?? ''), {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    body: init.body,
  });
  const text = await response.text();
  let body: GraphQLResponse['body'] = {};
  try {
    body = JSON.parse(text);
    takeReceipt(body);
  } catch {
    // a 204, or not JSON: the test says what it expects
  }
  return { status: response.status, headers: response.headers, requestId: response.headers.get('x-request-id')!, text, body };
}

const token = () => ({ authorization: federation.defaultHeaders.authorization });
const withMatter = () => federation.defaultHeaders;
const searchOf = (parameters: Record<string, string>) => `?${new URLSearchParams(parameters)}`;
const json = (value: unknown) => JSON.stringify(value);

describe('GraphQL over HTTP', () => {
  describe('a query by GET', () => {
    it('is answered like the same query by POST: query, variables, operationName from the query string', async () => {
      const search = searchOf({ query: PERSON, variables: json({ id: person.idNumber }), operationName: 'Person' });
      const got = await send({ search, headers: withMatter() });
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ data: { person: { name: person.name } } });
      const posted = await federation.query(PERSON, { id: person.idNumber });
      expect(got.body).toEqual(posted.body);
      expect((await recordsOf(got.requestId))[0]).toMatchObject({ outcome: 'ALLOWED', operation: { name: 'Person', type: 'query' } });
    });

    it('takes extensions as JSON, and refuses extensions or variables that are no object, or no JSON, with 400 BAD_REQUEST', async () => {
      const ok = await send({ search: searchOf({ query: '{ __typename }', extensions: json({ some: 'value' }) }), headers: token() });
      expect(ok.body).toEqual({ data: { __typename: 'Query' } });
      for (const parameters of <Record<string, string>[]>[
        { query: '{ __typename }', extensions: '"text"' },
        { query: '{ __typename }', extensions: '[1]' },
        { query: '{ __typename }', variables: '{"id":' },
        { query: '{ __typename }', variables: '7' },
      ]) {
        const refused = await send({ search: searchOf(parameters), headers: token() });
        expect(refused.status, JSON.stringify(parameters)).toBe(400);
        expect(refused.body.errors![0].extensions!.code).toBe('BAD_REQUEST');
      }
    });

    it('refuses a mutation with 405 and Allow: POST, runs nothing, and audits the refusal', async () => {
      federation.resetStatements();
      const search = searchOf({ query: 'mutation { issueParticipationCertificate(idNumber: "430102198503129119") { serial } }' });
      const refused = await send({ search, headers: { ...token(), 'x-matter-code': 'TB-SB-005' } });
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe('POST');
      expect(refused.body.errors![0].extensions!.code).toBe('BAD_REQUEST');
      expect(statementCount()).toBe(0);
      expect((await recordsOf(refused.requestId))[0]).toMatchObject({
        httpStatus: 405,
        errorCodes: ['BAD_REQUEST'],
        operation: { type: 'mutation' },
      });
    });

    it('refuses a method other than GET and POST with 405 and Allow: GET, POST', async () => {
      const refused = await send({ method: 'DELETE', search: searchOf({ query: '{ __typename }' }), headers: token() });
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe('GET, POST');
    });

    it('is never kept by a cache (answers hold personal data)', async () => {
      const got = await send({ search: searchOf({ query: '{ __typename }' }), headers: token() });
      expect(got.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('content negotiation', () => {
    it.each([
      [GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON],
      ['application/graphql-response+json, application/json;q=0.9', GRAPHQL_RESPONSE_JSON],
      ['application/json', 'application/json'],
      ['*/*', 'application/json'],
      [undefined, 'application/json'],
      ['application/json, application/graphql-response+json;q=0.5', 'application/json'],
      ['text/html, application/*;q=0.2', 'application/json'],
    ])('answers Accept: %s with %s', async (accept, type) => {
      const got = await send({
        method: 'POST',
        headers: { ...token(), 'content-type': 'application/json', ...(accept ? { accept } : {}) },
        body: json({ query: '{ __typename }' }),
      });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(got.body).toEqual({ data: { __typename: 'Query' } });
    });

    it('answers a validation error 400 in application/graphql-response+json, 200 in application/json, with the same body', async () => {
      const ask = (accept: string) =>
        send({ method: 'POST', headers: { ...token(), 'content-type': 'application/json', accept }, body: json({ query: '{ salary }' }) });
      const [modern, legacy] = [await ask(GRAPHQL_RESPONSE_JSON), await ask('application/json')];
      expect([modern.status, legacy.status]).toEqual([400, 200]);
      expect(modern.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
      expect(modern.body).toEqual(legacy.body);
      expect(modern.body).not.toHaveProperty('data');
      expect(modern.body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('answers a result with field errors 200 in application/graphql-response+json', async () => {
      const got = await send({
        method: 'POST',
        headers: { ...withMatter(), 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_JSON },
        body: json({ query: PERSON, variables: { id: '110105194912310021' } }),
      });
      expect(got.status).toBe(200);
      expect(got.body.data).toEqual({ person: null });
      expect(got.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    });

    it('refuses an Accept that takes neither JSON type with 406 NOT_ACCEPTABLE, asking no subgraph, audited', async () => {
      federation.resetStatements();
      const refused = await send({
        method: 'POST',
        headers: { ...withMatter(), 'content-type': 'application/json', accept: 'text/html' },
        body: json({ query: PERSON, variables: { id: person.idNumber } }),
      });
      expect(refused.status).toBe(406);
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
      expect(refused.body.errors![0].extensions!.code).toBe('NOT_ACCEPTABLE');
      expect(statementCount()).toBe(0);
      expect((await recordsOf(refused.requestId))[0]).toMatchObject({ outcome: 'FAILED', httpStatus: 406, errorCodes: ['NOT_ACCEPTABLE'] });
    });

    it('gives the refusals of admission and of the HTTP layer the negotiated type too', async () => {
      const unauthenticated = await send({
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_JSON },
        body: '{}',
      });
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
      const malformed = await send({
        method: 'POST',
        headers: { ...token(), 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_JSON },
        body: '{"query":',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    });

    it('refuses a POST body that is not application/json with 415', async () => {
      const refused = await send({ method: 'POST', headers: { ...token(), 'content-type': 'application/xml' }, body: '<query/>' });
      expect(refused.status).toBe(415);
      expect(refused.body.errors![0].extensions!.code).toBe('BAD_REQUEST');
    });
  });

  describe('CSRF prevention', () => {
    const simple: [string, { method: string; headers: Record<string, string>; body?: string; search?: string }][] = [
      ['a GET', { method: 'GET', headers: {}, search: searchOf({ query: '{ __typename }' }) }],
      ['a POST of text/plain', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: json({ query: '{ __typename }' }) }],
      ['a POST of a form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D' }],
      ['a POST of multipart/form-data', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }],
      ['a POST without a content type', { method: 'POST', headers: {}, body: json({ query: '{ __typename }' }) }],
      [
        'a GET with Basic credentials (a browser sends those by itself)',
        { method: 'GET', headers: { authorization: 'Basic dTpw' }, search: '?query=%7B__typename%7D' },
      ],
      [
        'a GET with only proxy and tracing headers',
        {
          method: 'GET',
          headers: { 'x-forwarded-for': '10.1.2.3', 'x-request-id': 'r-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
          search: '?query=%7B__typename%7D',
        },
      ],
    ];

    it.each(simple)(
      'refuses %s that carries no preflighted header with 400 CSRF_PREVENTED, before anything runs, audited as denied',
      async (_case, request) => {
        federation.resetStatements();
        const refused = await send(request);
        expect(refused.status).toBe(400);
        expect(refused.body.errors![0].extensions!.code).toBe('CSRF_PREVENTED');
        expect(statementCount()).toBe(0);
        expect((await recordsOf(refused.requestId))[0]).toMatchObject({
          outcome: 'DENIED',
          httpStatus: 400,
          errorCodes: ['CSRF_PREVENTED'],
          caller: null,
        });
      },
    );

    it('lets the same requests through with a bearer token: the GET runs, the POST of text/plain reaches the engine (415)', async () => {
      const [get, textPlain] = simple;
      const passed = await send({ ...get[1], headers: { ...get[1].headers, ...token() } });
      expect(passed.status).toBe(200);
      expect(passed.body).toEqual({ data: { __typename: 'Query' } });
      const unsupported = await send({ ...textPlain[1], headers: { ...textPlain[1].headers, ...token() } });
      expect(unsupported.status).toBe(415);
      expect(unsupported.body.errors![0].extensions!.code).toBe('BAD_REQUEST');
    });

    it.each([['apollo-require-preflight'], ['x-apollo-operation-name'], ['x-matter-code'], ['x-some-client-header']])(
      'takes %s as proof of a preflight: the request goes on to authentication (401 without a token)',
      async (name) => {
        const passed = await send({ search: searchOf({ query: '{ __typename }' }), headers: { [name]: 'TB-HJ-004' } });
        expect(passed.status).toBe(401);
        expect(passed.body.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
      },
    );

    it('never refuses a POST of application/json (a browser preflights it)', async () => {
      const passed = await send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ query: '{ __typename }' }) });
      expect(passed.body.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string, url?: string) =>
      send({
        url,
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-matter-code' },
      });

    it('answers a preflight from a listed origin 204, before authentication, with the methods, headers and max-age, audited', async () => {
      const answered = await preflight(PORTAL);
      expect(answered.status).toBe(204);
      expect(answered.text).toBe('');
      expect(answered.headers.get('access-control-allow-origin')).toBe(PORTAL);
      expect(answered.headers.get('access-control-allow-methods')).toBe('GET, POST');
      const allowed = answered.headers.get('access-control-allow-headers')!.split(', ');
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-matter-code', 'x-case-number', 'x-request-id']));
      expect(Number(answered.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(answered.headers.get('vary')).toMatch(/\bOrigin\b/);
      expect(answered.headers.get('access-control-allow-credentials')).toBeNull();
      expect((await recordsOf(answered.requestId))[0]).toMatchObject({ httpStatus: 204, caller: null, errorCodes: [] });
    });

    it('answers a preflight from another origin without any allow header', async () => {
      const answered = await preflight('https://elsewhere.example');
      expect(answered.status).toBe(204);
      expect([...answered.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    });

    it('gives every answer to a listed origin its Access-Control-Allow-Origin and Vary: Origin, refusals included', async () => {
      const result = await send({
        method: 'POST',
        headers: { ...withMatter(), origin: 'http://localhost:5173', 'content-type': 'application/json' },
        body: json({ query: '{ __typename }' }),
      });
      expect(result.status).toBe(200);
      expect(result.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(result.headers.get('access-control-expose-headers')).toMatch(/\bx-request-id\b/);
      expect(result.headers.get('vary')).toMatch(/\bOrigin\b/);
      const refused = await send({
        method: 'POST',
        headers: { origin: PORTAL, 'content-type': 'application/json' },
        body: json({ query: '{ __typename }' }),
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('access-control-allow-origin')).toBe(PORTAL);
    });

    it('gives an answer to another origin no Access-Control-Allow-Origin, only Vary: Origin', async () => {
      const result = await send({
        method: 'POST',
        headers: { ...withMatter(), origin: 'https://elsewhere.example', 'content-type': 'application/json' },
        body: json({ query: '{ __typename }' }),
      });
      expect(result.status).toBe(200);
      expect(result.headers.get('access-control-allow-origin')).toBeNull();
      expect(result.headers.get('vary')).toMatch(/\bOrigin\b/);
    });

    it('sends no CORS header at all when no origin is listed (the default), and still does not ask a preflight for a token', async () => {
      const answered = await preflight(PORTAL, plain.url);
      expect(answered.status).toBe(204);
      expect([...answered.headers.keys()].filter((name) => name.startsWith('access-control-') || name === 'vary')).toEqual([]);
      const result = await send({
        url: plain.url,
        method: 'POST',
        headers: { ...withMatter(), origin: PORTAL, 'content-type': 'application/json' },
        body: json({ query: '{ __typename }' }),
      });
      expect(result.status).toBe(200);
      expect([...result.headers.keys()].filter((name) => name.startsWith('access-control-') || name === 'vary')).toEqual([]);
    });
  });

  describe('the graphql-http server audit', () => {
    it('finds no error and no warning (with a valid token and matter on every request)', async () => {
      const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) =>
        fetch(input, { ...init, headers: { ...withMatter(), ...Object.fromEntries(new Headers(init.headers).entries()) } });
      const results = await Promise.all(serverAudits({ url: federation.gatewayUrl, fetchFn }).map((audit) => audit.fn()));
      expect(results.length).toBeGreaterThan(40);
      const failing = results.filter((result) => result.status === 'error' || result.status === 'warn');
      expect(failing.map((result) => `${result.status} ${result.id} ${result.name}: ${'reason' in result ? result.reason : ''}`)).toEqual([]);
      // The optional ones (notices) the gateway leaves out, if any: none today.
      expect(results.filter((result) => result.status === 'notice').map((result) => `${result.id} ${result.name}`)).toEqual([]);
    });
  });
});
