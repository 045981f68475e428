import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAuditKey, subjectHash } from '../../common/audit/record.js';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { verifyAuditExport } from '../../common/audit/verifier.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/server.js';
import { createLogger } from '../../common/logger.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { testToken } from '../support/identity.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { gatewayEnvironment, postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const DOSSIER = /* GraphQL */ `
  query Dossier($id: ID!) {
    person(idNumber: $id) {
      name
      registration { address { full } }
      socialInsurance { enrolments { insuranceType employer { name } } }
      providentFundAccounts { status }
      credit { dishonestJudgmentDebtor }
      licences { title }
    }
  }
`;
const PERSON = DEMO_PERSONS[0];
const REPLICA = 'gateway-audit-test';

const recordsOf = auditRecordsOf;

describe('the audit trail (embedded SQLite store)', () => {
  let dataDir: string;
  let federation: TestFederation;
  let store: AuditStore;
  let auditor: Record<string, string>;

  beforeAll(async () => {
    dataDir = await seedTemporaryData(200);
    federation = await startTestFederation({ dataDir, env: { GATEWAY_REPLICA_ID: REPLICA } });
    store = await openAuditStore({ dataDir });
    auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'], subject: 'auditor-1' })}`, 'x-matter-code': '' };
  });

  afterAll(async () => {
    await store?.close();
    await federation?.stop();
    if (dataDir) removeData(dataDir);
  });

  describe('each kind of request leaves exactly one record', () => {
    it.each([
      ['an allowed dossier', {}, DOSSIER, 'ALLOWED', 200],
      ['a partly allowed one', { scopes: ['household:read'] }, DOSSIER, 'PARTIAL', 200],
      ['one without a token', { noToken: true }, DOSSIER, 'DENIED', 401],
      ['one without a matter', { matter: '' }, DOSSIER, 'DENIED', 400],
      ['a syntax error', { accept: 'application/graphql-response+json' }, '{ person(', 'FAILED', 400],
      ['a syntax error answered in application/json', {}, '{ person(', 'FAILED', 200],
    ] as const)(
      '%s',
      async (_case, how: { scopes?: readonly string[]; noToken?: boolean; matter?: string; accept?: string }, query, outcome, status) => {
        const headers: Record<string, string> = {};
        if (how.accept) headers.accept = how.accept;
        if (how.scopes) headers.authorization = `Bearer ${await testToken(dataDir, { scopes: how.scopes })}`;
        if (how.noToken) headers.authorization = '';
        if (how.matter !== undefined) headers['x-matter-code'] = how.matter;
        const response = await federation.query(query, { id: PERSON.idNumber }, headers);
        expect(response.status).toBe(status);
        const records = await recordsOf(store, response.headers.get('x-request-id')!);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ outcome, httpStatus: status, replica: REPLICA, chainId: REPLICA });
      },
    );

    it('a refused body (bad JSON) and an unknown path too', async () => {
      for (const [path, body, status] of [
        ['/graphql', '{"query":', 400],
        ['/admin', '{}', 404],
      ] as const) {
        const response = await fetch(federation.gatewayUrl.replace('/graphql', path), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...federation.defaultHeaders },
          body,
        });
        expect(response.status).toBe(status);
        const records = await recordsOf(store, response.headers.get('x-request-id')!);
        expect(records.map((r) => r.outcome)).toEqual(['FAILED']);
      }
    });
  });

  it('records who asked, for which matter and case, what was asked and what each domain disclosed — as keyed hashes', async () => {
    // Header values are bytes: a Chinese case number travels percent-encoded.
    const response = await federation.query(DOSSIER, { id: PERSON.idNumber }, { 'x-case-number': encodeURIComponent('藏人社〔2026〕88号') });
    const [record] = await recordsOf(store, response.headers.get('x-request-id')!);
    const key = await ensureAuditKey(dataDir);
    const personHash = subjectHash(key, 'Person', PERSON.idNumber);
    expect(record.caller).toMatchObject({ province: '540000', issuer: 'https://idp.national.test.kuasheng.local' });
    expect(record.caller!.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect([record.matter, record.caseNumber]).toEqual(['TB-HJ-004', '藏人社〔2026〕88号']);
    expect(record.operation).toMatchObject({ name: 'Dossier', type: 'query' });
    expect(record.requested).toEqual(expect.arrayContaining(['Query.person', 'Person.credit', 'Person.socialInsurance', 'Organisation.name']));
    const bySubgraph = (name: string) => record.disclosed.filter((d) => d.subgraph === name).map((d) => d.subject);
    for (const subgraph of ['household', 'social-insurance', 'provident-fund', 'credit', 'licences'])
      expect(bySubgraph(subgraph)).toContain(personHash);
    // The employers named in the enrolments were disclosed by the licence register.
    expect(record.disclosed.some((d) => d.subgraph === 'licences' && d.type === 'Organisation')).toBe(true);
    // Never a raw identifier in the record.
    expect(JSON.stringify(record)).not.toContain(PERSON.idNumber);
  });

  it('lists each (domain, subject) once, however often the answer names the person', async () => {
    const response = await federation.query(
      `query Twice($id: ID!, $ids: [ID!]!) { person(idNumber: $id) { name credit { activeNegativeRecords } } persons(idNumbers: $ids) { name credit { dishonestJudgmentDebtor } } }`,
      { id: PERSON.idNumber, ids: [PERSON.idNumber, PERSON.idNumber] },
    );
    expect(response.status).toBe(200);
    expect((response.body as { data: { persons: unknown[] } }).data.persons).toHaveLength(2);
    const [record] = await recordsOf(store, response.headers.get('x-request-id')!);
    const personHash = subjectHash(await ensureAuditKey(dataDir), 'Person', PERSON.idNumber);
    expect(
      record.disclosed
        .filter((d) => d.subject === personHash)
        .map((d) => d.subgraph)
        .sort(),
    ).toEqual(['credit', 'household']);
  });

  it('refuses to start a second gateway on the same audit chain, naming the setting to fix', async () => {
    await expect(federation.startGateway({ GATEWAY_REPLICA_ID: REPLICA })).rejects.toThrow(/GATEWAY_REPLICA_ID/);
    // The first one is unaffected.
    expect((await federation.query(DOSSIER, { id: PERSON.idNumber })).status).toBe(200);
  });

  it('keeps the subgraphs’ disclosure reports away from the client, who gets its record’s receipt instead', async () => {
    const { body, receipt, headers } = await federation.query(DOSSIER, { id: PERSON.idNumber });
    // The receipt was the only extension (the support helper takes it out of the body): no disclosure report.
    expect(body).not.toHaveProperty('extensions');
    const [record] = await recordsOf(store, headers.get('x-request-id')!);
    expect(receipt).toEqual({
      record: `${record.chainId}:${record.seq}`,
      origin: `kuasheng.gov.cn/audit/${record.chainId}`,
      leafIndex: record.seq - 1,
      recordHash: record.hash,
    });
    // Refusals carry one too: a request without a token is recorded like any other.
    const refused = await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization: '' });
    expect(refused.status).toBe(401);
    const [refusal] = await recordsOf(store, refused.headers.get('x-request-id')!);
    expect(refused.receipt?.recordHash).toBe(refusal.hash);
  });

  describe('review by auditors', () => {
    it('finds every access to a person by ID number, page by page, and audits the auditor too', async () => {
      for (let i = 0; i < 3; i++) await federation.query(DOSSIER, { id: PERSON.idNumber });
      const query = `query($id: ID!, $after: String) { auditRecords(filter: { subject: { idNumber: $id }, outcome: ALLOWED }, first: 2, after: $after) {
        records { id requestId outcome matter caller { province } disclosed { subgraph } } endCursor hasNextPage } }`;
      const seen = new Set<string>();
      let after: string | null = null;
      let pages = 0;
      do {
        const { status, body } = await federation.query(query, { id: PERSON.idNumber, after }, auditor);
        expect(status).toBe(200);
        expect(body.errors).toBeUndefined();
        const page = body.data!.auditRecords;
        for (const record of page.records) {
          expect(seen.has(record.id)).toBe(false);
          seen.add(record.id);
          expect(record.disclosed.length).toBeGreaterThan(0);
        }
        after = page.endCursor;
        pages++;
        if (!page.hasNextPage) break;
      } while (pages < 50);
      expect(seen.size).toBeGreaterThanOrEqual(4);
      const audited = await store.search({ callerSubject: 'auditor-1' }, { first: 50 });
      expect(audited.records.length).toBeGreaterThanOrEqual(pages);
    });

    it('reports one person’s accesses grouped by caller and matter', async () => {
      const hunan = `Bearer ${await testToken(dataDir, { issuer: 'hunan', province: '430000', subject: 'changsha-si-7' })}`;
      await federation.query(DOSSIER, { id: PERSON.idNumber }, { authorization: hunan, 'x-matter-code': 'TB-SB-001' });
      const { body } = await federation.query(
        'query($id: ID!) { accessReport(subject: { idNumber: $id }, from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z") { totalAccesses entries { callerSubject province matter accesses } } }',
        { id: PERSON.idNumber },
        auditor,
      );
      expect(body.errors).toBeUndefined();
      const report = body.data!.accessReport;
      expect(report.entries).toContainEqual({ callerSubject: 'changsha-si-7', province: '430000', matter: 'TB-SB-001', accesses: 1 });
      expect(report.totalAccesses).toBe(report.entries.reduce((n: number, e: { accesses: number }) => n + e.accesses, 0));
    });

    it('shows one record in detail, the log intact, and exports a range that verifies offline', async () => {
      const first = await federation.query('{ auditRecords(first: 1) { records { id hash previousHash } } }', {}, auditor);
      const id = first.body.data!.auditRecords.records[0].id;
      const detail = await federation.query('query($id: ID!) { auditRecord(id: $id) { id hash kind httpStatus } }', { id }, auditor);
      expect(detail.body.data!.auditRecord.id).toBe(id);
      const integrity = await federation.query('{ auditIntegrity { intact problem { kind } chains { chainId records } } }', {}, auditor);
      expect(integrity.body.data!.auditIntegrity.intact).toBe(true);
      const full = await federation.query(
        '{ auditIntegrity(full: true) { intact verifiedAt verification { mode complete recordsChecked recordsToCheck intact } chains { records checkedFromSequence verifiedSequence } } }',
        {},
        auditor,
      );
      expect(full.body.errors).toBeUndefined();
      const answer = full.body.data!.auditIntegrity;
      expect(answer).toMatchObject({ intact: true, verification: { mode: 'FULL', complete: true, intact: true } });
      expect(answer.verification.recordsChecked).toBe(answer.chains.reduce((n: number, c: { records: number }) => n + c.records, 0));
      expect(answer.chains[0].checkedFromSequence).toBe(1);
      const exported = await federation.query(
        '{ auditExport(from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z") { records ndjson } }',
        {},
        auditor,
      );
      expect(exported.body.data!.auditExport.records).toBeGreaterThan(5);
      const lines = (exported.body.data!.auditExport.ndjson as string).trim().split('\n');
      const report = await verifyAuditExport(
        (async function* () {
          yield* lines;
        })(),
      );
      expect(report.ok).toBe(true);
    });

    it('is closed to callers without audit:read', async () => {
      const { body } = await federation.query('{ auditIntegrity { intact } }', {});
      expect(body.errors![0].extensions!.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    });
  });

  it('writes one redacted operational log line per request, separate from the audit store', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    const logger = createLogger({ name: 'gateway', level: 'info', destination });
    const gateway = await startGateway({
      config: loadGatewayConfig(gatewayEnvironment(federation, { GATEWAY_REPLICA_ID: 'gateway-log-test' })),
      logger,
    });
    try {
      const token = (federation.defaultHeaders.authorization as string).slice('Bearer '.length);
      const response = await postGraphQL(gateway.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders);
      const requestId = response.headers.get('x-request-id');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, any>);
      const perRequest = parsed.filter((l) => l.msg === 'request' && l.requestId === requestId);
      expect(perRequest).toHaveLength(1);
      expect(perRequest[0]).toMatchObject({
        matter: 'TB-HJ-004',
        operation: 'Dossier',
        outcome: 'ALLOWED',
        status: 200,
        caller: { province: '540000' },
      });
      expect(perRequest[0].latencyMs).toEqual(expect.any(Number));
      for (const line of lines) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(PERSON.idNumber);
      }
    } finally {
      await gateway.stop();
    }
  });
});

describe('the audit trail on PostgreSQL', () => {
  const schema = `audit_e2e_${randomUUID().replace(/-/g, '')}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  let dataDir: string;
  let federation: TestFederation;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    dataDir = await seedTemporaryData(150);
    federation = await startTestFederation({ dataDir, env: { AUDIT_DATABASE_URL: databaseUrl, GATEWAY_REPLICA_ID: 'gateway-pg-1' } });
  });

  afterAll(async () => {
    await federation?.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    if (dataDir) removeData(dataDir);
  });

  it('records each request once, across two replicas with a chain each, and stays intact', async () => {
    await expect(federation.startGateway({ AUDIT_DATABASE_URL: databaseUrl, GATEWAY_REPLICA_ID: 'gateway-pg-1' })).rejects.toThrow(
      /GATEWAY_REPLICA_ID/,
    );
    const second = await federation.startGateway({ AUDIT_DATABASE_URL: databaseUrl, GATEWAY_REPLICA_ID: 'gateway-pg-2' });
    const a = await federation.query(DOSSIER, { id: PERSON.idNumber });
    const b = await postGraphQL(second.url, DOSSIER, { id: PERSON.idNumber }, federation.defaultHeaders);
    expect([a.status, b.status]).toEqual([200, 200]);
    const store = await openAuditStore({ databaseUrl });
    try {
      expect((await recordsOf(store, a.headers.get('x-request-id')!)).map((r) => r.chainId)).toEqual(['gateway-pg-1']);
      expect((await recordsOf(store, b.headers.get('x-request-id')!)).map((r) => r.chainId)).toEqual(['gateway-pg-2']);
    } finally {
      await store.close();
    }
    const auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'] })}`, 'x-matter-code': '' };
    const integrity = await federation.query('{ auditIntegrity { intact chains { chainId } } }', {}, auditor);
    expect(integrity.body.data!.auditIntegrity.intact).toBe(true);
    expect(integrity.body.data!.auditIntegrity.chains.map((c: { chainId: string }) => c.chainId).sort()).toEqual(['gateway-pg-1', 'gateway-pg-2']);
  });

  it('answers 503 AUDIT_UNAVAILABLE and no data when the store cannot take records', async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    try {
      const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber });
      expect(status).toBe(503);
      expect(body.errors![0].extensions!.code).toBe('AUDIT_UNAVAILABLE');
      expect(body.data).toBeUndefined();
      expect(JSON.stringify(body)).not.toContain(PERSON.name);
    } finally {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
  });
});
