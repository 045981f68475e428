import { Redis, type RedisOptions } from 'ioredis';
import { AccessOptionError } from './errors.js';
import { defineAccessScript } from './script.js';

/** Where Redis is: a `redis://` / `rediss://` URL, or ioredis options. */
export type RedisSetting = string | RedisOptions;

/** Default per-command timeout: a Redis slower than this counts as unavailable. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 200;
/** Default TCP connect timeout, which also bounds how long the first requests wait for the first connection. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 1000;

/** A Redis setting after normalisation: what `new Redis(...)` receives. */
export interface NormalizedRedisSetting {
  url?: string;
  options: RedisOptions;
}

/**
 * Checks a Redis setting and adds the options that make failure fast. The
 * overrides below are what makes "fail closed" a 503 in milliseconds rather
 * than a request that hangs: please leave them intact.
 * - `enableOfflineQueue: false`: while disconnected, a command fails at once
 *   instead of queueing until the connection returns.
 * - `maxRetriesPerRequest: 0`: a command is never silently re-sent after a
 *   reconnect (a revocation check must not be answered late).
 * - `commandTimeout` (default 200 ms): a slow Redis is an unavailable Redis.
 * The client keeps reconnecting in the background (backoff up to 2 s).
 *
 * `enableAutoPipelining` (default on): the access checks of the requests
 * that arrive in one turn of the event loop leave in one socket write, not
 * one each. Each check is still its own atomic script call.
 */
export function normalizeRedisSetting(setting: RedisSetting, option = 'redis'): NormalizedRedisSetting {
  let url: string | undefined;
  let given: RedisOptions = {};
  if (typeof setting === 'string') {
    let parsed: URL;
    try {
      parsed = new URL(setting);
    } catch {
      throw new AccessOptionError(option, 'must be a redis:// or rediss:// URL');
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new AccessOptionError(option, `must use redis: or rediss:, got ${parsed.protocol}`);
    }
    url = setting;
  } else if (setting !== null && typeof setting === 'object') {
    given = setting;
  } else {
    throw new AccessOptionError(option, 'must be a redis:// URL or ioredis options');
  }
  for (const field of ['commandTimeout', 'connectTimeout'] as const) {
    const value = given[field];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new AccessOptionError(`${option}.${field}`, 'must be a positive whole number of milliseconds');
    }
  }
  return {
    url,
    options: {
      ...given,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      enableAutoPipelining: given.enableAutoPipelining ?? true,
      commandTimeout: given.commandTimeout ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: given.connectTimeout ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: given.retryStrategy ?? ((attempt: number) => Math.min(attempt * 100, 2000)),
      // close() quits politely when connected; otherwise nothing is left to
      // flush, and ioredis' 2 s wait for a dead socket would only hold up shutdown.
      disconnectTimeout: given.disconnectTimeout ?? 200,
    },
  };
}

/** One Redis connection shared by the revocation list and the rate limiter of a gateway replica. */
export interface RedisConnection {
  readonly client: Redis;
  /**
   * Settled once the first connection attempt has succeeded or failed
   * (bounded by the connect timeout). Until then a command would fail only
   * because the gateway has just started, so callers wait for this once.
   */
  readonly firstAttempt: Promise<void>;
  /** True once `firstAttempt` has settled: lets the hot path skip an `await`. */
  readonly settled: boolean;
  /** True while commands can be sent. */
  isReady(): boolean;
  close(): Promise<void>;
}

/** Opens a fail-fast connection (see {@link normalizeRedisSetting}) with the access script defined on it. */
export function openRedisConnection(setting: NormalizedRedisSetting, onError: (error: Error) => void): RedisConnection {
  const client = setting.url ? new Redis(setting.url, setting.options) : new Redis(setting.options);
  defineAccessScript(client);
  // Without a listener ioredis prints every connection error to the console.
  client.on('error', onError);

  let settled = false;
  const firstAttempt = new Promise<void>((resolve) => {
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('ready', settle).off('error', settle).off('close', settle).off('end', settle);
      resolve();
    };
    const timer = setTimeout(settle, (setting.options.connectTimeout ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS) + 100);
    timer.unref();
    client.on('ready', settle).on('error', settle).on('close', settle).on('end', settle);
  });

  let closing: Promise<void> | undefined;
  return {
    client,
    firstAttempt,
    get settled() {
      return settled;
    },
    isReady: () => client.status === 'ready',
    close() {
      closing ??= (async () => {
        if (client.status === 'ready') {
          try {
            await client.quit();
            return;
          } catch {
            // Fall through: a connection that cannot quit politely is dropped.
          }
        }
        client.disconnect();
      })();
      return closing;
    },
  };
}
