import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from './pipeline/context.js';
import type { SubgraphFetch } from './execution/subgraph-fetch.js';

export interface SubgraphDataSourceOptions {
  /** Subgraph (domain) name, as in the supergraph; also the audience of its assertions. */
  name: string;
  url: string;
  timeoutMs: number;
  /** The subgraph-fetch stage the native executor uses too: headers, disclosures, unavailability. */
  fetch: SubgraphFetch;
  /** Aborted at the end of the shutdown grace: the fetches in flight are cancelled. */
  cancelled?: AbortSignal;
}

type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

/**
 * @apollo/gateway's data source, used by its executor for the plans the
 * native executor does not cover (and for all with GATEWAY_EXECUTOR=apollo).
 * Fetches from one domain subgraph with Node's built-in fetch (undici: pooled
 * keep-alive connections) and a deadline, carrying a short-lived assertion
 * of the caller signed for that subgraph alone. When the subgraph cannot be
 * reached or answers without GraphQL, the gateway gets one error that names
 * the domain — never the subgraph's address — and the other domains' data
 * still reaches the client.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly domain: string;
  private readonly stage: SubgraphFetch;

  constructor(options: SubgraphDataSourceOptions) {
    const { timeoutMs, cancelled } = options;
    const fetcher = ((url: string, init: RequestInit) =>
      fetch(url, {
        ...init,
        signal: cancelled ? AbortSignal.any([AbortSignal.timeout(timeoutMs), cancelled]) : AbortSignal.timeout(timeoutMs),
      })) as unknown as Fetcher;
    super({ url: options.url, fetcher });
    this.domain = options.name;
    this.stage = options.fetch;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    // Forward claims, not tokens: the incoming Authorization header is never copied.
    for (const [name, value] of Object.entries(this.stage.headers(this.domain, options.context as GatewayContext)))
      options.request.http!.headers.set(name, value);
  }

  /**
   * Moves the subgraph's report of what it disclosed into the request's
   * audit draft, and strips it: the client never sees it.
   */
  override async didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const extensions = this.stage.received(this.domain, context as GatewayContext, response.extensions as Record<string, unknown> | undefined);
    if (extensions) response.extensions = extensions;
    else delete response.extensions;
    return response;
  }

  /** Called by the base class on any fetch failure (network, deadline, non-2xx, non-JSON). */
  override didEncounterError(error: Error, _request: unknown, _response: unknown, context?: GatewayContext): never {
    const unavailable = this.stage.unavailable(this.domain, context!, error);
    throw new GraphQLError(unavailable.message, { extensions: unavailable.extensions });
  }
}
