import type { Server } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { close, createGraphQLHttpServer, listen, type GraphQLHttpOptions, type HttpAnswer, type RequestIds } from '../../common/http/server.js';
import { correlationIdOf, CorrelationIdError } from '../../common/http/request-id.js';
import { parseRequestTarget } from '../../common/http/request-target.js';
import { ConfigError, httpTimeoutSettings } from '../../common/settings.js';
import { barePost, rawRequest } from '../support/raw-http.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await close(server, 0);
});

type Options = Partial<GraphQLHttpOptions<Record<string, never>, { ids: RequestIds }>>;

/** A server whose steps can be replaced; `completed` lists every answer `complete` saw. */
async function start(options: Options = {}) {
  const completed: HttpAnswer[] = [];
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
  const server = createGraphQLHttpServer<Record<string, never>, { ids: RequestIds }>({
    graphqlPath: '/graphql',
    maxRequestBytes: 1024,
    logger,
    admit: async () => ({}),
    execute: async () => ({ status: 200, body: '{"data":{"ok":true}}' }),
    begin: (ids) => ({ ids }),
    complete: async (_state, answer) => {
      completed.push(answer);
      return answer;
    },
    ...options,
  });
  servers.push(server);
  return { port: await listen(server, 0, '127.0.0.1'), completed, logged };
}

const post = (body = '{"query":"{ ok }"}', headers: string[] = []) => barePost('/graphql', body, ['Connection: close', ...headers]);

describe('the HTTP layer', () => {
  describe('when a step of the request throws', () => {
    it.each([
      ['admission', { admit: async () => Promise.reject(new Error('boom in admit')) }],
      ['execution', { execute: async () => Promise.reject(new Error('boom in execute')) }],
      [
        'a synchronous throw in execution',
        {
          execute: () => {
            throw new Error('boom, synchronously');
          },
        },
      ],
      [
        'the per-request state',
        {
          begin: () => {
            throw new Error('boom in begin');
          },
        },
      ],
    ] as [string, Options][])('answers 500 INTERNAL_SERVER_ERROR when %s fails, logs the cause, and goes on serving', async (_label, options) => {
      const { port, logged } = await start(options);
      const reply = await rawRequest(port, { send: post() });
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.body).errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(reply.body).not.toContain('boom');
      expect(logged.join('')).toContain('boom');
      const health = await rawRequest(port, { send: 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' });
      expect(health.status).toBe(200);
    });

    it('answers 500 even when recording the answer fails the first time', async () => {
      let calls = 0;
      const { port } = await start({
        complete: async (_state, answer) => {
          if (++calls === 1) throw new Error('store hiccup');
          return answer;
        },
      });
      const reply = await rawRequest(port, { send: post() });
      expect(reply.status).toBe(500);
      expect(calls).toBe(2);
    });
  });

  describe('when the body is larger than allowed', () => {
    it('answers 413 REQUEST_TOO_LARGE for a chunked body without a length, and closes the connection', async () => {
      const { port, completed } = await start();
      const chunk = 'a'.repeat(600);
      const send = `POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n`;
      const reply = await rawRequest(port, { send, waitMs: 5_000 });
      expect(reply.status).toBe(413);
      expect(reply.headers.connection).toBe('close');
      expect(completed.map((a) => a.rejection?.code)).toEqual(['REQUEST_TOO_LARGE']);
    });

    it('still delivers the 413 to a client that goes on sending, then cuts the connection within about a second', async () => {
      const { port } = await start();
      const chunk = `${(600).toString(16)}\r\n${'a'.repeat(600)}\r\n`;
      const send = `POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}`;
      const more = Array.from({ length: 40 }, () => ({ afterMs: 100, bytes: chunk }));
      const reply = await rawRequest(port, { send, trickle: more, firstResponseOnly: false, waitMs: 8_000 });
      expect(reply.statuses).toEqual([413]);
      expect(reply.closedByServer).toBe(true);
      expect(reply.elapsedMs).toBeLessThan(3_000);
    });
  });

  describe('with timeouts (headers 300 ms, request 600 ms)', () => {
    const timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 };

    it('cuts a body that stops coming with 408 REQUEST_TIMEOUT and records it', async () => {
      const { port, completed } = await start({ timeouts });
      const send = 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"query":';
      const reply = await rawRequest(port, { send, waitMs: 5_000 });
      expect(reply.status).toBe(408);
      expect(reply.elapsedMs).toBeLessThan(2_000);
      expect(completed.map((a) => a.rejection?.code)).toEqual(['REQUEST_TIMEOUT']);
    });

    it('does not cut an answer that takes longer than the request timeout once the request has arrived', async () => {
      const { port } = await start({
        timeouts,
        execute: async () => {
          await new Promise((resolve) => setTimeout(resolve, 1_200));
          return { status: 200, body: '{"data":{"ok":true}}' };
        },
      });
      const reply = await rawRequest(port, { send: post() });
      expect(reply.status).toBe(200);
      expect(reply.elapsedMs).toBeGreaterThan(1_100);
    });

    it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
      const { port } = await start({ timeouts });
      const reply = await rawRequest(port, { send: barePost('/graphql', '{"query":"{ ok }"}'), firstResponseOnly: false, waitMs: 5_000 });
      expect(reply.status).toBe(200);
      expect(reply.closedByServer).toBe(true);
      expect(reply.elapsedMs).toBeLessThan(2_000);
    });
  });

  describe('request ids', () => {
    it('gives every request its own id and hands the caller’s to the steps as the correlation id', async () => {
      const seen: RequestIds[] = [];
      const { port } = await start({
        begin: (ids) => {
          seen.push(ids);
          return { ids };
        },
      });
      const a = await rawRequest(port, { send: post(undefined, ['X-Request-Id: same-id']) });
      const b = await rawRequest(port, { send: post(undefined, ['X-Request-Id: same-id']) });
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
      expect(seen.map((ids) => ids.correlationId)).toEqual(['same-id', 'same-id']);
      expect(seen.map((ids) => ids.requestId)).toEqual([a.headers['x-request-id'], b.headers['x-request-id']]);
    });

    it('refuses an x-request-id sent twice', async () => {
      const { port } = await start();
      const reply = await rawRequest(port, { send: post(undefined, ['X-Request-Id: one', 'X-Request-Id: two']) });
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body).errors[0].extensions.code).toBe('INVALID_REQUEST_ID');
    });
  });
});

describe('parseRequestTarget', () => {
  it.each([
    ['/graphql', { pathname: '/graphql', search: '' }],
    ['/graphql?query=%7B%7D', { pathname: '/graphql', search: '?query=%7B%7D' }],
    ['//', { pathname: '//', search: '' }],
    ['//%zz', { pathname: '//%zz', search: '' }],
    ['//x:99999/', { pathname: '//x:99999/', search: '' }],
    ['http://gateway.local/graphql?a=1', { pathname: '/graphql', search: '?a=1' }],
  ])('reads %s', (target, expected) => {
    expect(parseRequestTarget(target)).toEqual(expected);
  });

  it.each(['http://[', 'http://a:b', '*', 'gateway.local:443', 'ftp://x/graphql', '', undefined])('gives null for %s', (target) => {
    expect(parseRequestTarget(target)).toBeNull();
  });
});

describe('correlationIdOf', () => {
  it('keeps an id of letters, digits and ._:- up to 128 characters', () => {
    expect(correlationIdOf('approval-7f3a:2026.12_02')).toBe('approval-7f3a:2026.12_02');
    expect(correlationIdOf('a'.repeat(128))).toBe('a'.repeat(128));
    expect(correlationIdOf(undefined)).toBeNull();
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(129), 'too long'],
    ['a b', 'a space'],
    ['a\u00e9', 'a letter outside ASCII'],
    ['123456789012345', 'fifteen digits in a row'],
  ])('refuses %j (%s)', (value) => {
    expect(() => correlationIdOf(value)).toThrow(CorrelationIdError);
  });

  it('keeps fourteen digits in a row (a timestamp in milliseconds has thirteen)', () => {
    expect(correlationIdOf('req-17331234567890')).toBe('req-17331234567890');
  });
});

describe('httpTimeoutSettings', () => {
  it('defaults to 5 s for the headers, 10 s for the request and 5 s keep-alive', () => {
    expect(httpTimeoutSettings({})).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
  });

  it('raises the request timeout’s default to a longer headers timeout', () => {
    expect(httpTimeoutSettings({ HTTP_HEADERS_TIMEOUT_MS: '20000' }).requestTimeoutMs).toBe(20_000);
  });

  it.each([
    [{ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: 'soon' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => httpTimeoutSettings(env)).toThrow(ConfigError);
    expect(() => httpTimeoutSettings(env)).toThrow(variable);
  });
});
