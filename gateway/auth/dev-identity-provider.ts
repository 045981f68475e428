/**
 * Development identity providers: the demo issuers of the default trust list
 * (`config/trust-list.json`, entries with `"demo": true`), with Ed25519 keys
 * generated on first use into `<dataDir>/dev-idp/` (git-ignored):
 *
 *   <name>.private.jwk.json   private key, mode 0600: never commit, never ship
 *   <name>.jwks.json          public JWKS, what the trust list's jwksFile names
 *
 * `<name>` is the JWKS file name of the trust list entry without
 * `.jwks.json`: hunan, xizang, national. The committed trust list points at
 * `../data/dev-idp/`, i.e. the default data folder; with another data folder,
 * pass `jwksDir: <dataDir>/dev-idp` to `createAuthenticator`.
 *
 * For development and tests only: anyone with the data folder can mint tokens.
 */
import { readOrCreateSecretJson } from '../../common/secret-file.js';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** The committed default trust list, which names the development issuers. */
export const DEFAULT_TRUST_LIST_FILE = fileURLToPath(new URL('../../config/trust-list.json', import.meta.url));

/** The audience dev tokens carry unless told otherwise. */
export const DEV_AUDIENCE = 'kuasheng-gateway';

/** Names of the development issuers in the default trust list. */
export type DevIssuerName = 'hunan' | 'xizang' | 'national';

const ALGORITHM = 'EdDSA';
const JWKS_SUFFIX = '.jwks.json';

/** A development issuer with its generated key files. */
export interface DevIdentityProvider {
  name: string;
  issuer: string;
  provinces: readonly string[];
  kid: string;
  /** The public JWKS file. */
  jwksFile: string;
  /** The private key file (mode 0600). */
  privateKeyFile: string;
}

export interface DevIdentityProviderOptions {
  /** Trust list whose `"demo": true` issuers get keys. Default: the committed config/trust-list.json. */
  trustListFile?: string;
}

/**
 * Creates, where missing, an Ed25519 key pair per demo issuer of the trust
 * list, and (re)writes each public JWKS from its private key so the two never
 * disagree. Idempotent: existing private keys are kept.
 */
export async function ensureDevIdentityProviders(dataDir: string, options: DevIdentityProviderOptions = {}): Promise<DevIdentityProvider[]> {
  const dir = join(dataDir, 'dev-idp');
  const issuers = await demoIssuers(options.trustListFile ?? DEFAULT_TRUST_LIST_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const providers: DevIdentityProvider[] = [];
  for (const { name, issuer, provinces } of issuers) {
    const privateKeyFile = join(dir, `${name}.private.jwk.json`);
    const jwksFile = join(dir, `${name}${JWKS_SUFFIX}`);
    const privateJwk = await readOrCreatePrivateKey(privateKeyFile);
    const { d: _private, ...publicJwk } = privateJwk;
    const jwks = `${JSON.stringify({ keys: [{ ...publicJwk, use: 'sig' }] }, null, 2)}\n`;
    const current = await readFile(jwksFile, 'utf8').catch(() => undefined);
    if (current !== jwks) {
      const temporary = `${jwksFile}.${process.pid}.tmp`;
      await writeFile(temporary, jwks, { mode: 0o644 });
      await rename(temporary, jwksFile);
    }
    providers.push({ name, issuer, provinces, kid: privateJwk.kid as string, jwksFile, privateKeyFile });
  }
  return providers;
}

export interface MintDevTokenOptions {
  /** Data folder holding `dev-idp/`; keys are created there if missing. */
  dataDir: string;
  /** Which development issuer signs. */
  issuer: DevIssuerName;
  /** `province` claim, a 6-digit province-level code. Not checked against the issuer: tests need refused tokens too. */
  province: string;
  /** `scope` claim entries. */
  scopes: readonly string[];
  /** `sub`. Default `dev-officer-<issuer>`. */
  subject?: string;
  /** `org`. Default `dev-department-<province>`. */
  org?: string;
  /** Optional `matters` claim. */
  matters?: readonly string[];
  /** exp - iat, seconds. Default 3600. */
  lifetimeSeconds?: number;
  /** `aud`. Default {@link DEV_AUDIENCE}. */
  audience?: string;
  /** Trust list naming the demo issuers. Default: the committed config/trust-list.json. */
  trustListFile?: string;
}

/** Signs a development token with a random jti. Creates the development keys first if needed. */
export async function mintDevToken(options: MintDevTokenOptions): Promise<string> {
  const providers = await ensureDevIdentityProviders(options.dataDir, { trustListFile: options.trustListFile });
  const provider = providers.find((p) => p.name === options.issuer);
  if (provider === undefined) {
    throw new TypeError(`issuer must be one of ${providers.map((p) => p.name).join(', ')}, got ${JSON.stringify(options.issuer)}`);
  }
  if (!/^\d{6}$/.test(options.province)) throw new TypeError(`province must be a 6-digit code, got ${JSON.stringify(options.province)}`);
  const lifetime = options.lifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1) throw new TypeError(`lifetimeSeconds must be a positive integer, got ${lifetime}`);

  const privateJwk = JSON.parse(await readFile(provider.privateKeyFile, 'utf8')) as JWK;
  const key = await importJWK(privateJwk, ALGORITHM);
  const issuedAt = Math.floor(Date.now() / 1000);
  return new SignJWT({
    org: options.org ?? `dev-department-${options.province}`,
    province: options.province,
    scope: options.scopes.join(' '),
    ...(options.matters !== undefined && { matters: [...options.matters] }),
  })
    .setProtectedHeader({ alg: ALGORITHM, kid: provider.kid, typ: 'JWT' })
    .setIssuer(provider.issuer)
    .setSubject(options.subject ?? `dev-officer-${options.issuer}`)
    .setAudience(options.audience ?? DEV_AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetime)
    .sign(key);
}

interface DemoIssuer {
  name: string;
  issuer: string;
  provinces: readonly string[];
}

/**
 * The demo issuers of a trust list, named after their JWKS file. Only what
 * the keys need is read here; the gateway validates the whole trust list
 * when it loads it (and would refuse a demo issuer that is not allowed EdDSA).
 */
async function demoIssuers(trustListFile: string): Promise<DemoIssuer[]> {
  const raw = JSON.parse(await readFile(trustListFile, 'utf8')) as { issuers?: unknown };
  const entries = Array.isArray(raw.issuers) ? (raw.issuers as Record<string, unknown>[]) : [];
  const demos: DemoIssuer[] = [];
  for (const [index, entry] of entries.entries()) {
    // A demo issuer named by its JWKS URL is a running demo OpenID Connect provider (npm run idp), which keeps its own keys.
    if (entry?.demo !== true || entry.jwksUrl !== undefined) continue;
    const { issuer, jwksFile, provinces, algorithms } = entry;
    if (typeof issuer !== 'string' || typeof jwksFile !== 'string' || !jwksFile.endsWith(JWKS_SUFFIX)) {
      throw new TypeError(`${trustListFile} issuers[${index}]: a demo issuer needs an issuer and a jwksFile named <name>${JWKS_SUFFIX}`);
    }
    if (!Array.isArray(algorithms) || !algorithms.includes(ALGORITHM)) {
      throw new TypeError(`${trustListFile} issuers[${index}]: a demo issuer must allow ${ALGORITHM}, the algorithm of its development keys`);
    }
    demos.push({
      name: basename(jwksFile).slice(0, -JWKS_SUFFIX.length),
      issuer,
      provinces: Array.isArray(provinces) ? provinces.filter((p): p is string => typeof p === 'string') : [],
    });
  }
  return demos;
}

async function readOrCreatePrivateKey(file: string): Promise<JWK> {
  return readOrCreateSecretJson<JWK>(file, async () => {
    const { privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    return { ...jwk, alg: ALGORITHM, kid: await calculateJwkThumbprint(jwk) };
  });
}
