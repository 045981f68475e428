import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckChar } from '../../common/identifiers.js';
import { bindingMatches, holderBinding } from '../../common/documents/holder-binding.js';
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

const withCheck = (first17: string) => `${first17}${idNumberCheckChar(first17)}`;
const HOLDER = { name: '阿依古丽·买买提', idNumber: withCheck('65312519900307112') };
const KASHGAR = { id: '653100-social-insurance', name: '喀什地区社会保险事业管理局' };

/**
 * What whoever holds a document can try without any key: every ID number
 * the masked form allows — the two hidden area digits and every birth date
 * of the year (narrowed to one year so that the test runs in a second; the
 * real space is about a hundred times larger) with the visible check
 * character — tested against the binding as format 1 makes it.
 */
function bruteForce(idMasked: string, salt: string, binding: string, year: string) {
  const [head, tail] = [idMasked.slice(0, 4), idMasked.slice(14)];
  const candidates: string[] = [];
  const found: string[] = [];
  for (let area = 0; area < 100; area++) {
    for (let day = new Date(`${year}-01-01T00:00:00Z`); day.getUTCFullYear() === Number(year); day = new Date(day.getTime() + 86_400_000)) {
      const first17 = `${head}${String(area).padStart(2, '0')}${day.toISOString().slice(0, 10).replaceAll('-', '')}${tail.slice(0, 3)}`;
      if (idNumberCheckChar(first17) !== tail[3]) continue;
      const candidate = `${first17}${tail[3]}`;
      candidates.push(candidate);
      if (bindingMatches(binding, salt, candidate)) found.push(candidate);
    }
  }
  return { candidates, found };
}

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
