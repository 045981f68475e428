import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SERVICES, type SubgraphName } from '../common/services.js';
import {
  auditDatabaseUrlSetting,
  auditKeyFileSetting,
  ConfigError,
  dataDirSetting,
  httpTimeoutSettings,
  integerSetting,
  logLevelSetting,
  rangeSetting,
  shutdownGraceSetting,
  urlSetting,
  type HttpTimeouts,
} from '../common/settings.js';
import { DEFAULT_OUTAGE_LOG_INTERVAL_MS } from '../common/outage-log.js';
import { DEFAULT_COMMIT_DELAY_MS, MAX_COMMIT_DELAY_MS } from './audit/writer.js';
import { auditRetentionFromEnv, type AuditRetentionOptions } from './audit/retention.js';
import { AUTHENTICATOR_RANGES } from './auth/authenticate.js';
import { MAX_REQUESTS_PER_SECOND, RATE_LIMIT_RANGES } from './access/rate-limit-options.js';
import { OPERATION_LIMIT_RANGES, type OperationLimits } from './plugins/operation-limits.js';
import { heapBoundError, MAX_HEAP_MB } from './plugins/memory-guard.js';
import { DEMAND_CONTROL_RANGES } from './plugins/demand-control.js';
import { normalizeOrigin } from './plugins/cors.js';
import type { WitnessEndpoint } from '../common/witness/endpoints.js';
import { auditWitnessesSetting } from '../common/settings.js';

export { ConfigError } from '../common/settings.js';

/** Gateway settings, after normalisation. */
export interface GatewayConfig {
  /** GATEWAY_HOST, default 127.0.0.1. */
  host: string;
  /** GATEWAY_PORT, default 4000; 0 picks a free port. */
  port: number;
  /** SUPERGRAPH_FILE, default schema/supergraph.graphql; reloaded when it changes. */
  supergraphFile: string;
  /** SUBGRAPH_URL_<NAME> (e.g. SUBGRAPH_URL_SOCIAL_INSURANCE), default http://127.0.0.1:<default port>/. */
  subgraphUrls: Record<SubgraphName, string>;
  /** SUBGRAPH_TIMEOUT_MS, default 10000: a subgraph slower than this counts as unavailable. */
  subgraphTimeoutMs: number;
  /** MAX_REQUEST_BYTES, default 1048576. */
  maxRequestBytes: number;
  /**
   * MAX_OPERATION_DEPTH (24), MAX_OPERATION_ALIASES (30), MAX_ROOT_FIELDS (10), MAX_OPERATION_FIELDS (2000, fragments
   * expanded), MAX_OPERATION_DIRECTIVES (50), MAX_OPERATION_TOKENS (15000): what one operation may amount to.
   */
  operationLimits: OperationLimits & { tokens: number };
  /** MAX_OPERATION_COST, default 10000: operations estimated above it are refused (COST_LIMIT_EXCEEDED). */
  maxOperationCost: number;
  /** COST_DEFAULT_LIST_SIZE, default 10: the size assumed of a list the schema gives no size for. */
  costDefaultListSize: number;
  /** MAX_HEAP_MB, default 1536: above this much heap in use, new requests get 503 GATEWAY_OVERLOADED (at most 80 % of V8's heap limit). */
  maxHeapMb: number;
  /** HTTP_HEADERS_TIMEOUT_MS (5000), HTTP_REQUEST_TIMEOUT_MS (10000), HTTP_KEEP_ALIVE_TIMEOUT_MS (5000): how long a client may take to send a request. */
  httpTimeouts: HttpTimeouts;
  /** SHUTDOWN_GRACE_MS, default 10000 (at most 600000): on SIGTERM, requests in flight may finish (and be audited) for this long before their connections are closed. */
  shutdownGraceMs: number;
  /** LOG_LEVEL, default info. */
  logLevel: string;
  /** LOG_OUTAGE_INTERVAL_MS, default 30000 (1000 to 3600000): while a dependency is out, at most one log line about it per this long (the summary). */
  outageLogIntervalMs: number;
  /** DATA_DIR, default data: the gateway's signing key (keys/) and the embedded revocation list live here. */
  dataDir: string;
  /** TRUST_LIST_FILE, default config/trust-list.json: trusted provincial identity providers. */
  trustListFile: string;
  /** MATTER_CATALOG_FILE, default config/matters.json: the cross-province matters and their scopes. */
  matterCatalogFile: string;
  /** TRUSTED_DOCUMENTS_DIR, default config/trusted-documents: the clients' registered operations (manifests), reloaded when they change. */
  trustedDocumentsDir: string;
  /** TOKEN_AUDIENCE, default kuasheng-gateway: the `aud` tokens must carry. */
  tokenAudience: string;
  /**
   * The longest token lifetime (`exp - iat`) accepted, seconds; longer tokens are refused (LIFETIME_TOO_LONG).
   * Not an environment setting: the authenticator's default, 3600.
   */
  maxTokenLifetimeSeconds: number;
  /** CLOCK_TOLERANCE_SECONDS, default 30 (at most 300): skew allowed on exp, nbf, iat. */
  clockToleranceSeconds: number;
  /** How keys are fetched from identity providers' JWKS URLs (JWKS_* settings); see `gateway/auth/issuer-keys.ts`. */
  jwks: {
    /** JWKS_CACHE_MAX_AGE_MS, default 600000: keys are fetched again once this old. */
    cacheMaxAgeMs: number;
    /** JWKS_COOLDOWN_MS, default 30000: an unknown kid refetches at most once per this long; also the back-off after a failed fetch. */
    cooldownMs: number;
    /** JWKS_TIMEOUT_MS, default 5000: timeout of one fetch. */
    timeoutMs: number;
    /** JWKS_MAX_STALE_MS, default 86400000: while a provider is unreachable, keys fetched at most this long ago keep verifying its tokens. */
    maxStaleMs: number;
  };
  /** AUTHORIZATION_MODE, default filter: unauthorised fields come back null with an error; `reject` refuses the whole operation. */
  authorizationMode: 'filter' | 'reject';
  /** GATEWAY_EXECUTOR, default native: this gateway's plan executor; `apollo` runs every plan on @apollo/gateway's (comparison, diagnosis). */
  executor: 'native' | 'apollo';
  /** GATEWAY_INTROSPECTION, default on unless NODE_ENV=production: `__schema` and `__type` queries, and the query IDE (GraphiQL) at GET /graphql for browsers. */
  introspection: boolean;
  /** CORS_ORIGINS, default none: the exact origins (comma-separated) whose pages may call the gateway from a browser. */
  corsOrigins: readonly string[];
  /** REDIS_URL, default none: revocation and rate limits in-process (one replica). Set it for several replicas. */
  redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX, default kuasheng: — keys of revocations and budgets; replicas sharing a Redis must agree. */
  redisKeyPrefix: string;
  /** AUDIT_DATABASE_URL, default none: the embedded SQLite audit store <DATA_DIR>/audit.db; postgres://… for several replicas. */
  auditDatabaseUrl: string | undefined;
  /** AUDIT_COMMIT_DELAY_MS, default 5: how long an audit transaction may wait for requests still in flight, to share their fsync (0 never waits; at most 1000). */
  auditCommitDelayMs: number;
  /** AUDIT_RETENTION_DAYS, default 1095 (at least 3 years; shorter only with AUDIT_RETENTION_TEST_OVERRIDE=1, for tests). */
  auditRetention: AuditRetentionOptions;
  /** AUDIT_MODE, default durable. `off` records nothing and exists only to measure what audit costs (npm run bench). */
  auditMode: 'durable' | 'off';
  /**
   * AUDIT_WITNESSES, default none: the witnesses (C2SP tlog-witness) each audit checkpoint is submitted to for
   * cosigning, as comma-separated `<url> <vkey>` pairs; `npm start` names its demo witness here.
   */
  auditWitnesses: WitnessEndpoint[];
  /** GATEWAY_REPLICA_ID, default gateway-<hostname>: this replica's audit chain; stable across restarts, unique among replicas. */
  replicaId: string;
  /** AUDIT_HMAC_KEY_FILE, default <DATA_DIR>/keys/audit-hmac.key: key of the subject hashes; replicas sharing a store must share it. */
  auditKeyFile: string | undefined;
  /** RATE_LIMIT_CLIENT, default 600 requests per RATE_LIMIT_WINDOW_SECONDS per calling system (iss + sub). */
  rateLimitClient: number;
  /** RATE_LIMIT_PROVINCE, default 20000 requests per window per calling province. */
  rateLimitProvince: number;
  /** RATE_LIMIT_WINDOW_SECONDS, default 60. */
  rateLimitWindowSeconds: number;
}

export const DEFAULT_SUPERGRAPH_FILE = fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));
export const DEFAULT_TRUST_LIST_FILE = fileURLToPath(new URL('../config/trust-list.json', import.meta.url));
export const DEFAULT_MATTER_CATALOG_FILE = fileURLToPath(new URL('../config/matters.json', import.meta.url));
export const DEFAULT_TRUSTED_DOCUMENTS_DIR = fileURLToPath(new URL('../config/trusted-documents', import.meta.url));

/** What a bearer token must be for the gateway to accept it, and the matters it is bound to. */
export type TokenSettings = Pick<GatewayConfig, 'trustListFile' | 'matterCatalogFile' | 'tokenAudience' | 'maxTokenLifetimeSeconds'>;

/**
 * The gateway's token settings, read from the environment here once for
 * the gateway and for `npm run token`, which must never mint a token this
 * gateway would refuse (another issuer, audience or a longer lifetime).
 */
export function tokenSettings(env: NodeJS.ProcessEnv = process.env): TokenSettings {
  return {
    trustListFile: env.TRUST_LIST_FILE || DEFAULT_TRUST_LIST_FILE,
    matterCatalogFile: env.MATTER_CATALOG_FILE || DEFAULT_MATTER_CATALOG_FILE,
    tokenAudience: env.TOKEN_AUDIENCE || 'kuasheng-gateway',
    maxTokenLifetimeSeconds: AUTHENTICATOR_RANGES.maxLifetimeSeconds.default,
  };
}

/** Where the gateway keeps revoked token ids: Redis (under a key prefix) when REDIS_URL is set, else `<dataDir>/revocations.db`. */
export type RevocationSettings = Pick<GatewayConfig, 'redisUrl' | 'redisKeyPrefix' | 'dataDir'>;

/**
 * The gateway's revocation settings, read here once for the gateway and for
 * `npm run token:revoke`, which must write where the gateway reads.
 * @throws {ConfigError} for a REDIS_URL that is not a redis:// or rediss:// URL.
 */
export function revocationSettings(env: NodeJS.ProcessEnv = process.env): RevocationSettings {
  return {
    redisUrl: env.REDIS_URL ? redisUrlSetting(env.REDIS_URL) : undefined,
    redisKeyPrefix: env.REDIS_KEY_PREFIX || 'kuasheng:',
    dataDir: dataDirSetting(env),
  };
}

/** Environment variable that overrides a subgraph's URL. */
export function subgraphUrlVariable(name: SubgraphName): string {
  return `SUBGRAPH_URL_${name.toUpperCase().replace(/-/g, '_')}`;
}

function authorizationModeSetting(env: NodeJS.ProcessEnv): 'filter' | 'reject' {
  const mode = env.AUTHORIZATION_MODE || 'filter';
  if (mode !== 'filter' && mode !== 'reject') throw new ConfigError('AUTHORIZATION_MODE', `must be filter or reject, got ${JSON.stringify(mode)}`);
  return mode;
}

function executorSetting(env: NodeJS.ProcessEnv): 'native' | 'apollo' {
  const value = env.GATEWAY_EXECUTOR || 'native';
  if (value !== 'native' && value !== 'apollo') throw new ConfigError('GATEWAY_EXECUTOR', `must be native or apollo, got ${JSON.stringify(value)}`);
  return value;
}

function introspectionSetting(env: NodeJS.ProcessEnv): boolean {
  const value = env.GATEWAY_INTROSPECTION;
  if (value === undefined || value === '') return env.NODE_ENV !== 'production';
  if (value !== 'on' && value !== 'off') throw new ConfigError('GATEWAY_INTROSPECTION', `must be on or off, got ${JSON.stringify(value)}`);
  return value === 'on';
}

function corsOriginsSetting(env: NodeJS.ProcessEnv): string[] {
  const listed = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  try {
    return [...new Set(listed.map(normalizeOrigin))];
  } catch (error) {
    throw new ConfigError('CORS_ORIGINS', (error as Error).message);
  }
}

function auditModeSetting(env: NodeJS.ProcessEnv): 'durable' | 'off' {
  const mode = env.AUDIT_MODE || 'durable';
  if (mode !== 'durable' && mode !== 'off') throw new ConfigError('AUDIT_MODE', `must be durable or off, got ${JSON.stringify(mode)}`);
  return mode;
}

function replicaIdSetting(env: NodeJS.ProcessEnv): string {
  const id = env.GATEWAY_REPLICA_ID || `gateway-${hostname()}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new ConfigError('GATEWAY_REPLICA_ID', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return id;
}

function redisUrlSetting(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', `must use redis or rediss, got ${url.protocol}`);
  return raw;
}

/** The budgets' precision bound (see gateway/access): at most MAX_REQUESTS_PER_SECOND per second of the window. */
function checkBudget(variable: string, limit: number, windowSeconds: number): number {
  const most = MAX_REQUESTS_PER_SECOND * windowSeconds;
  if (limit > most)
    throw new ConfigError(variable, `must be at most ${MAX_REQUESTS_PER_SECOND} per second of RATE_LIMIT_WINDOW_SECONDS (${most}), got ${limit}`);
  return limit;
}

function heapSetting(env: NodeJS.ProcessEnv): number {
  const mb = rangeSetting(env, 'MAX_HEAP_MB', MAX_HEAP_MB);
  const error = heapBoundError(mb * 1_048_576);
  if (error) throw new ConfigError('MAX_HEAP_MB', error);
  return mb;
}

/** Normalises the gateway's settings from the environment once, at start-up. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const logLevel = logLevelSetting(env);
  const windowSeconds = rangeSetting(env, 'RATE_LIMIT_WINDOW_SECONDS', RATE_LIMIT_RANGES.windowSeconds);
  const subgraphUrls = Object.fromEntries(
    SERVICES.map((s) => [s.name, urlSetting(env, subgraphUrlVariable(s.name), `http://127.0.0.1:${s.defaultPort}/`)]),
  ) as Record<SubgraphName, string>;
  return {
    host: env.GATEWAY_HOST || '127.0.0.1',
    port: integerSetting(env, 'GATEWAY_PORT', 4000, 0, 65535),
    supergraphFile: env.SUPERGRAPH_FILE || DEFAULT_SUPERGRAPH_FILE,
    subgraphUrls,
    subgraphTimeoutMs: integerSetting(env, 'SUBGRAPH_TIMEOUT_MS', 10_000, 100, 600_000),
    maxRequestBytes: integerSetting(env, 'MAX_REQUEST_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    maxHeapMb: heapSetting(env),
    maxOperationCost: rangeSetting(env, 'MAX_OPERATION_COST', DEMAND_CONTROL_RANGES.maxCost),
    costDefaultListSize: rangeSetting(env, 'COST_DEFAULT_LIST_SIZE', DEMAND_CONTROL_RANGES.defaultListSize),
    operationLimits: {
      depth: rangeSetting(env, 'MAX_OPERATION_DEPTH', OPERATION_LIMIT_RANGES.depth),
      aliases: rangeSetting(env, 'MAX_OPERATION_ALIASES', OPERATION_LIMIT_RANGES.aliases),
      rootFields: rangeSetting(env, 'MAX_ROOT_FIELDS', OPERATION_LIMIT_RANGES.rootFields),
      fields: rangeSetting(env, 'MAX_OPERATION_FIELDS', OPERATION_LIMIT_RANGES.fields),
      directives: rangeSetting(env, 'MAX_OPERATION_DIRECTIVES', OPERATION_LIMIT_RANGES.directives),
      tokens: rangeSetting(env, 'MAX_OPERATION_TOKENS', OPERATION_LIMIT_RANGES.tokens),
    },
    httpTimeouts: httpTimeoutSettings(env),
    shutdownGraceMs: shutdownGraceSetting(env),
    logLevel,
    outageLogIntervalMs: integerSetting(env, 'LOG_OUTAGE_INTERVAL_MS', DEFAULT_OUTAGE_LOG_INTERVAL_MS, 1000, 3_600_000),
    ...revocationSettings(env),
    ...tokenSettings(env),
    trustedDocumentsDir: env.TRUSTED_DOCUMENTS_DIR || DEFAULT_TRUSTED_DOCUMENTS_DIR,
    clockToleranceSeconds: rangeSetting(env, 'CLOCK_TOLERANCE_SECONDS', AUTHENTICATOR_RANGES.clockToleranceSeconds),
    jwks: {
      cacheMaxAgeMs: rangeSetting(env, 'JWKS_CACHE_MAX_AGE_MS', AUTHENTICATOR_RANGES.jwksCacheMaxAgeMs),
      cooldownMs: rangeSetting(env, 'JWKS_COOLDOWN_MS', AUTHENTICATOR_RANGES.jwksCooldownMs),
      timeoutMs: rangeSetting(env, 'JWKS_TIMEOUT_MS', AUTHENTICATOR_RANGES.jwksTimeoutMs),
      maxStaleMs: rangeSetting(env, 'JWKS_MAX_STALE_MS', AUTHENTICATOR_RANGES.jwksMaxStaleMs),
    },
    authorizationMode: authorizationModeSetting(env),
    executor: executorSetting(env),
    introspection: introspectionSetting(env),
    corsOrigins: corsOriginsSetting(env),
    auditDatabaseUrl: auditDatabaseUrlSetting(env),
    auditMode: auditModeSetting(env),
    auditRetention: auditRetentionFromEnv(env),
    auditCommitDelayMs: integerSetting(env, 'AUDIT_COMMIT_DELAY_MS', DEFAULT_COMMIT_DELAY_MS, 0, MAX_COMMIT_DELAY_MS),
    auditWitnesses: auditWitnessesSetting(env),
    replicaId: replicaIdSetting(env),
    auditKeyFile: auditKeyFileSetting(env),
    rateLimitClient: checkBudget('RATE_LIMIT_CLIENT', rangeSetting(env, 'RATE_LIMIT_CLIENT', RATE_LIMIT_RANGES.perClientLimit), windowSeconds),
    rateLimitProvince: checkBudget(
      'RATE_LIMIT_PROVINCE',
      rangeSetting(env, 'RATE_LIMIT_PROVINCE', RATE_LIMIT_RANGES.perProvinceLimit),
      windowSeconds,
    ),
    rateLimitWindowSeconds: windowSeconds,
  };
}
