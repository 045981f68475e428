import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import type { Logger } from 'pino';
import type { SubgraphName } from '../common/services.js';
import { close, createGraphQLHttpServer, listen } from '../common/http/server.js';
import { createAssertionSigner } from '../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../common/gateway-keys.js';
import { extractSecurityPolicy, stripSecurityFeatures, type SecurityPolicy } from '../common/scopes/security-policy.js';
import { createAccessGuard } from './access/guard.js';
import { createAuthenticator } from './auth/authenticate.js';
import { SCOPES } from './auth/caller.js';
import { loadMatterCatalog } from './authorization/matter-catalog.js';
import { createOperationGuard } from './authorization/operation-guard.js';
import { createSubgraphFetch } from './execution/subgraph-fetch.js';
import { CACHE_QUERY_CHARACTERS, createEngine } from './execution/engine.js';
import { DEFAULT_TRUST_LIST_FILE, type GatewayConfig } from './config.js';
import { ensureDevIdentityProviders } from './auth/dev-identity-provider.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { supergraphFromFile, type SupergraphFileOptions } from './supergraph-file.js';
import type { GatewayContext, RequestContext } from './pipeline/context.js';
import { createPipeline } from './pipeline/pipeline.js';
import { useAccessGuard } from './plugins/access-guard.js';
import { type AuditTrail, useAuditTrail } from './plugins/audit-trail.js';
import { useAuthentication } from './plugins/authentication.js';
import { useDemandControl } from './plugins/demand-control.js';
import { extractCostModel, type CostModel } from './limits/cost.js';
import { useCors } from './plugins/cors.js';
import { useCsrfPrevention } from './plugins/csrf-prevention.js';
import { graphiqlFiles } from './graphiql/page.js';
import { useMasking } from './plugins/masking.js';
import { useMemoryGuard } from './plugins/memory-guard.js';
import { useOperationLimits } from './plugins/operation-limits.js';
import { usePurpose } from './plugins/purpose.js';
import { useRequestId } from './plugins/request-id.js';
import { useScopes } from './plugins/scopes.js';
import { useSubgraphAssertion } from './plugins/subgraph-assertion.js';
import { useTrustedDocuments } from './plugins/trusted-documents.js';
import { openDocumentRegistry, type DocumentRegistryOptions } from './trusted-documents/registry.js';
import { ensureAuditKey, loadAuditKey } from '../common/audit/record.js';
import { openAuditStore } from '../common/audit/store.js';
import { createAuditWriter, type AuditWriter } from './audit/writer.js';
import { createWitnessClient } from '../common/witness/client.js';
import { leaseAuditChain } from './audit/chain-lease.js';
import { pruneExpiredAudit } from './audit/retention.js';

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
  /** Called after the trusted-documents manifests have been reloaded (or a change refused). */
  onTrustedDocumentsReload?: DocumentRegistryOptions['onReload'];
}

/**
 * Starts the federation gateway. A request runs through the stages of the
 * pipeline (pipeline/plugin.ts) — received, admission, parse/validate,
 * authorise, plan, each subgraph fetch, response, completion — and the
 * plugins listed below hook them, in that order: the engine
 * (execution/engine.ts) parses, validates, plans and executes; everything
 * else is a plugin. No response data is cached: every query reads the
 * subgraphs.
 */
export async function startGateway({ config, logger, onSupergraphReload, onTrustedDocumentsReload }: StartGatewayOptions): Promise<RunningGateway> {
  // The committed trust list names the local demo identity providers, whose keys live in the data folder.
  const demoTrustList = config.trustListFile === DEFAULT_TRUST_LIST_FILE;
  if (demoTrustList) await ensureDevIdentityProviders(config.dataDir);
  const authenticator = await createAuthenticator({
    trustListFile: config.trustListFile,
    audience: config.tokenAudience,
    maxLifetimeSeconds: config.maxTokenLifetimeSeconds,
    clockToleranceSeconds: config.clockToleranceSeconds,
    jwksCacheMaxAgeMs: config.jwks.cacheMaxAgeMs,
    jwksCooldownMs: config.jwks.cooldownMs,
    jwksTimeoutMs: config.jwks.timeoutMs,
    jwksMaxStaleMs: config.jwks.maxStaleMs,
    logger,
    outageLogIntervalMs: config.outageLogIntervalMs,
    ...(demoTrustList ? { jwksDir: join(config.dataDir, 'dev-idp') } : {}),
  });
  const matters = loadMatterCatalog(config.matterCatalogFile, new Set(Object.keys(SCOPES)));
  // Before anything is opened: a bad manifest stops start-up, naming its file and operation.
  const documents = openDocumentRegistry({ dir: config.trustedDocumentsDir, logger, onReload: onTrustedDocumentsReload });
  const signing = await loadGatewaySigningKey(config.dataDir);
  const signAssertion = createAssertionSigner(signing);
  // The audit chain first: a replica that cannot write its own chain must not start at all.
  // The writer's commit siblings are the requests on their way to it, counted by the audit trail made below.
  let auditTrail: AuditTrail | null = null;
  const audit = await openRequestAudit(config, signing, logger, () => auditTrail?.backlog() ?? 0);
  const accessGuard = createAccessGuard({
    redis: config.redisUrl,
    keyPrefix: config.redisKeyPrefix,
    dataDir: config.dataDir,
    rateLimits: {
      perClient: { limit: config.rateLimitClient, windowSeconds: config.rateLimitWindowSeconds },
      perProvince: { limit: config.rateLimitProvince, windowSeconds: config.rateLimitWindowSeconds },
    },
    logger,
    warnIntervalSeconds: config.outageLogIntervalMs / 1000,
  });

  let current: { policy: SecurityPolicy; version: number } = { policy: extractSecurityPolicy('type Query { _: Int }'), version: 0 };
  let costModel: CostModel = { weights: new Map(), listSizes: new Map() };
  const guard = createOperationGuard({ policy: () => current, cacheCharacters: CACHE_QUERY_CHARACTERS });
  // While a dependency is out, its outage is logged (begun, summarised once per interval, ended), never each request it fails.
  const outageLogIntervalMs = config.outageLogIntervalMs;
  auditTrail = useAuditTrail({ writer: audit.writer, subjectKey: audit.subjectKey, replica: config.replicaId, logger, outageLogIntervalMs });

  const access = useAccessGuard({ guard: accessGuard, logger, outageLogIntervalMs });
  // The request path. Within a stage, plugins run in this order (see each plugin's `after`).
  const pipeline = createPipeline(
    [
      useRequestId({ logger }), // ids on log lines and on every subgraph fetch
      auditTrail, // one record per request, durable before the answer leaves
      useMemoryGuard({ maxHeapBytes: config.maxHeapMb * 1_048_576 }), // heap over its bound: 503 at once
      useCors({ origins: config.corsOrigins }), // preflights answered before authentication; the allow headers on every answer (after the audit's)
      useCsrfPrevention(), // a request a browser sends cross-site unasked must carry a preflighted header (400)
      useAuthentication({ authenticator }), // bearer token → caller (401)
      access, // revocation (401, 503 fail-closed), budgets (429)
      useTrustedDocuments({ registry: documents, trustList: authenticator.trustList }), // registered documents by id; only those where required (400)
      useOperationLimits(config.operationLimits), // depth, aliases, root fields, expanded fields, directives (400)
      useDemandControl({
        model: () => costModel,
        maxCost: config.maxOperationCost,
        defaultListSize: config.costDefaultListSize,
        budgets: access,
      }), // estimated cost (400), budgets charged in cost (429)
      useScopes({ guard, mode: config.authorizationMode }), // prune to the effective scopes; denied fields null
      usePurpose({ matters }), // declared matter → effective scopes; MATTER_REQUIRED for personal data
      useMasking(), // identifiers masked unless pii:unmasked
      useSubgraphAssertion({ sign: signAssertion }), // the caller's signed claims to each subgraph, never the token
    ],
    { logger },
  );
  // Aborted at the end of the shutdown grace: the subgraph calls still in flight are cancelled (SHUTTING_DOWN).
  const cancelled = new AbortController();
  const subgraphFetch = createSubgraphFetch({ pipeline, logger, outageLogIntervalMs, cancelled: () => cancelled.signal.aborted });
  const engine = createEngine({
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    subgraphUrls: config.subgraphUrls,
    pipeline,
    executor: config.executor,
    fetch: subgraphFetch,
    introspection: config.introspection,
    maxTokens: config.operationLimits.tokens,
  });
  // @apollo/gateway loads and validates the supergraph (and watches its file); the engine plans from the same SDL.
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
        costModel = extractCostModel(sdl);
        engine.load(stripSecurityFeatures(sdl), current.version);
        guard.clearCache();
      },
      onReload: onSupergraphReload,
    }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: config.subgraphUrls[name as SubgraphName] ?? url!,
        timeoutMs: config.subgraphTimeoutMs,
        fetch: subgraphFetch,
        cancelled: cancelled.signal,
      }),
    logger,
  });
  try {
    const loaded = await gateway.load();
    engine.setApolloExecutor(loaded.executor!);
  } catch (error) {
    // A supergraph the gateway cannot load, for instance: release what was opened.
    documents.close();
    await engine.close();
    await accessGuard.close();
    await audit.close();
    throw error;
  }
  const graphqlPath = '/graphql';
  const http = createGraphQLHttpServer<GatewayContext, RequestContext>({
    execute: engine.handle,
    graphqlPath,
    // The query IDE goes with introspection: without it, GraphiQL has no schema to offer.
    ...(config.introspection ? { staticFiles: graphiqlFiles({ graphqlPath }) } : {}),
    maxRequestBytes: config.maxRequestBytes,
    logger,
    begin: pipeline.begin,
    admit: (request, _ids, context) => pipeline.admit(request, context),
    complete: pipeline.complete,
    undelivered: pipeline.undelivered,
    timeouts: config.httpTimeouts,
  });
  let port: number;
  try {
    port = await listen(http, config.port, config.host);
  } catch (error) {
    documents.close();
    authenticator.close();
    await gateway.stop();
    await engine.close();
    await accessGuard.close();
    await audit.close();
    throw error;
  }
  const url = `http://${config.host}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    async stop() {
      // SHUTDOWN_GRACE_MS bounds the whole stop. Requests in flight finish, and are audited, before the subgraph clients
      // and the audit writer close; near the end of the grace their subgraph calls are cancelled, then their connections
      // cut (see close), and the audit writer, closed last, has until the deadline to record what was withheld.
      const deadline = Date.now() + config.shutdownGraceMs;
      await close(http, config.shutdownGraceMs, {
        cancel: () => {
          logger.warn('shutdown grace running out: cancelling the subgraph calls in flight');
          cancelled.abort();
          void engine.cancel();
        },
      });
      documents.close();
      authenticator.close();
      await withinDeadline(gateway.stop(), deadline, logger, 'supergraph loader');
      await withinDeadline(engine.close(), deadline, logger, 'subgraph clients');
      await withinDeadline(accessGuard.close(), deadline, logger, 'access guard');
      await audit.close(deadline);
    },
  };
}

/** Waits for `work` until the deadline at most: a stop bounded by SHUTDOWN_GRACE_MS does not wait on a service that hangs. */
async function withinDeadline(work: Promise<unknown>, deadline: number, logger: Logger, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    work.then(
      () => true,
      (error: unknown) => {
        logger.warn({ err: error }, `${what} did not close cleanly`);
        return true;
      },
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) logger.warn(`${what} still closing at the end of the shutdown grace; not waited for`);
}

/**
 * Opens this replica's audit chain: the store (embedded SQLite in the data
 * folder, or PostgreSQL), the writer that group-commits and checkpoints it
 * with the gateway's key, and the key of the subject hashes.
 */
async function openRequestAudit(
  config: GatewayConfig,
  signing: Awaited<ReturnType<typeof loadGatewaySigningKey>>,
  logger: Logger,
  commitSiblings: () => number,
) {
  const subjectKey = config.auditKeyFile ? await loadAuditKey(config.auditKeyFile) : await ensureAuditKey(config.dataDir);
  if (config.auditMode === 'off') {
    logger.warn('AUDIT_MODE=off: requests are NOT audited. For measuring audit cost only; never in service.');
    return { writer: null as AuditWriter | null, subjectKey, close: async (_deadline?: number) => {} };
  }
  const retention = config.auditRetention;
  const lease = await leaseAuditChain({ chainId: config.replicaId, databaseUrl: config.auditDatabaseUrl, dataDir: config.dataDir });
  const store = await openAuditStore({ databaseUrl: config.auditDatabaseUrl, dataDir: config.dataDir, logger });
  const writer = await createAuditWriter({
    store,
    chainId: config.replicaId,
    signing,
    logger,
    commitDelayMs: config.auditCommitDelayMs,
    commitSiblings,
    // Each checkpoint goes to the witnesses (other provinces) in the background; their cosignatures are kept beside it.
    witnessing: config.auditWitnesses.length > 0 ? createWitnessClient({ witnesses: config.auditWitnesses, logger }) : null,
    // What could not be recorded before the end of a shutdown grace is recorded first by the next start.
    spoolFile: join(config.dataDir, 'audit-chains', `${config.replicaId}.withheld.json`),
  });
  // Retention: once a day, whole checkpointed ranges older than the retention go, and the pruning is recorded in the chain.
  const prune = () =>
    pruneExpiredAudit({ ...retention, store, writer }).catch((error: Error) => logger.error({ err: error }, 'audit pruning failed'));
  const daily = setInterval(() => void prune(), 24 * 3600 * 1000);
  daily.unref();
  void prune();
  return {
    writer: writer as AuditWriter | null,
    subjectKey,
    /** Closes the writer (last of all: it records what was withheld), the store and the chain's lease, by `deadline` when one is given. */
    async close(deadline?: number) {
      clearInterval(daily);
      await writer.close(deadline === undefined ? {} : { deadline });
      if (deadline === undefined) {
        await store.close();
        await lease.release();
        return;
      }
      await withinDeadline(store.close(), deadline, logger, 'audit store');
      await withinDeadline(lease.release(), deadline, logger, 'audit chain lease');
    },
  };
}
