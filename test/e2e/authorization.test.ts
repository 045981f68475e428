import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadGatewayConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/server.js';
import { createServer } from 'node:http';
import { generateKeyPair, SignJWT, decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessGuard } from '../../gateway/access/guard.js';
import { maskIdNumber } from '../../gateway/authorization/masking.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { ASSERTION_HEADER, ASSERTION_ISSUER, createAssertionSigner, type GatewayAssertion } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { ALL_READ_SCOPES, testToken } from '../support/identity.js';
import { gatewayEnvironment, postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

/** Costs 1 (one person, no list): a budget of N allows N of them. */
const NAME_ONLY = 'query Name($id: ID!) { person(idNumber: $id) { name } }';
const DOSSIER = /* GraphQL */ `
  query Dossier($id: ID!) {
    person(idNumber: $id) {
      idNumber name
      registration { address { full } }
      socialInsurance { cardNumber phone }
      credit { dishonestJudgmentDebtor }
      licences { number }
    }
  }
`;
const PERSON = DEMO_PERSONS[0];

let dataDir: string;
let federation: TestFederation;

beforeAll(async () => {
  dataDir = await seedTemporaryData(200);
  federation = await startTestFederation({ dataDir });
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

const bearer = async (options: Parameters<typeof testToken>[1]) => `Bearer ${await testToken(dataDir, options)}`;

describe('authentication at the gateway', () => {
  it.each([
    ['no token', '', 'TOKEN_MISSING'],
    ['a malformed header', 'Basic dXNlcjpwYXNz', 'TOKEN_MALFORMED'],
    ['a garbage token', 'Bearer not.a.jwt', 'TOKEN_MALFORMED'],
  ])('answers %s with 401 UNAUTHENTICATED and a stable reason', async (_case, authorization, reason) => {
    const { status, headers, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization });
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toBe('Bearer');
    expect(body.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    expect(body.data).toBeUndefined();
  });

  it('refuses a token for another audience and one whose issuer may not speak for its province', async () => {
    const otherAudience = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization: await bearer({ audience: 'someone-else' }) });
    expect(otherAudience.body.errors![0].extensions!.reason).toBe('AUDIENCE_MISMATCH');
    const wrongProvince = await federation.query(
      DOSSIER,
      { id: PERSON.idNumber },
      { authorization: await bearer({ issuer: 'hunan', province: '540000' }) },
    );
    expect(wrongProvince.status).toBe(401);
    expect(wrongProvince.body.errors![0].extensions!.reason).toBe('PROVINCE_NOT_ALLOWED');
  });

  it('refuses a token signed by a key no trusted issuer holds', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const forged = await new SignJWT({ org: 'x', province: '540000', scope: ALL_READ_SCOPES.join(' ') })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'forged' })
      .setIssuer('https://idp.national.test.kuasheng.local')
      .setAudience('kuasheng-gateway')
      .setSubject('intruder')
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization: `Bearer ${forged}` });
    expect(status).toBe(401);
    expect(body.errors![0].extensions!.reason).toBe('KEY_UNKNOWN');
  });
});

describe('field-level scopes', () => {
  it('removes unauthorised fields: null at each path with one UNAUTHORIZED_FIELD_OR_TYPE error each', async () => {
    // 户口迁移 grants household, credit and unmasked identifiers — not social insurance or licences.
    const authorization = await bearer({ scopes: ['household:read', 'credit:read', 'social-insurance:read', 'licence:read'] });
    const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization, 'x-matter-code': 'TB-HJ-001' });
    expect(status).toBe(200);
    const person = body.data!.person;
    expect(person.name).toBe(PERSON.name);
    expect(person.credit).not.toBeNull();
    expect(person.socialInsurance).toBeNull();
    expect(person.licences).toBeNull();
    const denied = body.errors!.map((e) => [e.path!.join('.'), e.extensions!.code]);
    expect(denied.sort()).toEqual([
      ['person.licences', 'UNAUTHORIZED_FIELD_OR_TYPE'],
      ['person.socialInsurance', 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
  });

  it('never serves a plan made for other scopes (same document, alternating callers)', async () => {
    const full = await bearer({});
    const partial = await bearer({ scopes: ['household:read'] });
    for (const [authorization, expectCredit] of [
      [full, true],
      [partial, false],
      [full, true],
      [partial, false],
    ] as const) {
      const { body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization });
      expect(body.data!.person.credit === null).toBe(!expectCredit);
    }
  });

  it('holds through fragments, aliases, @include and the licence-holder union', async () => {
    const query = /* GraphQL */ `
      query Sneaky($id: ID!, $yes: Boolean!) {
        p: person(idNumber: $id) { ...Bits  c2: credit @include(if: $yes) { dishonestJudgmentDebtor } }
      }
      fragment Bits on Person { who: name licences { title holder { ... on Person { name credit { activeNegativeRecords } } } } }
    `;
    const authorization = await bearer({ scopes: ['household:read', 'licence:read'] });
    const { body } = await federation.query(query, { id: PERSON.idNumber, yes: true }, { authorization });
    const paths = body.errors!.map((e) => e.path!.join('.')).sort();
    expect(paths).toEqual(['p.c2', 'p.licences.holder.credit']);
    expect(body.data!.p.who).toBe(PERSON.name);
    expect(body.data!.p.c2).toBeNull();
    for (const licence of body.data!.p.licences) expect(licence.holder.credit).toBeNull();
  });

  it('rejects the whole operation with 403 in reject mode', async () => {
    const strict = await federation.startGateway({ AUTHORIZATION_MODE: 'reject' });
    const authorization = await bearer({ scopes: ['household:read'] });
    const { status, body } = await postGraphQL(strict.url, DOSSIER, { id: PERSON.idNumber }, { authorization, 'x-matter-code': 'TB-HJ-004' });
    expect(status).toBe(403);
    expect(body.data).toBeNull();
    expect(body.errors!.every((e) => e.extensions!.code === 'UNAUTHORIZED_FIELD_OR_TYPE')).toBe(true);
    expect(body.errors!.length).toBeGreaterThanOrEqual(3);
  });
});

describe('purpose binding', () => {
  it('requires a matter for personal data', async () => {
    const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { 'x-matter-code': '' });
    expect(status).toBe(400);
    expect(body.errors![0].extensions!.code).toBe('MATTER_REQUIRED');
  });

  it('serves the public organisation register without a matter', async () => {
    const { status, body } = await federation.query('{ organisation(creditCode: "91540102900000014B") { name } }', {}, { 'x-matter-code': '' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it('refuses an unknown matter and one the token may not act under', async () => {
    const unknown = await federation.query(DOSSIER, { id: PERSON.idNumber }, { 'x-matter-code': 'TB-XX-999' });
    expect([unknown.status, unknown.body.errors![0].extensions!.code]).toEqual([400, 'MATTER_UNKNOWN']);
    const bound = await bearer({ matters: ['TB-SB-001'] });
    const notAllowed = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization: bound, 'x-matter-code': 'TB-HJ-004' });
    expect([notAllowed.status, notAllowed.body.errors![0].extensions!.code]).toEqual([403, 'MATTER_NOT_ALLOWED']);
  });

  it('narrows the token to the matter: a pension transfer sees no credit records', async () => {
    const { body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { 'x-matter-code': 'TB-SB-001' });
    expect(body.data!.person.socialInsurance).not.toBeNull();
    expect(body.data!.person.credit).toBeNull();
    expect(body.errors!.map((e) => e.path!.join('.'))).toContain('person.credit');
  });
});

describe('masking of personal identifiers', () => {
  it('masks ID numbers, driving-licence numbers and street addresses by default', async () => {
    const { body } = await federation.query(DOSSIER, { id: PERSON.idNumber });
    const person = body.data!.person;
    expect(person.idNumber).toBe(maskIdNumber(PERSON.idNumber));
    expect(person.registration.address.full).toMatch(/\*\*\*\*$/);
    expect(person.socialInsurance.phone).toMatch(/^1\d\d\*{4}\d{4}$/);
    for (const licence of person.licences) expect(licence.number).not.toMatch(/^\d{17}[\dX]$/);
    expect(JSON.stringify(body)).not.toContain(PERSON.idNumber);
  });

  it('unmasks them when the token and the matter both grant pii:unmasked', async () => {
    // 社会保障卡申领 needs the full identifiers; the officer's token holds pii:unmasked.
    const authorization = await bearer({ scopes: ['household:read', 'social-insurance:read', 'pii:unmasked'] });
    const { body } = await federation.query(
      'query($id: ID!) { person(idNumber: $id) { idNumber registration { address { full } } socialInsurance { phone } } }',
      { id: PERSON.idNumber },
      {
        authorization,
        'x-matter-code': 'TB-SB-004',
      },
    );
    expect(body.data!.person.idNumber).toBe(PERSON.idNumber);
    expect(body.data!.person.registration.address.full).not.toContain('****');
    expect(body.data!.person.socialInsurance.phone).toMatch(/^1\d{10}$/);
  });
});

describe('zero-trust subgraphs', () => {
  const assertion: GatewayAssertion = {
    caller: { subject: 's', organisation: 'o', province: '540000', issuer: 'https://idp', tokenId: 't' },
    scopes: ['household:read'],
    matter: 'TB-HJ-001',
    caseNumber: null,
    requestId: 'test-request-0001',
  };
  const subgraphUrl = (name: 'household' | 'credit') => federation.subgraphs.get(name)!.url;

  it('refuses requests without a gateway assertion, _service and _entities included', async () => {
    for (const query of [
      '{ _service { sdl } }',
      '{ _entities(representations: [{ __typename: "Person", idNumber: "11010519491231002X" }]) { __typename } }',
      '{ person(idNumber: "11010519491231002X") { name } }',
    ]) {
      const { status, body } = await postGraphQL(subgraphUrl('household'), query);
      expect(status).toBe(401);
      expect(body.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'ASSERTION_MISSING' });
    }
  });

  it('refuses an assertion signed by another key, or minted for another subgraph', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const forged = await createAssertionSigner({ key: privateKey, kid: 'forged' })('household', assertion);
    const forgedAnswer = await postGraphQL(subgraphUrl('household'), '{ _service { sdl } }', {}, { [ASSERTION_HEADER]: forged });
    expect(forgedAnswer.status).toBe(401);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
    const forCredit = await sign('credit', assertion);
    const misdirected = await postGraphQL(subgraphUrl('household'), '{ _service { sdl } }', {}, { [ASSERTION_HEADER]: forCredit });
    expect(misdirected.status).toBe(401);
    const genuine = await postGraphQL(
      subgraphUrl('household'),
      '{ _service { sdl } }',
      {},
      { [ASSERTION_HEADER]: await sign('household', assertion) },
    );
    expect(genuine.status).toBe(200);
    expect(decodeJwt(await sign('household', assertion)).iss).toBe(ASSERTION_ISSUER);
  });

  it('forwards a signed assertion of the caller to each subgraph, never the bearer token', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const capture = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { _entities: [{ __typename: 'Person', credit: { dishonestJudgmentDebtor: false } }] } }));
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const port = (capture.address() as { port: number }).port;
      const gateway = await federation.startGateway({ SUBGRAPH_URL_CREDIT: `http://127.0.0.1:${port}/` });
      const { body } = await postGraphQL(
        gateway.url,
        'query($id: ID!) { person(idNumber: $id) { name credit { dishonestJudgmentDebtor } } }',
        { id: PERSON.idNumber },
        {
          ...federation.defaultHeaders,
          'x-case-number': 'LS-2026-0001',
        },
      );
      expect(body.data!.person.credit).toEqual({ dishonestJudgmentDebtor: false });
      expect(seen).toHaveLength(1);
      expect(seen[0].authorization).toBeUndefined();
      const claims = decodeJwt(seen[0][ASSERTION_HEADER] as string) as unknown as GatewayAssertion & { aud: string; exp: number; iat: number };
      expect(claims.aud).toBe('credit');
      expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
      expect(claims.caller.province).toBe('540000');
      expect(claims.matter).toBe('TB-HJ-004');
      expect(claims.caseNumber).toBe('LS-2026-0001');
      expect([...claims.scopes].sort()).toEqual([...ALL_READ_SCOPES].sort());
      expect(claims.requestId).toBe(seen[0]['x-request-id']);
    } finally {
      capture.close();
    }
  });

  it('enforces its own scopes even for a genuine assertion (defence in depth)', async () => {
    const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
    const { status, body } = await postGraphQL(
      subgraphUrl('credit'),
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { credit { dishonestJudgmentDebtor } } } }',
      { r: [{ __typename: 'Person', idNumber: PERSON.idNumber }] },
      { [ASSERTION_HEADER]: await sign('credit', assertion) },
    );
    expect(status).toBe(403);
    expect(body.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
});

describe('revocation and rate limits, embedded (one replica)', () => {
  it('refuses a revoked token on its very next request', async () => {
    const token = await testToken(dataDir, {});
    const authorization = `Bearer ${token}`;
    expect((await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization })).status).toBe(200);
    const { jti, exp } = decodeJwt(token);
    const guard = createAccessGuard({ dataDir });
    await guard.revoke(jti!, exp!, 'test');
    await guard.close();
    const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization });
    expect(status).toBe(401);
    expect(body.errors![0].extensions!.reason).toBe('TOKEN_REVOKED');
  });

  it('answers 429 RATE_LIMITED with Retry-After once a client’s budget is spent', async () => {
    const limited = await federation.startGateway({ RATE_LIMIT_CLIENT: '3' });
    const authorization = await bearer({ subject: `rate-${randomUUID()}` });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof postGraphQL>> | undefined;
    for (let i = 0; i < 5; i++) {
      // A person's name costs 1: three of them spend the budget of 3.
      last = await postGraphQL(limited.url, NAME_ONLY, { id: PERSON.idNumber }, { authorization, 'x-matter-code': 'TB-HJ-004' });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.body.errors![0].extensions!.code).toBe('RATE_LIMITED');
  });
});

describe('revocation and rate limits on Redis (several replicas)', () => {
  const prefix = `kuasheng-test-${randomUUID()}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });

  afterAll(async () => {
    await redis.connect().catch(() => undefined);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('refuses a token revoked through one replica at every replica at once', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix };
    const [a, b] = [await federation.startGateway(env), await federation.startGateway(env)];
    const token = await testToken(dataDir, {});
    const headers = { authorization: `Bearer ${token}`, 'x-matter-code': 'TB-HJ-004' };
    expect((await postGraphQL(a.url, DOSSIER, { id: PERSON.idNumber }, headers)).status).toBe(200);
    expect((await postGraphQL(b.url, DOSSIER, { id: PERSON.idNumber }, headers)).status).toBe(200);
    const { jti, exp } = decodeJwt(token);
    const guard = createAccessGuard({ redis: 'redis://127.0.0.1:6379', keyPrefix: prefix });
    await guard.revoke(jti!, exp!, 'leaked');
    await guard.close();
    for (const replica of [a, b]) {
      const { status, body } = await postGraphQL(replica.url, DOSSIER, { id: PERSON.idNumber }, headers);
      expect(status).toBe(401);
      expect(body.errors![0].extensions!.reason).toBe('TOKEN_REVOKED');
    }
  });

  it('shares one client budget across replicas', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix, RATE_LIMIT_CLIENT: '4' };
    const [a, b] = [await federation.startGateway(env), await federation.startGateway(env)];
    const headers = { authorization: await bearer({ subject: `shared-${randomUUID()}` }), 'x-matter-code': 'TB-HJ-004' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await postGraphQL((i % 2 ? b : a).url, NAME_ONLY, { id: PERSON.idNumber }, headers)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('fails closed with 503 when Redis is configured but unreachable', async () => {
    const down = await federation.startGateway({ REDIS_URL: 'redis://127.0.0.1:1' });
    const { status, headers, body } = await postGraphQL(down.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders);
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBeTruthy();
    expect(body.errors![0].extensions!.code).toBe('REVOCATION_UNAVAILABLE');
    expect(body.data).toBeUndefined();
  });

  it('logs an outage once, without a stack trace, however many requests it refuses', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const config = loadGatewayConfig(
      gatewayEnvironment(federation, { REDIS_URL: 'redis://127.0.0.1:1', GATEWAY_REPLICA_ID: `outage-${randomUUID()}` }),
    );
    const down = await startGateway({ config, logger: pino({ name: 'gateway', level: 'info' }, sink) });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await postGraphQL(down.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders)).status);
      expect(new Set(statuses)).toEqual(new Set([503]));
    } finally {
      await down.stop();
    }
    const refusals = lines.filter((line) => JSON.parse(line).outage === 'redis');
    expect(refusals).toHaveLength(1);
    expect(JSON.parse(refusals[0])).toMatchObject({ level: 40, outage: 'redis', event: 'began', affected: 1 });
    // One access line per request (info), and beside them a handful, not one per request; no stack trace in any.
    expect(lines.filter((line) => JSON.parse(line).msg !== 'request').length).toBeLessThan(10);
    expect(lines.filter((line) => line.includes('    at '))).toEqual([]);
    expect(lines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
