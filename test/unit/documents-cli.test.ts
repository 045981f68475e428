import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFormat1 } from '../support/format-1-documents.js';
import { idNumberCheckChar } from '../../common/identifiers.js';
import {
  buildSealTrustList,
  ensureSealKey,
  LIVE_STATUS_NOT_CHECKED,
  loadSealSigner,
  parseCertificateVerifyArguments,
  parseSealKeysArguments,
  sealDocument,
  type SealedDocument,
  type SealSigner,
} from '../../common/documents/index.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Runs a script as `npm run` would, returning its exit status and output. */
async function script(name: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
      cwd: REPOSITORY,
      env: { ...process.env, DATA_DIR: '' },
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const CIREN = { name: '次仁卓玛', idNumber: `54010219850615204${idNumberCheckChar('54010219850615204')}` };
const LHASA = { id: '540100-provident-fund', name: '拉萨市住房公积金管理中心' };

let signer: SealSigner;
let dataDir: string;
let current: SealedDocument;
let expired: SealedDocument;
let documentFile: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-documents-cli-'));
  await ensureSealKey(dataDir, LHASA, { now: new Date('2020-01-01T00:00:00Z') });
  await buildSealTrustList(dataDir);
  signer = await loadSealSigner(dataDir, LHASA.id);
  const draft = {
    type: 'PROVIDENT_FUND_DEPOSIT' as const,
    serial: 'GJJ-540100-2026-000007',
    holder: CIREN,
    validUntil: new Date(Date.now() + 30 * 86_400_000),
    content: { accountStatus: 'NORMAL', monthlyDeposit: '1860.00', depositedSince: '2011-05' },
  };
  current = await sealDocument(signer, draft);
  expired = await sealDocument(signer, {
    ...draft,
    serial: 'GJJ-540100-2021-000001',
    issuedAt: '2021-01-01T00:00:00Z',
    validUntil: '2021-04-01T00:00:00Z',
  });
  documentFile = join(dataDir, 'document.txt');
  writeFileSync(documentFile, `${current.qrText}\n`);
}, 30_000);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm run certificate:verify', () => {
  it('exits 0 for a valid document file, reports each part, and says live status was not checked', async () => {
    const { status, stdout } = await script('certificate-verify', [documentFile, '--data-dir', dataDir]);
    expect(status).toBe(0);
    expect(stdout).toContain('VALID (OK)');
    expect(stdout).toContain('拉萨市住房公积金管理中心 [540100-provident-fund], 西藏自治区 (540000)');
    expect(stdout).toContain('monthlyDeposit: 1860.00');
    expect(stdout).toContain(LIVE_STATUS_NOT_CHECKED);
  });

  it('exits 0 for a format-1 token on the command line whose holder matches, printing only the masked ID number', async () => {
    const trustList = join(dataDir, 'seals', 'trust-list.json');
    const legacy = await asFormat1(signer, current, CIREN.idNumber, 'GJJ-540100-2026-000008');
    const { status, stdout } = await script('certificate-verify', [
      legacy,
      '--trust-list',
      trustList,
      '--holder-name',
      '次仁卓玛',
      '--holder-id',
      CIREN.idNumber,
    ]);
    expect(status).toBe(0);
    expect(stdout).toContain('Holder match: name matches; ID number matches');
    expect(stdout).toContain('Format:       1 (old)');
    expect(stdout).toContain(`5401**********${CIREN.idNumber.slice(14)}`);
    expect(stdout).not.toContain(CIREN.idNumber);
  });

  it('exits 3 when the ID number of a format-2 document cannot be checked offline, and says so', async () => {
    const trustList = join(dataDir, 'seals', 'trust-list.json');
    const { status, stdout } = await script('certificate-verify', [
      current.token,
      '--trust-list',
      trustList,
      '--holder-name',
      '次仁卓玛',
      '--holder-id',
      CIREN.idNumber,
    ]);
    expect(status).toBe(3);
    expect(stdout).toContain('Holder match: name matches; ID number NOT checked offline');
    expect(stdout).not.toContain(CIREN.idNumber);
  });

  it("exits 1 when the document is genuine but not the given holder's", async () => {
    const other = `43010219880512911${idNumberCheckChar('43010219880512911')}`;
    const legacyFile = join(dataDir, 'legacy.txt');
    writeFileSync(legacyFile, await asFormat1(signer, current, CIREN.idNumber, 'GJJ-540100-2026-000009'));
    const byId = await script('certificate-verify', [legacyFile, '--data-dir', dataDir, '--holder-id', other]);
    expect(byId.status).toBe(1);
    expect(byId.stdout).toContain('ID number DOES NOT match');
    expect(byId.stdout).not.toContain(other);
    const byName = await script('certificate-verify', [documentFile, '--data-dir', dataDir, '--holder-name', '次仁', '--holder-id', other]);
    expect(byName.status).toBe(1);
    expect(byName.stdout).toContain('name DOES NOT match');
  });

  it('exits 1 for an altered document, still saying live status was not checked', async () => {
    const [header, payload, signature] = current.token.split('.');
    const altered = `${header}.${payload.slice(0, 20)}${payload[20] === 'A' ? 'B' : 'A'}${payload.slice(21)}.${signature}`;
    const { status, stdout } = await script('certificate-verify', [altered, '--data-dir', dataDir]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/INVALID \((CONTENT_ALTERED)\)/);
    expect(stdout).toContain(LIVE_STATUS_NOT_CHECKED);
  });

  it('exits 1 for an expired document, in JSON on request', async () => {
    const { status, stdout } = await script('certificate-verify', [expired.token, '--data-dir', dataDir, '--json']);
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: 'EXPIRED', code: 'EXPIRED', liveStatus: { checked: false, note: LIVE_STATUS_NOT_CHECKED } });
  });

  it.each([
    ['no document', []],
    ['a file that does not exist', ['no-such-document.txt']],
    ['an unknown option', ['--holder', 'x', 'document.txt']],
    ['an unknown type', ['KSTB1:x', '--type', 'PASSPORT']],
  ])('exits 2 for %s', async (_case, args) => {
    const { status, stderr } = await script('certificate-verify', [...args, '--data-dir', dataDir]);
    expect(status).toBe(2);
    expect(stderr).toContain('usage: npm run certificate:verify');
  });

  it('exits 2 when the trust list cannot be read, naming it', async () => {
    const broken = join(dataDir, 'broken-trust-list.json');
    writeFileSync(broken, JSON.stringify({ version: 1, generatedAt: '2026-01-01T00:00:00Z', authorities: [{ id: 'x' }] }));
    const { status, stderr } = await script('certificate-verify', [documentFile, '--trust-list', broken]);
    expect(status).toBe(2);
    expect(stderr).toContain('authorities[0]');
  });
});

describe('npm run seal-keys', () => {
  it('rotate adds a key and rebuilds the trust list, after which the earlier document still verifies', async () => {
    const rotated = await script('seal-keys', ['rotate', LHASA.id, '--data-dir', dataDir]);
    expect(rotated.status).toBe(0);
    const list = JSON.parse(readFileSync(join(dataDir, 'seals', 'trust-list.json'), 'utf8'));
    expect(list.authorities[0].jwks.keys).toHaveLength(2);
    expect((await script('certificate-verify', [documentFile, '--data-dir', dataDir])).status).toBe(0);
  });

  it('exits 1 for an authority without a key, 2 for a bad command', async () => {
    expect((await script('seal-keys', ['rotate', '653100-social-insurance', '--data-dir', dataDir])).status).toBe(1);
    expect((await script('seal-keys', ['rotate-all', '--data-dir', dataDir])).status).toBe(2);
  });
});

describe('command lines', () => {
  it('default the trust list to <data dir>/seals/trust-list.json, the data dir to DATA_DIR or data', () => {
    expect(parseCertificateVerifyArguments(['doc.txt'], {})).toMatchObject({
      document: 'doc.txt',
      trustListFile: join('data', 'seals', 'trust-list.json'),
    });
    expect(parseCertificateVerifyArguments(['doc.txt'], { DATA_DIR: '/srv/k' })).toMatchObject({ trustListFile: '/srv/k/seals/trust-list.json' });
    expect(parseSealKeysArguments(['trust-list'], {})).toEqual({ command: 'trust-list', dataDir: 'data' });
  });

  it.each([[['a', 'b']], [['doc.txt', '--holder-name', '']], [['doc.txt', '--type', 'PASSPORT']]])('refuse %j (CLI_USAGE)', (args) => {
    expect(() => parseCertificateVerifyArguments(args, {})).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });

  it('refuse an authority id that is a path', () => {
    expect(() => parseSealKeysArguments(['rotate', '../../etc'], {})).toThrow(
      expect.objectContaining({ code: 'CLI_USAGE', argument: '<authorityId>' }),
    );
  });
});
