import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVINCES } from '../../common/regions.js';
import { ensureDevIdentityProviders, mintDevToken, type DevIssuerName } from '../../gateway/auth/dev-identity-provider.js';

/** Every data scope: what an officer handling a broad matter might hold. */
export const ALL_READ_SCOPES = ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read'];

/**
 * A trust list for tests inside a temporary data folder: the three demo
 * identity providers, with keys generated there (never the developer's own
 * data/). Returns the trust list path.
 */
export async function writeTestTrustList(dataDir: string): Promise<string> {
  const file = join(dataDir, 'trust-list.json');
  const issuer = (name: string, provinces: string[]) => ({
    issuer: `https://idp.${name}.test.kuasheng.local`,
    name: `${name} test IdP`,
    provinces,
    jwksFile: `dev-idp/${name}.jwks.json`,
    algorithms: ['EdDSA', 'ES256'],
    demo: true,
  });
  writeFileSync(
    file,
    JSON.stringify({
      issuers: [
        issuer('hunan', ['430000']),
        issuer('xizang', ['540000']),
        issuer(
          'national',
          PROVINCES.map((p) => p.code),
        ),
      ],
    }),
  );
  await ensureDevIdentityProviders(dataDir, { trustListFile: file });
  return file;
}

export interface TestTokenOptions {
  scopes?: readonly string[];
  issuer?: DevIssuerName;
  province?: string;
  matters?: readonly string[];
  subject?: string;
  lifetimeSeconds?: number;
  audience?: string;
}

/** Mints a token from a test IdP; defaults: national IdP, Tibet (540000), all read scopes. */
export function testToken(dataDir: string, options: TestTokenOptions = {}): Promise<string> {
  return mintDevToken({
    dataDir,
    trustListFile: join(dataDir, 'trust-list.json'),
    issuer: options.issuer ?? 'national',
    province: options.province ?? '540000',
    scopes: options.scopes ?? ALL_READ_SCOPES,
    matters: options.matters,
    subject: options.subject,
    lifetimeSeconds: options.lifetimeSeconds,
    audience: options.audience,
  });
}
