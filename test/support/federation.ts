import { parseWitnessList } from '../../common/witness/endpoints.js';
import type { AuditReceipt } from '../../common/audit/receipt.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES, databaseFileOf, type SubgraphName } from '../../subgraphs/catalog.js';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/server.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { loadGatewayConfig, subgraphUrlVariable } from '../../gateway/config.js';
import { createLogger } from '../../common/logger.js';
import { seedDatabases } from '../../scripts/seed/index.js';
import { ensureGatewayKeys } from '../../common/gateway-keys.js';
import { testToken, writeTestTrustList } from './identity.js';

/** A matter whose scopes cover all five domains (人才引进落户). */
export const DOSSIER_MATTER = 'TB-HJ-004';

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, any> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
    extensions?: Record<string, any>;
  };
  /** The answer's audit receipt (`extensions.audit`), taken out of `body` so that bodies compare as the data they carry. */
  receipt: AuditReceipt | null;
}

/**
 * Takes the audit receipt out of an answer's body (it names the request's
 * own record, so no two answers share it) and checks that it is one: a
 * record id, its origin and leaf index, and a SHA-256.
 */
export function takeReceipt(body: GraphQLResponse['body']): AuditReceipt | null {
  const receipt = body?.extensions?.audit as AuditReceipt | undefined;
  if (receipt === undefined) return null;
  const match = /^(.+):(\d+)$/.exec(String(receipt.record));
  if (
    !match ||
    receipt.leafIndex !== Number(match[2]) - 1 ||
    receipt.origin !== `kuasheng.gov.cn/audit/${match[1]}` ||
    !/^[0-9a-f]{64}$/.test(receipt.recordHash)
  ) {
    throw new Error(`not an audit receipt: ${JSON.stringify(receipt)}`);
  }
  delete body.extensions!.audit;
  if (Object.keys(body.extensions!).length === 0) delete body.extensions;
  return receipt;
}

/** A whole federation on free ports over freshly seeded temporary databases. */
export interface TestFederation {
  dataDir: string;
  gatewayUrl: string;
  /** Headers every `query` sends unless overridden: a token with all read scopes and the dossier matter. */
  defaultHeaders: Record<string, string>;
  subgraphs: Map<SubgraphName, RunningSubgraph>;
  /** SQL statements each subgraph executed since the last `resetStatements()`. */
  statements: Record<SubgraphName, string[]>;
  resetStatements(): void;
  /** Posts to the gateway with the default headers; a header given as '' is left out. */
  query(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  stopSubgraph(name: SubgraphName): Promise<void>;
  /** Another gateway over the same subgraphs and data, with its own settings (a second replica, another mode). */
  startGateway(env: NodeJS.ProcessEnv): Promise<RunningGateway>;
  stop(): Promise<void>;
}

export const quietLogger = () => createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Seeds a temporary data folder, with the gateway's keys and a test trust list; the caller removes it. */
export async function seedTemporaryData(persons = 400): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-test-'));
  await seedDatabases({ dataDir, persons });
  await ensureGatewayKeys(dataDir);
  await writeTestTrustList(dataDir);
  return dataDir;
}

export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse['body'];
  return { status: response.status, headers: response.headers, receipt: takeReceipt(body), body };
}

export interface TestFederationOptions {
  dataDir: string;
  supergraphFile?: string;
  onSupergraphReload?: Parameters<typeof startGateway>[0]['onSupergraphReload'];
  onTrustedDocumentsReload?: Parameters<typeof startGateway>[0]['onTrustedDocumentsReload'];
  /** Extra gateway settings (environment variables), e.g. REDIS_URL or AUTHORIZATION_MODE. */
  env?: NodeJS.ProcessEnv;
}

/** Environment that points a gateway (in-process or a child process) at a test federation's subgraphs and data. */
export function gatewayEnvironment(federation: Pick<TestFederation, 'dataDir' | 'subgraphs'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    GATEWAY_PORT: '0',
    SUBGRAPH_TIMEOUT_MS: '3000',
    DATA_DIR: federation.dataDir,
    TRUST_LIST_FILE: join(federation.dataDir, 'trust-list.json'),
    RATE_LIMIT_CLIENT: '100000',
    RATE_LIMIT_PROVINCE: '100000',
    ...extra,
  };
  for (const [name, running] of federation.subgraphs) env[subgraphUrlVariable(name)] = running.url;
  return env;
}

export async function startTestFederation(options: TestFederationOptions): Promise<TestFederation> {
  const logger = quietLogger();
  const statements = Object.fromEntries(SERVICES.map((s) => [s.name, [] as string[]])) as Record<SubgraphName, string[]>;
  const subgraphs = new Map<SubgraphName, RunningSubgraph>();
  let gateway: RunningGateway | undefined;
  const extraGateways: RunningGateway[] = [];
  let gatewayEnv: NodeJS.ProcessEnv = {};
  const stop = async () => {
    await Promise.all(extraGateways.map((g) => g.stop()));
    await gateway?.stop();
    await Promise.all([...subgraphs.values()].map((s) => s.stop()));
    subgraphs.clear();
  };
  try {
    for (const { name } of SERVICES) {
      subgraphs.set(
        name,
        await startSubgraphServer({
          name,
          databaseFile: name === 'audit' ? undefined : databaseFileOf(options.dataDir, name),
          dataDir: options.dataDir,
          auditDatabaseUrl: options.env?.AUDIT_DATABASE_URL,
          auditWitnesses: parseWitnessList(options.env?.AUDIT_WITNESSES ?? ''),
          onStatement: (sql) => statements[name].push(sql),
          gatewayJwksFile: join(options.dataDir, 'keys', 'gateway.jwks.json'),
          port: 0,
          logger,
        }),
      );
    }
    const env = gatewayEnvironment({ dataDir: options.dataDir, subgraphs }, options.env);
    if (options.supergraphFile) env.SUPERGRAPH_FILE = options.supergraphFile;
    gatewayEnv = env;
    gateway = await startGateway({
      config: loadGatewayConfig(env),
      logger,
      onSupergraphReload: options.onSupergraphReload,
      onTrustedDocumentsReload: options.onTrustedDocumentsReload,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const gatewayUrl = gateway.url;
  const defaultHeaders = { authorization: `Bearer ${await testToken(options.dataDir)}`, 'x-matter-code': DOSSIER_MATTER };
  return {
    dataDir: options.dataDir,
    gatewayUrl,
    defaultHeaders,
    subgraphs,
    statements,
    resetStatements() {
      for (const list of Object.values(statements)) list.length = 0;
    },
    query: (query, variables, headers = {}) => {
      const merged = Object.fromEntries(Object.entries({ ...defaultHeaders, ...headers }).filter(([, v]) => v !== ''));
      return postGraphQL(gatewayUrl, query, variables, merged);
    },
    async startGateway(env) {
      // Each replica writes its own audit chain: two on one chain would collide (and fail closed).
      const replica = { GATEWAY_REPLICA_ID: `test-replica-${extraGateways.length + 2}` };
      const extra = await startGateway({ config: loadGatewayConfig({ ...gatewayEnv, ...replica, ...env }), logger });
      extraGateways.push(extra);
      return extra;
    },
    async stopSubgraph(name) {
      await subgraphs.get(name)?.stop();
      subgraphs.delete(name);
    },
    stop,
  };
}

export function removeData(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}
