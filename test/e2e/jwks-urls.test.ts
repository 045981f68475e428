import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { gatewayEnvironment, postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { testToken } from '../support/identity.js';
import { makeProviderKey, startJwksServer, type JwksServer, type ProviderKey } from '../support/jwks-server.js';

/** An identity provider whose keys the gateway reads from its JWKS URL; trusted for Hunan only. */
const REMOTE = 'https://idp.remote.test.kuasheng.local';
const COOLDOWN_MS = 1000;
/** Any query: these tests are about who may ask, not what. */
const ANY_QUERY = '{ __typename }';

let dataDir: string;
let federation: TestFederation;
let provider: JwksServer;
let firstKey: ProviderKey;
const gateways: RunningGateway[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A copy of the test trust list with `issuers` added; returns its path. */
function trustListWith(name: string, issuers: { issuer: string; jwksUrl: string; provinces: string[] }[]): string {
  const base = JSON.parse(readFileSync(join(dataDir, 'trust-list.json'), 'utf8')) as { issuers: unknown[] };
  const file = join(dataDir, `${name}.json`);
  const added = issuers.map((i) => ({ ...i, name: `${i.issuer} (JWKS URL)`, algorithms: ['ES256'] }));
  writeFileSync(file, JSON.stringify({ issuers: [...base.issuers, ...added] }));
  return file;
}

/** Status and reason of one request to `url` with `token`. */
async function outcome(url: string, token: string): Promise<{ status: number; reason?: string }> {
  const { status, body } = await postGraphQL(url, ANY_QUERY, undefined, { authorization: `Bearer ${token}` });
  const reason = body.errors?.[0]?.extensions?.reason as string | undefined;
  return reason === undefined ? { status } : { status, reason };
}

/** Another gateway over the federation, with its own settings and a log the test reads. */
async function startOwnGateway(env: NodeJS.ProcessEnv) {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  const config = loadGatewayConfig(gatewayEnvironment(federation, { GATEWAY_REPLICA_ID: `jwks-${gateways.length + 2}`, ...env }));
  const gateway = await startGateway({ config, logger: createLogger({ name: 'gateway', level: 'info', destination: sink }) });
  gateways.push(gateway);
  return { gateway, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

beforeAll(async () => {
  dataDir = await seedTemporaryData(50);
  firstKey = await makeProviderKey();
  provider = await startJwksServer({ issuer: REMOTE, keys: [firstKey] });
  const trustListFile = trustListWith('trust-list-remote', [{ issuer: REMOTE, jwksUrl: provider.url, provinces: ['430000'] }]);
  federation = await startTestFederation({
    dataDir,
    env: { TRUST_LIST_FILE: trustListFile, JWKS_COOLDOWN_MS: String(COOLDOWN_MS), JWKS_CACHE_MAX_AGE_MS: '600000' },
  });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await federation?.stop();
  await provider?.stop();
  if (dataDir) removeData(dataDir);
});

describe('identity provider keys from a JWKS URL', () => {
  it('verifies a token signed with a key the provider publishes', async () => {
    expect(await outcome(federation.gatewayUrl, await provider.sign(firstKey))).toEqual({ status: 200 });
  });

  it('picks up a key the provider has rotated to, without a restart, with one fetch', async () => {
    const next = await makeProviderKey();
    provider.publish([firstKey, next]);
    await sleep(COOLDOWN_MS + 100);
    provider.resetRequests();
    expect(await outcome(federation.gatewayUrl, await provider.sign(next))).toEqual({ status: 200 });
    expect(await outcome(federation.gatewayUrl, await provider.sign(next))).toEqual({ status: 200 });
    expect(provider.requests).toBe(1);
    provider.publish([firstKey]);
  });

  it('refetches the key set for an unknown kid at most once per cooldown', async () => {
    await sleep(COOLDOWN_MS + 100);
    provider.resetRequests();
    // Signed first and sent at once: all within one cooldown, however slow the machine.
    const tokens = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.sign(firstKey, {}, { kid: `unknown-${i}` })));
    const outcomes = await Promise.all(tokens.map((token) => outcome(federation.gatewayUrl, token)));
    expect(outcomes).toEqual(tokens.map(() => ({ status: 401, reason: 'KEY_UNKNOWN' })));
    expect(provider.requests).toBe(1);
    await sleep(COOLDOWN_MS + 100);
    expect(await outcome(federation.gatewayUrl, await provider.sign(firstKey, {}, { kid: 'unknown-later' }))).toMatchObject({ status: 401 });
    expect(provider.requests).toBe(2);
  });

  describe('when the provider is down', () => {
    it('keeps verifying with the keys last fetched past their cache age, for at most JWKS_MAX_STALE_MS, and logs the outage once', async () => {
      const maxStaleMs = 5000;
      const { gateway, lines } = await startOwnGateway({
        TRUST_LIST_FILE: join(dataDir, 'trust-list-remote.json'),
        JWKS_CACHE_MAX_AGE_MS: '1000',
        JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
        JWKS_MAX_STALE_MS: String(maxStaleMs),
      });
      expect(await outcome(gateway.url, await provider.sign(firstKey))).toEqual({ status: 200 });
      const fetchedBy = Date.now();
      await provider.stop();
      try {
        await sleep(1200); // the cache is older than JWKS_CACHE_MAX_AGE_MS: jose alone would refetch, fail and refuse
        for (let i = 0; i < 3; i++) {
          expect(await outcome(gateway.url, await provider.sign(firstKey))).toEqual({ status: 200 });
          await sleep(100);
        }
        await sleep(Math.max(0, fetchedBy + maxStaleMs + 100 - Date.now()));
        expect(await outcome(gateway.url, await provider.sign(firstKey))).toEqual({ status: 401, reason: 'KEY_UNKNOWN' });
        expect(await outcome(gateway.url, await provider.sign(firstKey))).toEqual({ status: 401, reason: 'KEY_UNKNOWN' });
      } finally {
        await provider.start();
      }
      await sleep(COOLDOWN_MS + 100);
      expect(await outcome(gateway.url, await provider.sign(firstKey))).toEqual({ status: 200 });

      const outageLines = lines().filter((line) => line.outage === 'identity-provider-keys');
      expect(outageLines.map((line) => line.event)).toEqual(['began', 'ended']);
      expect(outageLines[0]).toMatchObject({ level: 40, issuer: REMOTE, reason: expect.stringMatching(/ECONNREFUSED/) });
      expect(JSON.stringify(outageLines)).not.toMatch(/stack|\n\s+at /);
      expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
    });

    it('starts without it, serves the other issuers, and fetches its keys in the background once it answers', async () => {
      const late = 'https://idp.late.test.kuasheng.local';
      const lateKey = await makeProviderKey();
      const lateProvider = await startJwksServer({ issuer: late, keys: [lateKey], listening: false });
      try {
        const { gateway } = await startOwnGateway({
          TRUST_LIST_FILE: trustListWith('trust-list-late', [{ issuer: late, jwksUrl: lateProvider.url, provinces: ['430000'] }]),
          JWKS_COOLDOWN_MS: '1000',
        });
        expect(await outcome(gateway.url, await lateProvider.sign(lateKey))).toEqual({ status: 401, reason: 'KEY_UNKNOWN' });
        expect(await outcome(gateway.url, await testToken(dataDir))).toEqual({ status: 200 });

        await lateProvider.start();
        // No token of its is presented: the gateway retries on its own.
        const deadline = Date.now() + 5000;
        while (lateProvider.requests === 0 && Date.now() < deadline) await sleep(50);
        expect(lateProvider.requests).toBeGreaterThan(0);
        await sleep(100);
        const requestsBefore = lateProvider.requests;
        expect(await outcome(gateway.url, await lateProvider.sign(lateKey))).toEqual({ status: 200 });
        expect(lateProvider.requests).toBe(requestsBefore);
      } finally {
        await lateProvider.stop();
      }
    });

    it('starts at once while the provider is slow to answer', async () => {
      const slow = 'https://idp.slow.test.kuasheng.local';
      const slowKey = await makeProviderKey();
      const slowProvider = await startJwksServer({ issuer: slow, keys: [slowKey] });
      slowProvider.delay(4000);
      try {
        const startedAt = Date.now();
        const { gateway } = await startOwnGateway({
          TRUST_LIST_FILE: trustListWith('trust-list-slow', [{ issuer: slow, jwksUrl: slowProvider.url, provinces: ['430000'] }]),
          JWKS_TIMEOUT_MS: '5000',
        });
        expect(await outcome(gateway.url, await testToken(dataDir))).toEqual({ status: 200 });
        expect(Date.now() - startedAt).toBeLessThan(4000);
        // Its own tokens wait for the fetch already in flight, not for another one.
        expect(await outcome(gateway.url, await slowProvider.sign(slowKey))).toEqual({ status: 200 });
        expect(slowProvider.requests).toBe(1);
      } finally {
        await slowProvider.stop();
      }
    });
  });

  describe('refuses, with 401 UNAUTHENTICATED and a reason,', () => {
    it('a token for another audience', async () => {
      expect(await outcome(federation.gatewayUrl, await provider.sign(firstKey, { aud: 'someone-else' }))).toEqual({
        status: 401,
        reason: 'AUDIENCE_MISMATCH',
      });
    });

    it('a token for a province its issuer is not trusted for', async () => {
      expect(await outcome(federation.gatewayUrl, await provider.sign(firstKey, { province: '540000' }))).toEqual({
        status: 401,
        reason: 'PROVINCE_NOT_ALLOWED',
      });
    });

    it('a token whose issuer is not in the trust list, though signed by a published key', async () => {
      const stranger = await startJwksServer({ issuer: 'https://idp.stranger.test.kuasheng.local', keys: [firstKey], listening: false });
      expect(await outcome(federation.gatewayUrl, await stranger.sign(firstKey))).toEqual({ status: 401, reason: 'ISSUER_UNTRUSTED' });
    });
  });
});
