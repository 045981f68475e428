import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSealSigner } from '../../common/documents/seal-keys.js';
import { sealDocument } from '../../common/documents/document.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { databaseFileOf } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { asFormat1, payloadOf } from '../support/format-1-documents.js';
import { bruteForce } from '../support/masked-id-search.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { testToken } from '../support/identity.js';

const HOLDER = DEMO_PERSONS[0]; // 周志强: contributes in Lhasa
const OTHER = DEMO_PERSONS[4];

const ISSUE = 'mutation($id: ID!) { issueParticipationCertificate(idNumber: $id) { serial token } }';
const REVOKE = 'mutation($s: ID!, $r: String!) { revokeParticipationCertificate(serial: $s, reason: $r) { status } }';
// What a notary's counter application asks: the verdict only, not the record.
const VERDICT =
  'query($doc: String!, $id: ID) { verifyDocument(document: $doc, holderIdNumber: $id) { verdict code holderIdNumberMatches format bindingExposesIdNumber } }';

let dataDir: string;
let federation: TestFederation;
let notary: Record<string, string>;
let issuer: Record<string, string>;

beforeAll(async () => {
  dataDir = await seedTemporaryData(150);
  federation = await startTestFederation({ dataDir });
  notary = {
    authorization: `Bearer ${await testToken(dataDir, { province: '630000', scopes: ['certificate:verify'], subject: 'xining-notary-5' })}`,
    'x-matter-code': '',
  };
  issuer = {
    authorization: `Bearer ${await testToken(dataDir, { province: '540000', scopes: ['certificate:issue', 'certificate:revoke', 'social-insurance:read'] })}`,
    'x-matter-code': 'TB-SB-005',
  };
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

async function issueCertificate(): Promise<{ serial: string; token: string }> {
  const { body } = await federation.query(ISSUE, { id: HOLDER.idNumber }, issuer);
  expect(body.errors).toBeUndefined();
  return body.data!.issueParticipationCertificate;
}

async function verdictOf(doc: string, id?: string) {
  const { status, body } = await federation.query(VERDICT, { doc, id }, notary);
  expect(status).toBe(200);
  return body;
}

describe('the verdict of an online verification', () => {
  it('is REVOKED for a revoked certificate, not VALID, even when the record is not asked for', async () => {
    const certificate = await issueCertificate();
    expect((await verdictOf(certificate.token)).data!.verifyDocument).toMatchObject({ verdict: 'VALID', code: 'OK' });
    const lhasa = {
      authorization: `Bearer ${await testToken(dataDir, { province: '540000', issuer: 'xizang', scopes: ['certificate:revoke'] })}`,
      'x-matter-code': '',
    };
    const revoked = await federation.query(REVOKE, { s: certificate.serial, r: '参保信息更正，原证明作废' }, lhasa);
    expect(revoked.body.errors).toBeUndefined();
    const body = await verdictOf(certificate.token);
    expect(body.errors).toBeUndefined();
    expect(body.data!.verifyDocument).toMatchObject({ verdict: 'REVOKED', code: 'REVOKED' });
    // Nothing the gateway added to ask the issuer reaches the client.
    expect(Object.keys(body.data!.verifyDocument).sort()).toEqual(['bindingExposesIdNumber', 'code', 'format', 'holderIdNumberMatches', 'verdict']);
    // Asked with the record, the added fields go inside the client's own record (one fetch from the issuer), and leave it as asked.
    const withRecord = await federation.query(
      'query($doc: String!, $id: ID) { verifyDocument(document: $doc, holderIdNumber: $id) { verdict holderIdNumberMatches r: record { ... on ParticipationCertificate { status } } } }',
      { doc: certificate.token, id: HOLDER.idNumber },
      notary,
    );
    expect(withRecord.body.errors).toBeUndefined();
    expect(withRecord.body.data!.verifyDocument).toEqual({ verdict: 'REVOKED', holderIdNumberMatches: true, r: { status: 'REVOKED' } });
  });

  it('is SUPERSEDED for a certificate replaced by a newer one, under whatever aliases the client gave', async () => {
    const older = await issueCertificate();
    await issueCertificate();
    const aliased = `query($doc: String!) {
      first: verifyDocument(document: $doc) { v: verdict c: code ...More }
      again: verifyDocument(document: $doc) { verdict }
    }
    fragment More on DocumentVerification { code _liveRecord: signatureValid }`;
    const { body } = await federation.query(aliased, { doc: older.token }, notary);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      first: { v: 'SUPERSEDED', c: 'SUPERSEDED', code: 'SUPERSEDED', _liveRecord: true },
      again: { verdict: 'SUPERSEDED' },
    });
  });

  it('is STATUS_UNAVAILABLE for a genuine document its issuer has no record of', async () => {
    const certificate = await issueCertificate();
    const { issuer: authority } = payloadOf(certificate.token);
    // Sealed with the authority's real key, but never recorded (a seal used outside the issuing system).
    const signer = await loadSealSigner(dataDir, authority.id);
    const unrecorded = await sealDocument(signer, {
      type: 'SOCIAL_INSURANCE_PARTICIPATION',
      serial: 'SB-540100-2026-0000FFFF',
      holder: { name: HOLDER.name, idNumber: HOLDER.idNumber },
      validUntil: null,
      content: { insuranceTypes: ['PENSION'] },
    });
    const body = await verdictOf(unrecorded.token);
    expect(body.errors).toBeUndefined();
    expect(body.data!.verifyDocument).toMatchObject({ verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_NOT_FOUND' });
  });
});

describe('the holder binding of a document', () => {
  it("lets nobody recover a licence holder's ID number from the document an API request hands out", async () => {
    const db = openDatabase(databaseFileOf(dataDir, 'licences'), { readonly: true });
    let licence: { identifier: string; holder_id: string };
    try {
      licence = db
        .prepare("SELECT identifier, holder_id FROM licences WHERE holder_kind = 'PERSON' AND status = 'VALID' LIMIT 1")
        .get() as typeof licence;
    } finally {
      db.close();
    }
    // A matter without pii:unmasked: the number is masked everywhere in the answer.
    const caller = {
      authorization: `Bearer ${await testToken(dataDir, { province: '430000', scopes: ['credit:read', 'licence:read'] })}`,
      'x-matter-code': 'TB-SC-002',
    };
    const { body } = await federation.query('query($i: ID!) { licence(identifier: $i) { document { token } } }', { i: licence.identifier }, caller);
    expect(body.errors).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain(licence.holder_id);
    const { holder } = payloadOf(body.data!.licence.document.token);
    expect(holder.idMasked).toBe(`${licence.holder_id.slice(0, 4)}**********${licence.holder_id.slice(14)}`);
    // Every number the masked form allows in the holder's birth year, the holder's among them: none fits the binding.
    const search = bruteForce(holder.idMasked, holder.salt, holder.binding, licence.holder_id.slice(6, 10));
    expect(search.candidates).toContain(licence.holder_id);
    expect(search.found).toEqual([]);
  });

  it('is checked by the issuing domain for a format-2 document: the right ID number matches, another does not', async () => {
    const certificate = await issueCertificate();
    expect(payloadOf(certificate.token).v).toBe(2);
    const right = await verdictOf(certificate.token, HOLDER.idNumber);
    expect(right.errors).toBeUndefined();
    expect(right.data!.verifyDocument).toEqual({
      verdict: 'VALID',
      code: 'OK',
      holderIdNumberMatches: true,
      format: 2,
      bindingExposesIdNumber: false,
    });
    expect(JSON.stringify(right)).not.toContain(HOLDER.idNumber);
    const wrong = await verdictOf(certificate.token, OTHER.idNumber);
    expect(wrong.data!.verifyDocument).toMatchObject({ verdict: 'VALID', holderIdNumberMatches: false });
  });

  it('still verifies a format-1 document handed out before, and says its binding exposes the number', async () => {
    const certificate = await issueCertificate();
    const { issuer: authority } = payloadOf(certificate.token);
    const signer = await loadSealSigner(dataDir, authority.id);
    const serial = 'SB-540100-2025-0000AAAA';
    const legacy = await asFormat1(signer, certificate, HOLDER.idNumber, serial);
    // Recorded as the issuing system recorded it then.
    const db = openDatabase(databaseFileOf(dataDir, 'social-insurance'));
    try {
      db.prepare(
        `INSERT INTO issued_documents (serial, type, authority_id, authority_province, holder_key, issued_at, valid_until, status, token)
         SELECT ?, type, authority_id, authority_province, holder_key, issued_at, valid_until, 'VALID', ? FROM issued_documents WHERE serial = ?`,
      ).run(serial, legacy, certificate.serial);
    } finally {
      db.close();
    }
    const body = await verdictOf(legacy, HOLDER.idNumber);
    expect(body.errors).toBeUndefined();
    expect(body.data!.verifyDocument).toEqual({ verdict: 'VALID', code: 'OK', holderIdNumberMatches: true, format: 1, bindingExposesIdNumber: true });
    expect((await verdictOf(legacy, OTHER.idNumber)).data!.verifyDocument.holderIdNumberMatches).toBe(false);
  });
});

describe('guessing the masked digits through the online check', () => {
  it('stops after five wrong ID numbers a day for one document, and says so', async () => {
    const certificate = await issueCertificate();
    const wrong = DEMO_PERSONS.slice(1, 8).map((p) => p.idNumber);
    const answers = [];
    for (const id of wrong) answers.push(await verdictOf(certificate.token, id));
    expect(answers.slice(0, 5).map((a) => a.data!.verifyDocument.holderIdNumberMatches)).toEqual([false, false, false, false, false]);
    for (const limited of answers.slice(5)) {
      expect(limited.data!.verifyDocument).toMatchObject({ verdict: 'VALID', holderIdNumberMatches: null });
      expect(limited.errors).toEqual([
        expect.objectContaining({
          path: ['verifyDocument', 'holderIdNumberMatches'],
          extensions: expect.objectContaining({ code: 'HOLDER_CHECK_LIMITED' }),
        }),
      ]);
    }
    // The right number is not tested either: the limit does not tell right from wrong.
    expect((await verdictOf(certificate.token, HOLDER.idNumber)).data!.verifyDocument.holderIdNumberMatches).toBeNull();
  });
});

describe('when the issuing domain cannot be reached', () => {
  it('is STATUS_UNAVAILABLE, never VALID, and the ID number stays unchecked', async () => {
    const certificate = await issueCertificate();
    await federation.stopSubgraph('social-insurance');
    const body = await verdictOf(certificate.token, HOLDER.idNumber);
    expect(body.data!.verifyDocument).toMatchObject({ verdict: 'STATUS_UNAVAILABLE', code: 'STATUS_UNREACHABLE', holderIdNumberMatches: null });
    // The client learns why: the domain's unavailability, with no path into what it did not ask.
    for (const error of body.errors ?? []) expect(JSON.stringify(error.path ?? [])).not.toContain('_live');
  });
});
