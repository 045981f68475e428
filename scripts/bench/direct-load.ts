/**
 * Load generator for configuration (d): replays recorded subgraph requests
 * (see direct.ts) straight at the subgraphs. `connections` virtual users each
 * run one plan after another, taking the recorded plans in turn: a plan's
 * stages in sequence, the requests of a stage in parallel. A plan counts as
 * one request and its latency is the whole plan, so the figures read like
 * autocannon's against a gateway: requests/s, p50 and p99 in ms (of plans
 * whose responses were all 2xx, as autocannon counts only 2xx latencies),
 * non-2xx, errors (a response with GraphQL `errors`, or a failed
 * connection) and total.
 * Usage: node --import tsx scripts/bench/direct-load.ts INPUT.json
 * (INPUT: DirectLoadOptions from direct.ts). Prints LoadResult as JSON.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { ASSERTION_HEADER } from '../../common/gateway-assertion.js';
import { benchAssertions } from './bench-assertions.js';
import type { DirectLoadOptions, Stage } from './direct.js';
import type { LoadResult } from './load.js';

const options = JSON.parse(readFileSync(process.argv[2], 'utf8')) as DirectLoadOptions;
if (options.stages.length === 0) throw new TypeError('direct-load: no recorded plans');
const assertionFor = await benchAssertions(options.dataDir);
// One keep-alive pool per subgraph origin, as a gateway would hold.
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

/** `error`: a 2xx answer with GraphQL errors; `failed`: no answer at all (connection refused, reset). */
type Outcome = 'ok' | 'error' | 'non2xx' | 'failed';
const SEVERITY: Record<Outcome, number> = { ok: 0, error: 1, non2xx: 2, failed: 3 };

async function send(fetch: Stage[number]): Promise<Outcome> {
  try {
    const response = await request(fetch.url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertionFor(fetch.subgraph) },
      body: fetch.body,
    });
    // Read the whole body, even of a failure, so the connection goes back to the pool.
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) return 'non2xx';
    return (JSON.parse(text) as { errors?: unknown[] }).errors?.length ? 'error' : 'ok';
  } catch {
    return 'failed';
  }
}

/** One plan: stages in order, each stage's requests together. The worst outcome of its requests is the plan's. */
async function runPlan(plan: Stage[]): Promise<Outcome> {
  let outcome: Outcome = 'ok';
  for (const stage of plan) {
    for (const o of await Promise.all(stage.map(send))) if (SEVERITY[o] > SEVERITY[outcome]) outcome = o;
  }
  return outcome;
}

const latencies: number[] = [];
let non2xx = 0;
let errors = 0;
let total = 0;
let nextPlan = 0;
const deadline = performance.now() + options.durationSeconds * 1000;

async function virtualUser(): Promise<void> {
  while (performance.now() < deadline) {
    const plan = options.stages[nextPlan++ % options.stages.length];
    const started = performance.now();
    const outcome = await runPlan(plan);
    const finished = performance.now();
    // A plan still running at the deadline is not counted, as autocannon stops counting at its end.
    if (finished > deadline) break;
    total++;
    if (outcome === 'non2xx') non2xx++;
    if (outcome === 'error' || outcome === 'failed') errors++;
    if (outcome === 'ok' || outcome === 'error') latencies.push(finished - started);
  }
}

await Promise.all(Array.from({ length: options.connections }, virtualUser));
await dispatcher.close();

latencies.sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] * 100) / 100 : 0;
const result: LoadResult = { requestsPerSecond: total / options.durationSeconds, p50: percentile(50), p99: percentile(99), non2xx, errors, total };
process.stdout.write(`${JSON.stringify(result)}\n`);
// The assertion renewal timer is unref'd, but exit explicitly so nothing else keeps the process.
process.exit(0);
