/**
 * A demo provincial identity provider: a real OpenID Connect provider
 * (oidc-provider) on its own port, issuer `http://127.0.0.1:<port>`, with
 * discovery, a JWKS of its own keys (`signing-keys.ts`), the authorization
 * code flow with PKCE for people (the login page of `login-page.ts`), client
 * credentials with `private_key_jwt` for systems, JWT access tokens for the
 * gateway carrying the project's claims, refresh tokens for the console and
 * logout. Sessions and grants live in memory: a restart logs everyone out.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import Provider, { errors, type ProviderContext } from 'oidc-provider';
import { ensureClientKey, publicClientKey } from './client-keys.js';
import {
  CONSOLE_CLIENT_ID,
  consoleRedirects,
  DEMO_ACCOUNTS,
  DEMO_SYSTEM_CLIENTS,
  PROVIDER_PROFILES,
  type DemoAccount,
  type DemoSystemClient,
  type IdentityProviderName,
} from './directory.js';
import { loggedOutPage, loginPage, logoutPage } from './login-page.js';
import { ensureSigningKeys, SIGNING_ALGORITHM } from './signing-keys.js';

/** Every scope the gateway knows: what a token for it may carry. */
const GATEWAY_SCOPES = [
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
];

export interface IdentityProviderOptions {
  name: IdentityProviderName;
  /** Holds `dev-idp/<name>/` (signing keys) and `dev-idp/clients/` (the systems' keys). */
  dataDir: string;
  /** Port; 0 picks a free one. Default: the provider's own (4101 Hunan, 4102 Tibet, 4103 national). */
  port?: number;
  /** The `aud` of its access tokens: the gateway's TOKEN_AUDIENCE. Default `kuasheng-gateway`. */
  audience?: string;
  /** The gateway's origin: the resource indicator of its tokens, and where the console's redirect URIs are. Default `http://127.0.0.1:4000`. */
  gatewayOrigin?: string;
  /** Lifetime of access tokens, seconds; at most the gateway's maximum. Default 900. */
  accessTokenLifetimeSeconds?: number;
  logger: Logger;
}

export interface RunningIdentityProvider {
  name: IdentityProviderName;
  /** `http://127.0.0.1:<port>`: its issuer and base URL. */
  issuer: string;
  /** What a trust list's `jwksUrl` names. */
  jwksUrl: string;
  /** The resource indicator of the gateway (its origin). */
  resource: string;
  stop(): Promise<void>;
}

/** Starts a demo identity provider; resolves once it listens. */
export async function startIdentityProvider(options: IdentityProviderOptions): Promise<RunningIdentityProvider> {
  const profile = PROVIDER_PROFILES[options.name];
  const audience = options.audience ?? 'kuasheng-gateway';
  const resource = new URL(options.gatewayOrigin ?? 'http://127.0.0.1:4000').origin;
  const lifetime = options.accessTokenLifetimeSeconds ?? 900;
  const logger = options.logger.child({ idp: options.name });
  const accounts = new Map(DEMO_ACCOUNTS.filter((a) => a.provider === options.name).map((a) => [a.subject, a]));
  const systems = new Map(DEMO_SYSTEM_CLIENTS.filter((c) => c.provider === options.name).map((c) => [c.clientId, c]));
  const signingKeys = await ensureSigningKeys(options.dataDir, options.name);

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? profile.port, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirects = consoleRedirects(resource);

  const clients: Record<string, unknown>[] = [];
  for (const system of systems.values()) {
    const key = await ensureClientKey(options.dataDir, system.clientId);
    clients.push({
      client_id: system.clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: SIGNING_ALGORITHM,
      jwks: { keys: [publicClientKey(key)] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: system.scopes.join(' '),
    });
  }
  clients.push({
    client_id: CONSOLE_CLIENT_ID,
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirects.redirectUri],
    post_logout_redirect_uris: [redirects.postLogoutRedirectUri],
    scope: ['openid', 'profile', 'offline_access', ...GATEWAY_SCOPES].join(' '),
  });

  const provider = new Provider(issuer, {
    clients,
    clientDefaults: { id_token_signed_response_alg: SIGNING_ALGORITHM },
    jwks: { keys: signingKeys.keys },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'offline_access', ...GATEWAY_SCOPES],
    claims: { openid: ['sub'], profile: ['name', 'province', 'org', 'id_number'] },
    async findAccount(_ctx: unknown, subject: string) {
      const account = accounts.get(subject);
      if (account === undefined) return undefined;
      return { accountId: subject, claims: () => ({ sub: subject, ...personClaims(account), name: account.displayName }) };
    },
    // Every access token is for the gateway; the person's claims go in it, not only in the ID token.
    async extraTokenClaims(_ctx: unknown, token: { kind: string; clientId: string; accountId?: string }) {
      if (token.kind === 'ClientCredentials') {
        const system = systems.get(token.clientId);
        return system === undefined ? undefined : systemClaims(system);
      }
      const account = token.accountId === undefined ? undefined : accounts.get(token.accountId);
      return account === undefined ? undefined : personClaims(account);
    },
    // First-party console: no consent page. A person is granted the scopes of their account, nothing more;
    // asking for others ends the flow with access_denied (see the consent prompt below).
    async loadExistingGrant(ctx: ProviderContext) {
      const accountId = ctx.oidc.session.accountId ?? '';
      const account = accounts.get(accountId);
      if (account === undefined) return undefined;
      const grant = new provider.Grant({ accountId, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      if (account.scopes.length > 0) grant.addResourceScope(resource, account.scopes.join(' '));
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: ProviderContext, form: string) => {
          ctx.body = logoutPage(profile.title, form);
        },
        postLogoutSuccessSource: async (ctx: ProviderContext) => {
          ctx.body = loggedOutPage(profile.title);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx: unknown, indicator: string) {
          if (indicator !== resource) throw new errors.InvalidTarget(`the only resource is the gateway, ${resource}`);
          return {
            scope: GATEWAY_SCOPES.join(' '),
            audience,
            accessTokenTTL: lifetime,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALGORITHM } },
          };
        },
      },
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: lifetime,
      ClientCredentials: lifetime,
      AuthorizationCode: 60,
      IdToken: lifetime,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      RefreshToken: 8 * 3600,
    },
    renderError(ctx: ProviderContext, out: Record<string, string>) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (_ctx: unknown, error: Error) => logger.error({ err: error }, 'identity provider error'));
  const oidc = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const uid = details.uid;
    const clientId = String(details.params.client_id ?? '');
    if (path === `/interaction/${uid}/abort`) {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the person cancelled the login' });
    }
    if (details.prompt.name === 'consent') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'the account may not hold every scope asked for',
      });
    }
    const form = { title: profile.title, action: `/interaction/${uid}/login`, abort: `/interaction/${uid}/abort`, clientId };
    if (req.method === 'POST' && path === `/interaction/${uid}/login`) {
      const fields = new URLSearchParams(await readBody(req));
      const username = fields.get('username') ?? '';
      const account = [...accounts.values()].find((a) => a.username === username && a.password === fields.get('password'));
      if (account === undefined) {
        logger.info({ username }, 'login refused');
        return send(res, 401, loginPage({ ...form, username, error: '用户名或密码错误。' }));
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.subject } }, { mergeWithLastSubmission: false });
    }
    send(res, 200, loginPage(form));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (!path.startsWith('/interaction/')) return oidc(req, res);
    interaction(req, res, path).catch((error: Error) => {
      logger.warn({ err: error }, 'interaction failed');
      if (!res.headersSent)
        send(res, 400, loginPage({ title: profile.title, action: '#', abort: '/', clientId: '', error: '登录会话已失效，请从应用重新登录。' }));
    });
  });

  return {
    name: options.name,
    issuer,
    jwksUrl: `${issuer}/jwks`,
    resource,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function personClaims(account: DemoAccount): Record<string, unknown> {
  return { province: account.province, org: account.org, ...(account.idNumber !== undefined && { id_number: account.idNumber }) };
}

function systemClaims(system: DemoSystemClient): Record<string, unknown> {
  return { province: system.province, org: system.org, ...(system.matters !== undefined && { matters: [...system.matters] }) };
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const MAX_FORM_BYTES = 4096;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_FORM_BYTES) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
