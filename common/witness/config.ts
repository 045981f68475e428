/**
 * Settings of the witness process (`npm run witness`), read from the
 * environment once, at start-up; a bad value throws a `ConfigError` naming
 * the variable.
 */
import { join } from 'node:path';
import {
  ConfigError,
  dataDirSetting,
  type HttpTimeouts,
  httpTimeoutSettings,
  integerSetting,
  logLevelSetting,
  shutdownGraceSetting,
} from '../settings.js';
import { gatewayKeyFiles } from '../gateway-keys.js';
import { AUDIT_LOG_ORIGIN_PREFIX } from '../audit/note.js';

/** The demo witness's name: it stands for the province of Hunan. */
export const DEFAULT_WITNESS_NAME = 'witness.hunan.kuasheng.gov.cn';

/** The origins of the gateway's audit logs start with this: `kuasheng.gov.cn/audit/<chainId>`. */
export const DEFAULT_ORIGIN_PREFIX = AUDIT_LOG_ORIGIN_PREFIX;

/** The witness's port unless WITNESS_PORT says otherwise. */
export const DEFAULT_WITNESS_PORT = 4090;

export interface WitnessConfig {
  /** WITNESS_NAME, default witness.hunan.kuasheng.gov.cn: the key name of its cosignatures. */
  name: string;
  /** WITNESS_HOST, default 127.0.0.1. */
  host: string;
  /** WITNESS_PORT, default 4090; 0 picks a free port. */
  port: number;
  /** WITNESS_DATA_DIR, default <DATA_DIR>/witness: its state (witness.db) and its key (witness.key, witness.vkey). */
  dataDir: string;
  /** WITNESS_LOG_JWKS_FILE, default <DATA_DIR>/keys/gateway.jwks.json: the public keys of the logs it witnesses (re-read when it changes). */
  logJwksFile: string;
  /** WITNESS_ORIGIN_PREFIX, default kuasheng.gov.cn/audit/: the origins it witnesses; any other is unknown (404). */
  originPrefix: string;
  /** LOG_LEVEL, default info. */
  logLevel: string;
  /** SHUTDOWN_GRACE_MS, default 10000. */
  shutdownGraceMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS: as the gateway's. */
  httpTimeouts: HttpTimeouts;
}

/** A note key name (signed-note): non-empty, no Unicode space, no `+`. */
export function isNoteKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

function nameSetting(env: NodeJS.ProcessEnv): string {
  const name = env.WITNESS_NAME || DEFAULT_WITNESS_NAME;
  if (!isNoteKeyName(name) || name.length > 255) throw new ConfigError('WITNESS_NAME', 'must be 1-255 characters without spaces or "+"');
  return name;
}

function originPrefixSetting(env: NodeJS.ProcessEnv): string {
  const prefix = env.WITNESS_ORIGIN_PREFIX || DEFAULT_ORIGIN_PREFIX;
  if (/[\s+]/u.test(prefix)) throw new ConfigError('WITNESS_ORIGIN_PREFIX', 'must not contain spaces or "+"');
  return prefix;
}

/** Normalises the witness's settings from the environment once, at start-up. */
export function loadWitnessConfig(env: NodeJS.ProcessEnv = process.env): WitnessConfig {
  const dataDir = dataDirSetting(env);
  return {
    name: nameSetting(env),
    host: env.WITNESS_HOST || '127.0.0.1',
    port: integerSetting(env, 'WITNESS_PORT', DEFAULT_WITNESS_PORT, 0, 65535),
    dataDir: env.WITNESS_DATA_DIR || join(dataDir, 'witness'),
    logJwksFile: env.WITNESS_LOG_JWKS_FILE || gatewayKeyFiles(dataDir).jwks,
    originPrefix: originPrefixSetting(env),
    logLevel: logLevelSetting(env),
    shutdownGraceMs: shutdownGraceSetting(env),
    httpTimeouts: httpTimeoutSettings(env),
  };
}
