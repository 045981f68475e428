import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckChar } from '../../common/identifiers.js';
import {
  buildSealTrustList,
  ensureSealKey,
  loadSealSigner,
  parseSealTrustList,
  rotateSealKey,
  sealDocument,
  verifyDocument,
  describeDocumentVerification,
  type DocumentDraft,
  type SealedDocument,
  type SealSigner,
  type SealTrustList,
  type SealTrustListFile,
} from '../../common/documents/index.js';
import { asFormat1 } from '../support/format-1-documents.js';

const withCheck = (first17: string) => `${first17}${idNumberCheckChar(first17)}`;
/** 阿依古丽·买买提, born in 莎车县 in 1990, insured in Changsha. */
const AYIGULI = { name: '阿依古丽·买买提', idNumber: withCheck('65312519900307112') };
/** 次仁卓玛, depositing into Lhasa's provident fund. */
const CIREN = { name: '次仁卓玛', idNumber: withCheck('54010219850615204') };
const OTHER_ID = withCheck('43010219880512911');

const CHANGSHA = { id: '430100-social-insurance', name: '长沙市社会保险服务中心' };
const LHASA = { id: '540100-provident-fund', name: '拉萨市住房公积金管理中心' };
const KASHGAR = { id: '653100-social-insurance', name: '喀什地区社会保险事业管理局' };

const KEYS_CREATED = new Date('2026-01-01T00:00:00.000Z');
const ISSUED = new Date('2026-03-01T02:00:00.000Z');
const DURING = new Date('2026-03-15T00:00:00.000Z');
const ROTATED = new Date('2026-04-01T00:00:00.000Z');

function participation(overrides: Partial<DocumentDraft> = {}): DocumentDraft {
  return {
    type: 'SOCIAL_INSURANCE_PARTICIPATION',
    serial: 'SB-430100-2026-000123',
    holder: AYIGULI,
    issuedAt: ISSUED,
    validUntil: '2026-06-01T00:00:00+08:00',
    content: {
      insuranceTypes: ['PENSION', 'MEDICAL', 'UNEMPLOYMENT'],
      status: 'ACTIVE',
      periods: [
        { insuranceType: 'PENSION', from: '2014-07', to: '2019-12', place: '653125', placeName: '莎车县', months: 66 },
        { insuranceType: 'PENSION', from: '2020-01', to: '2026-02', place: '430100', placeName: '长沙市', months: 74 },
      ],
      totalMonths: 140,
    },
    ...overrides,
  };
}

function deposit(overrides: Partial<DocumentDraft> = {}): DocumentDraft {
  return {
    type: 'PROVIDENT_FUND_DEPOSIT',
    serial: 'GJJ-540100-2026-000007',
    holder: CIREN,
    issuedAt: ISSUED,
    validUntil: '2026-06-01T00:00:00+08:00',
    content: {
      accountStatus: 'NORMAL',
      centre: '拉萨市住房公积金管理中心',
      monthlyDeposit: '1860.00',
      depositedSince: '2011-05',
      balanceBand: '50000-100000',
    },
    ...overrides,
  };
}

/** Splits a token into its three parts, decoded where they are JSON (the payload is raw DEFLATE of JSON). */
function partsOf(token: string) {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(inflateRawSync(Buffer.from(payload, 'base64url')).toString('utf8')),
    segments: { header, payload, signature },
  };
}
/** A header part. */
const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
/** A payload part, compressed as an issuer would. */
const encodePayload = (value: unknown) => deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8')).toString('base64url');

let dataDir: string;
let strangerDir: string;
let changsha: SealSigner;
let lhasa: SealSigner;
let trustList: SealTrustList;
let trustListFile: SealTrustListFile;
let certificate: SealedDocument;
let depositCertificate: SealedDocument;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-'));
  strangerDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-stranger-'));
  await ensureSealKey(dataDir, CHANGSHA, { now: KEYS_CREATED });
  await ensureSealKey(dataDir, LHASA, { now: KEYS_CREATED });
  changsha = await loadSealSigner(dataDir, CHANGSHA.id);
  lhasa = await loadSealSigner(dataDir, LHASA.id);
  trustListFile = (await buildSealTrustList(dataDir)).trustList;
  trustList = await parseSealTrustList(trustListFile);
  certificate = await sealDocument(changsha, participation());
  depositCertificate = await sealDocument(lhasa, deposit());
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(strangerDir, { recursive: true, force: true });
});

describe('verifyDocument', () => {
  describe('when a document of either province is intact and current', () => {
    it('reports a Changsha participation certificate VALID, with each part separately', async () => {
      const result = await verifyDocument(certificate.token, trustList, { now: DURING });
      expect(result).toMatchObject({
        verdict: 'VALID',
        code: 'OK',
        integrity: { signatureValid: true, contentIntact: true },
        issuer: { id: CHANGSHA.id, name: CHANGSHA.name, province: '430000', provinceName: '湖南省', trusted: true },
        validity: { from: ISSUED.toISOString(), until: '2026-05-31T16:00:00.000Z', status: 'CURRENT' },
        document: {
          type: 'SOCIAL_INSURANCE_PARTICIPATION',
          typeName: '社会保险参保证明',
          serial: 'SB-430100-2026-000123',
          issuedAt: ISSUED.toISOString(),
        },
        holder: { name: AYIGULI.name, idMasked: `6531**********${AYIGULI.idNumber.slice(14)}` },
        holderMatch: { checked: false, nameMatches: null, idNumberMatches: null },
      });
      expect(result.content).toEqual(participation().content);
    });

    it('reports a Lhasa deposit certificate VALID under the Tibet authority', async () => {
      const result = await verifyDocument(depositCertificate.token, trustList, { now: DURING, expectedType: 'PROVIDENT_FUND_DEPOSIT' });
      expect(result).toMatchObject({ verdict: 'VALID', code: 'OK', issuer: { id: LHASA.id, provinceName: '西藏自治区', trusted: true } });
      expect(result.content).toMatchObject({ accountStatus: 'NORMAL', monthlyDeposit: '1860.00' });
    });

    it('seals a business licence to an organisation, showing its (public) credit code', async () => {
      await ensureSealKey(dataDir, { id: '430100-market-regulation', name: '长沙市市场监督管理局' });
      const regulator = await loadSealSigner(dataDir, '430100-market-regulation');
      const list = await parseSealTrustList((await buildSealTrustList(dataDir)).trustList);
      const licence = await sealDocument(regulator, {
        type: 'BUSINESS_LICENCE',
        serial: 'YYZZ-430100-2026-000001',
        holder: { name: '长沙湘江科技有限公司', creditCode: '91350100M000100Y43' },
        validUntil: null,
        content: { legalRepresentative: '李明', registeredCapital: '500万元', established: '2016-04-12' },
      });
      const result = await verifyDocument(licence.qrText, list, { holder: { idNumber: '91350100m000100y43' } });
      expect(result).toMatchObject({ code: 'OK', validity: { until: null, status: 'CURRENT' }, holder: { idMasked: '91350100M000100Y43' } });
      expect(result.holderMatch).toEqual({ checked: true, nameMatches: null, idNumberMatches: true, idNumberNeedsIssuer: false });
    });
  });

  describe('when the input is not a document', () => {
    it.each<[string, unknown]>([
      ['an empty string', ''],
      ['white space', ' \n\t '],
      ['words', 'hello world'],
      ['random base64url', Buffer.from('not a document at all, just bytes').toString('base64url')],
      ['a JWT of another kind', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl'],
      ['four parts', 'eyJh.eyJh.eyJh.eyJh'],
      ['a QR text of another format version', 'KSTB2:eyJhbGciOiJFZERTQSJ9.e30.AAAA'],
      ['characters outside base64url', 'eyJ!!.e30.AAAA'],
      ['an oversized paste', 'A'.repeat(100_000)],
      ['no text at all', undefined],
      ['a number', 42],
      ['an object', { token: 'x' }],
    ])('answers DOCUMENT_MALFORMED for %s, without throwing', async (_case, input) => {
      const result = await verifyDocument(input, trustList);
      expect(result).toMatchObject({ verdict: 'INVALID', code: 'DOCUMENT_MALFORMED', issuer: null, content: null, holder: null });
    });

    it('answers DOCUMENT_TRUNCATED for every proper prefix of a QR text', async () => {
      const codes = new Set<string>();
      for (let length = 1; length < certificate.qrText.length; length++) {
        codes.add((await verifyDocument(certificate.qrText.slice(0, length), trustList)).code);
      }
      expect([...codes]).toEqual(['DOCUMENT_TRUNCATED']);
    });

    it('answers DOCUMENT_TRUNCATED for a token cut inside its payload or signature', async () => {
      for (const length of [40, Math.floor(certificate.token.length / 2), certificate.token.length - 1]) {
        expect((await verifyDocument(certificate.token.slice(0, length), trustList)).code).toBe('DOCUMENT_TRUNCATED');
      }
    });
  });

  describe('when the document was tampered with', () => {
    it('answers CONTENT_ALTERED when the payload was changed after sealing', async () => {
      const { payload, segments } = partsOf(certificate.token);
      payload.content.totalMonths = 200;
      const forged = `${segments.header}.${encodePayload(payload)}.${segments.signature}`;
      const result = await verifyDocument(forged, trustList, { now: DURING });
      expect(result).toMatchObject({
        verdict: 'INVALID',
        code: 'CONTENT_ALTERED',
        integrity: { signatureValid: false, contentIntact: false },
        content: null,
      });
      // The claimed issuer is shown, flagged as not trusted: the notary sees who the forgery pretends to be.
      expect(result.issuer).toMatchObject({ id: CHANGSHA.id, trusted: false });
    });

    it('answers CONTENT_ALTERED when the holder name was swapped in', async () => {
      const { payload, segments } = partsOf(certificate.token);
      payload.holder.name = '次仁卓玛';
      expect((await verifyDocument(`${segments.header}.${encodePayload(payload)}.${segments.signature}`, trustList)).code).toBe('CONTENT_ALTERED');
    });

    it('answers SIGNATURE_INVALID when the payload was changed and the header digest recomputed to match', async () => {
      const { header, payload } = partsOf(certificate.token);
      payload.validUntil = '2036-06-01T00:00:00.000Z';
      const bytes = deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'));
      header.dig = createHash('sha256').update(bytes).digest('base64url');
      const forged = `${encode(header)}.${bytes.toString('base64url')}.${partsOf(certificate.token).segments.signature}`;
      expect(await verifyDocument(forged, trustList)).toMatchObject({
        code: 'SIGNATURE_INVALID',
        integrity: { signatureValid: false, contentIntact: true },
      });
    });

    it('answers SIGNATURE_INVALID when the header names another trusted key', async () => {
      const { header, segments } = partsOf(certificate.token);
      header.kid = partsOf(depositCertificate.token).header.kid;
      expect(await verifyDocument(`${encode(header)}.${segments.payload}.${segments.signature}`, trustList)).toMatchObject({
        verdict: 'INVALID',
        code: 'SIGNATURE_INVALID',
      });
    });

    it.each<[string, string, (header: Record<string, unknown>) => void]>([
      ['gained a member', 'HEADER_INVALID', (h) => (h.jku = 'https://attacker.example/jwks')],
      ['says alg none', 'HEADER_INVALID', (h) => (h.alg = 'none')],
      ['says alg HS256', 'HEADER_INVALID', (h) => (h.alg = 'HS256')],
      ['says ES256 for an EdDSA key', 'SIGNATURE_INVALID', (h) => (h.alg = 'ES256')],
      ['lost its kid', 'HEADER_INVALID', (h) => delete h.kid],
      ['says the payload is not compressed', 'HEADER_INVALID', (h) => delete h.zip],
      ['has another typ', 'DOCUMENT_MALFORMED', (h) => (h.typ = 'JWT')],
    ])('when the header %s, answers %s', async (_case, code, edit) => {
      const { header, segments } = partsOf(certificate.token);
      edit(header);
      const result = await verifyDocument(`${encode(header)}.${segments.payload}.${segments.signature}`, trustList);
      expect(result).toMatchObject({ verdict: 'INVALID', code, integrity: { signatureValid: false } });
    });

    it('answers SIGNATURE_INVALID when the signature was swapped in from another document of the same issuer', async () => {
      const other = await sealDocument(changsha, participation({ serial: 'SB-430100-2026-000124' }));
      const { segments } = partsOf(certificate.token);
      const swapped = `${segments.header}.${segments.payload}.${partsOf(other.token).segments.signature}`;
      expect(await verifyDocument(swapped, trustList)).toMatchObject({
        code: 'SIGNATURE_INVALID',
        integrity: { signatureValid: false, contentIntact: true },
        content: null,
      });
    });

    it('answers DOCUMENT_MALFORMED when the signature is too long', async () => {
      expect((await verifyDocument(`${certificate.token}AAAA`, trustList)).code).toBe('DOCUMENT_MALFORMED');
    });
  });

  describe('when the issuer is not trusted', () => {
    it('answers UNKNOWN_KEY (UNTRUSTED_ISSUER) for an authority that is not in the trust list', async () => {
      await ensureSealKey(strangerDir, KASHGAR);
      const stranger = await sealDocument(await loadSealSigner(strangerDir, KASHGAR.id), participation({ serial: 'SB-653100-2026-000001' }));
      const result = await verifyDocument(stranger.token, trustList, { now: DURING });
      expect(result).toMatchObject({
        verdict: 'UNTRUSTED_ISSUER',
        code: 'UNKNOWN_KEY',
        integrity: { signatureValid: false, contentIntact: true },
        issuer: { id: KASHGAR.id, name: KASHGAR.name, provinceName: '新疆维吾尔自治区', trusted: false },
        content: null,
        holder: null,
      });
    });

    it('answers ISSUER_MISMATCH when a trusted authority seals a document naming another authority', async () => {
      const impostor: SealSigner = { ...changsha, authority: lhasa.authority };
      const forged = await sealDocument(impostor, deposit());
      expect(await verifyDocument(forged.token, trustList)).toMatchObject({
        verdict: 'UNTRUSTED_ISSUER',
        code: 'ISSUER_MISMATCH',
        integrity: { signatureValid: true },
        issuer: { id: LHASA.id, trusted: false },
        content: null,
      });
    });
  });

  describe('when another type is expected', () => {
    it('answers WRONG_TYPE, still showing what the genuine document is', async () => {
      const result = await verifyDocument(depositCertificate.token, trustList, { now: DURING, expectedType: 'SOCIAL_INSURANCE_PARTICIPATION' });
      expect(result).toMatchObject({
        verdict: 'WRONG_TYPE',
        code: 'WRONG_TYPE',
        integrity: { signatureValid: true },
        document: { type: 'PROVIDENT_FUND_DEPOSIT' },
      });
    });
  });

  describe('when checked outside the validity period (frozen clock)', () => {
    it('answers EXPIRED after validUntil, beyond the clock tolerance', async () => {
      const result = await verifyDocument(certificate.token, trustList, { now: new Date('2026-06-01T00:00:00+08:00'), clockToleranceSeconds: 0 });
      expect(result).toMatchObject({ verdict: 'EXPIRED', code: 'EXPIRED', validity: { status: 'EXPIRED' }, integrity: { signatureValid: true } });
      expect((await verifyDocument(certificate.token, trustList, { now: new Date('2026-06-01T00:04:00+08:00') })).code).toBe('OK');
      expect((await verifyDocument(certificate.token, trustList, { now: new Date('2026-06-01T00:06:00+08:00') })).code).toBe('EXPIRED');
    });

    it('answers NOT_YET_VALID before validFrom', async () => {
      const later = await sealDocument(changsha, participation({ validFrom: '2026-04-01T00:00:00+08:00' }));
      const result = await verifyDocument(later.token, trustList, { now: DURING });
      expect(result).toMatchObject({ verdict: 'NOT_YET_VALID', code: 'NOT_YET_VALID', validity: { status: 'NOT_YET_VALID' } });
    });

    it('does not answer NOT_YET_VALID for a verifier clock a few seconds behind the issuer', async () => {
      const result = await verifyDocument(certificate.token, trustList, { now: new Date(ISSUED.getTime() - 30_000) });
      expect(result.code).toBe('OK');
    });
  });

  describe('when a holder is given', () => {
    // Offline, only a format-1 document's ID number can be checked (a format-2 binding needs its issuer's key).
    let legacy: string;
    let legacyDeposit: string;
    beforeAll(async () => {
      legacy = await asFormat1(changsha, certificate, AYIGULI.idNumber, 'SB-430100-2026-100123');
      legacyDeposit = await asFormat1(lhasa, depositCertificate, CIREN.idNumber, 'GJJ-540100-2026-100007');
    });

    it('matches the name, and says that only the issuer can check the ID number of a format-2 document', async () => {
      const result = await verifyDocument(certificate.token, trustList, { now: DURING, holder: AYIGULI });
      expect(result.holderMatch).toEqual({ checked: true, nameMatches: true, idNumberMatches: null, idNumberNeedsIssuer: true });
    });

    it('matches the name and the ID number of a format-1 document', async () => {
      const result = await verifyDocument(legacy, trustList, { now: DURING, holder: AYIGULI });
      expect(result.holderMatch).toEqual({ checked: true, nameMatches: true, idNumberMatches: true, idNumberNeedsIssuer: false });
    });

    it.each([
      '阿依古丽·买买提',
      '阿依古丽•买买提',
      '阿依古丽･买买提',
      '阿依古丽‧买买提',
      '阿依古丽⋅买买提',
      '阿依古丽・买买提',
      ' 阿依古丽 · 买买提\u3000',
    ])('matches the name written %s (middle-dot variants, spaces, NFKC)', async (name) => {
      const result = await verifyDocument(certificate.token, trustList, { now: DURING, holder: { name } });
      expect(result.holderMatch).toEqual({ checked: true, nameMatches: true, idNumberMatches: null, idNumberNeedsIssuer: false });
    });

    it('matches an ID number typed with a lower-case x, full-width digits or spaces', async () => {
      const id = CIREN.idNumber;
      const typed = `${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}`.replace('0', '０').toLowerCase();
      const result = await verifyDocument(legacyDeposit, trustList, { now: DURING, holder: { idNumber: typed } });
      expect(result.holderMatch.idNumberMatches).toBe(true);
      const binding = depositCertificate.payload.holder;
      expect(await lhasa.holderMatches(binding.binding, binding.salt, typed)).toBe(true);
    });

    it('reports a different name or ID number as not matching, without changing the verdict', async () => {
      const result = await verifyDocument(legacy, trustList, { now: DURING, holder: { name: '阿依古丽·买买', idNumber: OTHER_ID } });
      expect(result).toMatchObject({ verdict: 'VALID', holderMatch: { checked: true, nameMatches: false, idNumberMatches: false } });
    });

    it('leaves blank fields unchecked', async () => {
      const result = await verifyDocument(legacy, trustList, { now: DURING, holder: { name: ' ', idNumber: AYIGULI.idNumber } });
      expect(result.holderMatch).toEqual({ checked: true, nameMatches: null, idNumberMatches: true, idNumberNeedsIssuer: false });
    });

    it('does not check a holder against a document whose seal failed', async () => {
      const { payload, segments } = partsOf(certificate.token);
      payload.serial = 'SB-430100-2026-999999';
      const result = await verifyDocument(`${segments.header}.${encodePayload(payload)}.${segments.signature}`, trustList, { holder: AYIGULI });
      expect(result.holderMatch).toEqual({ checked: false, nameMatches: null, idNumberMatches: null, idNumberNeedsIssuer: false });
    });

    it('never discloses the raw ID number: not in the token, the QR text, the payload, the result or the report', async () => {
      const birthDate = AYIGULI.idNumber.slice(6, 14);
      const result = await verifyDocument(certificate.qrText, trustList, { now: DURING, holder: AYIGULI });
      const mismatch = await verifyDocument(certificate.qrText, trustList, { now: DURING, holder: { idNumber: OTHER_ID } });
      const decoded = JSON.stringify(partsOf(certificate.token));
      for (const text of [
        certificate.token,
        certificate.qrText,
        JSON.stringify(certificate.payload),
        decoded,
        JSON.stringify(result),
        describeDocumentVerification(result),
        JSON.stringify(mismatch),
      ]) {
        expect(text).not.toContain(AYIGULI.idNumber);
        expect(text).not.toContain(birthDate);
        expect(text).not.toContain(OTHER_ID);
      }
      expect(certificate.payload.holder).toEqual({
        name: AYIGULI.name,
        idMasked: `6531**********${AYIGULI.idNumber.slice(14)}`,
        binding: expect.stringMatching(/^[\w-]{43}$/),
        salt: expect.stringMatching(/^[\w-]{22}$/),
      });
    });

    it('salts every document afresh, so two documents of one person do not share a binding', async () => {
      const again = await sealDocument(changsha, participation({ serial: 'SB-430100-2026-000125' }));
      expect(again.payload.holder.binding).not.toBe(certificate.payload.holder.binding);
    });
  });

  describe('when the seal key was rotated', () => {
    let rotationDir: string;
    let signer: SealSigner;
    let before: SealedDocument;
    let oldKid: string;
    let newKid: string;
    let listAfter: SealTrustListFile;

    beforeAll(async () => {
      rotationDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-rotation-'));
      oldKid = (await ensureSealKey(rotationDir, CHANGSHA, { now: KEYS_CREATED })).kid;
      signer = await loadSealSigner(rotationDir, CHANGSHA.id);
      before = await sealDocument(signer, participation());
      newKid = (await rotateSealKey(rotationDir, CHANGSHA.id, { now: ROTATED })).kid;
      listAfter = (await buildSealTrustList(rotationDir)).trustList;
    });
    afterAll(() => rmSync(rotationDir, { recursive: true, force: true }));

    it('still verifies a document sealed before the rotation', async () => {
      const result = await verifyDocument(before.token, await parseSealTrustList(listAfter), { now: DURING });
      expect(result).toMatchObject({ code: 'OK', document: { sealKid: oldKid } });
    });

    it('seals new documents with the new kid', async () => {
      const after = await sealDocument(signer, participation({ serial: 'SB-430100-2026-000200', issuedAt: '2026-04-02T00:00:00Z' }));
      expect(partsOf(after.token).header.kid).toBe(newKid);
      expect((await verifyDocument(after.token, await parseSealTrustList(listAfter), { now: new Date('2026-04-03T00:00:00Z') })).code).toBe('OK');
    });

    it('answers UNKNOWN_KEY once the old kid is removed from the trust list', async () => {
      const withdrawn = structuredClone(listAfter);
      withdrawn.authorities[0].jwks.keys = withdrawn.authorities[0].jwks.keys.filter((key) => key.kid !== oldKid);
      const result = await verifyDocument(before.token, await parseSealTrustList(withdrawn), { now: DURING });
      expect(result).toMatchObject({ verdict: 'UNTRUSTED_ISSUER', code: 'UNKNOWN_KEY', issuer: { id: CHANGSHA.id, trusted: false } });
    });

    it('answers SEAL_NOT_IN_FORCE for a document claiming to be sealed with a key after its retirement', async () => {
      // As a thief holding a rotated-out private key would: the Changsha signer of the main data folder, whose key the list marks retired.
      const list = structuredClone(trustListFile);
      Object.assign(list.authorities[0].jwks.keys[0], { retiredAt: ROTATED.toISOString() });
      const late = await sealDocument(changsha, participation({ issuedAt: '2026-05-01T00:00:00Z' }));
      const result = await verifyDocument(late.token, await parseSealTrustList(list), { now: new Date('2026-05-02T00:00:00Z') });
      expect(result).toMatchObject({ verdict: 'INVALID', code: 'SEAL_NOT_IN_FORCE', integrity: { signatureValid: true }, content: null });
      // The same key, for a document sealed before its retirement, is fine.
      expect((await verifyDocument(certificate.token, await parseSealTrustList(list), { now: DURING })).code).toBe('OK');
    });

    it('answers SEAL_NOT_IN_FORCE for a document back-dated before its key existed', async () => {
      const backDated = await sealDocument(changsha, participation({ issuedAt: '2025-06-01T00:00:00Z' }));
      expect((await verifyDocument(backDated.token, trustList, { now: DURING })).code).toBe('SEAL_NOT_IN_FORCE');
    });
  });

  describe('when called wrongly (programming errors)', () => {
    it('throws a TypeError for bad options or a missing trust list', async () => {
      await expect(verifyDocument(certificate.token, trustList, { now: new Date('nonsense') })).rejects.toThrow(TypeError);
      await expect(verifyDocument(certificate.token, trustList, { expectedType: 'PASSPORT' as never })).rejects.toThrow(TypeError);
      await expect(verifyDocument(certificate.token, undefined as never)).rejects.toThrow(TypeError);
    });
  });
});

describe('sealDocument', () => {
  it.each<[string, Partial<DocumentDraft>, string]>([
    ['an unknown type', { type: 'PASSPORT' as never }, 'type'],
    ['a lower-case serial', { serial: 'sb-1' }, 'serial'],
    ['an invalid ID number', { holder: { name: '张伟', idNumber: '430102198805129110' } }, 'holder.idNumber'],
    ["a credit code for a person's certificate", { holder: { name: '某公司', creditCode: '91350100M000100Y43' } }, 'holder.idNumber'],
    ['no validUntil', { validUntil: undefined as never }, 'validUntil'],
    ['validUntil before validFrom', { validUntil: '2026-02-01T00:00:00Z' }, 'validUntil'],
    ['a date without offset', { issuedAt: '2026-03-01 10:00' }, 'issuedAt'],
    ['the raw ID number in the content', { content: { note: `参保人身份证号 ${AYIGULI.idNumber}` } }, 'content'],
  ])('refuses %s (DOCUMENT_DRAFT_INVALID), naming the field', async (_case, change, field) => {
    await expect(sealDocument(changsha, participation(change))).rejects.toMatchObject({ code: 'DOCUMENT_DRAFT_INVALID', field });
  });

  it('does not repeat a refused ID number in its message', async () => {
    const error = await sealDocument(changsha, participation({ holder: { name: '张伟', idNumber: '430102198805129110' } })).catch((e: Error) => e);
    expect(String(error)).not.toContain('430102198805129110');
  });

  it('requires a credit code for a business licence', async () => {
    await expect(sealDocument(changsha, participation({ type: 'BUSINESS_LICENCE' }))).rejects.toMatchObject({ field: 'holder.creditCode' });
  });

  it('refuses content too large for a QR code (DOCUMENT_TOO_LARGE)', async () => {
    // Incompressible, as scanned attachments would be: 2400 random bytes.
    const attachment = randomBytes(2400).toString('base64');
    await expect(sealDocument(changsha, participation({ content: { attachment } }))).rejects.toMatchObject({ code: 'DOCUMENT_TOO_LARGE' });
  });
});
