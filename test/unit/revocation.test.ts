import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessOptionError,
  createAccessGuard,
  createRevocationList,
  parseRevokeTokenArguments,
  RevocationUnavailableError,
  RevokeTokenUsageError,
  type AccessGuard,
  type RevocationList,
} from '../../gateway/access/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Nothing listens on port 1: connections are refused at once. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const keyPrefix = `test:revocation:${randomUUID()}:`;
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

const admin = new Redis(REDIS_URL);
const closeAfterAll: Array<{ close(): Promise<void> }> = [];
const temporaryDirs: string[] = [];

function track<T extends { close(): Promise<void> }>(resource: T): T {
  closeAfterAll.push(resource);
  return resource;
}

function temporaryDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kuasheng-revocation-'));
  temporaryDirs.push(dir);
  return dir;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await Promise.all(closeAfterAll.map((resource) => resource.close()));
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await admin.quit();
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

describe('revocation', () => {
  describe('with Redis shared by two gateway replicas', () => {
    let replicaA: AccessGuard;
    let replicaB: AccessGuard;
    let listB: RevocationList;

    beforeAll(() => {
      replicaA = track(createAccessGuard({ redis: REDIS_URL, keyPrefix }));
      replicaB = track(createAccessGuard({ redis: REDIS_URL, keyPrefix }));
      listB = track(createRevocationList({ redis: REDIS_URL, keyPrefix }));
    });

    it('refuses a token on the other replica from its next request', async () => {
      const jti = randomUUID();
      expect((await replicaB.check(jti, 'iss|sub-a', '110000')).revoked).toBe(false);

      await replicaA.revoke(jti, inAnHour(), 'device lost');

      expect((await replicaB.check(jti, 'iss|sub-a', '110000')).revoked).toBe(true);
      expect(await listB.isRevoked(jti)).toBe(true);
    });

    it('spends no rate budget on a revoked token', async () => {
      const jti = randomUUID();
      const clientKey = `iss|${randomUUID()}`;
      await replicaA.revoke(jti, inAnHour());

      const { rate } = await replicaB.check(jti, clientKey, '110000');

      expect(rate.allowed).toBe(false);
      expect(rate.limitedBy).toBeUndefined();
      expect(await admin.exists(`${keyPrefix}rate:client:${clientKey}`)).toBe(0);
    });

    it('keeps the entry until the token expires plus the leeway, then forgets it', async () => {
      const jti = randomUUID();
      const exp = Math.floor(Date.now() / 1000) + 600;
      await replicaA.revoke(jti, exp);
      // Default leeway: 300 s beyond exp.
      expect(await admin.pexpiretime(`${keyPrefix}revoked:${jti}`)).toBe((exp + 300) * 1000);

      const shortLived = track(createRevocationList({ redis: REDIS_URL, keyPrefix, revocationLeewaySeconds: 0 }));
      const soon = randomUUID();
      const expiresAt = Date.now() / 1000 + 0.3;
      await shortLived.revoke(soon, expiresAt);
      expect(await listB.isRevoked(soon)).toBe(true);

      await sleep(expiresAt * 1000 - Date.now() + 50);
      expect(await listB.isRevoked(soon)).toBe(false);
    });

    it('never shortens an existing revocation', async () => {
      const jti = randomUUID();
      await replicaA.revoke(jti, inAnHour());
      await replicaB.revoke(jti, Math.floor(Date.now() / 1000) - 3600);
      expect(await listB.isRevoked(jti)).toBe(true);
    });

    it('stores nothing for a token that has already expired', async () => {
      const jti = randomUUID();
      await replicaA.revoke(jti, Math.floor(Date.now() / 1000) - 3600);
      expect(await admin.exists(`${keyPrefix}revoked:${jti}`)).toBe(0);
    });
  });

  describe('when Redis is configured but unreachable', () => {
    it('fails closed: REVOCATION_UNAVAILABLE within a second', async () => {
      const warnings: string[] = [];
      const guard = track(createAccessGuard({ redis: UNREACHABLE_REDIS_URL, keyPrefix, logger: { warn: (_obj, msg) => warnings.push(msg) } }));
      const list = track(createRevocationList({ redis: UNREACHABLE_REDIS_URL, keyPrefix }));
      const started = performance.now();

      const errors = await Promise.all([
        rejectionOf(guard.check(randomUUID(), 'iss|sub', '110000')),
        rejectionOf(guard.check(randomUUID(), 'iss|sub', '110000')),
        rejectionOf(list.isRevoked(randomUUID())),
        rejectionOf(list.revoke(randomUUID(), inAnHour())),
      ]);

      expect(performance.now() - started).toBeLessThan(1000);
      for (const error of errors) {
        expect(error).toBeInstanceOf(RevocationUnavailableError);
        expect((error as RevocationUnavailableError).code).toBe('REVOCATION_UNAVAILABLE');
      }
      // Throttled: one line for the outage, not one per request.
      expect(warnings).toHaveLength(1);
    });
  });

  describe('when Redis stops answering', () => {
    it('fails closed after the command timeout instead of hanging', async () => {
      const proxy = track(await startStallableProxy(6379));
      const guard = track(createAccessGuard({ redis: proxy.url, keyPrefix }));
      expect((await guard.check(randomUUID(), 'iss|sub', '110000')).revoked).toBe(false);

      proxy.stall();
      const started = performance.now();
      const error = await rejectionOf(guard.check(randomUUID(), 'iss|sub', '110000'));

      expect(error).toBeInstanceOf(RevocationUnavailableError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });

  describe('embedded list (no Redis)', () => {
    it('is seen at once by a second instance over the same file', async () => {
      const dataDir = temporaryDataDir();
      const gateway = track(createAccessGuard({ dataDir }));
      const operator = track(createRevocationList({ dataDir }));
      const jti = randomUUID();
      expect((await gateway.check(jti, 'iss|sub', '110000')).revoked).toBe(false);

      await operator.revoke(jti, inAnHour(), 'officer left the department');

      expect((await gateway.check(jti, 'iss|sub', '110000')).revoked).toBe(true);
    });

    it('forgets a revocation once the token has expired plus the leeway', async () => {
      let now = Date.UTC(2030, 0, 1);
      const clock = (): number => now;
      const dataDir = temporaryDataDir();
      const list = track(createRevocationList({ dataDir, now: clock, revocationLeewaySeconds: 60 }));
      const exp = now / 1000 + 10;
      await list.revoke('jti-1', exp);

      now = (exp + 59) * 1000;
      expect(await list.isRevoked('jti-1')).toBe(true);
      now = (exp + 60) * 1000;
      expect(await list.isRevoked('jti-1')).toBe(false);
    });

    it('never shortens an existing revocation', async () => {
      const list = track(createRevocationList({ dataDir: temporaryDataDir() }));
      await list.revoke('jti-2', inAnHour());
      await list.revoke('jti-2', Math.floor(Date.now() / 1000) + 1);
      expect(await list.isRevoked('jti-2')).toBe(true);
    });

    it.each([
      ['tokenId', () => ['', inAnHour()]],
      ['expiresAt', () => ['jti', Date.now()]],
      ['expiresAt', () => ['jti', Number.NaN]],
      ['reason', () => ['jti', inAnHour(), 'x'.repeat(501)]],
    ] as const)('rejects a bad %s, naming it', async (option, args) => {
      const list = track(createRevocationList({ dataDir: temporaryDataDir() }));
      const [tokenId, expiresAt, reason] = args() as unknown as [string, number, string?];
      const error = await rejectionOf(list.revoke(tokenId, expiresAt, reason));
      expect(error).toBeInstanceOf(AccessOptionError);
      expect((error as AccessOptionError).option).toBe(option);
    });
  });

  describe('revoke-token CLI', () => {
    it('revokes into the embedded list that a running gateway reads', async () => {
      const dataDir = temporaryDataDir();
      const gateway = track(createAccessGuard({ dataDir }));
      const jti = randomUUID();
      expect((await gateway.check(jti, 'iss|sub', '110000')).revoked).toBe(false);

      const run = await runCli([jti, '--expires-at', new Date(inAnHour() * 1000).toISOString(), '--reason', '泄露'], { DATA_DIR: dataDir });

      expect(run.code).toBe(0);
      expect((await gateway.check(jti, 'iss|sub', '110000')).revoked).toBe(true);
    });

    it('revokes into Redis when REDIS_URL is set', async () => {
      const guard = track(createAccessGuard({ redis: REDIS_URL, keyPrefix }));
      const jti = randomUUID();

      const run = await runCli([jti, '--expires-at', String(inAnHour())], { REDIS_URL, REDIS_KEY_PREFIX: keyPrefix });

      expect(run.code).toBe(0);
      expect((await guard.check(jti, 'iss|sub', '110000')).revoked).toBe(true);
    });

    it('exits 2 naming the bad argument', async () => {
      const run = await runCli(['jti-1', '--expires-at', 'tomorrow'], { DATA_DIR: temporaryDataDir() });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--expires-at');
    });

    it.each([
      [['--expires-at', '2030-01-01'], '<jti>'],
      [['jti-1', 'jti-2', '--expires-at', '2030-01-01'], '<jti>'],
      [['jti-1'], '--expires-at'],
      [['jti-1', '--expires-at', 'tomorrow'], '--expires-at'],
      [['jti-1', '--expires-at', '2030-01-01 12:00'], '--expires-at'],
      [['jti-1', '--expires-at', String(Date.now())], '--expires-at'],
      [['jti-1', '--expires-at', '2030-01-01', '--reason', 'x'.repeat(501)], '--reason'],
      [['jti-1', '--expires-at', '2030-01-01', '--force'], 'arguments'],
    ])('refuses %j, naming %s', (argv, argument) => {
      let error: unknown;
      try {
        parseRevokeTokenArguments(argv);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RevokeTokenUsageError);
      expect((error as RevokeTokenUsageError).argument).toBe(argument);
    });

    it.each([
      ['1893456000', 1_893_456_000],
      ['2030-01-01', 1_893_456_000],
      ['2030-01-01T08:00:00+08:00', 1_893_456_000],
    ])('reads --expires-at %s as epoch seconds', (raw, seconds) => {
      expect(parseRevokeTokenArguments(['jti-1', '--expires-at', raw])).toEqual({
        tokenId: 'jti-1',
        expiresAt: seconds,
        reason: undefined,
        source: 'arguments',
      });
      expect(parseRevokeTokenArguments(['--jti', 'jti-1', '--expires-at', raw])).toMatchObject({ tokenId: 'jti-1', expiresAt: seconds });
    });

    describe('when given the token itself', () => {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const jwt = (claims: Record<string, unknown>) => `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;

      it('reads jti and exp from it, without its key', () => {
        expect(parseRevokeTokenArguments([jwt({ jti: 'jti-7', exp: 1_893_456_000 }), '--reason', 'leaked'])).toEqual({
          tokenId: 'jti-7',
          expiresAt: 1_893_456_000,
          reason: 'leaked',
          source: 'token',
        });
      });

      it('takes an expired token (the script reports it and stores nothing)', () => {
        expect(parseRevokeTokenArguments([jwt({ jti: 'jti-8', exp: 1_000_000_000 })])).toMatchObject({ expiresAt: 1_000_000_000, source: 'token' });
      });

      it.each([
        ['without jti', [jwt({ exp: 1_893_456_000 })], '<token>'],
        ['without exp', [jwt({ jti: 'jti-9' })], '<token>'],
        ['with exp in milliseconds', [jwt({ jti: 'jti-9', exp: 1_893_456_000_000 })], '<token>'],
        ['whose parts are not base64url JSON', ['abc.def.ghi'], '<token>'],
        ['with --expires-at besides', [jwt({ jti: 'jti-9', exp: 1_893_456_000 }), '--expires-at', '2030-01-01'], '--expires-at'],
      ])('refuses a token %s, naming %s', (_case, argv, argument) => {
        let error: unknown;
        try {
          parseRevokeTokenArguments(argv);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(RevokeTokenUsageError);
        expect((error as RevokeTokenUsageError).argument).toBe(argument);
      });
    });

    describe('when given a jti and --expires-at', () => {
      it.each([
        ['an hour ago', () => new Date(Date.now() - 3_600_000).toISOString()],
        ['a second ago, in epoch seconds', () => String(Math.floor(Date.now() / 1000) - 1)],
        ['a date already past', () => '2020-01-01'],
      ])('refuses an expiry %s: the token may well still be accepted', (_case, expiresAt) => {
        let error: unknown;
        try {
          parseRevokeTokenArguments(['--jti', 'jti-1', '--expires-at', expiresAt()]);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(RevokeTokenUsageError);
        expect((error as RevokeTokenUsageError).argument).toBe('--expires-at');
        expect((error as Error).message).toContain('in the past');
      });

      it('refuses --jti together with a positional token or jti', () => {
        expect(() => parseRevokeTokenArguments(['jti-1', '--jti', 'jti-2', '--expires-at', '2030-01-01'])).toThrow(RevokeTokenUsageError);
      });
    });
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { REDIS_URL: _inherited, ...parentEnv } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/revoke-token.ts', ...args], {
      cwd: ROOT,
      env: { ...parentEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * A TCP relay to the real Redis that can be told to stop relaying, which is
 * what a Redis stuck on a slow command or a network partition looks like to
 * the gateway. (A global `DEBUG SLEEP` would stall every other test.)
 */
async function startStallableProxy(redisPort: number): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
    client.on('data', (chunk) => stalled || upstream.write(chunk));
    upstream.on('data', (chunk) => stalled || client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stall: () => {
      stalled = true;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
