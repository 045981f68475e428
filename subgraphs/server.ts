import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLFormattedError } from 'graphql';
import type { SubgraphName } from './catalog.js';
import { openDatabase, type SqliteDatabase } from './common/database.js';
import type { SubgraphDomain } from './common/domain.js';
import { createLogger, type Logger } from './common/logger.js';
import { householdDomain } from './household/resolvers.js';
import { socialInsuranceDomain } from './social-insurance/resolvers.js';
import { providentFundDomain } from './provident-fund/resolvers.js';
import { creditDomain } from './credit/resolvers.js';
import { licencesDomain } from './licences/resolvers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const DOMAINS: Record<SubgraphName, SubgraphDomain<any>> = {
  household: householdDomain,
  'social-insurance': socialInsuranceDomain,
  'provident-fund': providentFundDomain,
  credit: creditDomain,
  licences: licencesDomain,
};

const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

/** The SDL of one subgraph, read from `schema/<name>.graphql` (schema first). */
export function subgraphTypeDefs(name: SubgraphName) {
  return parse(readFileSync(`${SCHEMA_DIR}${name}.graphql`, 'utf8'));
}

export interface SubgraphServerOptions {
  name: SubgraphName;
  /** SQLite file of this subgraph; it must exist (seeded). */
  databaseFile: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind. Default: 127.0.0.1. */
  host?: string;
  logger?: Logger;
  /** Called with each SQL statement executed (tests count them). */
  onStatement?: (sql: string) => void;
}

export interface RunningSubgraph {
  name: SubgraphName;
  url: string;
  stop(): Promise<void>;
}

/** Codes a client may see as they are; everything else is an internal error. */
const CLIENT_ERROR_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Builds the Apollo Server of one domain subgraph over its open database.
 * Exposed separately from `startSubgraphServer` so tests can execute
 * operations in-process.
 */
export function createSubgraphApolloServer(name: SubgraphName, db: SqliteDatabase, logger: Logger) {
  const domain = DOMAINS[name];
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name), resolvers: domain.resolvers }),
    includeStacktraceInErrorResponses: false,
    // No Apollo Studio here: federated traces would only cost time.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
      logger.error({ err: error, path: formatted.path }, 'resolver failed');
      return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
  });
  return { server, createContext: domain.createContext(db) };
}

/** Opens the database read-only and serves the subgraph over HTTP at `/` (and any path). */
export async function startSubgraphServer(options: SubgraphServerOptions): Promise<RunningSubgraph> {
  const logger = (options.logger ?? createLogger({ name: 'subgraph' })).child({ subgraph: options.name });
  const db = openDatabase(options.databaseFile, { readonly: true, onStatement: options.onStatement });
  const { server, createContext } = createSubgraphApolloServer(options.name, db, logger);
  try {
    const { url } = await startStandaloneServer(server, {
      listen: { port: options.port, host: options.host ?? '127.0.0.1' },
      context: async () => createContext(),
    });
    logger.info({ url }, 'subgraph listening');
    return {
      name: options.name,
      url,
      async stop() {
        await server.stop();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
