import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { SubgraphName } from '../subgraphs/catalog.js';
import { close, createGraphQLHttpServer, listen, Rejection } from '../subgraphs/common/graphql-http.js';
import { createAssertionSigner } from '../subgraphs/common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../subgraphs/common/gateway-keys.js';
import { extractSecurityPolicy, stripSecurityFeatures, type SecurityPolicy } from '../subgraphs/common/scopes/security-policy.js';
import { createAccessGuard } from './access/access-guard.js';
import { createAdmission } from './admission.js';
import { createAuthenticator } from './auth/authenticate.js';
import { SCOPES } from './auth/caller.js';
import { loadMatterCatalog } from './authorization/matter-catalog.js';
import { createOperationGuard, guardGateway, type GatewayContext } from './authorization/operation-guard.js';
import { DEFAULT_TRUST_LIST_FILE, type GatewayConfig } from './config.js';
import { ensureDevIdentityProviders } from './auth/dev-identity-provider.js';
import { CLIENT_ERROR_CODES, GATEWAY_ERRORS } from './errors.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { supergraphFromFile, type SupergraphFileOptions } from './supergraph-file.js';
import { auditPlugin, beginAuditDraft, createRequestAudit, type AuditDraft } from './request-audit.js';
import { ensureAuditKey, loadAuditKey } from './audit/audit-record.js';
import { openAuditStore } from './audit/audit-store.js';
import { createAuditWriter, type AuditWriter } from './audit/audit-writer.js';
import { leaseAuditChain } from './audit/chain-lease.js';
import { auditRetentionFromEnv, normalizeAuditRetentionOptions, pruneExpiredAudit } from './audit/audit-retention.js';

export type { GatewayContext };

export interface RunningGateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  onSupergraphReload?: SupergraphFileOptions['onReload'];
}

/**
 * Starts the federation gateway. A request goes through admission (token,
 * revocation, rate limits, matter), then Apollo Server parses and validates
 * it, the operation guard prunes it to the effective scopes, @apollo/gateway
 * plans and executes what is left against the subgraphs (each fetch carrying
 * a signed assertion of the caller), and the guard nulls the removed fields
 * and masks personal identifiers. No response data is cached: every query
 * reads the subgraphs.
 */
export async function startGateway({ config, logger, onSupergraphReload }: StartGatewayOptions): Promise<RunningGateway> {
  // The committed trust list names the local demo identity providers, whose keys live in the data folder.
  const demoTrustList = config.trustListFile === DEFAULT_TRUST_LIST_FILE;
  if (demoTrustList) await ensureDevIdentityProviders(config.dataDir);
  const authenticator = await createAuthenticator({
    trustListFile: config.trustListFile,
    audience: config.tokenAudience,
    clockToleranceSeconds: config.clockToleranceSeconds,
    ...(demoTrustList ? { jwksDir: join(config.dataDir, 'dev-idp') } : {}),
  });
  const matters = loadMatterCatalog(config.matterCatalogFile, new Set(Object.keys(SCOPES)));
  const signing = await loadGatewaySigningKey(config.dataDir);
  const signAssertion = createAssertionSigner(signing);
  // The audit chain first: a replica that cannot write its own chain must not start at all.
  const audit = await openRequestAudit(config, signing, logger);
  const accessGuard = createAccessGuard({
    redis: config.redisUrl,
    keyPrefix: config.redisKeyPrefix,
    dataDir: config.dataDir,
    rateLimits: {
      perClient: { limit: config.rateLimitClient, windowSeconds: config.rateLimitWindowSeconds },
      perProvince: { limit: config.rateLimitProvince, windowSeconds: config.rateLimitWindowSeconds },
    },
    logger,
  });

  let current: { policy: SecurityPolicy; version: number } = { policy: extractSecurityPolicy('type Query { _: Int }'), version: 0 };
  const guard = createOperationGuard({ policy: () => current, mode: config.authorizationMode });
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile({
      file: config.supergraphFile,
      logger,
      // @apollo/gateway refuses the security features; the guard enforces them from the same file.
      prepare: (sdl) => {
        extractSecurityPolicy(sdl); // refuses what this gateway cannot enforce (e.g. @policy)
        return stripSecurityFeatures(sdl);
      },
      onLoaded: (sdl) => {
        current = { policy: extractSecurityPolicy(sdl), version: current.version + 1 };
        guard.clearCache();
      },
      onReload: onSupergraphReload,
    }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: config.subgraphUrls[name as SubgraphName] ?? url!,
        timeoutMs: config.subgraphTimeoutMs,
        logger,
        signAssertion,
      }),
    logger,
  });
  const server = new ApolloServer<GatewayContext>({
    gateway: guardGateway(gateway) as ApolloGateway,
    includeStacktraceInErrorResponses: false,
    // Order matters: the guard nulls and masks before the audit plugin reads the errors.
    plugins: [ApolloServerPluginLandingPageDisabled(), guard.plugin, auditPlugin],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) {
        // Keep the code and the safe extensions; drop Apollo's `http` hint and anything else.
        const { http: _http, ...extensions } = formatted.extensions ?? {};
        return { ...formatted, extensions };
      }
      logger.error({ err: error, code, path: formatted.path }, 'internal error in a request');
      return {
        message: GATEWAY_ERRORS.INTERNAL_SERVER_ERROR.message,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    },
  });
  try {
    await server.start();
  } catch (error) {
    // A supergraph the gateway cannot load, for instance: release what was opened.
    await accessGuard.close();
    await audit.close();
    throw error;
  }
  const admit = createAdmission({ authenticator, accessGuard, matters, logger });
  const http = createGraphQLHttpServer<GatewayContext, AuditDraft>({
    server,
    graphqlPath: '/graphql',
    maxRequestBytes: config.maxRequestBytes,
    logger,
    begin: beginAuditDraft,
    complete: createRequestAudit({ writer: audit.writer, subjectKey: audit.subjectKey, replica: config.replicaId, logger }),
    async admit(req, requestId, draft) {
      const admitted = await admit(req, requestId, draft);
      if (admitted instanceof Rejection) return admitted;
      return { ...admitted, requestId, logger: logger.child({ requestId }), audit: draft };
    },
  });
  let port: number;
  try {
    port = await listen(http, config.port, config.host);
  } catch (error) {
    await server.stop();
    await accessGuard.close();
    await audit.close();
    throw error;
  }
  const url = `http://${config.host}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    async stop() {
      await close(http);
      await server.stop();
      await accessGuard.close();
      await audit.close();
    },
  };
}

/**
 * Opens this replica's audit chain: the store (embedded SQLite in the data
 * folder, or PostgreSQL), the writer that group-commits and checkpoints it
 * with the gateway's key, and the key of the subject hashes.
 */
async function openRequestAudit(config: GatewayConfig, signing: Awaited<ReturnType<typeof loadGatewaySigningKey>>, logger: Logger) {
  const subjectKey = config.auditKeyFile ? await loadAuditKey(config.auditKeyFile) : await ensureAuditKey(config.dataDir);
  if (config.auditMode === 'off') {
    logger.warn('AUDIT_MODE=off: requests are NOT audited. For measuring audit cost only; never in service.');
    return { writer: null as AuditWriter | null, subjectKey, close: async () => {} };
  }
  const retention = auditRetentionFromEnv();
  normalizeAuditRetentionOptions(retention); // a bad AUDIT_RETENTION_DAYS stops start-up
  const lease = await leaseAuditChain({ chainId: config.replicaId, databaseUrl: config.auditDatabaseUrl, dataDir: config.dataDir });
  const store = await openAuditStore({ databaseUrl: config.auditDatabaseUrl, dataDir: config.dataDir });
  const writer = await createAuditWriter({ store, chainId: config.replicaId, signing, logger });
  // Retention: once a day, whole checkpointed ranges older than the retention go, and the pruning is recorded in the chain.
  const prune = () =>
    pruneExpiredAudit({ ...retention, store, writer }).catch((error: Error) => logger.error({ err: error }, 'audit pruning failed'));
  const daily = setInterval(() => void prune(), 24 * 3600 * 1000);
  daily.unref();
  void prune();
  return {
    writer: writer as AuditWriter | null,
    subjectKey,
    async close() {
      clearInterval(daily);
      await writer.close();
      await store.close();
      await lease.release();
    },
  };
}
