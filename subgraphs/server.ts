import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import type { SubgraphName } from './catalog.js';
import { openDatabase, type SqliteDatabase } from './common/database.js';
import type { SubgraphDomain } from './common/domain.js';
import { createLogger, type Logger } from './common/logger.js';
import { AssertionError, ASSERTION_HEADER, createAssertionVerifier, type GatewayAssertion } from './common/gateway-assertion.js';
import { close, createGraphQLHttpServer, listen, Rejection } from './common/graphql-http.js';
import { authorizeOperation } from './common/scopes/authorize-operation.js';
import { extractSecurityPolicy } from './common/scopes/security-policy.js';
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
  /** The gateway's public key set: only requests carrying an assertion it signed are served. */
  gatewayJwksFile: string;
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
const CLIENT_ERROR_CODES = new Set(['BAD_USER_INPUT', 'FORBIDDEN', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/** What every subgraph request carries besides the domain's loaders: the verified gateway assertion. */
export interface SubgraphRequestContext {
  assertion: GatewayAssertion;
  scopes: ReadonlySet<string>;
}

/**
 * Defence in depth: the subgraph enforces its own `@requiresScopes` against
 * the scopes the gateway asserted. The gateway has already removed what the
 * caller may not see, so a denial here means something bypassed it: the
 * whole operation is refused.
 */
function scopeEnforcement(name: SubgraphName): ApolloServerPlugin<SubgraphRequestContext> {
  const policy = extractSecurityPolicy(subgraphTypeDefs(name));
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, contextValue }) {
          const { denied } = authorizeOperation({ schema, document, operationName, policy, scopes: contextValue.scopes });
          if (denied.length > 0) {
            throw new GraphQLError(`The asserted scopes do not cover ${denied[0].coordinate}.`, {
              extensions: { code: 'FORBIDDEN', http: { status: 403 } },
            });
          }
        },
      };
    },
  };
}

/**
 * Builds the Apollo Server of one domain subgraph over its open database.
 * Exposed separately from `startSubgraphServer` so tests can execute
 * operations in-process.
 */
export function createSubgraphApolloServer(name: SubgraphName, db: SqliteDatabase, logger: Logger) {
  const domain = DOMAINS[name];
  const server = new ApolloServer<SubgraphRequestContext>({
    schema: buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name), resolvers: domain.resolvers }),
    includeStacktraceInErrorResponses: false,
    // No Apollo Studio here: federated traces would only cost time.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), scopeEnforcement(name)],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
      logger.error({ err: error, path: formatted.path }, 'resolver failed');
      return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
  });
  const domainContext = domain.createContext(db);
  const createContext = (assertion: GatewayAssertion): SubgraphRequestContext => ({
    ...domainContext(),
    assertion,
    scopes: new Set(assertion.scopes),
  });
  return { server, createContext };
}

/** Opens the database read-only and serves the subgraph over HTTP at `/`, to the gateway only. */
export async function startSubgraphServer(options: SubgraphServerOptions): Promise<RunningSubgraph> {
  const logger = (options.logger ?? createLogger({ name: 'subgraph' })).child({ subgraph: options.name });
  const verifyAssertion = createAssertionVerifier({ jwksFile: options.gatewayJwksFile, audience: options.name });
  const db = openDatabase(options.databaseFile, { readonly: true, onStatement: options.onStatement });
  const { server, createContext } = createSubgraphApolloServer(options.name, db, logger);
  const host = options.host ?? '127.0.0.1';
  try {
    await server.start();
    const http = createGraphQLHttpServer<SubgraphRequestContext>({
      server,
      graphqlPath: '/',
      maxRequestBytes: 4 * 1024 * 1024,
      logger,
      async admit(req) {
        const header = req.headers[ASSERTION_HEADER];
        try {
          return createContext(await verifyAssertion(typeof header === 'string' ? header : undefined));
        } catch (error) {
          if (!(error instanceof AssertionError)) throw error;
          logger.warn({ reason: error.reason, remote: req.socket.remoteAddress }, 'request without a valid gateway assertion refused');
          return new Rejection(401, 'UNAUTHENTICATED', error.message, { reason: error.reason });
        }
      },
    });
    const port = await listen(http, options.port, host);
    const url = `http://${host}:${port}/`;
    logger.info({ url }, 'subgraph listening');
    return {
      name: options.name,
      url,
      async stop() {
        await close(http);
        await server.stop();
        db.close();
      },
    };
  } catch (error) {
    await server.stop();
    db.close();
    throw error;
  }
}
