import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';

/** A signing key of a test identity provider. */
export interface ProviderKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Makes an ES256 key with a fresh kid. */
export async function makeProviderKey(kid = `es256-${randomUUID().slice(0, 8)}`): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * A real identity provider's JWKS endpoint on a loopback port, under the
 * test's control: which keys it publishes (rotation), whether it listens at
 * all (stop, start again on the same port), how slowly it answers, and how
 * many requests it has had.
 */
export interface JwksServer {
  /** e.g. http://127.0.0.1:41234/jwks.json; the same across stop and start. */
  readonly url: string;
  /** Requests answered or cut since it was made (or since `resetRequests`). */
  readonly requests: number;
  resetRequests(): void;
  /** The keys published from now on. */
  publish(keys: readonly ProviderKey[]): void;
  /** Each answer waits this long first, ms (0: at once). */
  delay(ms: number): void;
  /** Stops listening (connections refused) and cuts open connections. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Signs a token with `key`, with the claims the gateway requires unless overridden. */
  sign(key: ProviderKey, claims?: JWTPayload, header?: { kid?: string }): Promise<string>;
}

export interface JwksServerOptions {
  /** The `iss` of the tokens `sign` makes. */
  issuer: string;
  /** Keys published at first. Default none. */
  keys?: readonly ProviderKey[];
  /** Whether it listens at once. Default true; false reserves its port but refuses connections until `start`. */
  listening?: boolean;
}

/** Starts (or, with `listening: false`, only reserves a port for) a JWKS endpoint. */
export async function startJwksServer(options: JwksServerOptions): Promise<JwksServer> {
  let published: JSONWebKeySet = { keys: (options.keys ?? []).map((k) => k.publicJwk) };
  let requests = 0;
  let delayMs = 0;
  let server: Server | null = null;
  const listen = async (port: number): Promise<number> => {
    const http = createServer((request, response) => {
      requests += 1;
      const answer = () => {
        if (request.url !== '/jwks.json') {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(published));
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => resolve());
    });
    server = http;
    return (http.address() as AddressInfo).port;
  };
  const close = async () => {
    const http = server;
    server = null;
    if (http === null) return;
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  const port = await listen(0);
  if (options.listening === false) await close();
  const url = `http://127.0.0.1:${port}/jwks.json`;
  return {
    url,
    get requests() {
      return requests;
    },
    resetRequests() {
      requests = 0;
    },
    publish(keys) {
      published = { keys: keys.map((k) => k.publicJwk) };
    },
    delay(ms) {
      delayMs = ms;
    },
    stop: close,
    async start() {
      if (server === null) await listen(port);
    },
    sign(key, claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ org: 'test-org', province: '430000', scope: 'household:read', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: header.kid ?? key.kid })
        .setIssuer(options.issuer)
        .setAudience((claims.aud as string | undefined) ?? 'kuasheng-gateway')
        .setSubject((claims.sub as string | undefined) ?? 'test-client')
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey);
    },
  };
}
