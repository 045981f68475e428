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

export interface GraphQLHttpOptions<Context extends BaseContext> {
  server: ApolloServer<Context>;
  /** Path of the GraphQL endpoint: `/graphql` at the gateway, `/` at subgraphs. */
  graphqlPath: string;
  /**
   * Decides whether a request may proceed and builds its per-request
   * context, or answers with a `Rejection` before the body is even read.
   */
  admit: (request: IncomingMessage, requestId: string) => Promise<Context | Rejection>;
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
export function createGraphQLHttpServer<Context extends BaseContext>(options: GraphQLHttpOptions<Context>): Server {
  const { server, logger, maxRequestBytes, graphqlPath } = options;
  return createServer(async (req, res) => {
    const supplied = req.headers['x-request-id'];
    const requestId = typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
    const idHeader = { 'x-request-id': requestId };
    const url = new URL(req.url ?? '/', 'http://service.local');
    try {
      if (url.pathname === '/health' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' }, idHeader);
      if (url.pathname !== graphqlPath) {
        return sendJson(res, 404, errorBody('NOT_FOUND', `Not found: the GraphQL endpoint is POST ${graphqlPath}.`), idHeader);
      }
      const admitted = await options.admit(req, requestId);
      if (admitted instanceof Rejection) {
        req.resume(); // drain the unread body so the connection can be reused
        return sendJson(res, admitted.status, errorBody(admitted.code, admitted.message, admitted.extensions), { ...idHeader, ...admitted.headers });
      }
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, maxRequestBytes);
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          return sendJson(res, 400, errorBody('BAD_REQUEST', 'Request body is not valid JSON.'), idHeader);
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => admitted,
      });
      const responseHeaders: Record<string, string> = { ...idHeader };
      for (const [key, value] of response.headers) responseHeaders[key] = value;
      res.writeHead(response.status ?? 200, responseHeaders);
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        return sendJson(res, 413, errorBody('REQUEST_TOO_LARGE', `Request body exceeds ${maxRequestBytes} bytes.`), idHeader);
      }
      logger.error({ err: error, requestId }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', 'Internal server error.'), idHeader);
      else res.destroy();
    }
  });
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

/** Closes a server and every open keep-alive connection. */
export function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
