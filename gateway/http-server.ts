import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { GATEWAY_ERRORS } from './errors.js';

export interface GraphQLHttpOptions<Context extends BaseContext> {
  server: ApolloServer<Context>;
  /** Builds the per-request context; the request id is already chosen. */
  context: (request: IncomingMessage, requestId: string) => Promise<Context>;
  maxRequestBytes: number;
  logger: Logger;
}

/** Request ids a caller may supply; anything else is replaced by a fresh UUID. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

function sendJson(res: ServerResponse, status: number, body: unknown, requestId?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(requestId ? { 'x-request-id': requestId } : {}),
  });
  res.end(text);
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
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
 * A lean HTTP layer for Apollo Server: `POST /graphql` (and `GET` for
 * queries), `GET /health`, 404 elsewhere. It bounds the request body, assigns
 * or adopts a request id (echoed in `x-request-id`), and never answers with
 * a stack trace.
 */
export function createGraphQLHttpServer<Context extends BaseContext>(options: GraphQLHttpOptions<Context>): Server {
  const { server, logger, maxRequestBytes } = options;
  return createServer(async (req, res) => {
    const supplied = req.headers['x-request-id'];
    const requestId = typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
    const url = new URL(req.url ?? '/', 'http://gateway.local');
    try {
      if (url.pathname === '/health' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' }, requestId);
      if (url.pathname !== '/graphql') {
        return sendJson(res, 404, errorBody('NOT_FOUND', GATEWAY_ERRORS.NOT_FOUND.message()), requestId);
      }
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, maxRequestBytes);
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          return sendJson(res, 400, errorBody('BAD_REQUEST', 'Request body is not valid JSON.'), requestId);
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: () => options.context(req, requestId),
      });
      const responseHeaders: Record<string, string> = { 'x-request-id': requestId };
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
        return sendJson(res, 413, errorBody('REQUEST_TOO_LARGE', GATEWAY_ERRORS.REQUEST_TOO_LARGE.message(`${maxRequestBytes} bytes`)), requestId);
      }
      logger.error({ err: error, requestId }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', GATEWAY_ERRORS.INTERNAL_SERVER_ERROR.message()), requestId);
      else res.destroy();
    }
  });
}
