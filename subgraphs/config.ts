import type { WitnessEndpoint } from '../common/witness/endpoints.js';
import { auditWitnessesSetting } from '../common/settings.js';
import { SERVICES, type SubgraphName } from './catalog.js';
import {
  auditDatabaseUrlSetting,
  auditKeyFileSetting,
  ConfigError,
  dataDirSetting,
  httpTimeoutSettings,
  integerSetting,
  logLevelSetting,
  shutdownGraceSetting,
  type HttpTimeouts,
} from '../common/settings.js';
import { gatewayKeyFiles } from '../common/gateway-keys.js';

/** Settings of one subgraph process, after normalisation. */
export interface SubgraphConfig {
  name: SubgraphName;
  /** SUBGRAPH_HOST, default 127.0.0.1. */
  host: string;
  /** SUBGRAPH_PORT_<NAME> (e.g. SUBGRAPH_PORT_SOCIAL_INSURANCE), default 4001-4005. */
  port: number;
  /** DATA_DIR, default ./data: where the SQLite files live. */
  dataDir: string;
  /** LOG_LEVEL, default info. */
  logLevel: string;
  /** HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS: as the gateway's. */
  httpTimeouts: HttpTimeouts;
  /** SHUTDOWN_GRACE_MS, default 10000 (at most 600000): on SIGTERM, requests in flight may finish for this long. */
  shutdownGraceMs: number;
  /** GATEWAY_JWKS_FILE, default <DATA_DIR>/keys/gateway.jwks.json: the gateway's public keys; requests without an assertion signed by one are refused. */
  gatewayJwksFile: string;
  /** (audit) AUDIT_DATABASE_URL: the PostgreSQL audit store; unset: <DATA_DIR>/audit.db. */
  auditDatabaseUrl: string | undefined;
  /** (audit) AUDIT_HMAC_KEY_FILE, default <DATA_DIR>/keys/audit-hmac.key: the key subject searches are hashed with. */
  auditKeyFile: string | undefined;
  /** (audit) AUDIT_WITNESSES: the witnesses whose cosigned checkpoints auditIntegrity checks the store against. */
  auditWitnesses: WitnessEndpoint[];
}

export function subgraphPortVariable(name: SubgraphName): string {
  return `SUBGRAPH_PORT_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** Normalises one subgraph's settings from the environment, naming any bad variable. */
export function loadSubgraphConfig(name: string, env: NodeJS.ProcessEnv = process.env): SubgraphConfig {
  const entry = SERVICES.find((s) => s.name === name);
  if (!entry) throw new ConfigError('subgraph name', `must be one of ${SERVICES.map((s) => s.name).join(', ')}, got ${JSON.stringify(name)}`);
  return {
    name: entry.name,
    host: env.SUBGRAPH_HOST || '127.0.0.1',
    port: integerSetting(env, subgraphPortVariable(entry.name), entry.defaultPort, 0, 65535),
    dataDir: dataDirSetting(env),
    logLevel: logLevelSetting(env),
    httpTimeouts: httpTimeoutSettings(env),
    shutdownGraceMs: shutdownGraceSetting(env),
    gatewayJwksFile: env.GATEWAY_JWKS_FILE || gatewayKeyFiles(dataDirSetting(env)).jwks,
    auditDatabaseUrl: auditDatabaseUrlSetting(env),
    auditKeyFile: auditKeyFileSetting(env),
    auditWitnesses: auditWitnessesSetting(env),
  };
}
