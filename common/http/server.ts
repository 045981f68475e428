import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { errorBody, HTTP_ERRORS, parserRefusal, REASON_PHRASES, type HttpErrorCode } from './errors.js';
import { correlationIdOf, type CorrelationIdError, newRequestId, REQUEST_ID_HEADER, type RequestIds } from './request-id.js';
import { APPLICATION_JSON, CONTENT_TYPE, graphQLResponseType, mediaTypeOf } from './media-types.js';
import { parseRequestTarget } from './request-target.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from '../settings.js';

export { errorBody } from './errors.js';
export type { RequestIds } from './request-id.js';

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

/**
 * An answer admission gives in place of GraphQL that is no refusal: a CORS
 * preflight's 204. Like a rejection, it ends the request and passes
 * `complete` (it is audited).
 */
export class AdmissionAnswer {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string> = {},
    readonly body: string = '',
  ) {}
}

/** A response about to be written; `complete` may inspect or replace it. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The rejection, when the request was refused before GraphQL ran (by admission or by the HTTP layer). */
  rejection?: Rejection;
}

/** A GraphQL request as the HTTP layer read it, for an `execute` handler. */
export interface GraphQLHttpRequest {
  method: string;
  contentType: string | undefined;
  /** The parsed JSON body (undefined when there was none: a GET, or an empty POST). */
  body: unknown;
  /** The query of the request target with its `?`, or '': the parameters of a GET. */
  search: string;
  /** The `Accept` header: which response types the client takes. */
  accept: string | undefined;
}

/** What an `execute` handler answers: the status, the JSON body and its headers. */
export interface GraphQLHttpResult {
  status: number;
  body: string;
  /** The answer's headers, its `content-type` included; default `application/json`. */
  headers?: Record<string, string>;
}

/** Why an answer did not reach its client: the client closed the connection, or `close` cut it. */
export type UndeliveredReason = 'CLIENT_CLOSED_REQUEST' | 'SHUTTING_DOWN';

/** A file served as it is (the gateway's query IDE and its scripts): public, carrying no data. */
export interface StaticFile {
  /** Its headers: `content-type`, and whatever else it needs (a Content-Security-Policy, caching). */
  headers: Record<string, string>;
  body: Buffer;
}

export interface GraphQLHttpOptions<Context extends BaseContext, State = undefined> {
  /** Runs GraphQL: either Apollo Server (the subgraphs) or an own handler (the gateway's engine). */
  server?: ApolloServer<Context>;
  execute?: (request: GraphQLHttpRequest, context: Context) => Promise<GraphQLHttpResult>;
  /**
   * Per-request state created when a request arrives (the gateway's audit
   * draft) — also for a request the HTTP parser refused, which has no
   * IncomingMessage.
   */
  begin?: (ids: RequestIds, request: IncomingMessage | null) => State;
  /**
   * Called with every answer before it is written — refusals, errors and
   * results alike, the parser's refusals included. The gateway records its
   * audit entry here and answers only once it is durable, or replaces the
   * answer when it cannot be.
   */
  complete?: (state: State, answer: HttpAnswer) => Promise<HttpAnswer>;
  /**
   * Called when an answer that passed `complete` did not reach the client:
   * its connection was gone before the answer was handed to the operating
   * system — the client had closed it (`CLIENT_CLOSED_REQUEST`) or `close`
   * cut it at the end of the grace (`SHUTTING_DOWN`). The gateway records
   * that the recorded answer was withheld.
   */
  undelivered?: (state: State, answer: HttpAnswer, reason: UndeliveredReason) => void;
  /** Path of the GraphQL endpoint: `/graphql` at the gateway, `/` at subgraphs. */
  graphqlPath: string;
  /**
   * Static files for GET and HEAD, served before anything else, like
   * `/health`: neither admitted nor audited, so only what is public and
   * carries no data (the query IDE). Undefined passes the request on.
   */
  staticFiles?: (pathname: string, request: IncomingMessage) => StaticFile | undefined;
  /**
   * Decides whether a request may proceed and builds its per-request
   * context, or answers before the body is even read: with a `Rejection`,
   * or with an `AdmissionAnswer` that is no error (a CORS preflight).
   */
  admit: (request: IncomingMessage, ids: RequestIds, state: State) => Promise<Context | Rejection | AdmissionAnswer>;
  maxRequestBytes: number;
  /** How long a client may take to send its headers, its body, and its next request. Default {@link DEFAULT_HTTP_TIMEOUTS}. */
  timeouts?: HttpTimeouts;
  logger: Logger;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

const JSON_CONTENT = { 'content-type': CONTENT_TYPE[APPLICATION_JSON] } as const;

/** Statuses whose answers have no body, and so no Content-Length (RFC 9110, 8.6). */
const BODILESS = new Set([204, 304]);

function sendStatic(res: ServerResponse, method: string | undefined, file: StaticFile, headers: Record<string, string>): void {
  res.writeHead(200, { ...file.headers, 'content-length': String(file.body.length), ...headers });
  res.end(method === 'HEAD' ? undefined : file.body);
}

/** The handlers still running, per server: `close` waits for them (their clients may have gone). */
const runningHandlers = new WeakMap<Server, Set<Promise<void>>>();

/** Servers whose connections `close` has cut at the end of the grace: an answer lost then was cut, not abandoned by its client. */
const cutServers = new WeakSet<Server>();

/** How long a connection closed with its request unread is still drained before it is cut. */
const LINGER_MS = 1_000;

/** A request the HTTP layer stops answering normally: its code says why (too large, too slow, gone, malformed). */
class RequestFailure extends Error {
  constructor(readonly code: HttpErrorCode) {
    super(code);
  }
}

/**
 * One request on its way through the HTTP layer. The server's `clientError`
 * (a timeout, or the parser refusing the rest of the body) reaches the
 * request it concerns through `fail`; the body read then stops with it.
 */
interface Exchange {
  ids: RequestIds;
  req: IncomingMessage;
  /** Set by `clientError`: why this request cannot be read to its end. */
  failure: HttpErrorCode | null;
  /** The body read in progress, if any, stopped with the failure. */
  interrupt: ((code: HttpErrorCode) => void) | null;
  /** Once written, the answer and its request's state: reported to `undelivered` if the connection closes before the answer has gone out. */
  answered: HttpAnswer | null;
  state: unknown;
}

function fail(exchange: Exchange, code: HttpErrorCode): void {
  if (exchange.failure !== null) return;
  exchange.failure = code;
  exchange.interrupt?.(code);
}

/**
 * Reads a request body up to `limit` bytes. Rejects with a `RequestFailure`
 * when it is larger (the rest is left unread: the answer closes the
 * connection), when the client closes the connection before its end, and
 * when `clientError` fails the exchange (timeout, malformed chunked body).
 */
function readBody(req: IncomingMessage, limit: number, exchange: Exchange): Promise<string> {
  return new Promise((resolve, reject) => {
    if (exchange.failure !== null) return reject(new RequestFailure(exchange.failure));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new RequestFailure('REQUEST_TOO_LARGE'));
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = () => {
      settled = true;
      exchange.interrupt = null;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClosed);
      req.off('close', onClosed);
    };
    const stop = (code: HttpErrorCode) => {
      if (settled) return;
      settle();
      reject(new RequestFailure(code));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop('REQUEST_TOO_LARGE');
      else chunks.push(chunk);
    };
    const onEnd = () => {
      if (settled) return;
      settle();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    // 'close' before 'end', or an 'error' (ECONNRESET "aborted"): the body will never be complete.
    const onClosed = () => stop(exchange.failure ?? 'CLIENT_CLOSED_REQUEST');
    exchange.interrupt = stop;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onClosed);
    req.on('close', onClosed);
  });
}

/** An answer on a bare socket, for the requests the HTTP parser refused (no ServerResponse exists for them). */
function rawAnswer(answer: HttpAnswer): string {
  const bytes = Buffer.byteLength(answer.body);
  const lines = [`HTTP/1.1 ${answer.status} ${REASON_PHRASES[answer.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries({ ...answer.headers, 'content-length': String(bytes), connection: 'close' }))
    lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${answer.body}`;
}

/** Milliseconds between the server's sweeps for connections past their timeouts: a fifth of the shortest, at most a second. */
function checkingInterval(timeouts: HttpTimeouts): number {
  return Math.max(50, Math.min(1_000, Math.floor(Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 5)));
}

/**
 * A lean HTTP layer for Apollo Server, shared by the gateway and the
 * subgraphs: the GraphQL endpoint, `GET /health`, the static files it is
 * given (the gateway's query IDE), 404 elsewhere. It admits
 * (or rejects) each request before reading its body, bounds the body and the
 * time a client may take to send it, makes its own id for every request
 * (echoed in `x-request-id`; a caller's `x-request-id` is kept beside it as
 * the correlation id), and never answers with a stack trace.
 *
 * Nothing a request carries can stop the process: the target is read
 * without a URL parser that throws, every failure inside a handler is
 * answered (400, 404, 408, 413, or 500 with the cause in the log), and the
 * requests Node's HTTP parser refuses (`clientError`) are answered — and go
 * through `begin`/`complete` like any other — unless the client sent
 * nothing or is gone.
 */
export function createGraphQLHttpServer<Context extends BaseContext, State = undefined>(options: GraphQLHttpOptions<Context, State>): Server {
  const { server, execute, logger, maxRequestBytes, graphqlPath } = options;
  if (!server === !execute) throw new TypeError('give either an Apollo Server or an execute handler');
  const timeouts = options.timeouts ?? DEFAULT_HTTP_TIMEOUTS;
  if (timeouts.requestTimeoutMs < timeouts.headersTimeoutMs)
    throw new TypeError('timeouts.requestTimeoutMs must be at least timeouts.headersTimeoutMs');
  // The requests whose handler runs, per connection (pipelined requests can share one).
  const inFlight = new WeakMap<Duplex, Set<Exchange>>();
  // A refusal of the parser that concerns a request after those in flight: answered once they are.
  const refuseLater = new WeakMap<Duplex, { code: HttpErrorCode; parserError: string | undefined }>();

  async function handle(req: IncomingMessage, res: ServerResponse, exchange: Exchange, correlationError: CorrelationIdError | null): Promise<void> {
    const { ids } = exchange;
    const idHeader = { [REQUEST_ID_HEADER]: ids.requestId };
    const target = parseRequestTarget(req.url);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (target?.pathname === '/health' && readOnly) return sendJson(res, 200, { status: 'ok' }, idHeader);
    const file = target !== null && readOnly ? options.staticFiles?.(target.pathname, req) : undefined;
    if (file) return sendStatic(res, req.method, file, idHeader);
    const state = options.begin ? options.begin(ids, req) : (undefined as State);
    // This layer's own answers take the response type the client prefers; one it cannot meet gets application/json.
    const errorContent = { 'content-type': CONTENT_TYPE[graphQLResponseType(req.headers.accept) ?? APPLICATION_JSON] };
    const answer = async (status: number, headers: Record<string, string>, body: string, rejection?: Rejection) => {
      let final: HttpAnswer = { status, headers: { ...idHeader, ...headers }, body, rejection };
      if (options.complete) final = await options.complete(state, final);
      const undelivered = options.undelivered;
      if (res.destroyed) {
        // The client is gone (or was cut) while the answer was made: what complete recorded never reaches it.
        undelivered?.(state, final, cutServers.has(http) ? 'SHUTTING_DOWN' : 'CLIENT_CLOSED_REQUEST');
        return;
      }
      if (res.headersSent) return;
      if (undelivered) {
        exchange.answered = final;
        exchange.state = state;
      }
      // Encoded once: its length is the header, its bytes the body.
      const bytes = Buffer.from(final.body, 'utf8');
      // Shutting down (see close), or a request not read to its end: the client should not send another on this connection.
      const unread = exchange.failure !== null || !req.complete;
      if (!http.listening || unread) res.setHeader('connection', 'close');
      if (unread) {
        // Node ends the connection after this answer; what the client still sends is read and dropped for a moment
        // (closing with unread bytes would reset the connection and could take the answer with it), then it is cut.
        req.resume();
        res.once('finish', () => setTimeout(() => req.socket.destroy(), LINGER_MS).unref());
      }
      if (BODILESS.has(final.status)) {
        res.writeHead(final.status, final.headers);
        res.end();
      } else {
        res.writeHead(final.status, { 'content-length': String(bytes.length), ...final.headers });
        res.end(bytes);
      }
    };
    const answerError = (
      status: number,
      code: string,
      message: string,
      extensions?: Record<string, unknown>,
      headers: Record<string, string> = {},
      rejection?: Rejection,
    ) =>
      answer(
        status,
        { ...errorContent, ...headers },
        JSON.stringify(errorBody(code, message, extensions)),
        rejection ?? new Rejection(status, code, message, extensions, headers),
      );
    const refuse = (code: HttpErrorCode, message: string = HTTP_ERRORS[code].message) => answerError(HTTP_ERRORS[code].status, code, message);
    try {
      if (correlationError) return await refuse('INVALID_REQUEST_ID', correlationError.message);
      if (target === null) return await refuse('BAD_REQUEST', `The request target cannot be routed: the GraphQL endpoint is ${graphqlPath}.`);
      if (target.pathname !== graphqlPath) {
        return await answerError(404, 'NOT_FOUND', `Not found: the GraphQL endpoint is ${graphqlPath}.`);
      }
      const admitted = await options.admit(req, ids, state);
      if (admitted instanceof Rejection) {
        req.resume(); // drain the unread body so the connection can be reused
        return await answerError(admitted.status, admitted.code, admitted.message, admitted.extensions, admitted.headers, admitted);
      }
      if (admitted instanceof AdmissionAnswer) {
        req.resume();
        return await answer(admitted.status, admitted.headers, admitted.body);
      }
      const contentType = req.headers['content-type'];
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, maxRequestBytes, exchange);
        // An execute handler is given JSON only (it answers another type 415); Apollo Server reads whatever was sent.
        if (text.length > 0 && (server || contentType === undefined || mediaTypeOf(contentType) === APPLICATION_JSON)) {
          try {
            body = JSON.parse(text);
          } catch {
            return await refuse('BAD_REQUEST', 'Request body is not valid JSON.');
          }
        }
      }
      if (execute) {
        const result = await execute({ method: req.method ?? 'GET', contentType, body, search: target.search, accept: req.headers.accept }, admitted);
        return await answer(result.status, result.headers ?? JSON_CONTENT, result.body);
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await server!.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: target.search, body },
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
        if (error instanceof RequestFailure) {
          const message = error.code === 'REQUEST_TOO_LARGE' ? `Request body exceeds ${maxRequestBytes} bytes.` : HTTP_ERRORS[error.code].message;
          return await refuse(error.code, message);
        }
        logger.error({ err: error, ...ids }, 'request failed');
        await refuse('INTERNAL_SERVER_ERROR');
      } catch (inner) {
        logger.error({ err: inner, ...ids }, 'could not answer');
        if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', HTTP_ERRORS.INTERNAL_SERVER_ERROR.message), idHeader);
        else res.destroy();
      }
    }
  }

  /** A request the HTTP parser refused: answered on the bare socket (after `complete`, like any other) and the connection closed. */
  async function refuseUnparsed(code: HttpErrorCode, parserError: string | undefined, socket: Duplex): Promise<void> {
    const ids: RequestIds = { requestId: newRequestId(), correlationId: null };
    const { status, message } = HTTP_ERRORS[code];
    logger.debug(
      { requestId: ids.requestId, parserError, remote: (socket as { remoteAddress?: string }).remoteAddress },
      'request refused by the HTTP parser',
    );
    let final: HttpAnswer = {
      status,
      headers: { ...JSON_CONTENT, [REQUEST_ID_HEADER]: ids.requestId },
      body: JSON.stringify(errorBody(code, message)),
      rejection: new Rejection(status, code, message),
    };
    try {
      if (options.complete) final = await options.complete(options.begin ? options.begin(ids, null) : (undefined as State), final);
    } catch (failure) {
      logger.error({ err: failure, requestId: ids.requestId }, 'could not record a refused request');
    }
    if (socket.writable) socket.end(rawAnswer(final), () => socket.destroy());
    else socket.destroy();
  }

  const running = new Set<Promise<void>>();
  const http = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(timeouts),
    },
    (req, res) => {
      let correlationId: string | null = null;
      let correlationError: CorrelationIdError | null = null;
      try {
        correlationId = correlationIdOf(req.headers[REQUEST_ID_HEADER]);
      } catch (error) {
        correlationError = error as CorrelationIdError;
      }
      const exchange: Exchange = {
        ids: { requestId: newRequestId(), correlationId },
        req,
        failure: null,
        interrupt: null,
        answered: null,
        state: undefined,
      };
      const socket = req.socket;
      let exchanges = inFlight.get(socket);
      if (!exchanges) inFlight.set(socket, (exchanges = new Set()));
      exchanges.add(exchange);
      res.once('close', () => {
        exchanges.delete(exchange);
        // Written, but the connection closed before the last byte was handed to the operating system.
        if (exchange.answered !== null && !res.writableFinished)
          options.undelivered?.(exchange.state as State, exchange.answered, cutServers.has(http) ? 'SHUTTING_DOWN' : 'CLIENT_CLOSED_REQUEST');
        const refusal = exchanges.size === 0 ? refuseLater.get(socket) : undefined;
        if (!refusal) return;
        refuseLater.delete(socket);
        refuseUnparsed(refusal.code, refusal.parserError, socket).catch((failure: unknown) => {
          logger.error({ err: failure }, 'could not answer a refused request');
          socket.destroy();
        });
      });
      // The last line of defence: whatever escapes is logged and answered 500; the process goes on.
      const handling = handle(req, res, exchange, correlationError).catch((error: unknown) => {
        logger.error({ err: error, ...exchange.ids }, 'request handler failed');
        try {
          if (!res.headersSent)
            sendJson(res, 500, errorBody('INTERNAL_SERVER_ERROR', HTTP_ERRORS.INTERNAL_SERVER_ERROR.message), {
              [REQUEST_ID_HEADER]: exchange.ids.requestId,
            });
          else res.destroy();
        } catch {
          res.destroy();
        }
      });
      // Until its handler is done, whether or not its client is still there (see close).
      running.add(handling);
      void handling.finally(() => running.delete(handling));
    },
  );
  runningHandlers.set(http, running);
  http.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = parserRefusal(error.code);
    const exchanges = [...(inFlight.get(socket) ?? [])];
    const unread = exchanges.filter((exchange) => !exchange.req.complete);
    if (unread.length > 0) {
      // A request whose body is still arriving, and whose handler runs: it answers (408, 400) and records it; its body read stops here.
      for (const exchange of unread) fail(exchange, code);
      return;
    }
    if (exchanges.length > 0) {
      // The requests before it arrived whole and are being answered: the bytes after them are refused once they are
      // (a client gone meanwhile has nothing to be refused; its requests are answered and recorded as usual).
      if (code !== 'CLIENT_CLOSED_REQUEST') refuseLater.set(socket, { code, parserError: error.code });
      return;
    }
    // Nothing was asked: a connection that sent no byte before its headers timeout, or a client gone before its headers ended.
    if (code === 'CLIENT_CLOSED_REQUEST' || !socket.writable || (socket as { bytesRead?: number }).bytesRead === 0) {
      socket.destroy();
      return;
    }
    refuseUnparsed(code, error.code, socket).catch((failure: unknown) => {
      logger.error({ err: failure }, 'could not answer a refused request');
      socket.destroy();
    });
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

/** How much of the grace, at most, is kept for cutting what is still running (a third of a grace shorter than 3 s). */
export const SHUTDOWN_CUT_RESERVE_MS = 1_000;

/** What the owner of a server does when the grace is running out. */
export interface CloseOptions {
  /**
   * Called once, when requests still run at the start of the cut: the owner
   * cancels their work (the gateway its subgraph calls), so that they end
   * with an answer — recorded — before their connections are closed.
   */
  cancel?: () => void;
}

/**
 * Stops a server gracefully, within `graceMs` all told: no new connections,
 * idle keep-alive connections closed at once, and each request in flight
 * allowed to finish (its answer goes out with `Connection: close`, and its
 * connection is closed once it is idle). The end of the grace is kept for
 * the cut (the reserve: {@link SHUTDOWN_CUT_RESERVE_MS}, a third of a
 * shorter grace): at its start `cancel` is called if requests still run; at
 * its half every connection left is closed (an answer then lost is reported
 * to `undelivered` as `SHUTTING_DOWN`); at three quarters `close` resolves,
 * even if a handler still runs, leaving the last quarter to the server's
 * owner to close what it holds (the audit writer). Resolves earlier when no
 * connection is left and no handler of a server made by
 * `createGraphQLHttpServer` still runs (a request whose client went away
 * still runs to its end, audit included). `graceMs` 0 cuts at once.
 */
export async function close(server: Server, graceMs: number, options: CloseOptions = {}): Promise<void> {
  const started = Date.now();
  const reserve = Math.min(SHUTDOWN_CUT_RESERVE_MS, Math.floor(graceMs / 3));
  const handlers = runningHandlers.get(server);
  const timers: NodeJS.Timeout[] = [];
  const at = (offsetMs: number, action: () => void) => timers.push(setTimeout(action, Math.max(0, started + offsetMs - Date.now())));
  at(graceMs - reserve, () => {
    if (handlers && handlers.size > 0) options.cancel?.();
  });
  at(graceMs - Math.floor(reserve / 2), () => {
    cutServers.add(server);
    server.closeAllConnections();
  });
  let giveUp: () => void = () => {};
  const givenUp = new Promise<void>((resolve) => {
    giveUp = resolve;
  });
  at(graceMs - Math.floor(reserve / 4), () => giveUp());
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        // Idle keep-alive connections are closed by server.close; the ones busy now become idle after their answer.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        timers.push(sweep);
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
      givenUp,
    ]);
    // A request whose client has gone (or was cut) has no connection left, but its handler may still run:
    // what the server's owner closes next (the subgraph clients, the audit writer) must wait for it, within the grace.
    if (handlers && handlers.size > 0) await Promise.race([Promise.allSettled([...handlers]), givenUp]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}
