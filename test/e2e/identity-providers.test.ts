import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVINCES } from '../../common/regions.js';
import { ensureClientKey } from '../../common/identity-provider/client-keys.js';
import { requestClientCredentialsToken, TokenRequestError } from '../../common/identity-provider/client-credentials.js';
import { CONSOLE_CLIENT_ID, type IdentityProviderName } from '../../common/identity-provider/directory.js';
import { rotateSigningKey } from '../../common/identity-provider/signing-keys.js';
import { startIdentityProvider, type RunningIdentityProvider } from '../../common/identity-provider/provider.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { postGraphQL, quietLogger, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const NAME_ONLY = 'query Name($id: ID!) { person(idNumber: $id) { name } }';
const PERSON = DEMO_PERSONS[0];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:4000/console/callback';

let dataDir: string;
let federation: TestFederation;
const providers = new Map<IdentityProviderName, RunningIdentityProvider>();

/** A trust list naming the running providers by their JWKS URLs; `provinces` overrides what each speaks for. */
function writeProviderTrustList(file: string, provinces: Partial<Record<IdentityProviderName, string[]>> = {}): string {
  const all = PROVINCES.map((p) => p.code);
  const defaults: Record<IdentityProviderName, string[]> = { hunan: ['430000'], xizang: ['540000'], national: all };
  const issuers = [...providers.values()].map((p) => ({
    issuer: p.issuer,
    name: `${p.name} demo OIDC provider`,
    provinces: provinces[p.name] ?? defaults[p.name],
    jwksUrl: p.jwksUrl,
    algorithms: ['ES256'],
  }));
  writeFileSync(file, JSON.stringify({ issuers }));
  return file;
}

beforeAll(async () => {
  dataDir = await seedTemporaryData(200);
  for (const name of ['hunan', 'xizang', 'national'] as const) {
    providers.set(name, await startIdentityProvider({ name, dataDir, port: 0, logger: quietLogger() }));
  }
  const trustList = writeProviderTrustList(join(dataDir, 'idp-trust-list.json'));
  federation = await startTestFederation({ dataDir, env: { TRUST_LIST_FILE: trustList } });
});

afterAll(async () => {
  await federation?.stop();
  await Promise.all([...providers.values()].map((p) => p.stop()));
  if (dataDir) removeData(dataDir);
});

/** Runs `npm run token` (tsx) of this checkout. */
function runToken(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DATA_DIR: _d, TRUST_LIST_FILE: _t, TOKEN_AUDIENCE: _a, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: ROOT, env: { ...inherited, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A browser's cookie jar, enough for one provider: name=value pairs from Set-Cookie. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** One browser step: no automatic redirects, cookies sent and kept. */
async function browse(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
  jar.take(response);
  return response;
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Follows redirects on the provider's origin until one leaves it (to the console) or a page is shown. */
async function follow(jar: CookieJar, provider: RunningIdentityProvider, response: Response): Promise<Response | URL> {
  let current = response;
  while (current.status >= 300 && current.status < 400) {
    const location = new URL(current.headers.get('location')!, provider.issuer);
    if (location.origin !== provider.issuer) return location;
    current = await browse(jar, location);
  }
  return current;
}

interface Login {
  jar: CookieJar;
  verifier: string;
  /** Where the provider sent the browser back to the console. */
  callback: URL;
}

/** Drives the code flow as a browser: authorization request, login form, post, back to the console. */
async function logIn(provider: RunningIdentityProvider, username: string, password: string, scope: string): Promise<Login | Response> {
  const jar = new CookieJar();
  const { verifier, challenge } = pkcePair();
  const authorize = new URL('/auth', provider.issuer);
  authorize.search = new URLSearchParams({
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    state: 'state-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const loginPage = await follow(jar, provider, await browse(jar, authorize));
  if (loginPage instanceof URL) throw new Error(`expected the login page, went to ${loginPage}`);
  expect(loginPage.status).toBe(200);
  const html = await loginPage.text();
  expect(html).toContain('用户名');
  const action = /action="([^"]+)"/.exec(html)![1];
  const posted = await browse(jar, new URL(action, provider.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  const end = await follow(jar, provider, posted);
  if (!(end instanceof URL)) return end;
  return { jar, verifier, callback: end };
}

async function token(provider: RunningIdentityProvider, form: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(new URL('/token', provider.issuer), { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('demo identity providers', () => {
  describe('discovery', () => {
    it('publishes its issuer, JWKS and the flows it supports', async () => {
      const hunan = providers.get('hunan')!;
      const discovery = (await (await fetch(new URL('/.well-known/openid-configuration', hunan.issuer))).json()) as Record<string, any>;
      expect(discovery.issuer).toBe(hunan.issuer);
      expect(discovery.jwks_uri).toBe(hunan.jwksUrl);
      expect(discovery.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token']));
      expect(discovery.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
      expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
      expect(discovery.end_session_endpoint).toBeDefined();
      const jwks = (await (await fetch(hunan.jwksUrl)).json()) as { keys: Record<string, unknown>[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const key of jwks.keys) expect(key.d).toBeUndefined();
    });
  });

  describe('when a person logs in on the console (authorization code with PKCE)', () => {
    it('refuses a wrong password with the form again', async () => {
      const result = await logIn(providers.get('hunan')!, 'hn-approval', 'wrong', 'openid household:read');
      expect(result).toBeInstanceOf(Response);
      expect((result as Response).status).toBe(401);
    });

    it('issues a gateway token with the account claims, a refresh token, and logs out', async () => {
      const hunan = providers.get('hunan')!;
      const login = (await logIn(hunan, 'hn-approval', 'demo-approval', 'openid offline_access household:read credit:read')) as Login;
      expect(login.callback.origin + login.callback.pathname).toBe(REDIRECT_URI);
      expect(login.callback.searchParams.get('state')).toBe('state-1');
      const code = login.callback.searchParams.get('code')!;
      expect(code).toBeTruthy();

      const withoutVerifier = await token(hunan, {
        grant_type: 'authorization_code',
        code,
        client_id: CONSOLE_CLIENT_ID,
        redirect_uri: REDIRECT_URI,
      });
      expect(withoutVerifier.status).toBe(400);

      const login2 = (await logIn(hunan, 'hn-approval', 'demo-approval', 'openid offline_access household:read credit:read')) as Login;
      const tokens = await token(hunan, {
        grant_type: 'authorization_code',
        code: login2.callback.searchParams.get('code')!,
        client_id: CONSOLE_CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        code_verifier: login2.verifier,
      });
      expect(tokens.status).toBe(200);
      const claims = decodeJwt(tokens.body.access_token);
      expect(claims).toMatchObject({
        iss: hunan.issuer,
        aud: 'kuasheng-gateway',
        sub: 'hn-approval-officer-01',
        province: '430000',
        org: '湖南省政务服务和大数据中心',
        scope: 'household:read credit:read',
      });
      expect(typeof claims.jti).toBe('string');
      expect(tokens.body.refresh_token).toBeTruthy();

      const answer = await federation.query(NAME_ONLY, { id: PERSON.idNumber }, { authorization: `Bearer ${tokens.body.access_token}` });
      expect(answer.status).toBe(200);
      expect(answer.body.data?.person?.name).toBe(PERSON.name);

      const refreshed = await token(hunan, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: CONSOLE_CLIENT_ID });
      expect(refreshed.status).toBe(200);
      expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ sub: 'hn-approval-officer-01', province: '430000' });

      const endSession = new URL('/session/end', hunan.issuer);
      endSession.search = new URLSearchParams({
        id_token_hint: tokens.body.id_token,
        post_logout_redirect_uri: 'http://127.0.0.1:4000/console/',
      }).toString();
      const confirm = await browse(login2.jar, endSession);
      expect(confirm.status).toBe(200);
      const page = await confirm.text();
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1];
      const out = await browse(login2.jar, new URL('/session/end/confirm', hunan.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
      });
      expect(out.status).toBe(303);
      expect(out.headers.get('location')).toBe('http://127.0.0.1:4000/console/');
    });

    it('ends the flow with access_denied when the account may not hold a scope asked for', async () => {
      const result = (await logIn(providers.get('national')!, 'qh-notary', 'demo-notary', 'openid household:read')) as Login;
      expect(result.callback.searchParams.get('error')).toBe('access_denied');
    });

    it('gives a citizen their own ID number', async () => {
      const national = providers.get('national')!;
      const login = (await logIn(national, 'citizen-zhou', 'demo-citizen', 'openid profile')) as Login;
      const tokens = await token(national, {
        grant_type: 'authorization_code',
        code: login.callback.searchParams.get('code')!,
        client_id: CONSOLE_CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        code_verifier: login.verifier,
      });
      expect(decodeJwt(tokens.body.access_token)).toMatchObject({ id_number: '430102198503129119', aud: 'kuasheng-gateway' });
    });
  });

  describe('signing keys', () => {
    it('are kept private (0600), reused across restarts, and rotated on command with the previous key still published', async () => {
      const folder = join(dataDir, 'dev-idp', 'hunan');
      expect(statSync(join(folder, 'signing-keys.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'dev-idp', 'clients', 'hn-approval-system.private.jwk.json')).mode & 0o777).toBe(0o600);
      const kidsOf = async (p: RunningIdentityProvider) =>
        ((await (await fetch(p.jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      const before = await kidsOf(providers.get('hunan')!);

      const restarted = await startIdentityProvider({ name: 'hunan', dataDir, port: 0, logger: quietLogger() });
      try {
        expect(await kidsOf(restarted)).toEqual(before);
      } finally {
        await restarted.stop();
      }

      const kid = await rotateSigningKey(dataDir, 'hunan');
      const rotated = await startIdentityProvider({ name: 'hunan', dataDir, port: 0, logger: quietLogger() });
      try {
        expect(await kidsOf(rotated)).toEqual([kid, before[0]]);
        const issued = await requestClientCredentialsToken({
          issuer: rotated.issuer,
          clientId: 'hn-approval-system',
          privateKey: await ensureClientKey(dataDir, 'hn-approval-system'),
          scopes: ['household:read'],
        });
        expect(decodeProtectedHeader(issued.access_token).kid).toBe(kid);
      } finally {
        await rotated.stop();
      }
    });
  });

  describe('when a system asks with client credentials (private_key_jwt)', () => {
    const systemToken = async (name: IdentityProviderName, clientId: string, scopes: string[]) =>
      requestClientCredentialsToken({
        issuer: providers.get(name)!.issuer,
        clientId,
        privateKey: await ensureClientKey(dataDir, clientId),
        scopes,
      });

    it('issues a token the gateway accepts through the JWKS URL of its trust list', async () => {
      const issued = await systemToken('xizang', 'lasa-talent-office-01', ['household:read', 'credit:read']);
      expect(decodeProtectedHeader(issued.access_token).alg).toBe('ES256');
      expect(decodeJwt(issued.access_token)).toMatchObject({
        sub: 'lasa-talent-office-01',
        aud: 'kuasheng-gateway',
        province: '540000',
        matters: ['TB-HJ-004'],
        scope: 'household:read credit:read',
      });
      const answer = await federation.query(
        NAME_ONLY,
        { id: PERSON.idNumber },
        { authorization: `Bearer ${issued.access_token}`, 'x-matter-code': 'TB-HJ-004' },
      );
      expect(answer.status).toBe(200);
      expect(answer.body.data?.person?.name).toBe(PERSON.name);
    });

    it('refuses a scope the system is not registered for, and an assertion signed with another key', async () => {
      await expect(systemToken('national', 'qh-notary-system', ['household:read'])).rejects.toMatchObject({ error: 'invalid_scope' });
      const wrongKey = await ensureClientKey(dataDir, 'lasa-talent-office-01');
      await expect(
        requestClientCredentialsToken({
          issuer: providers.get('hunan')!.issuer,
          clientId: 'hn-approval-system',
          privateKey: wrongKey,
          scopes: ['household:read'],
        }),
      ).rejects.toBeInstanceOf(TokenRequestError);
    });

    it('is refused by a gateway whose trust list does not let that provider speak for its province', async () => {
      const trustList = writeProviderTrustList(join(dataDir, 'idp-trust-list-narrow.json'), { hunan: ['540000'] });
      const gateway = await federation.startGateway({ TRUST_LIST_FILE: trustList });
      const issued = await systemToken('hunan', 'hn-approval-system', ['household:read']);
      const answer = await postGraphQL(gateway.url, NAME_ONLY, { id: PERSON.idNumber }, { authorization: `Bearer ${issued.access_token}` });
      expect(answer.status).toBe(401);
      expect(answer.body.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'PROVINCE_NOT_ALLOWED' });
    });

    it('npm run token -- --via-idp prints a token from the provider that the gateway accepts', async () => {
      const xizang = providers.get('xizang')!;
      const run = await runToken(['--via-idp', '--client', 'lasa-talent-office-01', '--scope', 'household:read'], {
        DATA_DIR: dataDir,
        IDP_PORT_XIZANG: new URL(xizang.issuer).port,
      });
      expect(run.code, run.stderr).toBe(0);
      const issued = run.stdout.trim();
      expect(decodeJwt(issued)).toMatchObject({ iss: xizang.issuer, sub: 'lasa-talent-office-01', scope: 'household:read' });
      const answer = await federation.query(NAME_ONLY, { id: PERSON.idNumber }, { authorization: `Bearer ${issued}`, 'x-matter-code': 'TB-HJ-004' });
      expect(answer.body.data?.person?.name).toBe(PERSON.name);
    });

    it('is refused by a gateway of another audience', async () => {
      const gateway = await federation.startGateway({ TOKEN_AUDIENCE: 'another-gateway' });
      const issued = await systemToken('hunan', 'hn-approval-system', ['household:read']);
      const answer = await postGraphQL(gateway.url, NAME_ONLY, { id: PERSON.idNumber }, { authorization: `Bearer ${issued.access_token}` });
      expect(answer.status).toBe(401);
      expect(answer.body.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'AUDIENCE_MISMATCH' });
    });
  });
});
