import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { removeData, seedTemporaryData, startTestFederation, type GraphQLResponse, type TestFederation } from '../support/federation.js';

/**
 * GraphQL over HTTP as clients expect it, against a real gateway: queries by
 * GET, content negotiation and the status codes of each response type, and
 * graphql-http's server audit.
 */

const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
const PERSON = 'query Person($id: ID!) { person(idNumber: $id) { name } }';
const person = DEMO_PERSONS[0];

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
