import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckChar } from '../../common/identifiers.js';
import {
  buildSealTrustList,
  ensureSealKey,
  loadSealSigner,
  parseSealTrustList,
  QR_MAX_BYTES,
  qrVersionOf,
  renderQr,
  sealDocument,
  verifyDocument,
  type SealedDocument,
  type SealTrustList,
} from '../../common/documents/index.js';

const idNumber = `43010219880512911${idNumberCheckChar('43010219880512911')}`;
const INSURANCE_TYPES = ['PENSION', 'MEDICAL', 'UNEMPLOYMENT', 'WORK_INJURY', 'MATERNITY'];

/**
 * A typical participation certificate, on the heavy side: all five insurance
 * types, each with periods in two places (Lhasa, then Changsha) at named
 * employers — 10 periods of Chinese text.
 */
const typicalCertificate = {
  type: 'SOCIAL_INSURANCE_PARTICIPATION' as const,
  serial: 'SB-430100-2026-000123',
  holder: { name: '阿依古丽·买买提', idNumber },
  validUntil: new Date(Date.now() + 90 * 86_400_000),
  content: {
    insuranceTypes: INSURANCE_TYPES,
    status: 'ACTIVE',
    periods: INSURANCE_TYPES.flatMap((insuranceType) => [
      { insuranceType, from: '2012-07', to: '2019-12', place: '540100', placeName: '拉萨市', employer: '西藏高原建设工程有限公司', months: 90 },
      { insuranceType, from: '2020-01', to: '2026-02', place: '430100', placeName: '长沙市', employer: '长沙湘江科技有限公司', months: 74 },
    ]),
    totalMonths: 164,
    currentEmployer: '长沙湘江科技有限公司',
  },
};

let dataDir: string;
let trustList: SealTrustList;
let sealed: SealedDocument;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-qr-'));
  await ensureSealKey(dataDir, { id: '430100-social-insurance', name: '长沙市社会保险服务中心' });
  trustList = await parseSealTrustList((await buildSealTrustList(dataDir)).trustList);
  sealed = await sealDocument(await loadSealSigner(dataDir, '430100-social-insurance'), typicalCertificate);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('document QR codes', () => {
  describe('QR text', () => {
    it('is KSTB1: followed by the token', () => {
      expect(sealed.qrText).toBe(`KSTB1:${sealed.token}`);
    });

    it('of a typical participation certificate fits a version-40 QR code at level M, with room to spare', () => {
      const bytes = Buffer.byteLength(sealed.qrText);
      const version = qrVersionOf(sealed.qrText);
      expect(bytes).toBeLessThanOrEqual(QR_MAX_BYTES);
      expect(version).not.toBeNull();
      expect(version!).toBeLessThanOrEqual(40);
      // Measured: about 1190 bytes, version 29. Room for longer employer names and more places.
      expect(bytes).toBeLessThan(QR_MAX_BYTES * 0.6);
      // The qrcode package agrees that level M at version 40 holds it.
      expect(QRCode.create(sealed.qrText, { errorCorrectionLevel: 'M', version: 40 }).version).toBe(40);
    });

    it('verifies as the token does (round trip)', async () => {
      const fromQr = await verifyDocument(sealed.qrText, trustList);
      const fromToken = await verifyDocument(sealed.token, trustList);
      expect(fromQr).toEqual(fromToken);
      expect(fromQr.code).toBe('OK');
    });

    it('verifies when pasted wrapped over lines, indented, with a lower-case prefix or zero-width spaces', async () => {
      const wrapped = sealed.qrText.match(/.{1,76}/g)!.join('\r\n');
      for (const input of [
        wrapped,
        `  ${sealed.qrText}\n`,
        `kstb1:${sealed.token}`,
        sealed.qrText.replace(/(.{100})/g, '$1\u200B'),
        `\u3000${wrapped}\u3000`,
      ]) {
        expect((await verifyDocument(input, trustList)).code).toBe('OK');
      }
    });
  });

  describe('renderQr', () => {
    it('renders a PNG data URL', async () => {
      const url = await renderQr(sealed.qrText, { format: 'png-data-url' });
      expect(url).toMatch(/^data:image\/png;base64,/);
      const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    });

    it('renders an SVG document', async () => {
      const svg = await renderQr(sealed.qrText, { format: 'svg' });
      expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    });

    it.each([[{ format: 'gif' as never }], [{ format: 'svg' as const, margin: 1 }], [{ format: 'png-data-url' as const, scale: 0 }]])(
      'refuses bad options %j with a TypeError',
      async (options) => {
        await expect(renderQr(sealed.qrText, options)).rejects.toThrow(TypeError);
      },
    );

    it('refuses a text larger than a QR code holds', async () => {
      await expect(renderQr(`KSTB1:${'A'.repeat(QR_MAX_BYTES)}`, { format: 'svg' })).rejects.toThrow(/2331 bytes/);
    });
  });
});
