import { parseWitnessList, type WitnessEndpoint } from './witness/endpoints.js';
/**
 * Reading settings from environment variables, shared by the gateway and the
 * subgraphs: each reader checks its value and throws a `ConfigError` naming
 * the variable, so a bad setting stops start-up with a clear message.
 */

/** A setting is invalid; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** An integer option's default and bounds: declared once, by the module that takes the option, and read by its setting too. */
export interface IntegerRange {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** An integer setting whose default and bounds are a module's {@link IntegerRange}. */
export function rangeSetting(env: NodeJS.ProcessEnv, variable: string, range: IntegerRange): number {
  return integerSetting(env, variable, range.default, range.min, range.max);
}

/** An integer setting within bounds. */
export function integerSetting(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(variable, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** SHUTDOWN_GRACE_MS (gateway and subgraphs alike), default 10 s: how long a stopping process lets requests in flight finish. */
export function shutdownGraceSetting(env: NodeJS.ProcessEnv): number {
  return rangeSetting(env, 'SHUTDOWN_GRACE_MS', SHUTDOWN_GRACE_MS);
}

/** SHUTDOWN_GRACE_MS's default and bounds. */
export const SHUTDOWN_GRACE_MS: IntegerRange = { default: 10_000, min: 0, max: 600_000 };

/** An absolute http(s) URL setting. */
export function urlSetting(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `must use http or https, got ${url.protocol}`);
  }
  return url.toString();
}

/** The data folder unless DATA_DIR says otherwise: databases, keys, the embedded audit store. */
export const DEFAULT_DATA_DIR = 'data';

/** DATA_DIR, default {@link DEFAULT_DATA_DIR}. */
export function dataDirSetting(env: NodeJS.ProcessEnv): string {
  return env.DATA_DIR || DEFAULT_DATA_DIR;
}

/** AUDIT_DATABASE_URL: the PostgreSQL audit store (a postgres:// or postgresql:// URL), or undefined for the embedded SQLite file. */
export function auditDatabaseUrlSetting(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.AUDIT_DATABASE_URL;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('AUDIT_DATABASE_URL', 'must be a postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new ConfigError('AUDIT_DATABASE_URL', `must use postgres, got ${url.protocol}`);
  return raw;
}

/** AUDIT_HMAC_KEY_FILE: the subject-hash key file, or undefined for `<DATA_DIR>/keys/audit-hmac.key`. */
export function auditKeyFileSetting(env: NodeJS.ProcessEnv): string | undefined {
  return env.AUDIT_HMAC_KEY_FILE || undefined;
}

/** LOG_LEVEL: one of pino's levels. */
export function logLevelSetting(env: NodeJS.ProcessEnv): string {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  return level;
}

/** How long a client may take to send a request, and to send its next one on the same connection. */
export interface HttpTimeouts {
  /** HTTP_HEADERS_TIMEOUT_MS, default 5000: from the connection (or the previous answer) to the end of the request's headers. */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS, default 10000 (at least the headers timeout): to the end of the request's body. */
  requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS, default 5000: an idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 };

/**
 * The HTTP timeouts (gateway and subgraphs alike): a client that sends
 * slowly is answered 408 and cut off within seconds, not Node's minutes.
 */
export function httpTimeoutSettings(env: NodeJS.ProcessEnv): HttpTimeouts {
  const headersTimeoutMs = integerSetting(env, 'HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs, 100, 600_000);
  const requestTimeoutMs = integerSetting(
    env,
    'HTTP_REQUEST_TIMEOUT_MS',
    Math.max(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs, headersTimeoutMs),
    100,
    3_600_000,
  );
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', `must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}), got ${requestTimeoutMs}`);
  }
  const keepAliveTimeoutMs = integerSetting(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs, 100, 600_000);
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs };
}

/** AUDIT_WITNESSES (gateway and audit-review subgraph): the witnesses of the audit checkpoints; unset: none. */
export function auditWitnessesSetting(env: NodeJS.ProcessEnv): WitnessEndpoint[] {
  try {
    return parseWitnessList(env.AUDIT_WITNESSES ?? '');
  } catch (error) {
    throw new ConfigError('AUDIT_WITNESSES', (error as Error).message);
  }
}
