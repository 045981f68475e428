import type { Redis } from 'ioredis';
import { refusal, type GcraBudget, type RateLimitDecision } from './rate-limit-options.js';

/** Redis key names under a prefix (default `kuasheng:`). */
export interface AccessKeys {
  /** `<prefix>revoked:<jti>`: present while the token is revoked. */
  revoked(tokenId: string): string;
  /** `<prefix>rate:client:<clientKey>`: the client budget's arrival time (µs). */
  clientBudget(clientKey: string): string;
  /** `<prefix>rate:province:<province>`: the province budget's arrival time (µs). */
  provinceBudget(province: string): string;
}

/** Key names of the access layer under `prefix`. */
export function accessKeys(prefix: string): AccessKeys {
  return {
    revoked: (tokenId) => `${prefix}revoked:${tokenId}`,
    clientBudget: (clientKey) => `${prefix}rate:client:${clientKey}`,
    provinceBudget: (province) => `${prefix}rate:province:${province}`,
  };
}

/**
 * The revocation check and both rate budgets in one atomic step, so that a
 * request costs the gateway one Redis round trip. Mirrors
 * `rate-limit-memory.ts` (GCRA, µs); keep the two in step.
 *
 * KEYS[1] client budget, KEYS[2] province budget, KEYS[3] revocation entry
 * (optional: the rate limiter alone passes two keys).
 * ARGV: client interval µs, client capacity µs, province interval µs,
 * province capacity µs, and the units to spend (default 1: one request; a
 * costly operation spends its cost).
 * Reply: { revoked, allowed, waitUs, limitedBy (1 client, 2 province), remaining }.
 *
 * A revoked token spends no budget; a refused request spends neither budget.
 * Time comes from Redis (TIME), so replicas with skewed clocks agree. Keys
 * expire when their bucket is full again: an absent key means a full bucket.
 * All keys of one call must live on one node (no Redis Cluster slots).
 */
const ACCESS_LUA = `
if #KEYS == 3 and redis.call('EXISTS', KEYS[3]) == 1 then
  return {1, 0, 0, 0, 0}
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local units = tonumber(ARGV[5] or '1')

local function next_tat(key, interval)
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat < now then tat = now end
  return tat + interval * units
end

local client_interval, client_capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local province_interval, province_capacity = tonumber(ARGV[3]), tonumber(ARGV[4])

local client_tat = next_tat(KEYS[1], client_interval)
local client_wait = client_tat - client_capacity - now
if client_wait > 0 then return {0, 0, client_wait, 1, 0} end
local province_tat = next_tat(KEYS[2], province_interval)
local province_wait = province_tat - province_capacity - now
if province_wait > 0 then return {0, 0, province_wait, 2, 0} end

-- '%.0f': tostring() would round a µs timestamp to 14 significant digits.
redis.call('SET', KEYS[1], string.format('%.0f', client_tat), 'PX', math.ceil((client_tat - now) / 1000))
redis.call('SET', KEYS[2], string.format('%.0f', province_tat), 'PX', math.ceil((province_tat - now) / 1000))
local remaining = math.min(
  math.floor((client_capacity - (client_tat - now)) / client_interval),
  math.floor((province_capacity - (province_tat - now)) / province_interval))
return {0, 1, 0, 0, remaining}
`;

const COMMAND = 'kuashengAccess';

type AccessReply = [revoked: number, allowed: number, waitUs: number, limitedBy: number, remaining: number];
type ScriptedRedis = Redis & { [COMMAND](numberOfKeys: number, ...keysAndArgs: string[]): Promise<AccessReply> };

/** Defines the script on a client; ioredis then sends EVALSHA, falling back to EVAL once per connection. */
export function defineAccessScript(client: Redis): void {
  client.defineCommand(COMMAND, { lua: ACCESS_LUA });
}

/** Script arguments for two budgets, built once at start-up. */
export function accessScriptArgs(client: GcraBudget, province: GcraBudget): readonly string[] {
  return [client.intervalUs, client.capacityUs, province.intervalUs, province.capacityUs].map(String);
}

/** The outcome of one script call. */
export interface AccessReplyDecoded {
  revoked: boolean;
  rate: RateLimitDecision;
}

/**
 * The rate decision reported for a revoked token: no budget was spent. It is
 * a refusal so that a caller checking only `rate.allowed` still refuses, but
 * the request must be answered as unauthenticated, not with 429.
 */
export const NOT_EVALUATED: Readonly<RateLimitDecision> = Object.freeze({ allowed: false, retryAfterSeconds: 0, remaining: 0 });

/** Runs the script; rejects when Redis cannot answer (callers decide whether that fails open or closed). */
export async function runAccessScript(
  client: Redis,
  clientBudgetKey: string,
  provinceBudgetKey: string,
  revokedKey: string | undefined,
  args: readonly string[],
  units = 1,
): Promise<AccessReplyDecoded> {
  const scripted = client as ScriptedRedis;
  const all = units === 1 ? args : [...args, String(units)];
  const reply =
    revokedKey === undefined
      ? await scripted[COMMAND](2, clientBudgetKey, provinceBudgetKey, ...all)
      : await scripted[COMMAND](3, clientBudgetKey, provinceBudgetKey, revokedKey, ...all);
  const [revoked, allowed, waitUs, limitedBy, remaining] = reply;
  if (revoked === 1) return { revoked: true, rate: NOT_EVALUATED };
  if (allowed === 1) return { revoked: false, rate: { allowed: true, retryAfterSeconds: 0, remaining } };
  return { revoked: false, rate: refusal(limitedBy === 1 ? 'client' : 'province', waitUs) };
}
