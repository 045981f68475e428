import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckChar } from '../../common/identifiers.js';
import { holderBinding } from '../../common/documents/holder-binding.js';
import {
  buildSealTrustList,
  describeDocumentVerification,
  ensureSealKey,
  loadSealSigner,
  loadSealTrustList,
  sealDocument,
  sealKeyFiles,
  type SealSigner,
  type SealTrustList,
  verifyDocument,
} from '../../common/documents/index.js';
import { asFormat1, payloadOf } from '../support/format-1-documents.js';
import { bruteForce } from '../support/masked-id-search.js';

const withCheck = (first17: string) => `${first17}${idNumberCheckChar(first17)}`;
const HOLDER = { name: '阿依古丽·买买提', idNumber: withCheck('65312519900307112') };
const KASHGAR = { id: '653100-social-insurance', name: '喀什地区社会保险事业管理局' };

let dataDir: string;
let signer: SealSigner;
let trustList: SealTrustList;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'holder-binding-'));
  await ensureSealKey(dataDir, KASHGAR);
  await buildSealTrustList(dataDir);
  signer = await loadSealSigner(dataDir, KASHGAR.id);
  trustList = await loadSealTrustList(join(dataDir, 'seals', 'trust-list.json'));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const draft = () => ({
  type: 'SOCIAL_INSURANCE_PARTICIPATION' as const,
  serial: 'SB-653100-2026-00000001',
  holder: HOLDER,
  validUntil: null,
  content: { insuranceTypes: ['PENSION'], totalMonths: 140 },
});

describe('the holder binding of format 2', () => {
  it('is keyed: a brute force over the masked digits finds nothing, where on format 1 it finds the number', async () => {
    const sealed = await sealDocument(signer, draft());
    const { holder, v } = payloadOf(sealed.token);
    expect(v).toBe(2);
    expect(holder.idMasked).toBe('6531**********1128');
    const keyed = bruteForce(holder.idMasked, holder.salt, holder.binding, '1990');
    // The search covers the holder's number, and nothing in it matches the binding.
    expect(keyed.candidates).toContain(HOLDER.idNumber);
    expect(keyed.candidates.length).toBeGreaterThan(3000);
    expect(keyed.found).toEqual([]);

    // The same search on a format-1 document of the same holder recovers the number.
    const legacy = payloadOf(await asFormat1(signer, sealed, HOLDER.idNumber, 'SB-653100-2026-00000002'));
    expect(bruteForce(legacy.holder.idMasked, legacy.holder.salt, legacy.holder.binding, '1990').found).toEqual([HOLDER.idNumber]);
  });

  it('differs from the unkeyed binding and from one under another key', async () => {
    const sealed = await sealDocument(signer, draft());
    const { holder } = payloadOf(sealed.token);
    expect(holder.binding).not.toBe(holderBinding(holder.salt, HOLDER.idNumber));
    expect(await signer.holderMatches(holder.binding, holder.salt, HOLDER.idNumber)).toBe(true);
    expect(await signer.holderMatches(holder.binding, holder.salt, withCheck('65312519900307113'))).toBe(false);
    const otherDir = mkdtempSync(join(tmpdir(), 'holder-binding-other-'));
    try {
      await ensureSealKey(otherDir, KASHGAR);
      const other = await loadSealSigner(otherDir, KASHGAR.id);
      expect(await other.holderMatches(holder.binding, holder.salt, HOLDER.idNumber)).toBe(false);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('keeps the key beside the seal key, readable by the owner only, and never in the trust list', () => {
    const files = sealKeyFiles(dataDir, KASHGAR.id);
    expect(statSync(files.holderBindingKey).mode & 0o777).toBe(0o600);
    const key = readFileSync(files.holderBindingKey, 'utf8').trim();
    expect(JSON.stringify(trustList)).not.toContain(key);
    expect(readFileSync(join(dataDir, 'seals', 'trust-list.json'), 'utf8')).not.toContain(key);
  });
});

describe('offline verification', () => {
  it('says plainly that it cannot check the ID number of a format-2 document', async () => {
    const sealed = await sealDocument(signer, draft());
    const result = await verifyDocument(sealed.token, trustList, { holder: { name: HOLDER.name, idNumber: HOLDER.idNumber } });
    expect(result).toMatchObject({ verdict: 'VALID', code: 'OK', document: { format: 2, exposesIdNumber: false } });
    expect(result.holderMatch).toEqual({ checked: true, nameMatches: true, idNumberMatches: null, idNumberNeedsIssuer: true });
    const report = describeDocumentVerification(result);
    expect(report).toContain('ID number NOT checked offline');
    expect(report).toContain('Format:       2');
    expect(report).toContain('Verdict:      VALID (OK) — live status NOT checked (offline)');
  });

  it('still verifies a format-1 document, checks its ID number and reports that its binding exposes it', async () => {
    const sealed = await sealDocument(signer, draft());
    const legacy = await asFormat1(signer, sealed, HOLDER.idNumber, 'SB-653100-2026-00000003');
    const result = await verifyDocument(legacy, trustList, { holder: { idNumber: HOLDER.idNumber } });
    expect(result).toMatchObject({ verdict: 'VALID', document: { format: 1, exposesIdNumber: true } });
    expect(result.holderMatch).toMatchObject({ idNumberMatches: true, idNumberNeedsIssuer: false });
    expect(describeDocumentVerification(result)).toContain('Format:       1 (old)');
  });
});
