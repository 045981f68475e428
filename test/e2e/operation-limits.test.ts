import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { ASSERTION_HEADER, createAssertionSigner } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { testToken } from '../support/identity.js';
import { FULL_DOSSIER } from '../support/queries.js';

const PERSON = DEMO_PERSONS[0].idNumber;
const COMPANY = '91440304900000022N';

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

/** Fragment Fk uses F(k-1) twice: the document is a kilobyte or two, its expansion 2^levels. */
function doubling(levels: number, use: (inner: string) => string): string {
  let query = `query Doubling { organisation(creditCode: "${COMPANY}") { ...F${levels} } }\nfragment F0 on Organisation { name creditCode }\n`;
  for (let k = 1; k <= levels; k++) query += `fragment F${k} on Organisation { ${use(`F${k - 1}`)} }\n`;
  return query;
}

/** A request timed, with the process's resident memory before and after. */
async function timed(query: string, variables?: Record<string, unknown>) {
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  const response = await federation.query(query, variables);
  return { ...response, ms: performance.now() - started, rssGrowthMb: (process.memoryUsage().rss - rss) / 1_048_576 };
}

async function stillAnswering(): Promise<void> {
  const { status, body } = await federation.query(FULL_DOSSIER, { id: PERSON });
  expect(status).toBe(200);
  expect(body.data?.person?.name).toBe(DEMO_PERSONS[0].name);
}

async function expectAuditedRefusal(response: Awaited<ReturnType<typeof timed>>, limit: string): Promise<void> {
  expect(response.status).toBe(400);
  const error = response.body.errors?.find((e) => e.extensions?.limit === limit);
  expect(error?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit });
  // The parser stops at the limit, so a token count has no `actual`.
  if (limit !== 'tokens') expect(error!.extensions!.actual).toBeGreaterThan(error!.extensions!.maximum);
  const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
  expect(record).toMatchObject({ outcome: 'DENIED', httpStatus: 400, disclosed: [] });
  expect(record.errorCodes).toContain('OPERATION_LIMIT_EXCEEDED');
}

describe('fragments that spread the previous one twice', () => {
  for (const levels of [16, 20, 30]) {
    it(`are answered at ${levels} levels within a second, the gateway's memory barely moving`, async () => {
      const response = await timed(doubling(levels, (inner) => `...${inner} ...${inner}`));
      expect(response.status).toBe(200);
      expect(response.body.data?.organisation?.creditCode).toBe(COMPANY);
      expect(response.ms).toBeLessThan(1000);
      expect(response.rssGrowthMb).toBeLessThan(100);
      await stillAnswering();
    });

    it(`are refused at ${levels} levels within a second when each use is wrapped apart (2^${levels} fields)`, async () => {
      const response = await timed(doubling(levels, (inner) => `... on Organisation { ...${inner} } ... on Organisation { ...${inner} }`));
      expect(response.ms).toBeLessThan(1000);
      expect(response.rssGrowthMb).toBeLessThan(100);
      await expectAuditedRefusal(response, 'fields');
      await stillAnswering();
    });
  }
});

describe('a subgraph’s own scope check', () => {
  it('answers 30 levels of doubling fragments sent to it directly within a second', async () => {
    const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
    const assertion = sign('licences', {
      caller: { subject: 'limits-test', organisation: '测试', province: '540000', issuer: 'national', tokenId: 'limits-token' },
      scopes: ['licence:read', 'credit:read'],
      matter: 'TB-HJ-004',
      caseNumber: null,
    });
    const started = performance.now();
    const response = await fetch(federation.subgraphs.get('licences')!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
      body: JSON.stringify({ query: doubling(30, (inner) => `...${inner} ...${inner}`) }),
    });
    const body = (await response.json()) as { data?: { organisation?: { creditCode?: string } } };
    expect(performance.now() - started).toBeLessThan(1000);
    expect(response.status).toBe(200);
    expect(body.data?.organisation?.creditCode).toBe(COMPANY);
  });
});

describe('operation limits', () => {
  it('refuses 1,000 aliased dossiers', async () => {
    const query = `query Many($id: ID!) { ${Array.from({ length: 1000 }, (_, i) => `p${i}: person(idNumber: $id) { name sex }`).join(' ')} }`;
    const response = await timed(query, { id: PERSON });
    expect(response.ms).toBeLessThan(1000);
    await expectAuditedRefusal(response, 'aliases');
    expect(response.body.errors!.map((e) => e.extensions!.limit)).toEqual(['aliases', 'rootFields', 'fields']);
  });

  it('refuses household members nested 10 deep', async () => {
    let inner = 'name';
    for (let i = 0; i < 10; i++) inner = `name registration { household { members { person { ${inner} } } } }`;
    const response = await timed(`query Deep($id: ID!) { person(idNumber: $id) { ${inner} } }`, { id: PERSON });
    expect(response.ms).toBeLessThan(1000);
    await expectAuditedRefusal(response, 'depth');
  });

  it('refuses 200 aliases of persons(idNumbers:) with 100 persons each', async () => {
    const ids = DEMO_PERSONS.slice(0, 1).map((p) => p.idNumber);
    const hundred = Array.from({ length: 100 }, (_, i) => ids[i % ids.length]);
    const query = `query Batch($ids: [ID!]!) { ${Array.from({ length: 200 }, (_, i) => `b${i}: persons(idNumbers: $ids) { name }`).join(' ')} }`;
    const response = await timed(query, { ids: hundred });
    expect(response.ms).toBeLessThan(1000);
    await expectAuditedRefusal(response, 'aliases');
  });

  it('refuses a document of more tokens than the parser takes', async () => {
    const response = await timed(`query Long { ${'__typename '.repeat(16_000)} }`);
    await expectAuditedRefusal(response, 'tokens');
    expect(response.body.errors![0].extensions!.maximum).toBe(15_000);
  });

  it('takes the full dossier and the introspection query within the defaults', async () => {
    await stillAnswering();
    const { getIntrospectionQuery } = await import('graphql');
    const { status, body } = await federation.query(getIntrospectionQuery(), {}, { 'x-matter-code': '' });
    expect(status).toBe(200);
    expect(body.data?.__schema?.types?.length).toBeGreaterThan(20);
  });
});

describe('the heap bound', () => {
  it('refuses new requests with 503 while the heap is over MAX_HEAP_MB, audited, and the gateway stays up', async () => {
    // 16 MB: below what any running gateway holds, so every request finds the heap over its bound.
    const gateway = await federation.startGateway({ MAX_HEAP_MB: '16' });
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...federation.defaultHeaders },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('GATEWAY_OVERLOADED');
    const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
    expect(record).toMatchObject({ httpStatus: 503, outcome: 'FAILED', errorCodes: ['GATEWAY_OVERLOADED'] });
    expect((await fetch(new URL('/health', gateway.url))).status).toBe(200);
    await stillAnswering(); // the first gateway, with the default bound
  });
});

describe('demand control', () => {
  const FULL_BATCH = FULL_DOSSIER.replace('$id: ID!', '$ids: [ID!]!').replace('person(idNumber: $id)', 'persons(idNumbers: $ids)');
  const ids = (n: number) => Array.from({ length: n }, (_, i) => DEMO_PERSONS[i % DEMO_PERSONS.length].idNumber);

  it('refuses an operation estimated above MAX_OPERATION_COST, with the estimate and the maximum, audited', async () => {
    const response = await timed(FULL_BATCH, { ids: ids(100) });
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', estimatedCost: 26_900, maxCost: 10_000 });
    const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
    expect(record).toMatchObject({ outcome: 'DENIED', httpStatus: 400, errorCodes: ['COST_LIMIT_EXCEEDED'], disclosed: [] });
    expect(record.detail).toMatchObject({ cost: { estimated: 26_900, actual: null } });
    // The same batch of 30 persons is within it.
    const { status, body } = await federation.query(FULL_BATCH, { ids: ids(30) });
    expect(status).toBe(200);
    expect(body.data?.persons).toHaveLength(30);
  });

  it('charges the budgets the estimated cost: one batch of 60 persons spends what 60 one-person requests do', async () => {
    const gateway = await federation.startGateway({ RATE_LIMIT_CLIENT: '100' });
    const post = (query: string, variables: Record<string, unknown>) =>
      fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...federation.defaultHeaders },
        body: JSON.stringify({ query, variables }),
      });
    const BATCH = 'query Names($ids: [ID!]!) { persons(idNumbers: $ids) { name } }';
    const first = await post(BATCH, { ids: ids(60) });
    expect(first.status).toBe(200);
    const [record] = await auditRecordsOf(store, first.headers.get('x-request-id')!);
    // 60 persons, each an object: estimated 60; as many came back.
    expect(record.detail).toMatchObject({ cost: { estimated: 60, actual: 60 } });
    // Auditors read both through the API.
    const auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'], subject: 'auditor-cost' })}`, 'x-matter-code': '' };
    const review = await federation.query(
      'query($id: ID!) { auditRecord(id: $id) { estimatedCost actualCost } }',
      { id: `${record.chainId}:${record.seq}` },
      auditor,
    );
    expect(review.body.data!.auditRecord).toEqual({ estimatedCost: 60, actualCost: 60 });
    const second = await post(BATCH, { ids: ids(60) });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await second.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy: 'client' });
    const [refused] = await auditRecordsOf(store, second.headers.get('x-request-id')!);
    expect(refused).toMatchObject({ outcome: 'DENIED', httpStatus: 429, disclosed: [] });
    // What is left (about 39 units) still takes small requests.
    expect((await post('query One($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', { ids: ids(1) })).status).toBe(200);
  });
});

describe('demand control with the budgets in Redis (several replicas)', () => {
  it('charges the cost with the next check: a second batch of 60 persons does not fit a budget of 100', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `kuasheng-test-${process.pid}-${Date.now()}:`, RATE_LIMIT_CLIENT: '100' };
    const [a, b] = [await federation.startGateway(env), await federation.startGateway(env)];
    const post = (url: string, n: number) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...federation.defaultHeaders },
        body: JSON.stringify({
          query: 'query Names($ids: [ID!]!) { persons(idNumbers: $ids) { name } }',
          variables: { ids: Array.from({ length: n }, (_, i) => DEMO_PERSONS[i % DEMO_PERSONS.length].idNumber) },
        }),
      });
    expect((await post(a.url, 60)).status).toBe(200);
    // The 59 units beyond the first reach Redis with replica a's next check of this client, or within a second.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const second = await post(b.url, 60);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});
