import { readFileSync } from 'node:fs';
import { KeyObject, sign } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { ASSERTION_ALGORITHM } from './gateway-keys.js';

/**
 * The gateway's signed statement of who is asking (zero trust: subgraphs
 * never see the caller's bearer token, and refuse any request that does not
 * carry a valid assertion minted for them).
 */
export const ASSERTION_HEADER = 'x-gateway-assertion';
export const ASSERTION_ISSUER = 'kuasheng-gateway';
/** Short-lived: an assertion serves one request's subgraph fetches. */
export const ASSERTION_LIFETIME_SECONDS = 60;

export interface GatewayAssertion {
  /** The verified caller: `sub`, `org`, province, token issuer and id. */
  caller: { subject: string; organisation: string; province: string; issuer: string; tokenId: string };
  /** Effective scopes: the token's scopes intersected with the matter's. */
  scopes: readonly string[];
  matter: string | null;
  caseNumber: string | null;
  /**
   * The request that first needed this assertion. Optional: the gateway
   * reuses an assertion for the same caller, scopes, matter and case until
   * half its lifetime has passed; each fetch's own request id travels in
   * `x-request-id`.
   */
  requestId?: string;
}

/**
 * Signs assertions with the gateway's key; one per subgraph and request
 * (audience = subgraph name). The compact JWS is assembled here and signed
 * with node:crypto's synchronous Ed25519: about 45 µs against about 220 µs
 * through jose's WebCrypto path, and it is done for every subgraph fetch.
 * Subgraphs verify with jose, so the format stays standard (RFC 7515/8037).
 */
export function createAssertionSigner(signing: { key: CryptoKey | Uint8Array | KeyObject; kid: string }) {
  const key = signing.key instanceof KeyObject ? signing.key : KeyObject.from(signing.key as CryptoKey);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('the gateway signing key must be an Ed25519 private key');
  const header = Buffer.from(JSON.stringify({ alg: ASSERTION_ALGORITHM, kid: signing.kid, typ: 'gateway-assertion+jwt' })).toString('base64url');
  return (audience: string, assertion: GatewayAssertion): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ...assertion,
      iss: ASSERTION_ISSUER,
      aud: audience,
      sub: assertion.caller.subject,
      iat: now,
      exp: now + ASSERTION_LIFETIME_SECONDS,
    };
    const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signingInput}.${sign(null, Buffer.from(signingInput), key).toString('base64url')}`;
  };
}

export class AssertionError extends Error {
  constructor(readonly reason: 'ASSERTION_MISSING' | 'ASSERTION_INVALID') {
    super(reason === 'ASSERTION_MISSING' ? 'Requests must come through the gateway.' : 'The gateway assertion is not valid.');
    this.name = 'AssertionError';
  }
}

const RELOAD_COOLDOWN_MS = 10_000;

/** Verified assertions remembered (until they expire) per subgraph. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Verifies assertions addressed to one subgraph against the gateway's public
 * key set (a file). An unknown key id re-reads the file, at most every 10 s,
 * so a rotated gateway key is picked up without a restart. A verified
 * assertion is remembered until it expires (the gateway reuses one for the
 * same caller, scopes and matter for up to half its lifetime): a signature
 * check costs about 0.3 ms, a lookup about a microsecond.
 */
export function createAssertionVerifier(options: { jwksFile: string; audience: string; clockToleranceSeconds?: number }) {
  const verified = new Map<string, { claims: GatewayAssertion; expiresAt: number }>();
  let keys = createLocalJWKSet(JSON.parse(readFileSync(options.jwksFile, 'utf8')));
  let lastReload = 0; // a key rotated right after start must be picked up at once
  const verify = (token: string) =>
    jwtVerify(token, keys, {
      algorithms: [ASSERTION_ALGORITHM],
      issuer: ASSERTION_ISSUER,
      audience: options.audience,
      typ: 'gateway-assertion+jwt',
      maxTokenAge: ASSERTION_LIFETIME_SECONDS,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
  return async (header: string | undefined): Promise<GatewayAssertion> => {
    if (!header) throw new AssertionError('ASSERTION_MISSING');
    if (header.length > 8192) throw new AssertionError('ASSERTION_INVALID');
    const hit = verified.get(header);
    if (hit) {
      if (hit.expiresAt > Date.now()) return hit.claims;
      verified.delete(header);
    }
    let payload: JWTPayload;
    try {
      payload = (await verify(header)).payload;
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - lastReload < RELOAD_COOLDOWN_MS) {
        throw new AssertionError('ASSERTION_INVALID');
      }
      lastReload = Date.now();
      try {
        keys = createLocalJWKSet(JSON.parse(readFileSync(options.jwksFile, 'utf8')));
        payload = (await verify(header)).payload;
      } catch {
        throw new AssertionError('ASSERTION_INVALID');
      }
    }
    const claims = payload as unknown as GatewayAssertion;
    if (!claims.caller || !Array.isArray(claims.scopes)) {
      throw new AssertionError('ASSERTION_INVALID');
    }
    // Good until it expires, or its maximum age passes, whichever is first.
    const expiresAt = Math.min(Number(payload.exp), Number(payload.iat) + ASSERTION_LIFETIME_SECONDS) * 1000;
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(header, { claims, expiresAt });
    return claims;
  };
}
