import { sealDocument } from '../../common/documents/document.js';
import { buildSealTrustList, ensureSealKey, loadSealSigner } from '../../common/documents/seal-keys.js';
import { loadSealTrustList } from '../../common/documents/seal-trust-list.js';
import { verifyDocument } from '../../common/documents/verify.js';

/** A sealed participation certificate of a bench authority, and the trust list that knows it. */
export async function benchDocument(dataDir: string) {
  await ensureSealKey(dataDir, { id: '540102-bench-social-insurance', name: '拉萨市社会保险事业管理局（基准测试）' });
  const { file } = await buildSealTrustList(dataDir);
  const sealed = await sealDocument(await loadSealSigner(dataDir, '540102-bench-social-insurance'), {
    type: 'SOCIAL_INSURANCE_PARTICIPATION',
    serial: 'SB-540102-2026-BENCH001',
    holder: { name: '周志强', idNumber: '430102198503129119' },
    validUntil: new Date(Date.now() + 90 * 86_400_000),
    content: { title: '社会保险参保证明', cumulativeMonths: { PENSION: 180 } },
  });
  return { token: sealed.token, trustList: await loadSealTrustList(file) };
}

/** Offline verifications per second (signature, content, issuer, validity, holder match) on one core. */
export async function measureVerifications(dataDir: string, seconds: number): Promise<number> {
  const { token, trustList } = await benchDocument(dataDir);
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < until) {
    const result = await verifyDocument(token, trustList, { holder: { name: '周志强', idNumber: '430102198503129119' } });
    if (result.verdict !== 'VALID') throw new Error(`bench document did not verify: ${result.code}`);
    done++;
  }
  return done / ((performance.now() - started) / 1000);
}
