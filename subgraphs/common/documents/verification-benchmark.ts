/**
 * Verifications per second, for `npm run bench` (not a unit test: the
 * machine is shared and noisy). Seals one typical participation certificate
 * in a scratch data folder and verifies it, holder check included, with a
 * number of verifications in flight at once, as a gateway serving several
 * notary offices would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idNumberCheckChar } from '../identifiers.js';
import { sealDocument } from './document.js';
import { buildSealTrustList, ensureSealKey, loadSealSigner } from './seal-keys.js';
import { parseSealTrustList } from './seal-trust-list.js';
import { verifyDocument } from './verify-document.js';

/** Options of {@link measureDocumentVerifications}. */
export interface DocumentVerificationBenchOptions {
  /** Measuring time, ms; default 3000. */
  durationMs?: number;
  /** Verifications in flight at once; default 16. */
  concurrency?: number;
}

/** Result of {@link measureDocumentVerifications}. */
export interface DocumentVerificationBenchResult {
  verificationsPerSecond: number;
  verifications: number;
  tokenChars: number;
}

/** Measures full verifications (parse, digest, Ed25519 signature, payload checks, holder binding) per second. */
export async function measureDocumentVerifications(options: DocumentVerificationBenchOptions = {}): Promise<DocumentVerificationBenchResult> {
  const durationMs = options.durationMs ?? 3000;
  const concurrency = options.concurrency ?? 16;
  const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-bench-'));
  try {
    await ensureSealKey(dataDir, { id: '430100-social-insurance', name: '长沙市社会保险服务中心' });
    const signer = await loadSealSigner(dataDir, '430100-social-insurance');
    const trustList = await parseSealTrustList((await buildSealTrustList(dataDir)).trustList);
    const idNumber = `43010219880512911${idNumberCheckChar('43010219880512911')}`;
    const { token } = await sealDocument(signer, {
      type: 'SOCIAL_INSURANCE_PARTICIPATION',
      serial: 'SB-430100-2026-000123',
      holder: { name: '张伟', idNumber },
      validUntil: new Date(Date.now() + 90 * 86_400_000),
      content: {
        insuranceTypes: ['PENSION', 'MEDICAL', 'UNEMPLOYMENT', 'WORK_INJURY', 'MATERNITY'],
        status: 'ACTIVE',
        periods: [
          { insuranceType: 'PENSION', from: '2012-07', to: '2019-12', place: '540100', placeName: '拉萨市', months: 90 },
          { insuranceType: 'PENSION', from: '2020-01', to: '2026-02', place: '430100', placeName: '长沙市', months: 74 },
        ],
        totalMonths: 164,
      },
    });
    const holder = { name: '张伟', idNumber };
    let verifications = 0;
    const deadline = performance.now() + durationMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const result = await verifyDocument(token, trustList, { holder });
          if (result.code !== 'OK') throw new Error(`benchmark document did not verify: ${result.code}`);
          verifications += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { verificationsPerSecond: Math.round(verifications / seconds), verifications, tokenChars: token.length };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
