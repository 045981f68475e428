import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { ASSERTION_HEADER, createAssertionSigner } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { databaseFileOf } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { ALL_READ_SCOPES, testToken } from '../support/identity.js';
import { postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const HUNAN_PERSON = DEMO_PERSONS[0]; // 周志强: contributes in Lhasa (西藏), insured history in Hunan
const QINGHAI_PERSON = DEMO_PERSONS.find((p) => p.idNumber.startsWith('63'))!; // 马海燕: fund accounts in Xining and Lanzhou

const ISSUE_SI = `mutation($id: ID!) { issueParticipationCertificate(idNumber: $id) { serial type issuer token qrText validUntil } }`;
const ISSUE_PF = `mutation($id: ID!) { issueDepositCertificate(idNumber: $id) { serial type issuer token qrText } }`;
const VERIFY = /* GraphQL */ `
  query($doc: String!, $name: String, $id: ID) {
    verifyDocument(document: $doc, holderName: $name, holderIdNumber: $id) {
      verdict code signatureValid contentIntact type serial validityStatus content
      issuer { name province trusted } holderName holderIdMasked holderNameMatches holderIdNumberMatches
      record {
        ... on ParticipationCertificate { status revokedAt revocationReason supersededBy }
        ... on DepositCertificate { status revokedAt revocationReason supersededBy }
        ... on LicenceDocument { status revokedAt revocationReason }
      }
    }
  }
`;

let dataDir: string;
let federation: TestFederation;
let notary: Record<string, string>;

beforeAll(async () => {
  dataDir = await seedTemporaryData(150);
  federation = await startTestFederation({ dataDir });
  // A Qinghai notary office: verification needs no matter.
  notary = {
    authorization: `Bearer ${await testToken(dataDir, { province: '630000', scopes: ['certificate:verify'], subject: 'xining-notary-3' })}`,
    'x-matter-code': '',
  };
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

async function issue(mutation: string, idNumber: string, province: string, matter: string) {
  const issuer = {
    authorization: `Bearer ${await testToken(dataDir, { province, scopes: ['certificate:issue', 'household:read', 'social-insurance:read', 'provident-fund:read'] })}`,
    'x-matter-code': matter,
  };
  const { status, body } = await federation.query(mutation, { id: idNumber }, issuer);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return Object.values(body.data!)[0] as { serial: string; token: string; qrText: string; issuer: string };
}

describe('issue → verify → revoke → verify, with authorities of two provinces', () => {
  it('issues a participation certificate sealed in Tibet and a deposit certificate sealed in Qinghai; a notary verifies both live', async () => {
    const si = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '540000', 'TB-SB-005');
    const pf = await issue(ISSUE_PF, QINGHAI_PERSON.idNumber, '630000', 'TB-GJJ-003');
    expect(si.issuer).toMatch(/拉萨/);
    expect(pf.issuer).toMatch(/西宁/);
    expect(si.token).not.toContain(HUNAN_PERSON.idNumber);

    const first = await federation.query(VERIFY, { doc: si.token, name: HUNAN_PERSON.name, id: HUNAN_PERSON.idNumber }, notary);
    expect(first.body.errors).toBeUndefined();
    const v = first.body.data!.verifyDocument;
    expect(v).toMatchObject({
      verdict: 'VALID',
      code: 'OK',
      signatureValid: true,
      contentIntact: true,
      type: 'SOCIAL_INSURANCE_PARTICIPATION',
      validityStatus: 'CURRENT',
    });
    expect(v.issuer).toMatchObject({ province: '540000', trusted: true });
    expect(v.record).toEqual({ status: 'VALID', revokedAt: null, revocationReason: null, supersededBy: null });
    expect([v.holderNameMatches, v.holderIdNumberMatches]).toEqual([true, true]);
    expect(v.holderIdMasked).toBe(`${HUNAN_PERSON.idNumber.slice(0, 4)}**********${HUNAN_PERSON.idNumber.slice(14)}`);
    expect(JSON.parse(v.content).cumulativeMonths.PENSION).toBeGreaterThan(0);
    expect(JSON.stringify(first.body)).not.toContain(HUNAN_PERSON.idNumber);

    const viaQr = await federation.query(VERIFY, { doc: pf.qrText }, notary);
    expect(viaQr.body.data!.verifyDocument).toMatchObject({ verdict: 'VALID', type: 'PROVIDENT_FUND_DEPOSIT', record: { status: 'VALID' } });
    expect(viaQr.body.data!.verifyDocument.issuer.province).toBe('630000');

    // Revocation: only an authority of the issuing province (Tibet) may.
    const revoke = 'mutation($s: ID!, $r: String!) { revokeParticipationCertificate(serial: $s, reason: $r) { status revokedAt revocationReason } }';
    const outsider = {
      authorization: `Bearer ${await testToken(dataDir, { province: '430000', issuer: 'hunan', scopes: ['certificate:revoke'] })}`,
      'x-matter-code': '',
    };
    const refused = await federation.query(revoke, { s: si.serial, r: '信息有误' }, outsider);
    expect(refused.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    const lhasa = {
      authorization: `Bearer ${await testToken(dataDir, { province: '540000', issuer: 'xizang', scopes: ['certificate:revoke'] })}`,
      'x-matter-code': '',
    };
    const revoked = await federation.query(revoke, { s: si.serial, r: '参保信息更正，原证明作废' }, lhasa);
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data!.revokeParticipationCertificate.status).toBe('REVOKED');

    const again = await federation.query(VERIFY, { doc: si.token }, notary);
    expect(again.body.data!.verifyDocument.record).toMatchObject({ status: 'REVOKED', revocationReason: '参保信息更正，原证明作废' });
    expect(again.body.data!.verifyDocument.signatureValid).toBe(true);
  });

  it('marks an earlier certificate superseded when a newer one is issued', async () => {
    const older = await issue(ISSUE_PF, QINGHAI_PERSON.idNumber, '630000', 'TB-GJJ-003');
    const newer = await issue(ISSUE_PF, QINGHAI_PERSON.idNumber, '630000', 'TB-GJJ-003');
    const { body } = await federation.query(VERIFY, { doc: older.token }, notary);
    expect(body.data!.verifyDocument.record).toMatchObject({ status: 'SUPERSEDED', supersededBy: newer.serial });
  });

  it('tells a holder mismatch without disclosing who the holder is', async () => {
    const si = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '540000', 'TB-SB-005');
    const other = DEMO_PERSONS[4];
    const { body } = await federation.query(VERIFY, { doc: si.token, name: other.name, id: other.idNumber }, notary);
    const v = body.data!.verifyDocument;
    expect([v.verdict, v.holderNameMatches, v.holderIdNumberMatches]).toEqual(['VALID', false, false]);
    expect(JSON.stringify(body)).not.toContain(HUNAN_PERSON.idNumber);
  });

  it('gives tampered and garbage documents a precise verdict, never an error', async () => {
    const si = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '540000', 'TB-SB-005');
    const [header, payload, signature] = si.token.split('.');
    // The payload is DEFLATE-compressed (header zip: DEF) so that documents fit a QR code.
    const altered = JSON.parse(inflateRawSync(Buffer.from(payload, 'base64url')).toString('utf8'));
    altered.content.cumulativeMonths.PENSION = 999;
    const cases: [string, string][] = [
      ['garbage', 'hello notary'],
      ['truncated', si.token.slice(0, si.token.length - 20)],
      ['altered content', `${header}.${deflateRawSync(Buffer.from(JSON.stringify(altered))).toString('base64url')}.${signature}`],
    ];
    for (const [name, doc] of cases) {
      const { status, body } = await federation.query(VERIFY, { doc }, notary);
      expect(status, name).toBe(200);
      expect(body.errors, name).toBeUndefined();
      expect(body.data!.verifyDocument.verdict, name).not.toBe('VALID');
      expect(body.data!.verifyDocument.record, name).toBeNull();
    }
  });

  it('seals a licence as a document its holder can present', async () => {
    const licences = await federation.query(
      'query($id: ID!) { person(idNumber: $id) { licences { title status document { serial token } } } }',
      { id: HUNAN_PERSON.idNumber },
      {
        'x-matter-code': 'TB-ZZ-002',
      },
    );
    expect(licences.body.errors).toBeUndefined();
    const valid = licences.body.data!.person.licences.find((l: { status: string }) => l.status === 'VALID');
    expect(valid.document.token).toEqual(expect.any(String));
    const { body } = await federation.query(VERIFY, { doc: valid.document.token }, notary);
    expect(body.data!.verifyDocument).toMatchObject({ verdict: 'VALID', record: { status: 'VALID' } });
  });

  it('hands out a QR image on request, and the trust list for offline verification', async () => {
    const issuer = {
      authorization: `Bearer ${await testToken(dataDir, { province: '540000', scopes: ['certificate:issue', 'social-insurance:read'] })}`,
      'x-matter-code': 'TB-SB-005',
    };
    const { body } = await federation.query(
      'mutation($id: ID!) { issueParticipationCertificate(idNumber: $id) { qrPng } }',
      { id: HUNAN_PERSON.idNumber },
      issuer,
    );
    expect(body.data!.issueParticipationCertificate.qrPng).toMatch(/^data:image\/png;base64,/);
    const list = await federation.query('{ sealTrustList }', {}, notary);
    const trustList = JSON.parse(list.body.data!.sealTrustList);
    expect(trustList.authorities.map((a: { province: string }) => a.province)).toEqual(expect.arrayContaining(['540000', '630000']));
    expect(list.body.data!.sealTrustList).not.toMatch(/"d":/); // public keys only
  });

  it('requires certificate:issue under a matter that allows it', async () => {
    const noIssue = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['social-insurance:read'] })}`, 'x-matter-code': 'TB-SB-001' };
    const { body } = await federation.query(ISSUE_SI, { id: HUNAN_PERSON.idNumber }, noIssue);
    expect(body.errors![0].extensions!.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
  });
});

describe('issuing needs the domain as well as certificate:issue, both effective under the matter', () => {
  const headers = async (scopes: readonly string[], matter: string) => ({
    authorization: `Bearer ${await testToken(dataDir, { province: '540000', scopes })}`,
    'x-matter-code': matter,
  });

  /**
   * Asks as `asking` and expects exactly one field refused by scope, at `coordinate`, and the subgraph that
   * would have issued or sealed it never reached: not one statement ran there.
   */
  async function expectRefused(
    query: string,
    variables: Record<string, unknown>,
    asking: Record<string, string>,
    coordinate: string,
    issuing: 'social-insurance' | 'provident-fund' | 'licences',
  ) {
    federation.resetStatements();
    const { status, body } = await federation.query(query, variables, asking);
    expect(status).toBe(200);
    expect(body.errors!.map((e) => [e.extensions!.code, e.extensions!.coordinate])).toEqual([['UNAUTHORIZED_FIELD_OR_TYPE', coordinate]]);
    expect(federation.statements[issuing]).toEqual([]);
    return body.data!;
  }

  describe('when the matter grants no social-insurance read', () => {
    it.each([
      ['only certificate:issue', ['certificate:issue']],
      ['certificate:issue and every read scope', ['certificate:issue', ...ALL_READ_SCOPES]],
    ])('refuses a participation certificate under TB-GJJ-003 to a token with %s, and issues nothing', async (_case, scopes) => {
      const data = await expectRefused(
        ISSUE_SI,
        { id: HUNAN_PERSON.idNumber },
        await headers(scopes, 'TB-GJJ-003'),
        'Mutation.issueParticipationCertificate',
        'social-insurance',
      );
      expect(data).toEqual({ issueParticipationCertificate: null });
    });
  });

  describe('when the matter grants no provident-fund read', () => {
    it.each([
      ['only certificate:issue', ['certificate:issue']],
      ['certificate:issue and every read scope', ['certificate:issue', ...ALL_READ_SCOPES]],
    ])('refuses a deposit certificate under TB-SB-005 to a token with %s, and issues nothing', async (_case, scopes) => {
      const data = await expectRefused(
        ISSUE_PF,
        { id: QINGHAI_PERSON.idNumber },
        await headers(scopes, 'TB-SB-005'),
        'Mutation.issueDepositCertificate',
        'provident-fund',
      );
      expect(data).toEqual({ issueDepositCertificate: null });
    });
  });

  describe('when the token holds no licence:read', () => {
    it('refuses a licence’s sealed document under a licence matter (TB-ZZ-002), and seals nothing', async () => {
      const data = await expectRefused(
        'query($id: ID!) { person(idNumber: $id) { name licences { document { serial token } } } }',
        { id: HUNAN_PERSON.idNumber },
        await headers(['household:read', 'certificate:issue'], 'TB-ZZ-002'),
        'Person.licences',
        'licences',
      );
      expect(data.person).toEqual({ name: HUNAN_PERSON.name, licences: null });
    });
  });

  describe('when the token and the matter grant both', () => {
    it('issues a participation certificate under TB-SB-005 with certificate:issue and social-insurance:read alone', async () => {
      const { status, body } = await federation.query(
        ISSUE_SI,
        { id: HUNAN_PERSON.idNumber },
        await headers(['certificate:issue', 'social-insurance:read'], 'TB-SB-005'),
      );
      expect([status, body.errors]).toEqual([200, undefined]);
      expect(body.data!.issueParticipationCertificate).toMatchObject({
        type: 'SOCIAL_INSURANCE_PARTICIPATION',
        issuer: expect.stringMatching(/拉萨/),
      });
    });

    it('issues a deposit certificate under TB-GJJ-003 with certificate:issue and provident-fund:read alone', async () => {
      const { status, body } = await federation.query(
        ISSUE_PF,
        { id: QINGHAI_PERSON.idNumber },
        await headers(['certificate:issue', 'provident-fund:read'], 'TB-GJJ-003'),
      );
      expect([status, body.errors]).toEqual([200, undefined]);
      expect(body.data!.issueDepositCertificate).toMatchObject({ type: 'PROVIDENT_FUND_DEPOSIT', issuer: expect.stringMatching(/西宁/) });
    });

    it('seals a licence’s document with licence:read under TB-ZZ-002', async () => {
      const { body } = await federation.query(
        'query($id: ID!) { person(idNumber: $id) { licences { status document { serial } } } }',
        { id: HUNAN_PERSON.idNumber },
        await headers(['household:read', 'licence:read'], 'TB-ZZ-002'),
      );
      expect(body.errors).toBeUndefined();
      expect(body.data!.person.licences.find((l: { status: string }) => l.status === 'VALID').document.serial).toMatch(/^ZZ-/);
    });
  });

  describe('at the issuing subgraph itself (defence in depth)', () => {
    it('refuses a genuine gateway assertion that carries certificate:issue without social-insurance:read', async () => {
      const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
      const assertion = {
        caller: {
          subject: 'lasa-social-insurance-01',
          organisation: '拉萨市社会保险事业管理局',
          province: '540000',
          issuer: 'https://idp',
          tokenId: 't',
        },
        scopes: ['certificate:issue', 'household:read', 'provident-fund:read'],
        matter: 'TB-GJJ-003',
        caseNumber: null,
        requestId: 'test-request-issue-0001',
      };
      federation.resetStatements();
      const { status, body } = await postGraphQL(
        federation.subgraphs.get('social-insurance')!.url,
        ISSUE_SI,
        { id: HUNAN_PERSON.idNumber },
        { [ASSERTION_HEADER]: await sign('social-insurance', assertion) },
      );
      expect(status).toBe(403);
      expect(body.errors![0].extensions!.code).toBe('FORBIDDEN');
      expect(federation.statements['social-insurance']).toEqual([]);
    });
  });
});

describe('superseding, per issuing authority', () => {
  const VERIFY_STATUS = /* GraphQL */ `
    query($doc: String!) {
      verifyDocument(document: $doc) {
        verdict issuer { id }
        record { ... on ParticipationCertificate { status supersededBy } }
      }
    }
  `;
  const statusOf = async (token: string) => (await federation.query(VERIFY_STATUS, { doc: token }, notary)).body.data!.verifyDocument;

  it('supersedes only the same agency’s earlier certificate: one another province’s agency issued stays in force', async () => {
    // 周志强 was insured in Changsha until his move to Lhasa in 2019. The Changsha agency issued him a certificate
    // then: his record is set back to that agency for one issue, as it stood before the transfer.
    const db = openDatabase(databaseFileOf(dataDir, 'social-insurance'));
    const agencyOf = db.prepare<[string], { agency_name: string; agency_region: string }>(
      'SELECT agency_name, agency_region FROM insured_persons WHERE id_number = ?',
    );
    const setAgency = db.prepare('UPDATE insured_persons SET agency_name = ?, agency_region = ? WHERE id_number = ?');
    const lhasa = agencyOf.get(HUNAN_PERSON.idNumber)!;
    expect(lhasa.agency_region).toBe('540100');
    let changsha: Awaited<ReturnType<typeof issue>>;
    try {
      setAgency.run('长沙市社会保险服务中心', '430100', HUNAN_PERSON.idNumber);
      changsha = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '430000', 'TB-SB-005');
    } finally {
      setAgency.run(lhasa.agency_name, lhasa.agency_region, HUNAN_PERSON.idNumber);
      db.close();
    }
    const first = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '540000', 'TB-SB-005');
    const second = await issue(ISSUE_SI, HUNAN_PERSON.idNumber, '540000', 'TB-SB-005');

    expect(await statusOf(changsha.token)).toMatchObject({
      verdict: 'VALID',
      issuer: { id: '430100-social-insurance' },
      record: { status: 'VALID', supersededBy: null },
    });
    expect(await statusOf(first.token)).toMatchObject({
      issuer: { id: '540100-social-insurance' },
      record: { status: 'SUPERSEDED', supersededBy: second.serial },
    });
    expect(await statusOf(second.token)).toMatchObject({ issuer: { id: '540100-social-insurance' }, record: { status: 'VALID' } });
  });
});
