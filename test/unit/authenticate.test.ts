import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, exportJWK, exportSPKI, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, createAuthenticator, type Authenticator, type AuthenticatorOptions } from '../../gateway/auth/authenticate.js';
import { isKnownScope, isScopeSyntax, parseScopeClaim, SCOPES } from '../../gateway/auth/caller.js';
import { DEFAULT_TRUST_LIST_FILE, ensureDevIdentityProviders, mintDevToken } from '../../gateway/auth/dev-identity-provider.js';
import { loadTrustList, TrustListError } from '../../common/trust-list.js';
import { ConfigError } from '../../common/settings.js';
import { startJwksServer } from '../support/jwks-server.js';

const AUDIENCE = 'kuasheng-gateway';
const HUNAN = 'https://idp.hunan.test';
const XIZANG = 'https://idp.xizang.test';
/** Frozen time: 2025-06-01T08:00:00Z. */
const T0 = Date.parse('2025-06-01T08:00:00Z');
const T0_SECONDS = T0 / 1000;

interface Signer {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

async function makeSigner(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256', kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Claims of a valid Hunan token at T0; `undefined` in `overrides` removes a claim. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: HUNAN,
    sub: 'approval-system-0731',
    org: '湖南省公安厅',
    province: '430000',
    scope: 'household:read credit:read',
    jti: randomUUID(),
    aud: AUDIENCE,
    iat: T0_SECONDS,
    exp: T0_SECONDS + 600,
  };
  for (const [claim, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[claim];
    else base[claim] = value;
  }
  return base as JWTPayload;
}

async function sign(signer: Signer, payload: JWTPayload = claims(), header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT', ...header }).sign(signer.privateKey);
}

const bearer = (token: string) => `Bearer ${token}`;
const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** The reason an authentication was refused with; fails when it was accepted. */
async function reasonOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof AuthenticationError) return error.reason;
    throw error;
  }
  throw new Error('expected the token to be refused');
}

async function refusal(attempt: Promise<unknown>): Promise<AuthenticationError> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof AuthenticationError) return error;
    throw error;
  }
  throw new Error('expected the token to be refused');
}

let dir: string;
let es256: Signer;
let eddsa: Signer;
let rs256: Signer;
let ps256: Signer;
let xizangEs256: Signer;
let xizangRsa: Signer;
let trustListFile: string;
let clock: number;

async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(value));
  return file;
}

function authenticator(options: Partial<AuthenticatorOptions> = {}): Promise<Authenticator> {
  return createAuthenticator({ trustListFile, audience: AUDIENCE, now: () => clock, ...options });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kuasheng-auth-'));
  [es256, eddsa, rs256, ps256, xizangEs256, xizangRsa] = await Promise.all([
    makeSigner('ES256'),
    makeSigner('EdDSA'),
    makeSigner('RS256'),
    makeSigner('PS256'),
    makeSigner('ES256'),
    makeSigner('RS256'),
  ]);
  await writeJson(join(dir, 'hunan.jwks.json'), { keys: [es256, eddsa, rs256, ps256].map((s) => s.publicJwk) });
  await writeJson(join(dir, 'xizang.jwks.json'), { keys: [xizangEs256, xizangRsa].map((s) => s.publicJwk) });
  trustListFile = await writeJson(join(dir, 'trust-list.json'), {
    issuers: [
      {
        issuer: HUNAN,
        name: '湖南省统一身份认证平台',
        provinces: ['430000'],
        jwksFile: 'hunan.jwks.json',
        algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      },
      // RS256 is allowed globally, and Xizang publishes an RSA key, but does not allow RS256.
      { issuer: XIZANG, name: '西藏自治区统一身份认证平台', provinces: ['540000'], jwksFile: 'xizang.jwks.json', algorithms: ['ES256'] },
    ],
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createAuthenticator', () => {
  beforeAll(() => {
    clock = T0;
  });

  describe('when a token is valid', () => {
    it.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('accepts %s and returns the caller of its claims', async (alg) => {
      const auth = await authenticator();
      const signer = { ES256: es256, EdDSA: eddsa, RS256: rs256, PS256: ps256 }[alg]!;
      const jti = randomUUID();
      const caller = await auth.authenticate(bearer(await sign(signer, claims({ jti, scope: 'household:read  credit:read pii:unmasked' }))));
      expect(caller).toEqual({
        subject: 'approval-system-0731',
        organisation: '湖南省公安厅',
        province: '430000',
        issuer: HUNAN,
        tokenId: jti,
        scopes: new Set(['household:read', 'credit:read', 'pii:unmasked']),
        expiresAt: T0_SECONDS + 600,
      });
    });

    it('carries the optional matters claim', async () => {
      const auth = await authenticator();
      const caller = await auth.authenticate(bearer(await sign(es256, claims({ matters: ['110100000001', '110100000002'] }))));
      expect(caller.matters).toEqual(['110100000001', '110100000002']);
    });

    it('accepts the scheme in any case', async () => {
      const auth = await authenticator();
      await expect(auth.authenticate(`bearer ${await sign(es256)}`)).resolves.toMatchObject({ province: '430000' });
    });

    it('accepts a token that expired within the clock tolerance', async () => {
      const auth = await authenticator({ clockToleranceSeconds: 30 });
      const token = await sign(es256, claims({ iat: T0_SECONDS - 600, exp: T0_SECONDS - 20 }));
      await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ expiresAt: T0_SECONDS - 20 });
    });

    it('accepts nbf and iat slightly ahead, within the clock tolerance', async () => {
      const auth = await authenticator({ clockToleranceSeconds: 30 });
      const token = await sign(es256, claims({ nbf: T0_SECONDS + 20, iat: T0_SECONDS + 20, exp: T0_SECONDS + 620 }));
      await expect(auth.authenticate(bearer(token))).resolves.toBeDefined();
    });

    it('accepts a lifetime of exactly maxLifetimeSeconds', async () => {
      const auth = await authenticator({ maxLifetimeSeconds: 3600 });
      await expect(auth.authenticate(bearer(await sign(es256, claims({ exp: T0_SECONDS + 3600 }))))).resolves.toBeDefined();
    });
  });

  describe('when the header is missing or malformed', () => {
    it.each([[undefined], [''], ['   ']])('refuses %j with TOKEN_MISSING', async (header) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(header))).toBe('TOKEN_MISSING');
    });

    it.each([
      ['Basic credentials', 'Basic dXNlcjpwYXNzd29yZA=='],
      ['the scheme alone', 'Bearer'],
      ['the scheme and a space', 'Bearer '],
      ['two segments', 'Bearer a.b'],
      ['four segments', 'Bearer a.b.c.d'],
      ['characters outside base64url', 'Bearer e30=.e30=.sig'],
      ['garbage base64url that is not JSON', 'Bearer Zm9v.YmFy.YmF6'],
      ['a header that is JSON but not an object', `Bearer ${encodeJson([1])}.${encodeJson({})}.c2ln`],
      ['a token without the scheme', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'],
    ])('refuses %s with TOKEN_MALFORMED', async (_case, header) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(header))).toBe('TOKEN_MALFORMED');
    });

    it('refuses a critical header extension it does not understand with TOKEN_MALFORMED', async () => {
      const auth = await authenticator();
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid: es256.kid, crit: ['urn:example:binding'], 'urn:example:binding': true })
        .sign(es256.privateKey, { crit: { 'urn:example:binding': true } });
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('TOKEN_MALFORMED');
    });

    it('refuses a payload that is not a JSON object with TOKEN_MALFORMED', async () => {
      const auth = await authenticator();
      const token = `${encodeJson({ alg: 'ES256', kid: es256.kid })}.${base64url.encode('not json')}.c2ln`;
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('TOKEN_MALFORMED');
    });
  });

  describe('when the token is too large', () => {
    it('refuses it with TOKEN_TOO_LARGE before any parsing', async () => {
      const auth = await authenticator({ maxTokenBytes: 8192 });
      const big = await sign(es256, claims({ padding: 'x'.repeat(9000) }));
      expect(await reasonOf(auth.authenticate(bearer(big)))).toBe('TOKEN_TOO_LARGE');
      expect(await reasonOf(auth.authenticate(`Bearer ${'%'.repeat(9000)}`))).toBe('TOKEN_TOO_LARGE');
      expect(auth.stats().verifications).toBe(0);
    });
  });

  describe('when the algorithm is not allowed', () => {
    it('refuses alg none, hand-crafted, with ALGORITHM_NOT_ALLOWED', async () => {
      const auth = await authenticator();
      const token = `${encodeJson({ alg: 'none', typ: 'JWT' })}.${encodeJson(claims())}.`;
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('ALGORITHM_NOT_ALLOWED');
    });

    it('refuses a token without alg with ALGORITHM_NOT_ALLOWED', async () => {
      const auth = await authenticator();
      const token = `${encodeJson({ typ: 'JWT', kid: es256.kid })}.${encodeJson(claims())}.c2ln`;
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('ALGORITHM_NOT_ALLOWED');
    });

    it('refuses HS256 signed with a random secret with ALGORITHM_NOT_ALLOWED', async () => {
      const auth = await authenticator();
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(randomBytes(32));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('ALGORITHM_NOT_ALLOWED');
    });

    describe('algorithm confusion: HS256 keyed with the issuer’s RSA public key', () => {
      // The attack: the public key is public, so whoever HMACs with its bytes
      // forges a token a naive verifier (key bytes + header alg) accepts.
      const secrets: [string, () => Promise<Uint8Array>][] = [
        ['its PEM', async () => new TextEncoder().encode(await exportSPKI(rs256.publicKey))],
        [
          'its SPKI DER bytes',
          async () => new Uint8Array(createPublicKey(await exportSPKI(rs256.publicKey)).export({ type: 'spki', format: 'der' })),
        ],
        ['its JWK JSON', async () => new TextEncoder().encode(JSON.stringify(rs256.publicJwk))],
      ];

      it.each(secrets)('refuses the token keyed with %s with ALGORITHM_NOT_ALLOWED, before any key is used', async (_case, secret) => {
        const auth = await authenticator();
        const key = await secret();
        const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rs256.kid }).sign(key);
        // The forgery is genuine: an HMAC verifier keyed with those bytes accepts it.
        await expect(jwtVerify(forged, key, { algorithms: ['HS256'], currentDate: new Date(T0) })).resolves.toBeDefined();
        expect(await reasonOf(auth.authenticate(bearer(forged)))).toBe('ALGORITHM_NOT_ALLOWED');
        expect(auth.stats().verifications).toBe(0);
      });
    });

    it('refuses an algorithm allowed globally but not for the issuer with ALGORITHM_NOT_ALLOWED, before any key is used', async () => {
      const auth = await authenticator();
      const token = await sign(xizangRsa, claims({ iss: XIZANG, province: '540000' }));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('ALGORITHM_NOT_ALLOWED');
      expect(auth.stats().verifications).toBe(0);
    });

    it('refuses an asymmetric algorithm outside the allowed four (ES384) with ALGORITHM_NOT_ALLOWED', async () => {
      const auth = await authenticator();
      const { privateKey } = await generateKeyPair('ES384');
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES384', kid: es256.kid }).sign(privateKey);
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('ALGORITHM_NOT_ALLOWED');
    });
  });

  describe('when the issuer is not trusted', () => {
    it.each([
      ['an unknown iss', { iss: 'https://idp.evil.example' }],
      ['a trusted iss with a trailing slash', { iss: `${HUNAN}/` }],
      ['no iss', { iss: undefined }],
      ['a non-string iss', { iss: 42 }],
    ])('refuses %s with ISSUER_UNTRUSTED', async (_case, overrides) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims(overrides)))))).toBe('ISSUER_UNTRUSTED');
    });
  });

  describe('when the key or signature is wrong', () => {
    it('refuses an unknown kid with KEY_UNKNOWN', async () => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims(), { kid: 'retired-2019' }))))).toBe('KEY_UNKNOWN');
    });

    it('refuses a kid of another issuer with KEY_UNKNOWN', async () => {
      const auth = await authenticator();
      const token = await sign(xizangEs256, claims());
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('KEY_UNKNOWN');
    });

    it('refuses a tampered payload with SIGNATURE_INVALID', async () => {
      const auth = await authenticator();
      const [header, , signature] = (await sign(es256)).split('.');
      const tampered = `${header}.${encodeJson(claims({ scope: 'household:read pii:unmasked' }))}.${signature}`;
      expect(await reasonOf(auth.authenticate(bearer(tampered)))).toBe('SIGNATURE_INVALID');
    });

    it('refuses a token signed by another key under a published kid with SIGNATURE_INVALID', async () => {
      const auth = await authenticator();
      const impostor = await makeSigner('ES256', es256.kid);
      expect(await reasonOf(auth.authenticate(bearer(await sign(impostor))))).toBe('SIGNATURE_INVALID');
    });

    it('refuses an empty signature with SIGNATURE_INVALID', async () => {
      const auth = await authenticator();
      const [header, payload] = (await sign(es256)).split('.');
      expect(await reasonOf(auth.authenticate(bearer(`${header}.${payload}.`)))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the audience is wrong', () => {
    it.each([
      ['another audience', { aud: 'some-other-gateway' }],
      ['no aud', { aud: undefined }],
    ])('refuses %s with AUDIENCE_MISMATCH', async (_case, overrides) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims(overrides)))))).toBe('AUDIENCE_MISMATCH');
    });

    it('accepts an aud array that includes the gateway', async () => {
      const auth = await authenticator();
      await expect(auth.authenticate(bearer(await sign(es256, claims({ aud: ['other', AUDIENCE] }))))).resolves.toBeDefined();
    });
  });

  describe('when the token is outside its validity', () => {
    it('refuses a token expired beyond the clock tolerance with TOKEN_EXPIRED', async () => {
      const auth = await authenticator({ clockToleranceSeconds: 30 });
      const token = await sign(es256, claims({ iat: T0_SECONDS - 600, exp: T0_SECONDS - 31 }));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('TOKEN_EXPIRED');
    });

    it('refuses nbf in the future beyond the tolerance with TOKEN_NOT_YET_VALID', async () => {
      const auth = await authenticator({ clockToleranceSeconds: 30 });
      const token = await sign(es256, claims({ nbf: T0_SECONDS + 120 }));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('TOKEN_NOT_YET_VALID');
    });

    it('refuses iat in the future beyond the tolerance with TOKEN_NOT_YET_VALID', async () => {
      const auth = await authenticator({ clockToleranceSeconds: 30 });
      const token = await sign(es256, claims({ iat: T0_SECONDS + 120, exp: T0_SECONDS + 720 }));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('TOKEN_NOT_YET_VALID');
    });

    it('refuses exp - iat longer than maxLifetimeSeconds with LIFETIME_TOO_LONG', async () => {
      const auth = await authenticator({ maxLifetimeSeconds: 3600 });
      const token = await sign(es256, claims({ exp: T0_SECONDS + 3601 }));
      expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('LIFETIME_TOO_LONG');
    });
  });

  describe('when a required claim is missing or malformed', () => {
    it.each(['sub', 'org', 'province', 'scope', 'jti', 'exp', 'iat'])('refuses a token without %s with CLAIM_MISSING', async (claim) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims({ [claim]: undefined })))))).toBe('CLAIM_MISSING');
    });

    it.each([
      ['a numeric sub', { sub: 42 }],
      ['an empty org', { org: ' ' }],
      ['a numeric province', { province: 430000 }],
      ['a scope array', { scope: ['household:read'] }],
      ['a malformed scope entry', { scope: 'household:read HOUSEHOLD' }],
      ['an empty jti', { jti: '' }],
      ['a string exp', { exp: String(T0_SECONDS + 600) }],
      ['a string iat', { iat: String(T0_SECONDS) }],
      ['a string nbf', { nbf: 'soon' }],
      ['a matters string', { matters: '110100000001' }],
      ['a matters array with a non-code', { matters: ['110100000001', 'drop table'] }],
    ])('refuses %s with CLAIM_MISSING', async (_case, overrides) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims(overrides)))))).toBe('CLAIM_MISSING');
    });

    it('accepts an empty scope claim as a caller with no scopes', async () => {
      const auth = await authenticator();
      const caller = await auth.authenticate(bearer(await sign(es256, claims({ scope: '' }))));
      expect(caller.scopes.size).toBe(0);
    });
  });

  describe('when the province is not one the issuer may speak for', () => {
    it.each([
      ['another province', '540000'],
      ['a prefecture code', '430100'],
      ['a made-up code', '999999'],
    ])('refuses %s with PROVINCE_NOT_ALLOWED', async (_case, province) => {
      const auth = await authenticator();
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, claims({ province })))))).toBe('PROVINCE_NOT_ALLOWED');
    });
  });

  describe('the refusal', () => {
    it('is UNAUTHENTICATED with HTTP status 401, and never contains the token', async () => {
      const auth = await authenticator();
      const token = await sign(es256, claims({ aud: 'elsewhere' }));
      const error = await refusal(auth.authenticate(bearer(token)));
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, reason: 'AUDIENCE_MISMATCH' });
      const signature = token.split('.')[2]!;
      for (const text of [error.message, error.detail ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(signature);
        expect(text).not.toContain(token.split('.')[1]!);
      }
      expect(error.detail).toContain(HUNAN);
    });
  });

  describe('the verification cache', () => {
    it('verifies the same token cryptographically once', async () => {
      const auth = await authenticator();
      const header = bearer(await sign(es256));
      const first = await auth.authenticate(header);
      const second = await auth.authenticate(header);
      expect(second).toEqual(first);
      expect(auth.stats()).toMatchObject({ verifications: 1, cacheHits: 1, cacheSize: 1 });
    });

    it('shares one verification between concurrent requests with the same token', async () => {
      const auth = await authenticator();
      const header = bearer(await sign(rs256));
      await Promise.all(Array.from({ length: 5 }, () => auth.authenticate(header)));
      expect(auth.stats().verifications).toBe(1);
    });

    it('refuses a cached token once it has expired', async () => {
      clock = T0;
      try {
        const auth = await authenticator({ clockToleranceSeconds: 30 });
        const header = bearer(await sign(es256, claims({ exp: T0_SECONDS + 60 })));
        await auth.authenticate(header);
        clock = T0 + 60_000 + 29_000;
        await expect(auth.authenticate(header)).resolves.toBeDefined();
        clock = T0 + 60_000 + 30_000;
        expect(await reasonOf(auth.authenticate(header))).toBe('TOKEN_EXPIRED');
      } finally {
        clock = T0;
      }
    });

    it('verifies again after cacheTtlSeconds', async () => {
      clock = T0;
      try {
        const auth = await authenticator({ cacheTtlSeconds: 60 });
        const header = bearer(await sign(es256));
        await auth.authenticate(header);
        clock = T0 + 61_000;
        await auth.authenticate(header);
        expect(auth.stats()).toMatchObject({ verifications: 2, cacheHits: 0 });
      } finally {
        clock = T0;
      }
    });

    it('holds at most cacheMaxEntries tokens, evicting the least recently used', async () => {
      const auth = await authenticator({ cacheMaxEntries: 2 });
      const [a, b, c] = await Promise.all([sign(es256), sign(es256), sign(es256)]).then((ts) => ts.map(bearer));
      await auth.authenticate(a!);
      await auth.authenticate(b!);
      await auth.authenticate(a!); // a is now the most recently used
      await auth.authenticate(c!); // evicts b
      expect(auth.stats()).toMatchObject({ verifications: 3, cacheHits: 1, cacheSize: 2 });
      await auth.authenticate(a!);
      await auth.authenticate(b!);
      expect(auth.stats()).toMatchObject({ verifications: 4, cacheHits: 2 });
    });

    it('hands each request its own caller, so one cannot change another’s scopes', async () => {
      const auth = await authenticator();
      const header = bearer(await sign(es256));
      const first = await auth.authenticate(header);
      (first.scopes as Set<string>).add('pii:unmasked');
      const second = await auth.authenticate(header);
      expect(second.scopes.has('pii:unmasked')).toBe(false);
    });

    it('does not cache refusals', async () => {
      const auth = await authenticator();
      const header = bearer(await sign(es256, claims({ province: '540000' })));
      await reasonOf(auth.authenticate(header));
      await reasonOf(auth.authenticate(header));
      expect(auth.stats()).toMatchObject({ cacheSize: 0, cacheHits: 0 });
    });
  });

  describe('when an option is bad', () => {
    it.each([
      ['clockToleranceSeconds', { clockToleranceSeconds: 301 }],
      ['clockToleranceSeconds', { clockToleranceSeconds: -1 }],
      ['maxTokenBytes', { maxTokenBytes: 1.5 }],
      ['maxLifetimeSeconds', { maxLifetimeSeconds: 0 }],
      ['jwksCooldownMs', { jwksCooldownMs: Number.NaN }],
      ['jwksMaxStaleMs', { jwksMaxStaleMs: -1 }],
      ['audience', { audience: '' }],
      ['trustListFile', { trustListFile: '' }],
    ])('throws a ConfigError naming %s', async (option, overrides) => {
      const error = await authenticator(overrides as Partial<AuthenticatorOptions>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(option);
    });

    it('fills documented defaults', async () => {
      const auth = await createAuthenticator({ trustListFile, audience: AUDIENCE });
      expect(auth.options).toMatchObject({
        clockToleranceSeconds: 30,
        maxTokenBytes: 8192,
        maxLifetimeSeconds: 3600,
        cacheMaxEntries: 10_000,
      });
    });
  });
});

describe('JWKS served over HTTP', () => {
  let server: Server | undefined;
  let requests = 0;
  let jwks: unknown;
  let status = 200;
  let tlFile: string;
  const opened: Authenticator[] = [];

  async function serveJwks(): Promise<string> {
    requests = 0;
    status = 200;
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify(jwks) : '{"error":"unavailable"}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/jwks.json`;
  }

  async function remoteAuthenticator(jwksUrl: string, options: Partial<AuthenticatorOptions> = {}): Promise<Authenticator> {
    tlFile = await writeJson(join(dir, `remote-${randomUUID()}.json`), {
      issuers: [{ issuer: HUNAN, name: '湖南省统一身份认证平台', provinces: ['430000'], jwksUrl, algorithms: ['ES256', 'EdDSA'] }],
    });
    // Real time here: the JWKS cooldown runs on the wall clock.
    const auth = await createAuthenticator({ trustListFile: tlFile, audience: AUDIENCE, jwksTimeoutMs: 2000, ...options });
    opened.push(auth);
    return auth;
  }

  const realClaims = () => {
    const now = Math.floor(Date.now() / 1000);
    return claims({ iat: now, exp: now + 600 });
  };

  afterEach(async () => {
    for (const auth of opened.splice(0)) auth.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
    }
  });

  it('fetches the key set at start-up, once: the first token waits for that fetch, not another', async () => {
    jwks = { keys: [es256.publicJwk] };
    const auth = await remoteAuthenticator(await serveJwks());
    await auth.authenticate(bearer(await sign(es256, realClaims())));
    await auth.authenticate(bearer(await sign(es256, realClaims())));
    expect(requests).toBe(1);
    expect(auth.stats()).toMatchObject({ verifications: 2, jwksFetches: 1 });
  });

  it('accepts a rotated key: a new kid triggers one refetch', async () => {
    jwks = { keys: [es256.publicJwk] };
    const auth = await remoteAuthenticator(await serveJwks(), { jwksCooldownMs: 0 });
    await auth.authenticate(bearer(await sign(es256, realClaims())));
    jwks = { keys: [es256.publicJwk, eddsa.publicJwk] };
    await expect(auth.authenticate(bearer(await sign(eddsa, realClaims())))).resolves.toMatchObject({ issuer: HUNAN });
    expect(requests).toBe(2);
  });

  it('refuses a kid still unknown after the refetch with KEY_UNKNOWN', async () => {
    jwks = { keys: [es256.publicJwk] };
    const auth = await remoteAuthenticator(await serveJwks(), { jwksCooldownMs: 0 });
    await auth.authenticate(bearer(await sign(es256, realClaims())));
    expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims(), { kid: 'not-published' }))))).toBe('KEY_UNKNOWN');
    expect(requests).toBe(2);
  });

  it('does not hammer the identity provider with unknown kids during the cooldown', async () => {
    jwks = { keys: [es256.publicJwk] };
    const auth = await remoteAuthenticator(await serveJwks(), { jwksCooldownMs: 60_000 });
    await auth.authenticate(bearer(await sign(es256, realClaims())));
    for (let i = 0; i < 5; i++) {
      expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims(), { kid: `unknown-${i}` }))))).toBe('KEY_UNKNOWN');
    }
    expect(requests).toBe(1);
  });

  it('refuses with KEY_UNKNOWN, without crashing, when the identity provider is down at start, and backs off', async () => {
    const url = await serveJwks();
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const auth = await remoteAuthenticator(url, { jwksCooldownMs: 60_000 });
    const error = await refusal(auth.authenticate(bearer(await sign(es256, realClaims()))));
    expect(error.reason).toBe('KEY_UNKNOWN');
    expect(error.detail).toMatch(/unavailable/);
    expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims()))))).toBe('KEY_UNKNOWN');
    expect(auth.stats().jwksFetches).toBe(1);
  });

  it('recovers once the identity provider answers again after the back-off', async () => {
    jwks = { keys: [es256.publicJwk] };
    const url = await serveJwks();
    status = 503;
    const auth = await remoteAuthenticator(url, { jwksCooldownMs: 200 });
    expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims()))))).toBe('KEY_UNKNOWN');
    expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims()))))).toBe('KEY_UNKNOWN');
    expect(requests).toBe(1);
    status = 200;
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(auth.authenticate(bearer(await sign(es256, realClaims())))).resolves.toMatchObject({ issuer: HUNAN });
    expect(requests).toBe(2);
  });

  it('refuses keys from a JWKS that contains private key material', async () => {
    jwks = { keys: [{ ...(await exportJWK(es256.privateKey)), kid: es256.kid, alg: 'ES256' }] };
    const auth = await remoteAuthenticator(await serveJwks());
    expect(await reasonOf(auth.authenticate(bearer(await sign(es256, realClaims()))))).toBe('KEY_UNKNOWN');
  });

  it('counts a fetch slower than jwksTimeoutMs as failed, and refuses with KEY_UNKNOWN', async () => {
    const slow = await startJwksServer({ issuer: HUNAN });
    slow.delay(2000);
    try {
      const auth = await remoteAuthenticator(slow.url, { jwksTimeoutMs: 200, jwksCooldownMs: 60_000 });
      const startedAt = Date.now();
      const error = await refusal(auth.authenticate(bearer(await sign(es256, realClaims()))));
      expect(error.reason).toBe('KEY_UNKNOWN');
      expect(error.detail).toMatch(/unavailable/);
      expect(Date.now() - startedAt).toBeLessThan(1500);
      expect(auth.stats().jwksFetches).toBe(1);
    } finally {
      await slow.stop();
    }
  });
});

describe('loadTrustList', () => {
  async function trustListError(issuers: unknown[], jwksKeys: unknown[] = [es256.publicJwk]): Promise<TrustListError> {
    const folder = await mkdtemp(join(dir, 'tl-'));
    await writeJson(join(folder, 'keys.jwks.json'), { keys: jwksKeys });
    const file = await writeJson(join(folder, 'trust-list.json'), { issuers });
    const error = await loadTrustList(file).catch((e: unknown) => e);
    if (error instanceof TrustListError) return error;
    throw new Error(`expected a TrustListError, got ${String(error)}`);
  }

  const good = { issuer: HUNAN, name: '湖南', provinces: ['430000'], jwksFile: 'keys.jwks.json', algorithms: ['ES256'] };

  it('resolves a relative jwksFile against the trust list’s folder', async () => {
    const list = await loadTrustList(trustListFile);
    expect(list.issuers.map((i) => i.issuer)).toEqual([HUNAN, XIZANG]);
    expect(list.issuers[0]!.keys).toMatchObject({ kind: 'file', file: join(dir, 'hunan.jwks.json') });
    expect([...list.issuers[1]!.provinces]).toEqual(['540000']);
  });

  it('allows a plain-http JWKS URL on the loopback interface', async () => {
    const folder = await mkdtemp(join(dir, 'tl-'));
    const file = await writeJson(join(folder, 'trust-list.json'), {
      issuers: [{ ...good, jwksFile: undefined, jwksUrl: 'http://127.0.0.1:9/jwks.json' }],
    });
    await expect(loadTrustList(file)).resolves.toMatchObject({ issuers: [{ keys: { kind: 'url' } }] });
  });

  describe('when a field is bad', () => {
    it.each([
      ['HS256 among the algorithms', [{ ...good, algorithms: ['ES256', 'HS256'] }], 'issuers[0].algorithms[1]'],
      ['alg none', [{ ...good, algorithms: ['none'] }], 'issuers[0].algorithms[0]'],
      ['no algorithms', [{ ...good, algorithms: [] }], 'issuers[0].algorithms'],
      ['a province that is not province-level', [{ ...good, provinces: ['430100'] }], 'issuers[0].provinces[0]'],
      ['a wildcard province', [{ ...good, provinces: ['*'] }], 'issuers[0].provinces[0]'],
      ['both jwksFile and jwksUrl', [{ ...good, jwksUrl: 'https://idp.hunan.test/jwks' }], 'issuers[0]'],
      ['neither jwksFile nor jwksUrl', [{ ...good, jwksFile: undefined }], 'issuers[0]'],
      ['a plain-http issuer off the loopback', [{ ...good, issuer: 'http://idp.hunan.test' }], 'issuers[0].issuer'],
      ['a plain-http JWKS URL off the loopback', [{ ...good, jwksFile: undefined, jwksUrl: 'http://idp.hunan.test/jwks' }], 'issuers[0].jwksUrl'],
      ['a duplicate issuer', [good, { ...good, name: 'again' }], 'issuers[1].issuer'],
      ['a misspelt field', [{ ...good, jwksfile: 'keys.jwks.json' }], 'issuers[0].jwksfile'],
      ['a missing JWKS file', [{ ...good, jwksFile: 'absent.jwks.json' }], 'issuers[0].jwksFile'],
    ])('names the field of %s', async (_case, issuers, field) => {
      expect((await trustListError(issuers)).field).toBe(field);
    });

    it('refuses a JWKS file with private key material', async () => {
      const privateJwk = { ...(await exportJWK(es256.privateKey)), kid: 'leaked' };
      expect((await trustListError([good], [es256.publicJwk, privateJwk])).field).toBe('issuers[0].jwksFile');
    });

    it('refuses a JWKS file with a symmetric key', async () => {
      const secret = { kty: 'oct', k: base64url.encode(randomBytes(32)), kid: 'shared' };
      expect((await trustListError([good], [secret])).field).toBe('issuers[0].jwksFile');
    });

    it('is a ConfigError, so start-up reports it as configuration', async () => {
      expect(await trustListError([{ ...good, algorithms: ['HS512'] }])).toBeInstanceOf(ConfigError);
    });
  });
});

describe('development identity providers', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kuasheng-dev-idp-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const devAuthenticator = () =>
    createAuthenticator({ trustListFile: DEFAULT_TRUST_LIST_FILE, audience: 'kuasheng-gateway', jwksDir: join(dataDir, 'dev-idp') });

  it('creates one Ed25519 key pair per demo issuer of config/trust-list.json, private keys mode 0600', async () => {
    const providers = await ensureDevIdentityProviders(dataDir);
    expect(providers.map((p) => p.name)).toEqual(['hunan', 'xizang', 'national']);
    for (const provider of providers) {
      expect((await stat(provider.privateKeyFile)).mode & 0o777).toBe(0o600);
      const published = JSON.parse(await readFile(provider.jwksFile, 'utf8')) as { keys: JWK[] };
      expect(published.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: provider.kid })]);
      expect(published.keys[0]).not.toHaveProperty('d');
    }
    expect(providers.find((p) => p.name === 'national')!.provinces).toHaveLength(32);
  });

  it('keeps existing keys', async () => {
    const first = await ensureDevIdentityProviders(dataDir);
    const second = await ensureDevIdentityProviders(dataDir);
    expect(second.map((p) => p.kid)).toEqual(first.map((p) => p.kid));
  });

  it('mints a token the real trust list accepts', async () => {
    const auth = await devAuthenticator();
    const token = await mintDevToken({
      dataDir,
      issuer: 'hunan',
      province: '430000',
      scopes: ['household:read', 'credit:read'],
      matters: ['110100000001'],
    });
    const caller = await auth.authenticate(bearer(token));
    expect(caller).toMatchObject({
      issuer: 'https://idp.hunan.dev.kuasheng.local',
      province: '430000',
      subject: 'dev-officer-hunan',
      matters: ['110100000001'],
    });
    expect([...caller.scopes]).toEqual(['household:read', 'credit:read']);
  });

  it('lets the national issuer speak for the Corps (660000)', async () => {
    const auth = await devAuthenticator();
    const token = await mintDevToken({ dataDir, issuer: 'national', province: '660000', scopes: ['audit:read'] });
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ province: '660000' });
  });

  it('mints tokens the gateway refuses when asked to (province of another issuer)', async () => {
    const auth = await devAuthenticator();
    const token = await mintDevToken({ dataDir, issuer: 'xizang', province: '430000', scopes: ['household:read'] });
    expect(await reasonOf(auth.authenticate(bearer(token)))).toBe('PROVINCE_NOT_ALLOWED');
  });
});

describe('the scope vocabulary', () => {
  it('documents every scope with a description, and cannot be changed at run time', () => {
    expect(Object.keys(SCOPES)).toEqual([
      'household:read',
      'social-insurance:read',
      'provident-fund:read',
      'credit:read',
      'licence:read',
      'certificate:issue',
      'certificate:verify',
      'certificate:revoke',
      'audit:read',
      'audit:receipt',
      'pii:unmasked',
    ]);
    for (const description of Object.values(SCOPES)) expect(description.length).toBeGreaterThan(10);
    expect(Object.isFrozen(SCOPES)).toBe(true);
  });

  it('checks the syntax <domain>:<action>', () => {
    expect(isScopeSyntax('social-insurance:read')).toBe(true);
    expect(isScopeSyntax('Household:read')).toBe(false);
    expect(isScopeSyntax('household')).toBe(false);
    expect(isScopeSyntax('household:read:all')).toBe(false);
    expect(isKnownScope('weather:read')).toBe(false);
    expect(parseScopeClaim('a:b  c:d')).toEqual(new Set(['a:b', 'c:d']));
    expect(parseScopeClaim('a:b c')).toBeUndefined();
  });
});
