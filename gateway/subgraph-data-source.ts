import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Logger } from 'pino';
import { ASSERTION_HEADER } from '../common/gateway-assertion.js';
import { subgraphUnavailable } from './errors.js';
import { DISCLOSURE_EXTENSION, readDisclosureReport } from '../common/disclosure.js';
import type { GatewayContext } from './authorization/operation-guard.js';

export interface SubgraphDataSourceOptions {
  /** Subgraph (domain) name, as in the supergraph; also the audience of its assertions. */
  name: string;
  url: string;
  timeoutMs: number;
  logger: Logger;
  /** The caller's signed assertion for a subgraph (reused while fresh; see execution/assertions.ts). */
  assertionFor: (audience: string, context: GatewayContext) => string;
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
  private readonly log: Logger;
  private readonly assertionFor: SubgraphDataSourceOptions['assertionFor'];

  constructor(options: SubgraphDataSourceOptions) {
    const timeoutMs = options.timeoutMs;
    const fetcher = ((url: string, init: RequestInit) =>
      fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as unknown as Fetcher;
    super({ url: options.url, fetcher });
    this.domain = options.name;
    this.log = options.logger.child({ subgraph: options.name });
    this.assertionFor = options.assertionFor;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const request = options.request;
    const context = options.context as GatewayContext;
    // Forward claims, not tokens: the incoming Authorization header is never copied.
    request.http!.headers.set(ASSERTION_HEADER, this.assertionFor(this.domain, context));
    request.http!.headers.set('x-request-id', context.requestId);
  }

  /**
   * Moves the subgraph's report of what it disclosed into the request's
   * audit draft, and strips it: the client never sees it.
   */
  override async didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const disclosed = response.extensions?.[DISCLOSURE_EXTENSION];
    if (response.extensions) {
      delete response.extensions[DISCLOSURE_EXTENSION];
      if (Object.keys(response.extensions).length === 0) delete response.extensions;
    }
    if (disclosed !== undefined) {
      const draft = (context as GatewayContext).audit;
      for (const { type, keys } of readDisclosureReport(disclosed)) draft.disclosed.push({ subgraph: this.domain, type, keys });
    }
    return response;
  }

  /** Called by the base class on any fetch failure (network, deadline, non-2xx, non-JSON). */
  override didEncounterError(error: Error): never {
    this.log.warn({ err: error }, 'subgraph unavailable');
    throw subgraphUnavailable(this.domain);
  }
}
