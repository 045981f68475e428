import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubgraphClient, SubgraphFetchError } from '../../gateway/execution/subgraph-client.js';

// A real HTTP server whose behaviour each test picks by path.
let server: Server;
let origin: string;
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

  it('reports an unreachable subgraph as unavailable', async () => {
    const client = new SubgraphClient({ url: 'http://127.0.0.1:1/', timeoutMs: 1000 });
    await expect(client.post('{}', { 'content-type': 'application/json' })).rejects.toBeInstanceOf(SubgraphFetchError);
    await client.close();
  });
});
