import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';

/** An answer given before GraphQL runs: authentication, rate limits, admission. */
export class Rejection {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {}
}

/** A response about to be written; `complete` may inspect or replace it. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The rejection, when the request was refused before GraphQL ran. */
  rejection?: Rejection;
}

/** A GraphQL request as the HTTP layer read it, for an `execute` handler. */
export interface GraphQLHttpRequest {
  method: string;
  contentType: string | undefined;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
}

/** What an `execute` handler answers: the status and the JSON body. */
export interface GraphQLHttpResult {
  status: number;
  body: string;
}

export interface GraphQLHttpOptions<Context extends BaseContext, State = undefined> {
  /** Runs GraphQL: either Apollo Server (the subgraphs) or an own handler (the gateway's engine). */
  server?: ApolloServer<Context>;
  execute?: (request: GraphQLHttpRequest, context: Context) => Promise<GraphQLHttpResult>;
  /** Per-request state created when a request arrives (the gateway's audit draft). */
  begin?: (request: IncomingMessage, requestId: string) => State;
  /**
   * Called with every answer before it is written — refusals, errors and
   * results alike. The gateway records its audit entry here and answers
   * only once it is durable, or replaces the answer when it cannot be.
   */
  complete?: (state: State, answer: HttpAnswer) => Promise<HttpAnswer>;
  /** Path of the GraphQL endpoint: `/graphql` at the gateway, `/` at subgraphs. */
  graphqlPath: string;
  /**
   * Decides whether a request may proceed and builds its per-request
   * context, or answers with a `Rejection` before the body is even read.
   */
  admit: (request: IncomingMessage, requestId: string, state: State) => Promise<Context | Rejection>;
  maxRequestBytes: number;
  logger: Logger;
}

/** Request ids a caller may supply; anything else is replaced by a fresh UUID. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function errorBody(code: string, message: string, extensions: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A lean HTTP layer for Apollo Server, shared by the gateway and the
 * subgraphs: the GraphQL endpoint, `GET /health`, 404 elsewhere. It admits
 * (or rejects) each request before reading its body, bounds the body,
 * assigns or adopts a request id (echoed in `x-request-id`), and never
 * answers with a stack trace.
 */
export function createGraphQLHttpServer<Context extends BaseContext, State = undefined>(options: GraphQLHttpOptions<Context, State>): Server {
  const { server, execute, logger, maxRequestBytes, graphqlPath } = options;
  if (!server === !execute) throw new TypeError('give either an Apollo Server or an execute handler');
  const http = createServer(async (req, res) => {
    const supplied = req.headers['x-request-id'];
    const requestId = typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
    const idHeader = { 'x-request-id': requestId };
    const target = req.url ?? '/';
    // The endpoint itself, as every GraphQL POST names it, needs no URL parsing; anything else is parsed (and normalised).
    const url = target === graphqlPath ? null : new URL(target, 'http://service.local');
    const pathname = url ? url.pathname : target;
    if (pathname === '/health' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' }, idHeader);
    const state = options.begin ? options.begin(req, requestId) : (undefined as State);
    const answer = async (status: number, headers: Record<string, string>, body: string, rejection?: Rejection) => {
      let final: HttpAnswer = { status, headers: { ...idHeader, ...headers }, body, rejection };
      if (options.complete) final = await options.complete(state, final);
      if (res.headersSent) return;
      // Encoded once: its length is the header, its bytes the body.
      const bytes = Buffer.from(final.body, 'utf8');
      // Shutting down (see close): the client should not send its next request on this connection.
      if (!http.listening) res.setHeader('connection', 'close');
      res.writeHead(final.status, { 'content-length': String(bytes.length), ...final.headers });
      res.end(bytes);
    };
    const answerError = (status: number, code: string, message: string, extensions?: Record<string, unknown>, headers: Record<string, string> = {}, rejection?: Rejection) =>
      answer(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(errorBody(code, message, extensions)), rejection);
    try {
      if (pathname !== graphqlPath) {
        return await answerError(404, 'NOT_FOUND', `Not found: the GraphQL endpoint is POST ${graphqlPath}.`);
      }
      const admitted = await options.admit(req, requestId, state);
      if (admitted instanceof Rejection) {
        req.resume(); // drain the unread body so the connection can be reused
        return await answerError(admitted.status, admitted.code, admitted.message, admitted.extensions, admitted.headers, admitted);
      }
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, maxRequestBytes);
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          return await answerError(400, 'BAD_REQUEST', 'Request body is not valid JSON.');
        }
      }
      if (execute) {
        const result = await execute({ method: req.method ?? 'GET', contentType: req.headers['content-type'], body }, admitted);
        return await answer(result.status, { 'content-type': 'application/json; charset=utf-8' }, result.body);
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await server!.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url ? url.search : '', body },
        context: async () => admitted,
      });
      const responseHeaders: Record<string, string> = {};
      for (const [key, value] of response.headers) responseHeaders[key] = value;
      let text: string;
      if (response.body.kind === 'complete') {
        text = response.body.string;
      } else {
        // Incremental delivery is not enabled; collected whole so it is audited like the rest.
        text = '';
        for await (const chunk of response.body.asyncIterator) text += chunk;
      }
      await answer(response.status ?? 200, responseHeaders, text);
    } catch (error) {
      try {
        if (error instanceof BodyTooLarge) {
          return await answerError(413, 'REQUEST_TOO_LARGE', `Request body exceeds ${maxRequestBytes} bytes.`);
        }
        logger.error({ err: error, requestId }, 'request failed');
        await answerError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
      } catch (inner) {
        logger.error({ err: inner, requestId }, 'could not answer');
        if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', 'Internal server error.'), idHeader);
        else res.destroy();
      }
    }
  });
  return http;
}

/** Listens on host:port (0 = a free port) and resolves with the bound port. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as { port: number }).port;
}

/**
 * Stops a server gracefully: no new connections, idle keep-alive connections
 * closed at once, and each request in flight allowed to finish (its answer
 * goes out with `Connection: close`, and its connection is closed once it is
 * idle) for up to `graceMs`; then every connection left is closed. Resolves
 * when no connection is left. `graceMs` 0 cuts requests in flight at once.
 */
export function close(server: Server, graceMs = 0): Promise<void> {
  return new Promise<void>((resolve) => {
    // Idle keep-alive connections are closed by server.close; the ones busy now become idle after their answer.
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
