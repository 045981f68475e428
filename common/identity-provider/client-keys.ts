/**
 * The demo systems' own key pairs, with which they authenticate to their
 * provider (`private_key_jwt`): `<dataDir>/dev-idp/clients/<client id>.private.jwk.json`,
 * mode 0600, created on first use. The provider registers the public half.
 */
import { readOrCreateSecretJson } from '../secret-file.js';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { SIGNING_ALGORITHM } from './signing-keys.js';

/** The private key file of a demo system. */
export function clientKeyFile(dataDir: string, clientId: string): string {
  return join(dataDir, 'dev-idp', 'clients', `${clientId}.private.jwk.json`);
}

/** Reads the system's private key, creating it when missing. */
export async function ensureClientKey(dataDir: string, clientId: string): Promise<JWK> {
  return readOrCreateSecretJson<JWK>(clientKeyFile(dataDir, clientId), async () => {
    const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const jwk = await exportJWK(privateKey);
    return { ...jwk, alg: SIGNING_ALGORITHM, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
  });
}

/** The public half of a private JWK. */
export function publicClientKey({ kty, crv, x, y, kid, alg }: JWK): JWK {
  return { kty, crv, x, y, kid, alg, use: 'sig' };
}
