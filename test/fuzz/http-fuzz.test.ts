/**
 * A bounded, seeded fuzz run against a real gateway and a real subgraph,
 * each in its own process: malformed request lines, targets, headers,
 * encodings, bodies and GraphQL documents, sent over bare sockets. It fails
 * on any 5xx answer, on a process that exits, on an answer slower than
 * ANSWER_LIMIT_MS, and on resident memory growing beyond RSS_GROWTH_LIMIT_MB.
 *
 * FUZZ_SEED and FUZZ_RUNS override the seed and the number of batches (a
 * failure prints the seed and the path to replay it); FUZZ_DEBUG=<text>
 * prints the bodies of the answers whose tally line contains the text
 * (e.g. FUZZ_DEBUG="gateway 400 BAD_REQUEST").
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../subgraphs/catalog.js';
import { subgraphUrlVariable } from '../../gateway/config.js';
import { subgraphPortVariable } from '../../subgraphs/config.js';
import { createAssertionSigner } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { DOSSIER_MATTER, removeData, seedTemporaryData } from '../support/federation.js';
import { testToken } from '../support/identity.js';
import { barePost, rawRequest } from '../support/raw-http.js';
import { CRASHING_TARGETS, hostileRequest, type Credentials, type FuzzRequest } from './http-requests.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 48);
const BATCH = 64;
/** The services cut slow clients at these; every answer must come well within a few seconds. */
const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' };
const ANSWER_LIMIT_MS = 4_000;
const RSS_GROWTH_LIMIT_MB = 150;

interface Service {
  name: 'gateway' | 'subgraph';
  child: ChildProcess;
  port: number;
  output: string[];
  exited: string | null;
}

function startProcess(name: Service['name'], entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<Service> {
  return new Promise((resolve, reject) => {
    const child = fork(`${ROOT}${entry}`, args, {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const service: Service = { name, child, port: 0, output: [], exited: null };
    const keep = (chunk: Buffer) => {
      service.output.push(chunk.toString());
      if (service.output.length > 200) service.output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('message', (message: { ready?: string }) => {
      if (!message.ready) return;
      service.port = Number(new URL(message.ready).port);
      resolve(service);
    });
    child.on('exit', (code, signal) => {
      service.exited = signal ?? `code ${code}`;
      reject(new Error(`${name} exited before it was ready (${service.exited}): ${service.output.join('')}`));
    });
  });
}

function rssMegabytes(service: Service): number {
  const status = readFileSync(`/proc/${service.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

let dataDir: string;
let gateway: Service;
let subgraph: Service;
let credentials: Credentials;

beforeAll(async () => {
  dataDir = await seedTemporaryData(100);
  const common = { DATA_DIR: dataDir, LOG_LEVEL: 'error', ...TIMEOUTS };
  subgraph = await startProcess('subgraph', 'subgraphs/main.ts', ['household'], { ...common, [subgraphPortVariable('household')]: '0' });
  const gatewayEnv: NodeJS.ProcessEnv = {
    ...common,
    GATEWAY_PORT: '0',
    GATEWAY_REPLICA_ID: 'gateway-fuzz',
    TRUST_LIST_FILE: join(dataDir, 'trust-list.json'),
    RATE_LIMIT_CLIENT: '1000000',
    RATE_LIMIT_PROVINCE: '1000000',
    SUBGRAPH_TIMEOUT_MS: '2000',
  };
  // The other domains are down (a closed port): their fields come back null with SUBGRAPH_UNAVAILABLE, never a 5xx.
  for (const s of SERVICES) gatewayEnv[subgraphUrlVariable(s.name)] = 'http://127.0.0.1:9/';
  gatewayEnv[subgraphUrlVariable('household')] = `http://127.0.0.1:${subgraph.port}/`;
  gateway = await startProcess('gateway', 'gateway/main.ts', [], gatewayEnv);
  const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
  credentials = {
    token: await testToken(dataDir, { lifetimeSeconds: 3600 }),
    matter: DOSSIER_MATTER,
    // Subgraphs accept an assertion for 60 s; the run is shorter.
    assertion: sign('household', {
      caller: { subject: 'fuzz', organisation: '模糊测试', province: '540000', issuer: 'national', tokenId: 'fuzz-token' },
      scopes: ['household:read'],
      matter: DOSSIER_MATTER,
      caseNumber: null,
    }),
    idNumbers: DEMO_PERSONS.map((p) => p.idNumber),
  };
}, 120_000);

afterAll(async () => {
  for (const service of [gateway, subgraph]) {
    if (!service || service.exited) continue;
    const exited = new Promise((resolve) => service.child.once('exit', resolve));
    service.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    service.child.kill('SIGKILL');
  }
  if (dataDir) removeData(dataDir);
});

const describeRequest = (request: FuzzRequest) =>
  `${request.service}: ${request.label}\n    bytes: ${JSON.stringify(
    Buffer.concat([request.bytes, ...request.later.map((l) => l.bytes)])
      .toString('latin1')
      .slice(0, 300),
  )}`;

/** What the services answered, by service, status and error code: shows how deep the run reached. */
const tally = new Map<string, number>();

function codeOf(body: string): string {
  try {
    return (JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? 'data';
  } catch {
    return '-';
  }
}

/** Sends one request; returns why it failed, or null. */
async function probe(request: FuzzRequest): Promise<string | null> {
  const service = request.service === 'gateway' ? gateway : subgraph;
  const reply = await rawRequest(service.port, { send: request.bytes, trickle: request.later, waitMs: ANSWER_LIMIT_MS + 1_000 });
  const key = `${request.service} ${reply.status ?? 'closed'} ${reply.status === null ? '' : codeOf(reply.body)}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  if (process.env.FUZZ_DEBUG && key.includes(process.env.FUZZ_DEBUG)) console.log(reply.body.slice(0, 160));
  if (reply.status !== null && reply.status >= 500) return `answered ${reply.status}: ${reply.body.slice(0, 200)}`;
  // An unexpected exception answered within a 200 is as much a defect as a 500.
  if (reply.body.includes('"INTERNAL_SERVER_ERROR"')) return `answered ${reply.status} with INTERNAL_SERVER_ERROR: ${reply.body.slice(0, 200)}`;
  if (reply.status === null && !reply.closedByServer) return `no answer and the connection still open after ${Math.round(reply.elapsedMs)} ms`;
  if (reply.elapsedMs > ANSWER_LIMIT_MS) return `took ${Math.round(reply.elapsedMs)} ms`;
  return null;
}

/** The crashing targets as they were found: raw, no token, to both services. */
const knownCrashes: FuzzRequest[] = CRASHING_TARGETS.flatMap((target) =>
  (['gateway', 'subgraph'] as const).flatMap((service) => [
    { service, bytes: Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), later: [], label: `GET ${target}` },
    { service, bytes: Buffer.from(barePost(target, '{"query":"{ __typename }"}', ['Connection: close'])), later: [], label: `POST ${target}` },
  ]),
);

describe('the gateway and a subgraph under a seeded fuzz run', () => {
  it(`answer ${RUNS} batches of ${BATCH} hostile requests without a 5xx, a crash, a hang or a leak`, async () => {
    let rssBefore: { gateway: number; subgraph: number } | null = null;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(hostileRequest(credentials), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const failures = await Promise.all(batch.map(async (request) => ({ request, why: await probe(request) })));
        sent += batch.length;
        for (const service of [gateway, subgraph]) {
          if (service.exited)
            throw new Error(
              `the ${service.name} exited (${service.exited}) during this batch:\n${batch.map(describeRequest).join('\n')}\n${service.output.join('')}`,
            );
        }
        const failed = failures.filter((f) => f.why !== null);
        if (failed.length > 0) {
          const logs = [gateway, subgraph].map((service) => `${service.name} log:\n${service.output.slice(-5).join('').slice(-3_000)}`);
          throw new Error([...failed.map((f) => `${f.why}\n  ${describeRequest(f.request)}`), ...logs].join('\n'));
        }
        // The first batch (the known crashes) is the warm-up: caches fill, code compiles; growth is counted after it.
        rssBefore ??= { gateway: rssMegabytes(gateway), subgraph: rssMegabytes(subgraph) };
      }),
      // A crash leaves nothing to shrink against (the next runs would all fail): the batch that caused it is reported as it was.
      { seed: SEED, numRuns: RUNS, examples: [[knownCrashes]], endOnFailure: true },
    );
    expect(sent).toBeGreaterThan(RUNS * 10);

    // Both still serve: a real query through the gateway reaches the subgraph.
    const reply = await rawRequest(gateway.port, {
      send: barePost(
        '/graphql',
        JSON.stringify({ query: 'query($id: ID!) { person(idNumber: $id) { name } }', variables: { id: DEMO_PERSONS[0].idNumber } }),
        [`Authorization: Bearer ${credentials.token}`, `X-Matter-Code: ${credentials.matter}`, 'Connection: close'],
      ),
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).data.person.name).toBe(DEMO_PERSONS[0].name);
    const growth = { gateway: rssMegabytes(gateway) - rssBefore!.gateway, subgraph: rssMegabytes(subgraph) - rssBefore!.subgraph };
    const answers = [...tally].sort((a, b) => b[1] - a[1]).map(([key, count]) => `  ${String(count).padStart(5)}  ${key}`);
    console.info(
      `fuzz: ${sent} requests (seed ${SEED}); RSS growth gateway ${growth.gateway.toFixed(0)} MB, subgraph ${growth.subgraph.toFixed(0)} MB\n${answers.join('\n')}`,
    );
    expect(growth.gateway).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    expect(growth.subgraph).toBeLessThan(RSS_GROWTH_LIMIT_MB);
  }, 180_000);
});
