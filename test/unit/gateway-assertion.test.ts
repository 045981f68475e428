import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAssertionCache } from '../../gateway/execution/assertions.js';
import type { GatewayContext } from '../../gateway/pipeline/context.js';
import type { Matter } from '../../gateway/authorization/matter-catalog.js';
import {
  AssertionError,
  ASSERTION_LIFETIME_SECONDS,
  createAssertionSigner,
  createAssertionVerifier,
  type GatewayAssertion,
} from '../../common/gateway-assertion.js';
import { ensureGatewayKeys, loadGatewaySigningKey, rotateGatewayKey } from '../../common/gateway-keys.js';

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});
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

/** A key set with nothing in common with the gateway's, and a signer for it. */
async function unrelatedKeySet(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return {
    jwks: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }] }),
    sign: createAssertionSigner({ key: privateKey, kid }),
  };
}

describe('the assertion verifier’s cache', () => {
  const T0 = new Date('2026-03-01T08:00:00.000Z').getTime();

  beforeEach(() => {
    // Only the clock is faked: jose and node:crypto still do their work for real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a verified assertion again without re-verifying it, until it expires', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dir));
    const verify = createAssertionVerifier({ jwksFile: files.jwks, audience: 'household' });
    const first = sign('household', { ...assertion, requestId: 'request-first' });
    expect(await reasonOf(verify(first))).toBe('ACCEPTED');

    // The gateway's key set is replaced by an unrelated one.
    const other = await unrelatedKeySet('unrelated-1');
    writeFileSync(files.jwks, other.jwks);
    // Nothing has told the verifier yet: it re-reads the file only for a key id it does not know,
    // so a new assertion under the old (still loaded) key is verified and accepted.
    expect(await reasonOf(verify(sign('household', { ...assertion, requestId: 'request-second' })))).toBe('ACCEPTED');
    // An assertion under the new key id makes it re-read the file: the old key is gone from then on.
    expect(await reasonOf(verify(other.sign('household', assertion)))).toBe('ACCEPTED');
    expect(await reasonOf(verify(sign('household', { ...assertion, requestId: 'request-third' })))).toBe('ASSERTION_INVALID');
    // The assertion verified before is remembered: accepted without checking its signature again.
    expect(await verify(first)).toMatchObject({ ...assertion, requestId: 'request-first' });

    // For its whole lifetime; once it expires it is verified afresh, and its key is no longer trusted.
    vi.setSystemTime(T0 + ASSERTION_LIFETIME_SECONDS * 1000 - 1);
    expect(await reasonOf(verify(first))).toBe('ACCEPTED');
    vi.setSystemTime(T0 + ASSERTION_LIFETIME_SECONDS * 1000);
    expect(await reasonOf(verify(first))).toBe('ASSERTION_INVALID');
  });

  it('refuses a cached assertion once it has expired', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dir));
    const verify = createAssertionVerifier({ jwksFile: files.jwks, audience: 'credit', clockToleranceSeconds: 0 });
    const token = sign('credit', assertion);
    expect(await reasonOf(verify(token))).toBe('ACCEPTED');
    vi.setSystemTime(T0 + ASSERTION_LIFETIME_SECONDS * 1000 - 1);
    expect(await reasonOf(verify(token))).toBe('ACCEPTED');
    vi.setSystemTime(T0 + ASSERTION_LIFETIME_SECONDS * 1000);
    expect(await reasonOf(verify(token))).toBe('ASSERTION_INVALID');
    // And stays refused (an expired entry is not put back).
    expect(await reasonOf(verify(token))).toBe('ASSERTION_INVALID');
  });

  it('allows the configured clock skew after expiry, cached or not, and no more', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dir));
    const cached = createAssertionVerifier({ jwksFile: files.jwks, audience: 'credit', clockToleranceSeconds: 5 });
    const fresh = createAssertionVerifier({ jwksFile: files.jwks, audience: 'credit', clockToleranceSeconds: 5 });
    const token = sign('credit', assertion);
    expect(await reasonOf(cached(token))).toBe('ACCEPTED');
    const expiry = T0 + ASSERTION_LIFETIME_SECONDS * 1000;
    for (const [at, expected] of [
      [expiry + 4000, 'ACCEPTED'],
      [expiry + 6000, 'ASSERTION_INVALID'],
    ] as const) {
      vi.setSystemTime(at);
      // The cache answers exactly as a verifier that never saw the assertion.
      expect([await reasonOf(cached(token)), await reasonOf(fresh(token))]).toEqual([expected, expected]);
    }
  });

  it('accepts an assertion without a requestId (reused assertions name no single request)', async () => {
    const dir = dataDir();
    const files = await ensureGatewayKeys(dir);
    const sign = createAssertionSigner(await loadGatewaySigningKey(dir));
    const verify = createAssertionVerifier({ jwksFile: files.jwks, audience: 'credit' });
    const { requestId: _requestId, ...withoutRequestId } = assertion;
    const claims = await verify(sign('credit', withoutRequestId));
    expect(claims).toMatchObject(withoutRequestId);
    expect(claims.requestId).toBeUndefined();
  });
});

describe('the gateway’s assertion cache (execution/assertions.ts)', () => {
  const T0 = new Date('2026-03-01T08:00:00.000Z').getTime();
  let signer: ReturnType<typeof createAssertionSigner>;
  let signed: number;
  const sign = (audience: string, claims: GatewayAssertion) => {
    signed++;
    return signer(audience, claims);
  };

  beforeEach(async () => {
    signer ??= createAssertionSigner(await loadGatewaySigningKey(dataDir()));
    signed = 0;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  interface ContextSpec {
    requestId?: string;
    subject?: string;
    organisation?: string;
    province?: string;
    issuer?: string;
    tokenId?: string;
    scopes?: string[];
    matter?: string | null;
    caseNumber?: string | null;
  }

  /** A request's context: each call is a new object, as each request's is. */
  function context(spec: ContextSpec = {}): GatewayContext {
    const matter = spec.matter === undefined ? 'TB-HJ-004' : spec.matter;
    return {
      requestId: spec.requestId ?? 'request-0000001',
      caller: {
        subject: spec.subject ?? 'officer-7',
        organisation: spec.organisation ?? '拉萨市公安局',
        province: spec.province ?? '540000',
        issuer: spec.issuer ?? 'https://idp.national',
        tokenId: spec.tokenId ?? 'jti-1',
        scopes: new Set(['household:read', 'credit:read']),
        expiresAt: 0,
      },
      purpose: {
        matter: matter === null ? null : ({ code: matter } as Matter),
        caseNumber: spec.caseNumber === undefined ? null : spec.caseNumber,
        effectiveScopes: new Set(spec.scopes ?? ['household:read', 'credit:read']),
      },
    } as unknown as GatewayContext;
  }

  const claimsOf = (token: string) => decodeJwt(token) as unknown as GatewayAssertion & { aud: string; iat: number };

  it('reuses one assertion for the same caller, scopes, matter and case across requests', () => {
    const assertionFor = createAssertionCache(sign);
    const first = assertionFor('household', context({ requestId: 'request-A' }));
    const second = assertionFor('household', context({ requestId: 'request-B', scopes: ['credit:read', 'household:read'] }));
    expect(second).toBe(first);
    expect(signed).toBe(1);
    // It names the request that first needed it; each fetch carries its own id in x-request-id.
    expect(claimsOf(second).requestId).toBe('request-A');
    expect(claimsOf(second).scopes).toEqual(['credit:read', 'household:read']);
  });

  it.each<[string, ContextSpec, (claims: GatewayAssertion) => unknown, unknown]>([
    ['another subject', { subject: 'officer-8' }, (c) => c.caller.subject, 'officer-8'],
    ['another organisation', { organisation: '日喀则市公安局' }, (c) => c.caller.organisation, '日喀则市公安局'],
    ['another province', { province: '430000' }, (c) => c.caller.province, '430000'],
    ['another issuer', { issuer: 'https://idp.hunan' }, (c) => c.caller.issuer, 'https://idp.hunan'],
    ['another token', { tokenId: 'jti-2' }, (c) => c.caller.tokenId, 'jti-2'],
    ['fewer scopes', { scopes: ['household:read'] }, (c) => c.scopes, ['household:read']],
    [
      'more scopes',
      { scopes: ['household:read', 'credit:read', 'pii:unmasked'] },
      (c) => c.scopes,
      ['credit:read', 'household:read', 'pii:unmasked'],
    ],
    ['another matter', { matter: 'TB-SB-001' }, (c) => c.matter, 'TB-SB-001'],
    ['no matter', { matter: null }, (c) => c.matter, null],
    ['a case number', { caseNumber: 'LS-2026-0001' }, (c) => c.caseNumber, 'LS-2026-0001'],
  ])('signs a new one for %s, saying so', (_case, spec, claim, expected) => {
    const assertionFor = createAssertionCache(sign);
    const base = assertionFor('household', context());
    const other = assertionFor('household', context({ requestId: 'request-0000002', ...spec }));
    expect(other).not.toBe(base);
    expect(claim(claimsOf(other))).toEqual(expected);
    expect(signed).toBe(2);
    // The first one is still served to its own caller.
    expect(assertionFor('household', context({ requestId: 'request-0000003' }))).toBe(base);
  });

  it('signs one per subgraph: an assertion is addressed to one audience', () => {
    const assertionFor = createAssertionCache(sign);
    const request = context();
    const household = assertionFor('household', request);
    const credit = assertionFor('credit', request);
    expect(credit).not.toBe(household);
    expect([claimsOf(household).aud, claimsOf(credit).aud]).toEqual(['household', 'credit']);
    expect(assertionFor('credit', context())).toBe(credit);
  });

  it('signs a fresh one once half the lifetime has passed', () => {
    const assertionFor = createAssertionCache(sign);
    const first = assertionFor('household', context({ requestId: 'request-A' }));
    const half = (ASSERTION_LIFETIME_SECONDS * 1000) / 2;
    vi.setSystemTime(T0 + half - 1);
    expect(assertionFor('household', context({ requestId: 'request-B' }))).toBe(first);
    vi.setSystemTime(T0 + half);
    const renewed = assertionFor('household', context({ requestId: 'request-C' }));
    expect(renewed).not.toBe(first);
    expect(claimsOf(renewed).iat).toBe(claimsOf(first).iat + half / 1000);
    expect(claimsOf(renewed).requestId).toBe('request-C');
    // Always at least half its lifetime left when handed out.
    vi.setSystemTime(T0 + 2 * half - 1);
    expect(assertionFor('household', context({ requestId: 'request-D' }))).toBe(renewed);
  });

  it('forgets the oldest entry beyond its bound', () => {
    const assertionFor = createAssertionCache(sign, 2);
    const a = assertionFor('household', context({ subject: 'a' }));
    assertionFor('household', context({ subject: 'b' }));
    const c = assertionFor('household', context({ subject: 'c' }));
    expect(signed).toBe(3);
    expect(assertionFor('household', context({ subject: 'c', requestId: 'request-0000009' }))).toBe(c);
    expect(signed).toBe(3);
    // 'a' was the oldest: signed again (under the new request's id).
    const again = assertionFor('household', context({ subject: 'a', requestId: 'request-0000009' }));
    expect(signed).toBe(4);
    expect(again).not.toBe(a);
    expect(claimsOf(again).requestId).toBe('request-0000009');
  });
});
