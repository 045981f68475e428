import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubgraphClient, SubgraphFetchError } from '../../gateway/execution/subgraph-client.js';

// A real HTTP server whose behaviour each test picks by path.
let server: Server;
let origin: string;
let counted = 0;
let queueHeld = false;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { echo: JSON.parse(body), assertion: req.headers['x-gateway-assertion'] } }));
      } else if (req.url === '/error') {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"errors":[{"message":"bad gateway"}]}');
      } else if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>maintenance</html>');
      } else if (req.url === '/large') {
        // 3 chunks of 64 KiB: more than a client bounded to 100 000 bytes accepts.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"data":{"s":"${'x'.repeat(65_536)}`);
        res.write('x'.repeat(65_536));
        res.end(`${'x'.repeat(65_536)}"}}`);
      } else if (req.url === '/cut') {
        // Headers and half an answer, then the connection drops.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"data":');
        setTimeout(() => res.destroy(), 20);
      } else if (req.url === '/queue') {
        if (!queueHeld) {
          queueHeld = true;
          res.writeHead(200, { 'content-type': 'application/json' });
          const timer = setInterval(() => res.write(' '), 100);
          res.on('close', () => clearInterval(timer));
        } else {
          counted++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"data":{}}');
        }
      } else if (req.url === '/drip') {
        // Headers at once, then a byte every 100 ms: each gap is short, the whole is not.
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(timer));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('SubgraphClient', () => {
  it('posts the body with the given headers and parses the answer', async () => {
    const client = new SubgraphClient({ url: `${origin}/ok`, timeoutMs: 2000 });
    const response = await client.post('{"query":"{ a }"}', { 'content-type': 'application/json', 'x-gateway-assertion': 'signed' });
    expect(response.data).toEqual({ echo: { query: '{ a }' }, assertion: 'signed' });
    await client.close();
  });

  it('treats a non-2xx answer and a non-JSON answer as unavailable', async () => {
    for (const path of ['/error', '/html']) {
      const client = new SubgraphClient({ url: `${origin}${path}`, timeoutMs: 2000 });
      await expect(client.post('{}', { 'content-type': 'application/json' })).rejects.toBeInstanceOf(SubgraphFetchError);
      await client.close();
    }
  });

  it('gives up after its deadline even when the body keeps trickling in', async () => {
    const client = new SubgraphClient({ url: `${origin}/drip`, timeoutMs: 400 });
    const started = performance.now();
    await expect(client.post('{}', { 'content-type': 'application/json' })).rejects.toBeInstanceOf(SubgraphFetchError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
    await client.close();
  });

  it('refuses an answer longer than its bound, and takes one within it', async () => {
    const bounded = new SubgraphClient({ url: `${origin}/large`, timeoutMs: 2000, maxResponseBytes: 100_000 });
    await expect(bounded.post('{}', { 'content-type': 'application/json' })).rejects.toThrow(/exceeds 100000 bytes/);
    await bounded.close();
    const roomy = new SubgraphClient({ url: `${origin}/large`, timeoutMs: 2000, maxResponseBytes: 300_000 });
    expect(((await roomy.post('{}', { 'content-type': 'application/json' })).data as { s: string }).s).toHaveLength(3 * 65_536);
    await roomy.close();
  });

  it('treats a connection dropped in the middle of the answer as unavailable', async () => {
    const client = new SubgraphClient({ url: `${origin}/cut`, timeoutMs: 2000 });
    await expect(client.post('{}', { 'content-type': 'application/json' })).rejects.toBeInstanceOf(SubgraphFetchError);
    await client.close();
  });

  it('gives up on a request still waiting for a connection at its deadline, and never sends it', async () => {
    // One connection: the first request holds it with a trickling answer, the second waits in the pool.
    queueHeld = false;
    counted = 0;
    const client = new SubgraphClient({ url: `${origin}/queue`, timeoutMs: 1500, connections: 1 });
    const first = client.post('{}', { 'content-type': 'application/json' });
    const second = new Promise((resolve) => setTimeout(resolve, 100)).then(() => {
      // Shorter deadline than the first: it expires while still queued.
      (client as unknown as { timeoutMs: number }).timeoutMs = 300;
      return client.post('{}', { 'content-type': 'application/json' });
    });
    await expect(second).rejects.toThrow(/within 300 ms/);
    await expect(first).rejects.toThrow(/within 1500 ms/);
    // The connection is free again: the given-up request must not go out now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(counted).toBe(0);
    await client.close();
  });

  describe('when the gateway is stopping (its client closed)', () => {
    it('closes once however often it is asked, and refuses a request sent after as expected, not as a fault', async () => {
      const client = new SubgraphClient({ url: `${origin}/ok`, timeoutMs: 2000 });
      await client.post('{"query":"{ a }"}', { 'content-type': 'application/json' });
      await client.close();
      // undici's own close rejects with ClientDestroyedError on a pool already closed.
      await expect(client.close()).resolves.toBeUndefined();
      const late = await client.post('{"query":"{ a }"}', { 'content-type': 'application/json' }).catch((error: unknown) => error);
      expect(late).toBeInstanceOf(SubgraphFetchError);
      expect(late).toMatchObject({ stopping: true });
      expect((late as Error).cause).toBeUndefined();
    });

    it('lets a request in flight finish before the connections close', async () => {
      const client = new SubgraphClient({ url: `${origin}/ok`, timeoutMs: 2000 });
      const inFlight = client.post('{"query":"{ b }"}', { 'content-type': 'application/json' });
      const closed = client.close();
      expect((await inFlight).data).toMatchObject({ echo: { query: '{ b }' } });
      await closed;
    });

    it('cancels a request in flight at the end of the grace, at once and as expected, and refuses those after', async () => {
      // A path the test server never answers: a subgraph that hangs.
      const client = new SubgraphClient({ url: `${origin}/stall`, timeoutMs: 10_000 });
      const stalled = client.post('{"query":"{ c }"}', { 'content-type': 'application/json' }).catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await client.cancel();
      const cancelled = await stalled;
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(cancelled).toBeInstanceOf(SubgraphFetchError);
      expect(cancelled).toMatchObject({ stopping: true });
      expect(await client.post('{}', { 'content-type': 'application/json' }).catch((error: unknown) => error)).toMatchObject({ stopping: true });
      await expect(client.close()).resolves.toBeUndefined();
    });
  });

  it('reports an unreachable subgraph as unavailable', async () => {
    const client = new SubgraphClient({ url: 'http://127.0.0.1:1/', timeoutMs: 1000 });
    await expect(client.post('{}', { 'content-type': 'application/json' })).rejects.toBeInstanceOf(SubgraphFetchError);
    await client.close();
  });
});
