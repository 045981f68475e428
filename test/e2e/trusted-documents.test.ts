import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import { buildManifest, documentHash } from '../../common/trusted-documents/manifest.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { auditRecordsOf } from '../support/audit-records.js';
import { removeData, seedTemporaryData, startTestFederation, type GraphQLResponse, type TestFederation } from '../support/federation.js';
import { takeReceipt } from '../support/federation.js';
import { testToken } from '../support/identity.js';

const PERSON = DEMO_PERSONS[0];
const ISSUER = 'https://idp.national.test.kuasheng.local';
/** The default test token's subject: a client in the default mode. */
const OPEN_CLIENT = 'dev-officer-national';
const STRICT_CLIENT = 'strict-office-01';
const OTHER_CLIENT = 'other-office-01';

const DOSSIER = 'query Dossier($id: ID!) { person(idNumber: $id) { name credit { dishonestJudgmentDebtor } } }';
const OTHERS = 'query OthersOnly($id: ID!) { person(idNumber: $id) { name } }';
const LATER = 'query Later($id: ID!) { person(idNumber: $id) { sex } }';
const DOSSIER_ID = documentHash(DOSSIER);
const OTHERS_ID = documentHash(OTHERS);
const UNKNOWN_ID = documentHash('query Never { __typename }');

let dataDir: string;
let documentsDir: string;
let federation: TestFederation;
let store: AuditStore;
let strictToken: string;
const reloads: ((outcome: { ok: boolean }) => void)[] = [];
/** The outcome of the next reload of the manifests. */
const nextReload = () => new Promise<{ ok: boolean }>((resolve) => reloads.push(resolve));

function writeManifest(name: string, subjects: string[], text: string) {
  const manifest = buildManifest(
    subjects.map((subject) => ({ issuer: ISSUER, subject })),
    [{ file: `${name}.graphql`, text }],
  );
  writeFileSync(join(documentsDir, `${name}.json`), JSON.stringify(manifest));
}

beforeAll(async () => {
  dataDir = await seedTemporaryData(100);
  documentsDir = join(dataDir, 'trusted-documents');
  mkdirSync(documentsDir);
  writeManifest('dossier', [OPEN_CLIENT, STRICT_CLIENT], DOSSIER);
  writeManifest('others', [OTHER_CLIENT], OTHERS);
  // The strict client must send registered documents.
  const trustListFile = join(dataDir, 'trust-list.json');
  const trustList = JSON.parse(readFileSync(trustListFile, 'utf8'));
  trustList.issuers.find((i: { issuer: string }) => i.issuer === ISSUER).clients = { [STRICT_CLIENT]: { trustedDocuments: 'require' } };
  writeFileSync(trustListFile, JSON.stringify(trustList));
  federation = await startTestFederation({
    dataDir,
    env: { TRUSTED_DOCUMENTS_DIR: documentsDir },
    onTrustedDocumentsReload: (outcome) => {
      for (const resolve of reloads.splice(0)) resolve(outcome);
    },
  });
  store = await openAuditStore({ dataDir });
  strictToken = `Bearer ${await testToken(dataDir, { subject: STRICT_CLIENT })}`;
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

/** A POST of any body, with the default headers (a header given as '' is left out). */
async function post(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const merged = Object.fromEntries(
    Object.entries({ ...federation.defaultHeaders, 'content-type': 'application/json', ...headers }).filter(([, v]) => v),
  );
  const response = await fetch(federation.gatewayUrl, { method: 'POST', headers: merged, body: JSON.stringify(body) });
  const answer = (await response.json()) as GraphQLResponse['body'];
  return { status: response.status, headers: response.headers, receipt: takeReceipt(answer), body: answer };
}

/** A GET with the given parameters (JSON ones given as objects). */
async function get(parameters: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const search = new URLSearchParams(
    Object.entries(parameters).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string]),
  );
  const response = await fetch(`${federation.gatewayUrl}?${search}`, {
    headers: { ...federation.defaultHeaders, accept: 'application/json', ...headers },
  });
  const answer = (await response.json()) as GraphQLResponse['body'];
  return { status: response.status, headers: response.headers, receipt: takeReceipt(answer), body: answer };
}

const persisted = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } });
const variables = { id: PERSON.idNumber };
const codeOf = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

describe('trusted documents', () => {
  describe('when a client is in the default mode (allow)', () => {
    it('accepts query text', async () => {
      const { status, body } = await federation.query(OTHERS, variables);
      expect(status).toBe(200);
      expect(body.data?.person?.name).toBe(PERSON.name);
    });

    it.each([
      ['extensions.persistedQuery.sha256Hash by POST', () => post({ extensions: persisted(DOSSIER_ID), variables })],
      ['extensions.persistedQuery.sha256Hash by GET', () => get({ extensions: persisted(DOSSIER_ID), variables })],
      ['documentId sha256:<hex> by POST', () => post({ documentId: `sha256:${DOSSIER_ID}`, variables })],
      ['documentId in plain hex by GET', () => get({ documentId: DOSSIER_ID, variables })],
    ])('runs a registered document named by %s', async (_, send) => {
      const { status, body } = await send();
      expect(status).toBe(200);
      expect(body.data?.person).toEqual({ name: PERSON.name, credit: { dishonestJudgmentDebtor: false } });
    });

    it('audits a document run by id under the registered document’s hash', async () => {
      const response = await post({ documentId: DOSSIER_ID, variables });
      const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
      expect(record.operation).toEqual({ name: 'Dossier', type: 'query', hash: DOSSIER_ID });
      expect(record.outcome).toBe('ALLOWED');
    });

    it('answers an unknown id PERSISTED_QUERY_NOT_FOUND (400), audited', async () => {
      for (const response of [await post({ extensions: persisted(UNKNOWN_ID) }), await get({ documentId: UNKNOWN_ID })]) {
        expect(response.status).toBe(400);
        expect(codeOf(response)).toBe('PERSISTED_QUERY_NOT_FOUND');
        const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
        expect(record).toMatchObject({ httpStatus: 400, errorCodes: ['PERSISTED_QUERY_NOT_FOUND'] });
      }
    });

    it('refuses an id sent with a query text that does not hash to it (PERSISTED_QUERY_HASH_MISMATCH, 400)', async () => {
      const response = await post({ query: OTHERS, extensions: persisted(DOSSIER_ID), variables });
      expect(response.status).toBe(400);
      expect(codeOf(response)).toBe('PERSISTED_QUERY_HASH_MISMATCH');
      expect(codeOf(await post({ query: OTHERS, documentId: DOSSIER_ID, variables }))).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    });

    it('runs a text sent with its own, unregistered hash (Apollo’s retry after PERSISTED_QUERY_NOT_FOUND)', async () => {
      const { status, body } = await post({ query: OTHERS, extensions: persisted(documentHash(OTHERS)), variables });
      expect(status).toBe(200);
      expect(body.data?.person?.name).toBe(PERSON.name);
    });

    it('refuses a malformed persisted query with BAD_REQUEST', async () => {
      const response = await post({ extensions: { persistedQuery: { version: 2, sha256Hash: DOSSIER_ID } } });
      expect(response.status).toBe(400);
      expect(codeOf(response)).toBe('BAD_REQUEST');
    });
  });

  describe('when the trust list requires trusted documents of a client', () => {
    it('refuses any query text that is not one of its registered documents (PERSISTED_QUERY_REQUIRED, 400), audited as DENIED', async () => {
      const response = await federation.query(OTHERS, variables, { authorization: strictToken });
      expect(response.status).toBe(400);
      expect(codeOf(response)).toBe('PERSISTED_QUERY_REQUIRED');
      const [record] = await auditRecordsOf(store, response.headers.get('x-request-id')!);
      expect(record).toMatchObject({ outcome: 'DENIED', httpStatus: 400, disclosed: [] });
    });

    it('runs its registered documents, by id and by their exact text', async () => {
      for (const response of [
        await post({ documentId: DOSSIER_ID, variables }, { authorization: strictToken }),
        await get({ extensions: persisted(DOSSIER_ID), variables }, { authorization: strictToken }),
        await federation.query(DOSSIER, variables, { authorization: strictToken }),
      ]) {
        expect(response.status).toBe(200);
        expect(response.body.data?.person?.name).toBe(PERSON.name);
      }
    });

    it('does not find another client’s registered document, nor a text sent with an unregistered hash', async () => {
      expect(codeOf(await post({ documentId: OTHERS_ID, variables }, { authorization: strictToken }))).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(codeOf(await post({ query: OTHERS, documentId: OTHERS_ID, variables }, { authorization: strictToken }))).toBe(
        'PERSISTED_QUERY_NOT_FOUND',
      );
    });
  });

  describe('registration is not authorisation', () => {
    it('nulls the fields of a registered document its scopes lack (UNAUTHORIZED_FIELD_OR_TYPE)', async () => {
      const householdOnly = `Bearer ${await testToken(dataDir, { subject: STRICT_CLIENT, scopes: ['household:read'] })}`;
      const { status, body } = await post({ documentId: DOSSIER_ID, variables }, { authorization: householdOnly });
      expect(status).toBe(200);
      expect(body.data?.person).toEqual({ name: PERSON.name, credit: null });
      expect(body.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['UNAUTHORIZED_FIELD_OR_TYPE', ['person', 'credit']]]);
    });

    it('still needs its matter (MATTER_REQUIRED), and is refused under one that does not cover it', async () => {
      const without = await post({ documentId: DOSSIER_ID, variables }, { authorization: strictToken, 'x-matter-code': '' });
      expect(without.status).toBe(400);
      expect(codeOf(without)).toBe('MATTER_REQUIRED');
      const pension = await post({ documentId: DOSSIER_ID, variables }, { authorization: strictToken, 'x-matter-code': 'TB-SB-001' });
      expect(pension.body.data?.person?.credit).toBeNull();
      expect(codeOf(pension)).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    });
  });

  describe('when a manifest changes while the gateway runs', () => {
    it('picks up a changed manifest', async () => {
      const laterId = documentHash(LATER);
      expect(codeOf(await post({ documentId: laterId, variables }, { authorization: strictToken }))).toBe('PERSISTED_QUERY_NOT_FOUND');
      const reloaded = nextReload();
      writeManifest('dossier', [OPEN_CLIENT, STRICT_CLIENT], `${DOSSIER}\n${LATER}`);
      expect(await reloaded).toEqual({ ok: true });
      const { status, body } = await post({ documentId: laterId, variables }, { authorization: strictToken });
      expect(status).toBe(200);
      expect(body.data?.person?.sex).toBeDefined();
    });

    it('keeps the previous manifests when a changed one is broken', async () => {
      let outcome: { ok: boolean };
      do {
        const reloaded = nextReload();
        writeFileSync(join(documentsDir, 'others.json'), '{ "format": ');
        outcome = await reloaded;
      } while (outcome.ok);
      const response = await post(
        { documentId: OTHERS_ID, variables },
        { authorization: `Bearer ${await testToken(dataDir, { subject: OTHER_CLIENT })}` },
      );
      expect(response.status).toBe(200);
      expect(response.body.data?.person?.name).toBe(PERSON.name);
      expect((await post({ documentId: DOSSIER_ID, variables }, { authorization: strictToken })).status).toBe(200);
    });
  });

  describe('at start-up', () => {
    it('refuses a manifest whose id is not the SHA-256 of its body, naming the file and the operation', async () => {
      const bad = join(dataDir, 'bad-documents');
      mkdirSync(bad);
      const operations = [{ id: UNKNOWN_ID, name: 'Dossier', type: 'query', body: DOSSIER }];
      const clients = [{ issuer: ISSUER, subject: STRICT_CLIENT }];
      writeFileSync(join(bad, 'lasa.json'), JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, clients, operations }));
      await expect(federation.startGateway({ TRUSTED_DOCUMENTS_DIR: bad })).rejects.toThrow(
        /lasa\.json: operations\[0\] \(Dossier\)\.id is not the SHA-256 of its body/,
      );
    });

    it('refuses a trust list whose client setting is neither allow nor require, naming the field', async () => {
      const file = join(dataDir, 'bad-trust-list.json');
      const trustList = JSON.parse(readFileSync(join(dataDir, 'trust-list.json'), 'utf8'));
      trustList.issuers[0].clients = { 'an-office': { trustedDocuments: 'sometimes' } };
      writeFileSync(file, JSON.stringify(trustList));
      await expect(federation.startGateway({ TRUST_LIST_FILE: file })).rejects.toThrow(/issuers\[0\]\.clients\.an-office\.trustedDocuments/);
    });
  });
});
