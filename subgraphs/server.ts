import type { WitnessEndpoint } from '../common/witness/endpoints.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import type { DomainSubgraphName, SubgraphName } from './catalog.js';
import type { SqliteDatabase } from './shared/database.js';
import { openDomainDatabase } from './shared/domain-database.js';
import type { OpenableDomain, SubgraphDomain } from './shared/domain.js';

export type { OpenableDomain, SubgraphResources } from './shared/domain.js';
import { auditReviewDomain } from './audit/resolvers.js';
import { createLogger, type Logger } from '../common/logger.js';
import { AssertionError, ASSERTION_HEADER, createAssertionVerifier, type GatewayAssertion } from '../common/gateway-assertion.js';
import { CLIENT_ERROR_CODES } from '../common/errors.js';
import { close, createGraphQLHttpServer, listen, Rejection } from '../common/http/server.js';
import { authorizeOperation } from '../common/scopes/authorize-operation.js';
import { extractSecurityPolicy } from '../common/scopes/security-policy.js';
import { knownOperationTypesRule } from '../common/known-operation-types.js';
import { guardEntityRepresentations } from './shared/entity-representations.js';
import { DEFAULT_DATA_DIR, type HttpTimeouts, SHUTDOWN_GRACE_MS } from '../common/settings.js';
import { DISCLOSURE_EXTENSION, disclosureReport, trackDisclosures, type DisclosureLog } from '../common/disclosure.js';
import { householdDomain } from './household/resolvers.js';
import { socialInsuranceDomain } from './social-insurance/resolvers.js';
import { providentFundDomain } from './provident-fund/resolvers.js';
import { creditDomain } from './credit/resolvers.js';
import { licencesDomain } from './licences/resolvers.js';

// biome-ignore lint/suspicious/noExplicitAny: resolver and context types differ per domain; the schema is their contract
function sqliteDomain(domain: SubgraphDomain<any>): OpenableDomain {
  return {
    resolvers: domain.resolvers,
    async open(resources) {
      if (!resources.databaseFile) throw new Error(`${domain.name}: no database file`);
      // Refuses a file that is missing, empty, not SQLite, of a newer schema version or without the domain's tables; migrates an older one.
      const db = openDomainDatabase(resources.databaseFile, domain.name as DomainSubgraphName, {
        readonly: !domain.writable,
        onStatement: resources.onStatement,
      });
      return {
        createContext: domain.createContext(db, { dataDir: resources.dataDir }),
        close: async () => {
          db.close();
        },
      };
    },
  };
}

const DOMAINS: Record<SubgraphName, OpenableDomain> = {
  household: sqliteDomain(householdDomain),
  'social-insurance': sqliteDomain(socialInsuranceDomain),
  'provident-fund': sqliteDomain(providentFundDomain),
  credit: sqliteDomain(creditDomain),
  licences: sqliteDomain(licencesDomain),
  audit: auditReviewDomain,
};

/** The per-request context factory of a domain subgraph over an open database (tests). */
export function sqliteContextFactory(name: DomainSubgraphName, db: SqliteDatabase, dataDir = DEFAULT_DATA_DIR) {
  const domains = {
    household: householdDomain,
    'social-insurance': socialInsuranceDomain,
    'provident-fund': providentFundDomain,
    credit: creditDomain,
    licences: licencesDomain,
  };
  return domains[name].createContext(db, { dataDir });
}

const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

/** The SDL of one subgraph, read from `schema/<name>.graphql` (schema first). */
export function subgraphTypeDefs(name: SubgraphName) {
  return parse(readFileSync(`${SCHEMA_DIR}${name}.graphql`, 'utf8'));
}

export interface SubgraphServerOptions {
  name: SubgraphName;
  /** The gateway's public key set: only requests carrying an assertion it signed are served. */
  gatewayJwksFile: string;
  /** Domain subgraphs: the SQLite file; it must exist (seeded). */
  databaseFile?: string;
  /** The data folder (keys, and the embedded audit store for audit review). Default: data. */
  dataDir?: string;
  /** Audit review: PostgreSQL audit store URL (AUDIT_DATABASE_URL); unset: <dataDir>/audit.db. */
  auditDatabaseUrl?: string;
  /** Audit review: subject-hash key file (AUDIT_HMAC_KEY_FILE). */
  auditKeyFile?: string;
  /** Audit review: the witnesses (AUDIT_WITNESSES) whose cosigned checkpoints the store is checked against. */
  auditWitnesses?: WitnessEndpoint[];
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind. Default: 127.0.0.1. */
  host?: string;
  /** How long a client may take to send a request. Default: 5 s for the headers, 10 s for the whole request, 5 s keep-alive. */
  httpTimeouts?: HttpTimeouts;
  /** How long `stop` lets requests in flight finish before closing their connections. Default SHUTDOWN_GRACE_MS's (10 s). */
  shutdownGraceMs?: number;
  logger?: Logger;
  /** Called with each SQL statement executed (tests count them). */
  onStatement?: (sql: string) => void;
}

export interface RunningSubgraph {
  name: SubgraphName;
  url: string;
  stop(): Promise<void>;
}

/** What every subgraph request carries besides the domain's loaders: the verified gateway assertion. */
export interface SubgraphRequestContext {
  assertion: GatewayAssertion;
  scopes: ReadonlySet<string>;
  /** Subjects whose records this request returned, for the gateway's audit record. */
  disclosed: DisclosureLog;
}

/** Reports the request's disclosures to the gateway in a response extension (the gateway strips it). */
const reportDisclosures: ApolloServerPlugin<SubgraphRequestContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single' || contextValue.disclosed.size === 0) return;
        const result = response.body.singleResult;
        result.extensions = { ...result.extensions, [DISCLOSURE_EXTENSION]: disclosureReport(contextValue.disclosed) };
      },
    };
  },
};

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
 * Builds the Apollo Server of one subgraph, given its per-request context
 * factory. Exposed separately from `startSubgraphServer` so tests can
 * execute operations in-process.
 */
// biome-ignore lint/suspicious/noExplicitAny: resolver and context types differ per domain; the schema is their contract
export function createSubgraphApolloServer(name: SubgraphName, domainContext: () => any, logger: Logger) {
  const domain = DOMAINS[name];
  const server = new ApolloServer<SubgraphRequestContext>({
    schema: guardEntityRepresentations(
      buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name), resolvers: trackDisclosures(subgraphTypeDefs(name), domain.resolvers) }),
    ),
    includeStacktraceInErrorResponses: false,
    validationRules: [knownOperationTypesRule],
    // The gateway always sends the operation's text: no persisted queries (a hash alone is PERSISTED_QUERY_NOT_SUPPORTED).
    persistedQueries: false,
    // No Apollo Studio here: federated traces would only cost time.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), scopeEnforcement(name), reportDisclosures],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
      logger.error({ err: error, path: formatted.path }, 'resolver failed');
      return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
  });
  const createContext = (assertion: GatewayAssertion): SubgraphRequestContext => ({
    ...domainContext(),
    assertion,
    scopes: new Set(assertion.scopes),
    disclosed: new Map(),
  });
  return { server, createContext };
}

/** Opens the subgraph's records (read-only) and serves it over HTTP at `/`, to the gateway only. */
export async function startSubgraphServer(options: SubgraphServerOptions): Promise<RunningSubgraph> {
  const logger = (options.logger ?? createLogger({ name: 'subgraph' })).child({ subgraph: options.name });
  const verifyAssertion = createAssertionVerifier({ jwksFile: options.gatewayJwksFile, audience: options.name });
  const opened = await DOMAINS[options.name].open({
    dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
    databaseFile: options.databaseFile,
    onStatement: options.onStatement,
    auditDatabaseUrl: options.auditDatabaseUrl,
    auditKeyFile: options.auditKeyFile,
    auditWitnesses: options.auditWitnesses,
    gatewayJwksFile: options.gatewayJwksFile,
  });
  const { server, createContext } = createSubgraphApolloServer(options.name, opened.createContext, logger);
  const host = options.host ?? '127.0.0.1';
  try {
    await server.start();
    const http = createGraphQLHttpServer<SubgraphRequestContext>({
      server,
      graphqlPath: '/',
      maxRequestBytes: 4 * 1024 * 1024,
      timeouts: options.httpTimeouts,
      logger,
      async admit(req, { requestId, correlationId }) {
        const header = req.headers[ASSERTION_HEADER];
        try {
          return createContext(await verifyAssertion(typeof header === 'string' ? header : undefined));
        } catch (error) {
          if (!(error instanceof AssertionError)) throw error;
          logger.warn(
            { requestId, correlationId, reason: error.reason, remote: req.socket.remoteAddress },
            'request without a valid gateway assertion refused',
          );
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
        await close(http, options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS.default);
        await server.stop();
        await opened.close();
      },
    };
  } catch (error) {
    await server.stop();
    await opened.close();
    throw error;
  }
}
