/**
 * Benchmark configuration (d), the floor: no gateway at all. The subgraph
 * requests a gateway would make for an operation are recorded once, then
 * replayed by a load generator (direct-load.ts) straight at the subgraphs,
 * in the same order and with the same parallelism. What is left is the
 * subgraphs' own work and the network between them and the caller.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ASSERTION_HEADER } from '../../common/gateway-assertion.js';
import { benchAssertions } from './bench-assertions.js';
import { runLoadProcess, type LoadResult } from './load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/** Subgraph requests sent together: each is the exact JSON body a gateway sent to `url`. */
export type Stage = { subgraph: string; url: string; body: string }[];

export interface RecordOptions {
  supergraphFile: string;
  dataDir: string;
  /** The operations to record, run one after the other. */
  requests: { query: string; variables: Record<string, unknown> }[];
}

/**
 * Runs each operation once through an in-process @apollo/gateway and returns,
 * per operation, the subgraph requests it made, grouped into stages: a request's stage is
 * how many requests had completed when it started, so requests a query plan
 * runs in parallel share a stage and a stage's requests depend only on
 * earlier stages. Throws if the operation answered with errors, so a plan is
 * never recorded from a failed run.
 */
export async function recordPlans(options: RecordOptions): Promise<Stage[][]> {
  const assertionFor = await benchAssertions(options.dataDir);
  let recorded: { completedBefore: number; subgraph: string; url: string; body: string }[] = [];
  let completed = 0;
  // The fetcher sees the exact bytes RemoteGraphQLDataSource sends; the whole body is read before the request counts as completed.
  const recordingFetcher =
    (subgraph: string): Fetcher =>
    async (url, init) => {
      recorded.push({ completedBefore: completed, subgraph, url, body: String(init?.body) });
      const response = await fetch(url, init as RequestInit);
      const text = await response.text();
      completed++;
      return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(options.supergraphFile, 'utf8'),
    buildService: ({ name, url }) =>
      new (class extends RemoteGraphQLDataSource {
        override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
          request.http!.headers.set(ASSERTION_HEADER, assertionFor(name));
        }
      })({ url, fetcher: recordingFetcher(name) }),
  });
  const server = new ApolloServer({ gateway });
  await server.start();
  const plans: Stage[][] = [];
  try {
    for (const request of options.requests) {
      recorded = [];
      completed = 0;
      const response = await server.executeOperation({ query: request.query, variables: request.variables });
      if (response.body.kind !== 'single') throw new Error('recordPlans: expected a single result');
      const { errors } = response.body.singleResult;
      if (errors?.length) throw new Error(`recordPlans: the operation failed: ${JSON.stringify(errors)}`);
      const levels = [...new Set(recorded.map((r) => r.completedBefore))].sort((a, b) => a - b);
      plans.push(
        levels.map((level) => recorded.filter((r) => r.completedBefore === level).map(({ subgraph, url, body }) => ({ subgraph, url, body }))),
      );
    }
  } finally {
    await server.stop();
  }
  return plans;
}

export interface DirectLoadOptions {
  /** Recorded plans (from recordFetches); virtual users take them in turn. */
  stages: Stage[][];
  connections: number;
  durationSeconds: number;
  dataDir: string;
}

/** Replays the recorded plans straight at the subgraphs (direct-load.ts, in its own process). */
export function runDirectLoad(options: DirectLoadOptions): Promise<LoadResult> {
  return runLoadProcess(join(ROOT, 'scripts/bench/direct-load.ts'), options);
}
