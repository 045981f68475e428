/**
 * A demo identity provider's signing keys: a private JWKS in
 * `<dataDir>/dev-idp/<name>/signing-keys.json` (mode 0600), created on first
 * start and reused after, so tokens and trust lists survive a restart.
 *
 * Rotation ({@link rotateSigningKey}) puts a new key first, which signs from
 * the next start on, and keeps the previous one published so the tokens it
 * signed stay verifiable until they expire; older keys are dropped.
 */
import { readOrCreateSecretJson } from '../secret-file.js';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** The algorithm of the demo providers' keys: allowed by every trust list the project writes. */
export const SIGNING_ALGORITHM = 'ES256';

/** Private keys, newest (the one that signs) first. */
export interface SigningKeySet {
  keys: JWK[];
}

/** The folder of one provider's files. */
export function providerFolder(dataDir: string, name: string): string {
  return join(dataDir, 'dev-idp', name);
}

function keyFile(dataDir: string, name: string): string {
  return join(providerFolder(dataDir, name), 'signing-keys.json');
}

/** Reads the provider's signing keys, creating the first one when there is none. */
export async function ensureSigningKeys(dataDir: string, name: string): Promise<SigningKeySet> {
  return readOrCreateSecretJson<SigningKeySet>(keyFile(dataDir, name), async () => ({ keys: [await newSigningKey()] }));
}

/**
 * Adds a new signing key in front and keeps only the one before it, which
 * stays published for the tokens it signed. A running provider picks the
 * new key up when restarted.
 * @returns the kid of the new key.
 */
export async function rotateSigningKey(dataDir: string, name: string): Promise<string> {
  const current = await ensureSigningKeys(dataDir, name);
  const key = await newSigningKey();
  const set: SigningKeySet = { keys: [key, current.keys[0]] };
  const file = keyFile(dataDir, name);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return key.kid as string;
}

/** The public half of a key set, as the provider's jwks_uri serves it. */
export function publicKeys(set: SigningKeySet): { keys: JWK[] } {
  return { keys: set.keys.map(({ kty, crv, x, y, kid, alg }) => ({ kty, crv, x, y, kid, alg, use: 'sig' })) };
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: SIGNING_ALGORITHM, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}
