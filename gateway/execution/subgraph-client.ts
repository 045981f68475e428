import { Pool } from 'undici';

/** What a subgraph answered: a GraphQL response, already parsed. */
export interface SubgraphResponse {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** The subgraph could not be reached, timed out, or did not answer with GraphQL over a 2xx. */
export class SubgraphFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SubgraphFetchError';
  }
}

export interface SubgraphClientOptions {
  url: string;
  /** Deadline for the whole exchange: a slower subgraph counts as unavailable. */
  timeoutMs: number;
  /** Keep-alive connections to this subgraph. Default 32. */
  connections?: number;
}

/**
 * HTTP client of one subgraph: a pool of keep-alive connections (undici),
 * one POST per fetch, the answer parsed as JSON. undici's `request` is used
 * rather than `fetch`: no WHATWG streams or Request objects per call, which
 * was the largest single cost in the gateway's profile.
 */
export class SubgraphClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly timeoutMs: number;
  readonly url: string;

  constructor(options: SubgraphClientOptions) {
    this.url = options.url;
    this.timeoutMs = options.timeoutMs;
    const url = new URL(options.url);
    this.path = `${url.pathname}${url.search}`;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 32,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  async post(body: string, headers: Record<string, string>): Promise<SubgraphResponse> {
    let text: string;
    let status: number;
    // One deadline for the whole exchange (headers and body), like the fallback executor's. Not
    // AbortSignal.timeout(): its timer stays armed after the answer and, when it fires, makes an
    // exception and an abort event for a request long finished; this one is cleared at the end.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`no complete answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const response = await this.pool.request({ method: 'POST', path: this.path, body, headers, signal: deadline.signal });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new SubgraphFetchError(`subgraph request failed: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status > 299) throw new SubgraphFetchError(`subgraph answered HTTP ${status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SubgraphFetchError('subgraph answered with something other than JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SubgraphFetchError('subgraph answered with something other than a GraphQL response');
    return parsed as SubgraphResponse;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
