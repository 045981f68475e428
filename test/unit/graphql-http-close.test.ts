import { Agent, request } from 'node:http';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { close, createGraphQLHttpServer, listen } from '../../common/http/server.js';

/** A server whose GraphQL answers take `delayMs`; `answered` counts the answers its handler gave. */
async function slowServer(delayMs: number): Promise<{ server: Server; port: number; answered: () => number }> {
  let answered = 0;
  const server = createGraphQLHttpServer({
    graphqlPath: '/graphql',
    maxRequestBytes: 1024,
    logger: pino({ level: 'silent' }),
    admit: async () => ({}),
    execute: async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      answered++;
      return { status: 200, body: JSON.stringify({ data: { ok: true } }) };
    },
  });
  return { server, port: await listen(server, 0, '127.0.0.1'), answered: () => answered };
}

interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

function post(port: number, agent: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query: '{ ok }' }));
  });
}

const agents: Agent[] = [];
const keepAlive = () => {
  const agent = new Agent({ keepAlive: true });
  agents.push(agent);
  return agent;
};
afterEach(() => {
  for (const agent of agents.splice(0)) agent.destroy();
});

describe('close (graceful stop)', () => {
  it('lets a request in flight finish, tells its client not to reuse the connection, then resolves', async () => {
    const { server, port, answered } = await slowServer(300);
    const reply = post(port, keepAlive());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await close(server, 60_000);
    expect(answered()).toBe(1);
    expect(await reply).toEqual({ status: 200, connection: 'close', body: '{"data":{"ok":true}}' });
  });

  it('waits for the handler of a request whose client has gone before it resolves, within the grace', async () => {
    // What its owner closes next (the gateway's subgraph clients, its audit writer) must outlive every handler still running.
    const { server, port, answered } = await slowServer(300);
    const req = request({ port, host: '127.0.0.1', path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end(JSON.stringify({ query: '{ ok }' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy(); // the client gives up (a Ctrl-C of the terminal it ran in, say)
    await new Promise((resolve) => setTimeout(resolve, 20));
    await close(server, 60_000);
    expect(answered()).toBe(1);
  });

  it('does not wait for idle keep-alive connections', async () => {
    const { server, port } = await slowServer(0);
    const agent = keepAlive();
    expect((await post(port, agent)).connection).toBe('keep-alive');
    // The agent keeps the connection open; a 60 s grace would time the test out if close waited for it.
    await close(server, 60_000);
    expect(server.listening).toBe(false);
  });

  it('cuts a request still running when the grace period ends', async () => {
    const { server, port } = await slowServer(5_000);
    const reply = post(port, keepAlive());
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Expected before close resolves: the cut and the end of the grace come together.
    const cut = expect(reply).rejects.toThrow(/socket hang up|ECONNRESET/);
    await close(server, 100);
    await cut;
  });

  describe('when the grace runs out', () => {
    it('cancels the work still running, cuts the connections left, and resolves within the grace however long a handler hangs', async () => {
      let release: () => void = () => {};
      const hanging = new Promise<void>((resolve) => {
        release = resolve;
      });
      const server = createGraphQLHttpServer({
        graphqlPath: '/graphql',
        maxRequestBytes: 1024,
        logger: pino({ level: 'silent' }),
        admit: async () => ({}),
        execute: async () => {
          await hanging; // a subgraph call that never returns until cancelled, then an audit commit that never ends
          await new Promise(() => {});
          return { status: 200, body: '{}' };
        },
      });
      const port = await listen(server, 0, '127.0.0.1');
      const reply = post(port, keepAlive()).catch((error: Error) => error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      let cancelledAt = 0;
      await close(server, 1_500, {
        cancel: () => {
          cancelledAt = Date.now() - started;
          release();
        },
      });
      const took = Date.now() - started;
      // The reserve of a 1.5 s grace is 500 ms: cancel at 1000, cut at 1250, resolve at 1375 whatever still runs.
      expect(cancelledAt).toBeGreaterThanOrEqual(950);
      expect(cancelledAt).toBeLessThan(1_200);
      expect(took).toBeLessThan(1_500);
      expect(String(await reply)).toMatch(/socket hang up|ECONNRESET/);
    });

    it('reports an answer completed after its connection was cut as undelivered, SHUTTING_DOWN', async () => {
      const lost: string[] = [];
      const server = createGraphQLHttpServer<Record<string, never>, { id: number }>({
        graphqlPath: '/graphql',
        maxRequestBytes: 1024,
        logger: pino({ level: 'silent' }),
        admit: async () => ({}),
        begin: () => ({ id: 1 }),
        // The audit commit, still running when the connection is cut.
        complete: async (_state, answer) => {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return answer;
        },
        undelivered: (_state, answer, reason) => lost.push(`${answer.status} ${reason}`),
        execute: async () => ({ status: 200, body: '{"data":{}}' }),
      });
      const port = await listen(server, 0, '127.0.0.1');
      const reply = post(port, keepAlive()).catch((error: Error) => error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A 900 ms grace: the connection is cut at 750 ms, the answer is ready at 1050 ms.
      await close(server, 900);
      expect(String(await reply)).toMatch(/socket hang up|ECONNRESET/);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(lost).toEqual(['200 SHUTTING_DOWN']);
    });

    it('reports an answer whose client left before it was ready as undelivered, CLIENT_CLOSED_REQUEST', async () => {
      const lost: string[] = [];
      const server = createGraphQLHttpServer<Record<string, never>, { id: number }>({
        graphqlPath: '/graphql',
        maxRequestBytes: 1024,
        logger: pino({ level: 'silent' }),
        admit: async () => ({}),
        begin: () => ({ id: 1 }),
        complete: async (_state, answer) => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return answer;
        },
        undelivered: (_state, answer, reason) => lost.push(`${answer.status} ${reason}`),
        execute: async () => ({ status: 200, body: '{"data":{}}' }),
      });
      const port = await listen(server, 0, '127.0.0.1');
      const req = request({ port, host: '127.0.0.1', path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('error', () => {});
      req.end(JSON.stringify({ query: '{ ok }' }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      req.destroy();
      await close(server, 60_000);
      expect(lost).toEqual(['200 CLIENT_CLOSED_REQUEST']);
    });
  });
});
