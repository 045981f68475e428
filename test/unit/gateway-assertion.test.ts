import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssertionError, createAssertionSigner, createAssertionVerifier, type GatewayAssertion } from '../../subgraphs/common/gateway-assertion.js';
import { ensureGatewayKeys, loadGatewaySigningKey, rotateGatewayKey } from '../../subgraphs/common/gateway-keys.js';

const folders: string[] = [];
afterAll(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
const dataDir = () => {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-keys-'));
  folders.push(folder);
  return folder;
};

const assertion: GatewayAssertion = {
  caller: { subject: 'officer-7', organisation: '拉萨市公安局', province: '540000', issuer: 'https://idp', tokenId: 'jti-1' },
  scopes: ['household:read'],
  matter: 'TB-HJ-001',
  caseNumber: '藏公户〔2026〕7号',
  requestId: 'request-0000001',
};

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ACCEPTED';
  } catch (error) {
    if (error instanceof AssertionError) return error.reason;
    throw error;
  }
}

describe('gateway keys', () => {
  it('are generated once on first start, the private key readable by its owner only', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const before = statSync(files.privateKey).mtimeMs;
    expect(statSync(files.privateKey).mode & 0o077).toBe(0);
    await ensureGatewayKeys(dir);
    expect(statSync(files.privateKey).mtimeMs).toBe(before);
  });
});

describe('gateway assertions', () => {
  it('round-trip the caller for the subgraph they were minted for', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dir));
    const verify = createAssertionVerifier({ jwksFile: files.jwks, audience: 'household' });
    expect(await verify(await sign('household', assertion))).toMatchObject(assertion);
    expect(await reasonOf(verify(await sign('credit', assertion)))).toBe('ASSERTION_INVALID');
    expect(await reasonOf(verify(undefined))).toBe('ASSERTION_MISSING');
    expect(await reasonOf(verify('x'.repeat(10_000)))).toBe('ASSERTION_INVALID');
  });

  it('survive a key rotation: old and new keys both verify, the new one without a subgraph restart', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const verify = createAssertionVerifier({ jwksFile: files.jwks, audience: 'credit' });
    const oldSigner = createAssertionSigner(await loadGatewaySigningKey(dir));
    const oldToken = await oldSigner('credit', assertion);
    const kid = await rotateGatewayKey(dir);
    const newKey = await loadGatewaySigningKey(dir);
    expect(newKey.kid).toBe(kid);
    expect(await reasonOf(verify(await createAssertionSigner(newKey)('credit', assertion)))).toBe('ACCEPTED');
    expect(await reasonOf(verify(oldToken))).toBe('ACCEPTED');
  });
});
