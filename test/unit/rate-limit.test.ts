import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AccessOptionError,
  createAccessGuard,
  createInProcessRateLimiter,
  createRateLimiter,
  DEFAULT_RATE_LIMITS,
  normalizeRateLimitOptions,
  type RateLimiter,
  type RateLimitSettings,
} from '../../gateway/access/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Nothing listens on port 1: connections are refused at once. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';
const keyPrefix = `test:rate-limit:${randomUUID()}:`;

const admin = new Redis(REDIS_URL);
const closeAfterAll: Array<{ close(): Promise<void> }> = [];

function track<T extends { close(): Promise<void> }>(resource: T): T {
  closeAfterAll.push(resource);
  return resource;
}

/** Fresh client and province names per test, so tests sharing Redis never share budgets. */
function names(): { client: (name: string) => string; province: (code: string) => string } {
  const run = randomUUID();
  return { client: (name) => `https://idp.example.cn|${name}-${run}`, province: (code) => `${code}-${run}` };
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
});

describe('rate limit options', () => {
  it('fills the documented defaults, in cost units: 10 000 per 60 s per client, 300 000 per 60 s per province', () => {
    expect(normalizeRateLimitOptions()).toEqual({
      perClient: { limit: 10_000, windowSeconds: 60 },
      perProvince: { limit: 300_000, windowSeconds: 60 },
    });
    expect(normalizeRateLimitOptions({ perClient: { limit: 5 } }).perClient).toEqual({ limit: 5, windowSeconds: 60 });
    expect(DEFAULT_RATE_LIMITS.perProvince.limit).toBe(300_000);
  });

  it.each([
    ['rateLimits.perClient.limit', { perClient: { limit: 0 } }],
    ['rateLimits.perClient.limit', { perClient: { limit: 2.5 } }],
    ['rateLimits.perClient.windowSeconds', { perClient: { windowSeconds: 0 } }],
    ['rateLimits.perProvince.windowSeconds', { perProvince: { windowSeconds: 90_000 } }],
    ['rateLimits.perProvince.limit', { perProvince: { limit: 5_000_000, windowSeconds: 60 } }],
    ['rateLimits.perProvince', { perProvince: 'lots' }],
  ])('names %s when it is bad', (option, settings) => {
    let error: unknown;
    try {
      normalizeRateLimitOptions(settings as RateLimitSettings);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AccessOptionError);
    expect((error as AccessOptionError).option).toBe(option);
  });
});

/** The same specification holds for both implementations; windows are long enough that nothing refills mid-test. */
describe.each([
  ['in-process', (rateLimits: RateLimitSettings) => createInProcessRateLimiter(rateLimits)],
  ['Redis', (rateLimits: RateLimitSettings) => createRateLimiter({ redis: REDIS_URL, keyPrefix, rateLimits })],
  [
    'access guard on Redis',
    (rateLimits: RateLimitSettings): RateLimiter => {
      const guard = createAccessGuard({ redis: REDIS_URL, keyPrefix, rateLimits });
      return { consume: async (client, province) => (await guard.check('not-revoked', client, province)).rate, close: guard.close };
    },
  ],
])('rate limits (%s)', (_implementation, createLimiter) => {
  const limiter = (rateLimits: RateLimitSettings): RateLimiter => track(createLimiter(rateLimits));

  it('allows the limit, then refuses with a Retry-After within the window', async () => {
    const { client, province } = names();
    const limits = limiter({ perClient: { limit: 3, windowSeconds: 60 } });

    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limits.consume(client('a'), province('110000')));

    expect(decisions.slice(0, 3).map((d) => [d.allowed, d.remaining, d.retryAfterSeconds])).toEqual([
      [true, 2, 0],
      [true, 1, 0],
      [true, 0, 0],
    ]);
    const refused = decisions[3];
    expect(refused).toMatchObject({ allowed: false, limitedBy: 'client', remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('keeps each client’s budget independent', async () => {
    const { client, province } = names();
    const limits = limiter({ perClient: { limit: 1, windowSeconds: 60 } });

    expect((await limits.consume(client('a'), province('110000'))).allowed).toBe(true);
    expect((await limits.consume(client('a'), province('110000'))).allowed).toBe(false);
    expect((await limits.consume(client('b'), province('110000'))).allowed).toBe(true);
  });

  it('shares the province budget across its clients, and keeps provinces apart', async () => {
    const { client, province } = names();
    const limits = limiter({ perClient: { limit: 10, windowSeconds: 60 }, perProvince: { limit: 2, windowSeconds: 60 } });

    expect((await limits.consume(client('a'), province('540000'))).allowed).toBe(true);
    expect((await limits.consume(client('b'), province('540000'))).allowed).toBe(true);
    expect(await limits.consume(client('c'), province('540000'))).toMatchObject({ allowed: false, limitedBy: 'province' });
    expect((await limits.consume(client('c'), province('310000'))).allowed).toBe(true);
  });

  it('spends neither budget on a refused request', async () => {
    const { client, province } = names();
    const limits = limiter({ perClient: { limit: 2, windowSeconds: 60 }, perProvince: { limit: 3, windowSeconds: 60 } });

    await limits.consume(client('a'), province('440000'));
    await limits.consume(client('a'), province('440000'));
    // Refused by its client budget: the province budget must still have 1 left.
    expect(await limits.consume(client('a'), province('440000'))).toMatchObject({ allowed: false, limitedBy: 'client' });
    expect((await limits.consume(client('b'), province('440000'))).allowed).toBe(true);
    // Refused by the province budget: b's client budget must still have 1 left.
    expect(await limits.consume(client('b'), province('440000'))).toMatchObject({ allowed: false, limitedBy: 'province' });
    expect(await limits.consume(client('b'), province('320000'))).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limits.consume(client('b'), province('320000'))).toMatchObject({ allowed: false, limitedBy: 'client' });
  });
});

describe('in-process rate limits', () => {
  function frozenClock(): { now: () => number; advance: (ms: number) => void } {
    let now = Date.UTC(2030, 0, 1);
    return { now: () => now, advance: (ms) => (now += ms) };
  }

  it('refills the whole budget after one window', async () => {
    const clock = frozenClock();
    const limits = track(createInProcessRateLimiter({ perClient: { limit: 2, windowSeconds: 60 } }, { now: clock.now }));
    limits.decide('client', '110000');
    limits.decide('client', '110000');
    expect(limits.decide('client', '110000')).toMatchObject({ allowed: false, retryAfterSeconds: 30 });

    clock.advance(60_000);

    expect(limits.decide('client', '110000')).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('refills continuously: one request per window / limit, as Retry-After said', async () => {
    const clock = frozenClock();
    const limits = track(createInProcessRateLimiter({ perClient: { limit: 4, windowSeconds: 60 } }, { now: clock.now }));
    for (let i = 0; i < 4; i++) limits.decide('client', '110000');
    const refused = limits.decide('client', '110000');
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 15 });

    clock.advance(14_999);
    expect(limits.decide('client', '110000').allowed).toBe(false);
    clock.advance(1);
    expect(limits.decide('client', '110000')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('evicts refilled budgets, so memory is bounded by the clients active within a window', async () => {
    const clock = frozenClock();
    const limits = track(createInProcessRateLimiter({ perClient: { limit: 5, windowSeconds: 1 } }, { now: clock.now, sweepIntervalMs: 1000 }));
    for (let i = 0; i < 1000; i++) limits.decide(`client-${i}`, `province-${i % 31}`);
    expect(limits.size).toBe(1031);

    clock.advance(60_001);
    limits.decide('client-late', '110000');

    expect(limits.size).toBe(2);
  });
});

describe('Redis rate limits', () => {
  it('refills after a real one-second window', async () => {
    const { client, province } = names();
    const limits = track(createRateLimiter({ redis: REDIS_URL, keyPrefix, rateLimits: { perClient: { limit: 2, windowSeconds: 1 } } }));
    await limits.consume(client('a'), province('110000'));
    await limits.consume(client('a'), province('110000'));
    expect(await limits.consume(client('a'), province('110000'))).toMatchObject({ allowed: false, retryAfterSeconds: 1 });

    await sleep(1000);

    expect((await limits.consume(client('a'), province('110000'))).allowed).toBe(true);
    expect((await limits.consume(client('a'), province('110000'))).allowed).toBe(true);
  });

  it('lets budget keys expire on their own once refilled', async () => {
    const { client, province } = names();
    const limits = track(createRateLimiter({ redis: REDIS_URL, keyPrefix, rateLimits: { perClient: { limit: 10, windowSeconds: 60 } } }));
    await limits.consume(client('a'), province('110000'));

    const ttl = await admin.pttl(`${keyPrefix}rate:client:${client('a')}`);
    // One request of a 10-per-60-s budget refills in 6 s.
    expect(ttl).toBeGreaterThan(5000);
    expect(ttl).toBeLessThanOrEqual(6000);
  });

  it('is atomic: 50 parallel requests through 5 replicas with a limit of 20 allow exactly 20', async () => {
    const { client, province } = names();
    const rateLimits = { perClient: { limit: 20, windowSeconds: 60 } };
    const replicas = Array.from({ length: 5 }, () => track(createAccessGuard({ redis: REDIS_URL, keyPrefix, rateLimits })));

    const checks = await Promise.all(Array.from({ length: 50 }, (_, i) => replicas[i % 5].check(`jti-${i}`, client('a'), province('110000'))));

    expect(checks.filter((c) => c.rate.allowed)).toHaveLength(20);
    expect(checks.filter((c) => !c.rate.allowed && c.rate.limitedBy === 'client')).toHaveLength(30);
  });

  describe('when Redis is configured but unreachable', () => {
    it('fails open to in-process budgets and warns at most once per interval', async () => {
      const warnings: Array<{ obj: object; msg: string }> = [];
      const limits = track(
        createRateLimiter({
          redis: UNREACHABLE_REDIS_URL,
          keyPrefix,
          rateLimits: { perClient: { limit: 3, windowSeconds: 60 } },
          logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
        }),
      );
      const started = performance.now();

      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limits.consume('client', '110000'));

      expect(performance.now() - started).toBeLessThan(1000);
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(decisions[3].limitedBy).toBe('client');
      expect(warnings).toHaveLength(1);
    });
  });
});
