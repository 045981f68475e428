/**
 * Benchmark configuration (b): @apollo/gateway behind @apollo/server's
 * standalone server, both with their defaults (make-fetch-happen fetcher,
 * default plugins and caches) and no security of this project's. The only
 * addition is the header the subgraphs require (see bench-assertions.ts).
 * Started by `npm run bench` as a child process; reports its URL over IPC.
 * Env: BENCH_SUPERGRAPH_FILE, DATA_DIR.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ASSERTION_HEADER } from '../../common/gateway-assertion.js';
import { benchAssertions } from './bench-assertions.js';

const assertionFor = await benchAssertions(process.env.DATA_DIR!);
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(process.env.BENCH_SUPERGRAPH_FILE!, 'utf8'),
  buildService: ({ name, url }) =>
    new (class extends RemoteGraphQLDataSource {
      override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
        request.http!.headers.set(ASSERTION_HEADER, assertionFor(name));
      }
    })({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
process.send?.({ ready: url });
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
