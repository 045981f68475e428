/**
 * Load generator process for `npm run bench`: autocannon at a fixed number
 * of connections, each request taking the next body of a list (one counter
 * for all connections, so requests in flight ask for different data and no
 * gateway can answer several from one subgraph call). Input: a JSON file
 * `{ url, bodies, headers, connections, durationSeconds }`; prints the result
 * as JSON.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as {
  url: string;
  bodies: string[];
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
};
let next = 0;
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.durationSeconds,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...input.headers },
  requests: [{ setupRequest: (request) => ({ ...request, body: input.bodies[next++ % input.bodies.length] }) }],
});
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  }),
);
