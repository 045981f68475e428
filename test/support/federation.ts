import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPHS, databaseFileOf, type SubgraphName } from '../../subgraphs/catalog.js';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/server.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { loadGatewayConfig, subgraphUrlVariable } from '../../gateway/config.js';
import { createLogger } from '../../subgraphs/common/logger.js';
import { seedDatabases } from '../../scripts/seed/index.js';

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: { data?: Record<string, any> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };
}

/** A whole federation on free ports over freshly seeded temporary databases. */
export interface TestFederation {
  dataDir: string;
  gatewayUrl: string;
  subgraphs: Map<SubgraphName, RunningSubgraph>;
  /** SQL statements each subgraph executed since the last `resetStatements()`. */
  statements: Record<SubgraphName, string[]>;
  resetStatements(): void;
  query(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  stopSubgraph(name: SubgraphName): Promise<void>;
  stop(): Promise<void>;
}

export const quietLogger = () => createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Seeds a temporary data folder; the caller removes it. */
export async function seedTemporaryData(persons = 400): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-test-'));
  await seedDatabases({ dataDir, persons });
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
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] };
}

export async function startTestFederation(options: { dataDir: string; supergraphFile?: string; onSupergraphReload?: Parameters<typeof startGateway>[0]['onSupergraphReload'] }): Promise<TestFederation> {
  const logger = quietLogger();
  const statements = Object.fromEntries(SUBGRAPHS.map((s) => [s.name, [] as string[]])) as Record<SubgraphName, string[]>;
  const subgraphs = new Map<SubgraphName, RunningSubgraph>();
  let gateway: RunningGateway | undefined;
  const stop = async () => {
    await gateway?.stop();
    await Promise.all([...subgraphs.values()].map((s) => s.stop()));
    subgraphs.clear();
  };
  try {
    for (const { name } of SUBGRAPHS) {
      subgraphs.set(
        name,
        await startSubgraphServer({
          name,
          databaseFile: databaseFileOf(options.dataDir, name),
          port: 0,
          logger,
          onStatement: (sql) => statements[name].push(sql),
        }),
      );
    }
    const env: NodeJS.ProcessEnv = { GATEWAY_PORT: '0', SUBGRAPH_TIMEOUT_MS: '3000' };
    if (options.supergraphFile) env.SUPERGRAPH_FILE = options.supergraphFile;
    for (const [name, running] of subgraphs) env[subgraphUrlVariable(name)] = running.url;
    gateway = await startGateway({ config: loadGatewayConfig(env), logger, onSupergraphReload: options.onSupergraphReload });
  } catch (error) {
    await stop();
    throw error;
  }
  const gatewayUrl = gateway.url;
  return {
    dataDir: options.dataDir,
    gatewayUrl,
    subgraphs,
    statements,
    resetStatements() {
      for (const list of Object.values(statements)) list.length = 0;
    },
    query: (query, variables, headers) => postGraphQL(gatewayUrl, query, variables, headers),
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
