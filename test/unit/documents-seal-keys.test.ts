import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildSealTrustList,
  ensureSealKey,
  loadSealSigner,
  loadSealTrustList,
  normalizeSealAuthority,
  parseSealTrustList,
  rotateSealKey,
  sealKeyFiles,
  sealTrustListPath,
  type SealTrustListFile,
} from '../../common/documents/index.js';

const CHANGSHA = { id: '430100-social-insurance', name: '长沙市社会保险服务中心' };
const LHASA = { id: '540100-provident-fund', name: '拉萨市住房公积金管理中心' };
const JANUARY = new Date('2026-01-01T00:00:00.000Z');
const APRIL = new Date('2026-04-01T00:00:00.000Z');

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-seal-keys-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('seal authorities', () => {
  it('derive their province from the region code of their id', () => {
    expect(normalizeSealAuthority(LHASA)).toEqual({ ...LHASA, province: '540000', provinceName: '西藏自治区' });
  });

  it.each([
    ['id', { id: '../430100-social-insurance', name: '长沙' }],
    ['id', { id: '430100_Social', name: '长沙' }],
    ['id', { id: '990100-social-insurance', name: '无' }],
    ['name', { id: '430100-social-insurance', name: '  ' }],
    ['province', { id: '430100-social-insurance', name: '长沙', province: '540000' }],
    ['province', { id: '430100-social-insurance', name: '长沙', province: '430100' }],
  ])('refuse a bad %s (SEAL_AUTHORITY_INVALID)', (field, input) => {
    expect(() => normalizeSealAuthority(input)).toThrow(expect.objectContaining({ code: 'SEAL_AUTHORITY_INVALID', field }));
  });
});

describe('ensureSealKey', () => {
  it('creates an Ed25519 key with a private JWK of mode 0600 and a public JWKS naming its kid', async () => {
    const info = await ensureSealKey(dataDir, CHANGSHA, { now: JANUARY });
    const files = sealKeyFiles(dataDir, CHANGSHA.id);
    expect(info).toMatchObject({ created: true, authority: { id: CHANGSHA.id, province: '430000' }, files });
    expect(info.kid).toMatch(/^430100-social-insurance-20260101-[0-9a-f]{6}$/);
    expect(statSync(files.privateKey).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse(readFileSync(files.jwks, 'utf8'));
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: info.kid, alg: 'EdDSA', use: 'sig', activatedAt: JANUARY.toISOString() }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('is idempotent: a second call keeps the key', async () => {
    const first = await ensureSealKey(dataDir, CHANGSHA);
    const second = await ensureSealKey(dataDir, CHANGSHA);
    expect(second).toMatchObject({ created: false, kid: first.kid });
  });

  it('creates one key when replicas start together', async () => {
    const results = await Promise.all([ensureSealKey(dataDir, CHANGSHA), ensureSealKey(dataDir, CHANGSHA), ensureSealKey(dataDir, CHANGSHA)]);
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('records a new name of the authority (机构改革) and keeps its key', async () => {
    const first = await ensureSealKey(dataDir, CHANGSHA);
    const renamed = await ensureSealKey(dataDir, { ...CHANGSHA, name: '长沙市医疗保障和社会保险服务中心' });
    expect(renamed.kid).toBe(first.kid);
    expect(JSON.parse(readFileSync(sealKeyFiles(dataDir, CHANGSHA.id).authority, 'utf8')).name).toBe('长沙市医疗保障和社会保险服务中心');
  });
});

describe('rotateSealKey', () => {
  it('makes a new key current and keeps the old public key, marked retired', async () => {
    const { kid: oldKid } = await ensureSealKey(dataDir, CHANGSHA, { now: JANUARY });
    const rotation = await rotateSealKey(dataDir, CHANGSHA.id, { now: APRIL });
    expect(rotation).toMatchObject({ authorityId: CHANGSHA.id, retiredKids: [oldKid] });
    expect(rotation.kid).not.toBe(oldKid);
    const { keys } = JSON.parse(readFileSync(sealKeyFiles(dataDir, CHANGSHA.id).jwks, 'utf8'));
    expect(keys).toEqual([
      expect.objectContaining({ kid: oldKid, activatedAt: JANUARY.toISOString(), retiredAt: APRIL.toISOString() }),
      expect.objectContaining({ kid: rotation.kid, activatedAt: APRIL.toISOString() }),
    ]);
    expect(keys[1]).not.toHaveProperty('retiredAt');
  });

  it('refuses an authority without a key (SEAL_KEY_NOT_FOUND)', async () => {
    await expect(rotateSealKey(dataDir, LHASA.id)).rejects.toMatchObject({ code: 'SEAL_KEY_NOT_FOUND' });
  });

  it('is picked up by a running signer before its next seal, without restart', async () => {
    await ensureSealKey(dataDir, CHANGSHA);
    const signer = await loadSealSigner(dataDir, CHANGSHA.id);
    const before = (await signer.currentKey()).kid;
    const { kid } = await rotateSealKey(dataDir, CHANGSHA.id);
    expect((await signer.currentKey()).kid).toBe(kid);
    expect(kid).not.toBe(before);
  });
});

describe('loadSealSigner', () => {
  it('refuses an authority without a key (SEAL_KEY_NOT_FOUND)', async () => {
    await expect(loadSealSigner(dataDir, LHASA.id)).rejects.toMatchObject({ code: 'SEAL_KEY_NOT_FOUND' });
  });

  it('refuses an id that would leave the seals folder', async () => {
    await expect(loadSealSigner(dataDir, '../keys')).rejects.toMatchObject({ code: 'SEAL_AUTHORITY_INVALID' });
  });
});

describe('buildSealTrustList', () => {
  it('gathers every authority of both provinces, with its province name and public keys, into <dataDir>/seals/trust-list.json', async () => {
    const changsha = await ensureSealKey(dataDir, CHANGSHA);
    const lhasa = await ensureSealKey(dataDir, LHASA);
    const rotated = await rotateSealKey(dataDir, CHANGSHA.id);
    const { file, trustList } = await buildSealTrustList(dataDir, { now: APRIL });
    expect(file).toBe(sealTrustListPath(dataDir));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(trustList);
    expect(trustList).toMatchObject({
      version: 1,
      generatedAt: APRIL.toISOString(),
      authorities: [
        {
          id: CHANGSHA.id,
          name: CHANGSHA.name,
          province: '430000',
          provinceName: '湖南省',
          jwks: { keys: [{ kid: changsha.kid }, { kid: rotated.kid }] },
        },
        { id: LHASA.id, name: LHASA.name, province: '540000', provinceName: '西藏自治区', jwks: { keys: [{ kid: lhasa.kid }] } },
      ],
    });
    expect(readFileSync(file, 'utf8')).not.toMatch(/"d"\s*:/);
  });

  it('publishes an empty list before any authority has a key: it trusts nobody', async () => {
    const { trustList } = await buildSealTrustList(dataDir);
    expect(trustList.authorities).toEqual([]);
    expect((await loadSealTrustList(sealTrustListPath(dataDir))).keys.size).toBe(0);
  });

  it('keeps every authority when several create their key and rebuild at the same time', async () => {
    const authorities = [
      CHANGSHA,
      LHASA,
      { id: '653100-social-insurance', name: '喀什地区社会保险事业管理局' },
      { id: '540500-provident-fund', name: '山南市住房公积金管理中心' },
    ];
    await Promise.all(
      authorities.map(async (authority) => {
        await ensureSealKey(dataDir, authority);
        await buildSealTrustList(dataDir);
      }),
    );
    const list = await loadSealTrustList(sealTrustListPath(dataDir));
    expect(list.authorities.map((a) => a.id)).toEqual(authorities.map((a) => a.id).sort());
  });
});

describe('loadSealTrustList', () => {
  let valid: SealTrustListFile;
  beforeEach(async () => {
    await ensureSealKey(dataDir, CHANGSHA);
    await ensureSealKey(dataDir, LHASA);
    valid = (await buildSealTrustList(dataDir)).trustList;
  });

  it('loads a built list with every key imported and indexed by kid', async () => {
    const list = await loadSealTrustList(sealTrustListPath(dataDir));
    expect(list.authorities.map((a) => a.id)).toEqual([CHANGSHA.id, LHASA.id]);
    expect([...list.keys.values()].map((k) => [k.authority.id, k.alg])).toEqual([
      [CHANGSHA.id, 'EdDSA'],
      [LHASA.id, 'EdDSA'],
    ]);
  });

  const edits: [string, string, (list: SealTrustListFile) => unknown][] = [
    ['private key material', 'authorities[0].jwks.keys[0]', (l) => Object.assign(l.authorities[0].jwks.keys[0], { d: 'AAAA' })],
    ['an unknown province code', 'authorities[1].province', (l) => Object.assign(l.authorities[1], { province: '999999' })],
    ["a province name that is not the province's", 'authorities[1].provinceName', (l) => Object.assign(l.authorities[1], { provinceName: '四川省' })],
    ['a duplicate authority id', 'authorities[1].id', (l) => Object.assign(l.authorities[1], { ...l.authorities[0] })],
    [
      'a kid used by two authorities',
      'authorities[1].jwks.keys[0].kid',
      (l) => Object.assign(l.authorities[1].jwks.keys[0], { kid: l.authorities[0].jwks.keys[0].kid }),
    ],
    ['a symmetric key', 'authorities[0].jwks.keys[0]', (l) => (l.authorities[0].jwks.keys[0] = { kty: 'oct', k: 'c2VjcmV0', kid: 'x' } as never)],
    ['an HMAC algorithm', 'authorities[0].jwks.keys[0].alg', (l) => Object.assign(l.authorities[0].jwks.keys[0], { alg: 'HS256' })],
    ['a key without kid', 'authorities[0].jwks.keys[0].kid', (l) => delete (l.authorities[0].jwks.keys[0] as { kid?: string }).kid],
    ['a broken public key', 'authorities[0].jwks.keys[0]', (l) => Object.assign(l.authorities[0].jwks.keys[0], { x: 'AAAA' })],
    ['an unknown member', 'authorities[0].jwsk', (l) => Object.assign(l.authorities[0], { jwsk: {} })],
    ['another format version', 'version', (l) => Object.assign(l, { version: 2 })],
    ['authorities that are not a list', 'authorities', (l) => Object.assign(l, { authorities: {} })],
  ];

  it.each(edits)('refuses %s, naming the field (SEAL_TRUST_LIST_INVALID)', async (_case, field, edit) => {
    const list = structuredClone(valid);
    edit(list);
    await expect(parseSealTrustList(list, 'edited.json')).rejects.toMatchObject({ code: 'SEAL_TRUST_LIST_INVALID', field });
  });

  it('refuses a file that is not JSON, saying so', async () => {
    const file = join(dataDir, 'broken.json');
    writeFileSync(file, '{"version": 1,');
    await expect(loadSealTrustList(file)).rejects.toMatchObject({ code: 'SEAL_TRUST_LIST_INVALID', field: '(file)' });
    await expect(loadSealTrustList(join(dataDir, 'missing.json'))).rejects.toThrow(/cannot be read: ENOENT/);
  });
});
