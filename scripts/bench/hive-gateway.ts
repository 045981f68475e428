/**
 * Benchmark configuration (c): Hive Gateway's runtime on the same
 * supergraph as (b), in one process, with its defaults (no response cache,
 * no extra plugins) and no security of this project's. The only addition is
 * the header the subgraphs require (see bench-assertions.ts). Started by
 * `npm run bench` as a child process; reports its URL over IPC.
 * Env: BENCH_SUPERGRAPH_FILE, DATA_DIR.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway';
import { ASSERTION_HEADER } from '../../common/gateway-assertion.js';
import { benchAssertions } from './bench-assertions.js';

const assertionFor = await benchAssertions(process.env.DATA_DIR!);

/**
 * Adds the gateway assertion to every upstream fetch. Hive Gateway's delegation
 * puts the subgraph's join__graph name on the execution request (batched entity
 * requests keep it), and `onFetch` receives that request. Fetches without one
 * (e.g. loading a remote supergraph) do not happen here: the SDL is given inline.
 */
function useBenchAssertion(): GatewayPlugin {
  return {
    onFetch({ executionRequest, options, setOptions }) {
      const subgraph = executionRequest?.subgraphName;
      if (!subgraph) throw new Error('upstream fetch without a subgraph name');
      setOptions({ ...options, headers: { ...options.headers, [ASSERTION_HEADER]: assertionFor(subgraph) } });
    },
  };
}

// Defaults kept, including one that matters when reading the numbers: the HTTP
// transport shares one upstream request among identical queries in flight
// (`deduplicateInflightRequests`, on by default), which neither (b) nor (d)
// does. With every virtual user asking for the same person most subgraph
// calls are shared; `transportEntries: { '*.http': { options: {
// deduplicateInflightRequests: false } } }` turns it off.
const gateway = createGatewayRuntime({
  supergraph: readFileSync(process.env.BENCH_SUPERGRAPH_FILE!, 'utf8'),
  logging: 'warn',
  landingPage: false,
  graphiql: false,
  plugins: () => [useBenchAssertion()],
});
// The runtime loads the supergraph on first use; load it now so a broken one fails the start, not the first request.
await gateway.getSchema();
const server = createServer(gateway);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ ready: `http://127.0.0.1:${port}${gateway.graphqlEndpoint}` });
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(gateway.dispose()).then(() => process.exit(0));
});
