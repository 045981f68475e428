/**
 * The client side of the client credentials grant with `private_key_jwt`:
 * what a province's approval system does to get an access token for the
 * gateway. Used by `npm run token -- --via-idp` and the tests.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

export interface ClientCredentialsRequest {
  /** The provider's issuer URL; its discovery document names the token endpoint. */
  issuer: string;
  clientId: string;
  /** The system's private key, registered with the provider. */
  privateKey: JWK;
  scopes: readonly string[];
  /** Resource indicator of the gateway; default: the provider's default resource. */
  resource?: string;
}

/** The token endpoint's answer. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** An error answer of the token endpoint (`error` is the OAuth error code). */
export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string | undefined,
  ) {
    super(`token endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`);
    this.name = 'TokenRequestError';
  }
}

/**
 * Asks the provider for an access token with client credentials.
 * @throws {TokenRequestError} when the provider refuses.
 */
export async function requestClientCredentialsToken(request: ClientCredentialsRequest): Promise<TokenResponse> {
  const discovery = (await (await fetch(new URL('/.well-known/openid-configuration', request.issuer))).json()) as { token_endpoint: string };
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: request.privateKey.alg ?? 'ES256', kid: request.privateKey.kid })
    .setIssuer(request.clientId)
    .setSubject(request.clientId)
    .setAudience(request.issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(await importJWK(request.privateKey, request.privateKey.alg ?? 'ES256'));
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: request.scopes.join(' '),
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  if (request.resource !== undefined) form.set('resource', request.resource);
  const response = await fetch(discovery.token_endpoint, { method: 'POST', body: form });
  const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!response.ok) throw new TokenRequestError(response.status, body.error ?? 'unknown_error', body.error_description);
  return body;
}
