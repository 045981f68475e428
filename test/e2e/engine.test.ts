import { readFileSync } from 'node:fs';
import { createServer, request as forward, type Server } from 'node:http';
import { Supergraph } from '@apollo/federation-internals';
import { getIntrospectionQuery, graphqlSync } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { DEFAULT_SUPERGRAPH_FILE } from '../../gateway/config.js';
import type { RunningGateway } from '../../gateway/server.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS } from '../../scripts/seed/index.js';
import { databaseFileOf } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { stripSecurityFeatures } from '../../common/scopes/security-policy.js';
import { testToken } from '../support/identity.js';
import { FULL_DOSSIER } from '../support/queries.js';
import { auditRecordsOf } from '../support/audit-records.js';
import {
  postGraphQL,
  takeReceipt,
  removeData,
  seedTemporaryData,
  startTestFederation,
  type GraphQLResponse,
  type TestFederation,
} from '../support/federation.js';

/**
 * The engine's request pipeline over HTTP, against a real federation: what it
 * refuses before any subgraph is asked (each refusal audited once),
 * introspection, and the equivalence of its own plan executor with
 * @apollo/gateway's on the same subgraphs.
 */

let dataDir: string;
let federation: TestFederation;
let store: AuditStore;

beforeAll(async () => {
  dataDir = await seedTemporaryData(300);
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

interface RawRequest {
  method?: string;
  /** Appended to the endpoint URL (GET). */
  search?: string;
  contentType?: string;
  /** Default application/graphql-response+json: the status codes follow the outcome. */
  accept?: string;
  body?: unknown;
}

/** A request as a client library might send it, with the default token and matter. */
async function send({
  method = 'POST',
  search = '',
  contentType = 'application/json',
  accept = 'application/graphql-response+json',
  body,
}: RawRequest) {
  const response = await fetch(federation.gatewayUrl + search, {
    method,
    headers: { ...federation.defaultHeaders, 'content-type': contentType, accept },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const answer = (await response.json()) as GraphQLResponse['body'];
  return { status: response.status, requestId: response.headers.get('x-request-id')!, receipt: takeReceipt(answer), body: answer };
}

const PERSON_BY_ID = 'query Person($id: ID!) { person(idNumber: $id) { name } }';

describe('the engine', () => {
  describe('when the request is not one GraphQL request it can serve', () => {
    it.each<[string, RawRequest, number, string]>([
      ['a mutation by GET', { method: 'GET', search: `?query=${encodeURIComponent('mutation { __typename }')}` }, 405, 'BAD_REQUEST'],
      ['a PUT', { method: 'PUT', body: { query: '{ __typename }' } }, 405, 'BAD_REQUEST'],
      ['a text/plain body', { contentType: 'text/plain', body: { query: '{ __typename }' } }, 415, 'BAD_REQUEST'],
      ['a batch (JSON array)', { body: [{ query: '{ __typename }' }, { query: '{ __typename }' }] }, 400, 'BAD_REQUEST'],
      ['a body without a query', { body: { variables: {} } }, 400, 'BAD_REQUEST'],
      ['variables that are not an object', { body: { query: PERSON_BY_ID, variables: ['x'] } }, 400, 'BAD_REQUEST'],
      ['an operationName that is not a string', { body: { query: PERSON_BY_ID, operationName: 7 } }, 400, 'BAD_REQUEST'],
      [
        'only the hash of a document nobody registered',
        { body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38' } } } },
        400,
        'PERSISTED_QUERY_NOT_FOUND',
      ],
      [
        'two operations and no operationName',
        { body: { query: 'query A { __typename } query B { __typename }' } },
        400,
        'OPERATION_RESOLUTION_FAILURE',
      ],
      [
        'an unknown operationName',
        { body: { query: 'query A { __typename } query B { __typename }', operationName: 'C' } },
        400,
        'OPERATION_RESOLUTION_FAILURE',
      ],
      [
        'an operationName naming no operation of a one-operation document',
        { body: { query: 'query A { __typename }', operationName: 'B' } },
        400,
        'OPERATION_RESOLUTION_FAILURE',
      ],
      ['a variable of the wrong type', { body: { query: PERSON_BY_ID, variables: { id: { nested: true } } } }, 400, 'BAD_USER_INPUT'],
      ['a required variable left out', { body: { query: PERSON_BY_ID, variables: {} } }, 400, 'BAD_USER_INPUT'],
    ])('answers %s with %i %s, asks no subgraph, and audits it once', async (_case, request, status, code) => {
      federation.resetStatements();
      const response = await send(request);
      expect(response.status).toBe(status);
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors![0].extensions!.code).toBe(code);
      expect(response.body).not.toHaveProperty('data');
      expect(statementCount()).toBe(0);
      const records = await recordsOf(response.requestId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'FAILED', httpStatus: status, errorCodes: [code] });
    });

    it.each<[string, RawRequest, string]>([
      ['a document that does not parse', { body: { query: '{ person(' } }, 'GRAPHQL_PARSE_FAILED'],
      ['a document the schema does not allow', { body: { query: '{ salary }' } }, 'GRAPHQL_VALIDATION_FAILED'],
      ['two operations and no operationName', { body: { query: 'query A { __typename } query B { __typename }' } }, 'OPERATION_RESOLUTION_FAILURE'],
      ['a variable of the wrong type', { body: { query: PERSON_BY_ID, variables: { id: { nested: true } } } }, 'BAD_USER_INPUT'],
    ])('answers %s 200 to a client of application/json (its errors come only with a 200), the body alike', async (_case, request, code) => {
      const modern = await send(request);
      const legacy = await send({ ...request, accept: 'application/json' });
      expect([modern.status, legacy.status]).toEqual([400, 200]);
      expect(legacy.body).toEqual(modern.body);
      expect(legacy.body.errors![0].extensions!.code).toBe(code);
      expect((await recordsOf(legacy.requestId))[0]).toMatchObject({ outcome: 'FAILED', httpStatus: 200, errorCodes: [code] });
    });

    it('records the operation of a refused request once it is known', async () => {
      const response = await send({ body: { query: PERSON_BY_ID, variables: { id: 42.5 } } });
      expect(response.status).toBe(400);
      const [record] = await recordsOf(response.requestId);
      expect(record.operation).toMatchObject({ name: 'Person', type: 'query' });
    });

    it('serves the next request normally', async () => {
      const { status, body } = await federation.query(PERSON_BY_ID, { id: DEMO_PERSONS[0].idNumber });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { person: { name: DEMO_PERSONS[0].name } } });
    });
  });

  describe('introspection (on by default outside production)', () => {
    it('answers __schema and __type from the API schema without asking a subgraph', async () => {
      federation.resetStatements();
      const schema = await federation.query('{ __schema { queryType { name } } }');
      expect(schema.status).toBe(200);
      expect(schema.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      const type = await federation.query('{ __type(name: "Person") { name } }');
      expect(type.body).toEqual({ data: { __type: { name: 'Person' } } });
      expect(statementCount()).toBe(0);
    });

    it('needs a token but no matter: it reads no personal data', async () => {
      const withoutMatter = await federation.query('{ __type(name: "Person") { name } }', {}, { 'x-matter-code': '' });
      expect(withoutMatter.status).toBe(200);
      expect(withoutMatter.body).toEqual({ data: { __type: { name: 'Person' } } });
      const withoutToken = await federation.query('{ __type(name: "Person") { name } }', {}, { authorization: '', 'x-matter-code': '' });
      expect(withoutToken.status).toBe(401);
    });

    it('answers the introspection query tools send (named fragments) exactly as the API schema would', async () => {
      const { status, body } = await federation.query(getIntrospectionQuery(), {}, { 'x-matter-code': '' });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      const api = Supergraph.build(stripSecurityFeatures(readFileSync(DEFAULT_SUPERGRAPH_FILE, 'utf8')))
        .apiSchema()
        .toGraphQLJSSchema();
      const expected = graphqlSync({ schema: api, source: getIntrospectionQuery() });
      expect(body.data).toEqual(JSON.parse(JSON.stringify(expected.data)));
      // Never the federation's own machinery.
      expect(JSON.stringify(body.data)).not.toMatch(/_entities|_service|join__/);
    });

    it('is refused with GRAPHQL_VALIDATION_FAILED when switched off, and __typename still works', async () => {
      const closed = await federation.startGateway({ GATEWAY_INTROSPECTION: 'off' });
      const refused = await postGraphQL(
        closed.url,
        '{ __schema { queryType { name } } }',
        {},
        {
          ...federation.defaultHeaders,
          accept: 'application/graphql-response+json',
        },
      );
      expect(refused.status).toBe(400);
      expect(refused.body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const typename = await postGraphQL(closed.url, '{ __typename }', {}, federation.defaultHeaders);
      expect(typename.body).toEqual({ data: { __typename: 'Query' } });
    });
  });
});

// ------------------------------------------------------------------ equivalence

const PERSONS = /* GraphQL */ `
  query Persons($ids: [ID!]!) {
    persons(idNumbers: $ids) {
      idNumber name sex
      registration { status relationToHead address { street full } household { number type members { relationToHead person { idNumber name } } } }
      credit { dishonestJudgmentDebtor activeNegativeRecords records { category status title } }
    }
  }
`;

const ORGANISATION = /* GraphQL */ `
  query Organisation($code: ID!) {
    organisation(creditCode: $code) {
      creditCode name entityType status region { fullName }
      credit { abnormalOperation dishonestJudgmentDebtor records { category status title authority { name } } }
      businessLicence { number status }
      licences { identifier type title number status holderName holder { __typename ... on Organisation { creditCode name } ... on Person { idNumber name } } history { kind date note } }
      socialInsuranceEmployer { employerNumber insuredHeadcount }
      providentFundEmployer { accountNumber depositingHeadcount }
    }
  }
`;

const SHAPED = /* GraphQL */ `
  query Shaped($id: ID!, $withCredit: Boolean!, $noLicences: Boolean = false) {
    __typename
    who: person(idNumber: $id) {
      ...Basics
      id2: idNumber
      kind: __typename
      credit @include(if: $withCredit) { ...CreditBits }
      licences @skip(if: $noLicences) {
        t: title
        number
        holder { __typename ... on Person { ...Basics } ... on Organisation { creditCode name credit { ...CreditBits } } }
      }
      socialInsurance { ... on SocialInsuranceRecord { cardNumber phone } enrolments { employer { ... on Organisation { name credit { abnormalOperation } } } } }
      providentFundAccounts { employer { name n2: name } }
    }
    again: person(idNumber: $id) { name ... @include(if: $withCredit) { credit { activeNegativeRecords } } }
  }
  fragment Basics on Person { __typename name idNumber registration { address { full street } household { members { person { name idNumber } } } } }
  fragment CreditBits on CreditProfile { dishonestJudgmentDebtor records { title status } }
`;

const MASKED = /* GraphQL */ `
  query Masked($id: ID!) {
    person(idNumber: $id) {
      idNumber
      registration { address { street full } household { address { street full } members { person { idNumber } } } }
      socialInsurance { phone }
      licences { number holder { ... on Person { idNumber } } }
    }
  }
`;

/** Forwards to a subgraph, noting which HTTP client each gateway used for each request. */
async function startRecordingProxy(
  target: string,
): Promise<{ url: string; seen: { requestId: string; userAgent: string | undefined }[]; server: Server }> {
  const upstream = new URL(target);
  const seen: { requestId: string; userAgent: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ requestId: String(req.headers['x-request-id']), userAgent: req.headers['user-agent'] });
    const out = forward(
      { host: upstream.hostname, port: upstream.port, path: upstream.pathname, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, seen, server };
}

describe('the native executor and @apollo/gateway’s, on the same subgraphs', () => {
  let native: RunningGateway;
  let apollo: RunningGateway;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let sequence = 0;

  beforeAll(async () => {
    // Both gateways reach the credit domain through a recording proxy, to show which client (executor) each used.
    proxy = await startRecordingProxy(federation.subgraphs.get('credit')!.url);
    native = await federation.startGateway({ SUBGRAPH_URL_CREDIT: proxy.url });
    apollo = await federation.startGateway({ SUBGRAPH_URL_CREDIT: proxy.url, GATEWAY_EXECUTOR: 'apollo' });
  });

  afterAll(() => {
    proxy?.server.close();
  });

  /** The gateways' own ids of the last `both` call: each gateway's fetches carry its request's id. */
  const last = { native: '', apollo: '' };

  /** The same request to both gateways; request ids say which gateway a subgraph fetch came from. */
  async function both(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
    const merged = Object.fromEntries(Object.entries({ ...federation.defaultHeaders, ...headers }).filter(([, v]) => v !== ''));
    sequence++;
    const [ours, theirs] = await Promise.all([
      postGraphQL(native.url, query, variables, { ...merged, 'x-request-id': `native-${sequence}-request` }),
      postGraphQL(apollo.url, query, variables, { ...merged, 'x-request-id': `apollo-${sequence}-request` }),
    ]);
    last.native = ours.headers.get('x-request-id')!;
    last.apollo = theirs.headers.get('x-request-id')!;
    return { ours, theirs };
  }

  /** The credit fetches one gateway made for the last `both` call. */
  const creditFetches = (gateway: 'native' | 'apollo') => proxy.seen.filter((s) => s.requestId === last[gateway]);

  async function expectSameAnswer(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
    const { ours, theirs } = await both(query, variables, headers);
    expect(ours.status).toBe(theirs.status);
    expect(ours.body).toEqual(theirs.body);
    // Not a comparison of @apollo/gateway with itself: the native executor ran this plan (no fallback).
    // @apollo/gateway's data source uses fetch() (user-agent: node); the native executor undici's pool.
    expect(creditFetches('native').every((s) => s.userAgent === undefined)).toBe(true);
    expect(creditFetches('apollo').every((s) => s.userAgent === 'node')).toBe(true);
    return ours;
  }

  function personIds(count: number): string[] {
    const db = openDatabase(databaseFileOf(dataDir, 'household'), { readonly: true });
    try {
      // Every registration status: cancelled and moved-out registrations answer differently.
      return db
        .prepare<[number], { id_number: string }>('SELECT id_number FROM persons ORDER BY registration_status, id_number LIMIT ?')
        .all(count)
        .map((r) => r.id_number);
    } finally {
      db.close();
    }
  }

  it('really runs two executors (each gateway’s fetches reach the credit domain through its own HTTP client)', async () => {
    await expectSameAnswer('query($id: ID!) { person(idNumber: $id) { credit { dishonestJudgmentDebtor } } }', { id: DEMO_PERSONS[0].idNumber });
    expect(creditFetches('native').length).toBeGreaterThan(0);
    expect(creditFetches('apollo').length).toBeGreaterThan(0);
  });

  it('audit the same disclosures, read from the domains’ reports', async () => {
    const ids = personIds(6);
    await expectSameAnswer('query($ids: [ID!]!) { persons(idNumbers: $ids) { name credit { activeNegativeRecords } } }', { ids });
    const disclosed = async (gateway: 'native' | 'apollo') => {
      const [record] = await recordsOf(last[gateway]);
      // The gateway made its own id; the client's is kept beside it.
      expect(record.detail?.clientRequestId).toBe(`${gateway}-${sequence}-request`);
      // Both executors' answers cost alike: 6 persons, 6 credit profiles.
      expect(record.detail?.cost).toEqual({ estimated: 12, actual: 12 });
      return record.disclosed.map((d) => `${d.subgraph}/${d.type}/${d.subject}`).sort();
    };
    const ours = await disclosed('native');
    // Six persons, each disclosed by the household and the credit domain.
    expect(ours).toHaveLength(12);
    expect(await disclosed('apollo')).toEqual(ours);
  });

  it('answer the full dossier of every demo person alike', async () => {
    expect(DEMO_PERSONS.length).toBeGreaterThan(3);
    for (const person of DEMO_PERSONS) {
      const ours = await expectSameAnswer(FULL_DOSSIER, { id: person.idNumber });
      expect(ours.body.data!.person.name).toBe(person.name);
      expect(creditFetches('native').length).toBeGreaterThan(0);
    }
  });

  it('answer 20 persons with their households and credit alike, unknown and badly formed ones included', async () => {
    const ids = personIds(18);
    const ours = await expectSameAnswer(PERSONS, { ids: [...ids, '11010519491231002X', DEMO_PERSONS[0].idNumber] });
    expect(ours.body.data!.persons).toHaveLength(20);
    expect(ours.body.data!.persons.filter((p: unknown) => p !== null)).toHaveLength(19);
    const bad = await expectSameAnswer(PERSONS, { ids: [ids[0], 'nonsense', ids[1]] });
    expect(bad.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('answer every demo organisation, with credit and licences, alike', async () => {
    for (const organisation of DEMO_ORGANISATIONS) {
      const ours = await expectSameAnswer(ORGANISATION, { code: organisation.creditCode });
      expect(ours.body.data!.organisation.name).toBe(organisation.name);
    }
  });

  it.each([[{ withCredit: true }], [{ withCredit: false, noLicences: true }], [{ withCredit: true, noLicences: false }]])(
    'shape fragments, aliases, __typename and conditions alike (%j)',
    async (conditions) => {
      for (const person of DEMO_PERSONS.slice(0, 3)) {
        const ours = await expectSameAnswer(SHAPED, { id: person.idNumber, ...conditions });
        expect(ours.body.errors).toBeUndefined();
        expect(ours.body.data!.who.name).toBe(person.name);
        expect('credit' in ours.body.data!.who).toBe(conditions.withCredit);
      }
    },
  );

  it('null and report the fields a narrower token may not see alike', async () => {
    const authorization = `Bearer ${await testToken(dataDir, { scopes: ['household:read', 'licence:read'] })}`;
    const ours = await expectSameAnswer(FULL_DOSSIER, { id: DEMO_PERSONS[0].idNumber }, { authorization });
    expect(ours.body.data!.person.credit).toBeNull();
    expect(ours.body.errors!.map((e) => e.extensions!.code)).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
    await expectSameAnswer(SHAPED, { id: DEMO_PERSONS[1].idNumber, withCredit: true }, { authorization });
  });

  it('mask identifiers alike without pii:unmasked, and unmask them alike with it', async () => {
    const id = DEMO_PERSONS[0].idNumber;
    const masked = await expectSameAnswer(MASKED, { id });
    expect(JSON.stringify(masked.body)).not.toContain(id);
    const authorization = `Bearer ${await testToken(dataDir, { scopes: ['household:read', 'social-insurance:read', 'licence:read', 'pii:unmasked'] })}`;
    const unmasked = await expectSameAnswer(MASKED, { id }, { authorization, 'x-matter-code': 'TB-SB-004' });
    expect(unmasked.body.data!.person.idNumber).toBe(id);
  });

  it('answer alike when a domain cannot be reached: its fields null, one SUBGRAPH_UNAVAILABLE per failed fetch', async () => {
    // Nothing listens on port 1: every credit fetch fails at once.
    const down = { SUBGRAPH_URL_CREDIT: 'http://127.0.0.1:1/' };
    const [nativeDown, apolloDown] = [await federation.startGateway(down), await federation.startGateway({ ...down, GATEWAY_EXECUTOR: 'apollo' })];
    const query = /* GraphQL */ `
      query($ids: [ID!]!) {
        persons(idNumbers: $ids) { name credit { dishonestJudgmentDebtor } licences { title holder { ... on Person { credit { activeNegativeRecords } } } } }
      }
    `;
    const variables = { ids: DEMO_PERSONS.slice(0, 3).map((p) => p.idNumber) };
    const [ours, theirs] = await Promise.all([
      postGraphQL(nativeDown.url, query, variables, federation.defaultHeaders),
      postGraphQL(apolloDown.url, query, variables, federation.defaultHeaders),
    ]);
    expect(ours.status).toBe(200);
    expect(ours.body).toEqual(theirs.body);
    expect(ours.body.data!.persons.map((p: { name: string }) => p.name)).toEqual(DEMO_PERSONS.slice(0, 3).map((p) => p.name));
    expect(ours.body.data!.persons.every((p: { credit: unknown }) => p.credit === null)).toBe(true);
    expect(ours.body.errors!.length).toBeGreaterThan(0);
    for (const error of ours.body.errors!) expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', domain: 'credit' });
  });

  it('answer subgraph input errors, unknown persons and introspection mixed with data alike', async () => {
    await expectSameAnswer(FULL_DOSSIER, { id: '110105194912310021' });
    await expectSameAnswer(FULL_DOSSIER, { id: '11010519491231002X' });
    await expectSameAnswer(
      'query($code: ID!) { __typename t: __type(name: "Organisation") { name kind } organisation(creditCode: $code) { name } }',
      { code: DEMO_ORGANISATIONS[0].creditCode },
    );
  });
});
