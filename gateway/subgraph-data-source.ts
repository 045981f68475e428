import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Logger } from 'pino';
import { subgraphUnavailable } from './errors.js';

export interface SubgraphDataSourceOptions {
  /** Subgraph (domain) name, as in the supergraph. */
  name: string;
  url: string;
  timeoutMs: number;
  logger: Logger;
}

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

/**
 * Fetches from one domain subgraph with Node's built-in fetch (undici: pooled
 * keep-alive connections) and a deadline. When the subgraph cannot be reached
 * or answers without GraphQL, the gateway gets one error that names the
 * domain — never the subgraph's address — and the other domains' data still
 * reaches the client.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource {
  private readonly domain: string;
  private readonly log: Logger;

  constructor(options: SubgraphDataSourceOptions) {
    const timeoutMs = options.timeoutMs;
    const fetcher = ((url: string, init: RequestInit) =>
      fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as unknown as Fetcher;
    super({ url: options.url, fetcher });
    this.domain = options.name;
    this.log = options.logger.child({ subgraph: options.name });
  }

  /** Called by the base class on any fetch failure (network, deadline, non-2xx, non-JSON). */
  override didEncounterError(error: Error): never {
    this.log.warn({ err: error }, 'subgraph unavailable');
    throw subgraphUnavailable(this.domain);
  }
}
