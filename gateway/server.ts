import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { SubgraphName } from '../subgraphs/catalog.js';
import type { GatewayConfig } from './config.js';
import { CLIENT_ERROR_CODES, GATEWAY_ERRORS } from './errors.js';
import { createGraphQLHttpServer } from './http-server.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { supergraphFromFile, type SupergraphFileOptions } from './supergraph-file.js';

/** Per-request context of the gateway. */
export interface GatewayContext {
  requestId: string;
  logger: Logger;
}

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
 * Starts the federation gateway: @apollo/gateway planning over the committed
 * supergraph (reloaded on change), Apollo Server executing, behind the lean
 * HTTP layer. No response data is cached: every query reads the subgraphs.
 */
export async function startGateway({ config, logger, onSupergraphReload }: StartGatewayOptions): Promise<RunningGateway> {
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile({ file: config.supergraphFile, logger, onReload: onSupergraphReload }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: config.subgraphUrls[name as SubgraphName] ?? url!,
        timeoutMs: config.subgraphTimeoutMs,
        logger,
      }),
    logger,
  });
  const server = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const code = formatted.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
      logger.error({ err: error, code, path: formatted.path }, 'internal error in a request');
      return {
        message: GATEWAY_ERRORS.INTERNAL_SERVER_ERROR.message(),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    },
  });
  await server.start();
  const http = createGraphQLHttpServer<GatewayContext>({
    server,
    maxRequestBytes: config.maxRequestBytes,
    logger,
    context: async (_req, requestId) => ({ requestId, logger: logger.child({ requestId }) }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    async stop() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await server.stop();
    },
  };
}
