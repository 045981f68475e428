import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/**
 * The gateway's own signing key, for the assertions it forwards to
 * subgraphs. Generated on first start into `<dataDir>/keys/` (git-ignored):
 * `gateway.private.jwk.json` (mode 0600) and `gateway.jwks.json`, the public
 * key set subgraphs verify against.
 *
 * Rotation: run `npm run keys:rotate-gateway` (adds a new key to the set
 * and signs with it from the next start); subgraphs re-read the key set when
 * they meet an unknown key id; remove the old public key a few minutes later.
 */
export const ASSERTION_ALGORITHM = 'EdDSA';

export function gatewayKeyFiles(dataDir: string) {
  const folder = join(dataDir, 'keys');
  return { folder, privateKey: join(folder, 'gateway.private.jwk.json'), jwks: join(folder, 'gateway.jwks.json') };
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}

async function newKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(ASSERTION_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const kid = `gateway-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ASSERTION_ALGORITHM, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ASSERTION_ALGORITHM, use: 'sig' };
  return { privateJwk, publicJwk };
}

/** Creates the gateway key pair when missing; returns the file paths. Idempotent. */
export async function ensureGatewayKeys(dataDir: string): Promise<ReturnType<typeof gatewayKeyFiles>> {
  const files = gatewayKeyFiles(dataDir);
  if (existsSync(files.privateKey) && existsSync(files.jwks)) return files;
  mkdirSync(files.folder, { recursive: true, mode: 0o700 });
  const { privateJwk, publicJwk } = await newKey();
  writeAtomically(files.jwks, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, 0o644);
  writeAtomically(files.privateKey, `${JSON.stringify(privateJwk)}\n`, 0o600);
  return files;
}

/** Adds a new key to the public set and makes it the signing key; the old public key stays for verification. */
export async function rotateGatewayKey(dataDir: string): Promise<string> {
  const files = await ensureGatewayKeys(dataDir);
  const jwks = JSON.parse(readFileSync(files.jwks, 'utf8')) as { keys: JWK[] };
  const { privateJwk, publicJwk } = await newKey();
  writeAtomically(files.jwks, `${JSON.stringify({ keys: [...jwks.keys, publicJwk] }, null, 2)}\n`, 0o644);
  writeAtomically(files.privateKey, `${JSON.stringify(privateJwk)}\n`, 0o600);
  return publicJwk.kid!;
}

/** Loads the gateway's current signing key. */
export async function loadGatewaySigningKey(dataDir: string): Promise<{ key: CryptoKey | Uint8Array; kid: string }> {
  const files = await ensureGatewayKeys(dataDir);
  const jwk = JSON.parse(readFileSync(files.privateKey, 'utf8')) as JWK;
  if (!jwk.kid || !jwk.d) throw new Error(`${files.privateKey} is not a private JWK with a kid`);
  return { key: (await importJWK(jwk, ASSERTION_ALGORITHM)) as CryptoKey, kid: jwk.kid };
}
