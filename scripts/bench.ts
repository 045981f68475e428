/**
 * `npm run bench`: the measurements that do not belong in unit tests (this
 * machine is shared and noisy). Configurations run side by side in one run,
 * alternating over several rounds; medians are reported.
 *
 * Gateways, on the same six subgraphs (own processes, seeded data):
 *   (a) this gateway, everything on: token verification, scopes, purpose
 *       binding, revocation and rate limits on Redis, durable audit (SQLite);
 *   (p) the same with the PostgreSQL audit store (the several-replica set-up);
 *   (b) vanilla @apollo/gateway + @apollo/server, their defaults, no security;
 *   (c) Hive Gateway (@graphql-hive/gateway), its defaults, no security;
 *   (d) no gateway: the subgraph calls a gateway makes, replayed directly.
 * Workloads W1–W5 (scripts/bench/workloads.ts), varied records per request.
 * Load: autocannon in its own process at a fixed number of connections.
 * Also: durable audit appends/s, offline document verifications/s, and how
 * long auditIntegrity takes on 100,000 records (`npm run bench:integrity` alone).
 *
 * Options: see USAGE below. Ctrl-C (or SIGTERM) stops every process the run
 * started and removes its temporary data folder.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { integerOption, readCommandLine, UsageError } from '../common/command-line.js';
import { subjectIndexFile } from '../common/audit/store-sqlite.js';
import { seedDatabases } from './seed/index.js';
import { ensureGatewayKeys } from '../common/gateway-keys.js';
import { writeTestTrustList } from '../test/support/identity.js';
import { measureAppends, scratchPostgres } from './bench/audit-appends.js';
import { measureIntegrity, type IntegrityMeasurement } from './bench/audit-integrity.js';
import { measureVerifications } from './bench/document-verifications.js';
import { type BenchInterrupted, interruption, throwIfInterrupted, watchInterrupts } from './bench/interruption.js';
import { median, runLoad, type LoadResult } from './bench/load.js';
import { gatewayEnvironment, serverCpuSince, serverCpuSnapshot, startService, startSubgraphs, stopAll, type Service } from './bench/stack.js';
import { certificateIssuer, readerHeaders } from './bench/callers.js';
import { writeBenchSupergraph } from './bench/bench-assertions.js';
import { recordPlans, runDirectLoad, type Stage } from './bench/direct.js';
import { buildWorkloads, type Workload } from './bench/workloads.js';
import { SERVICES } from '../subgraphs/catalog.js';

const WORKLOAD_IDS = ['W1', 'W2', 'W3', 'W4', 'W5'] as const;

const USAGE = [
  'usage: npm run bench -- [--persons N] [--rounds R] [--duration S] [--warmup S] [--connections C]',
  '                        [--workloads W1,W3] [--json FILE] [--no-micro] [--profile DIR]',
  '  runs gateways (a) (p) (b) (c) and the floor (d) side by side on seeded data in a temporary folder (about',
  '  30 minutes with the defaults; needs Redis on 127.0.0.1:6379 and PostgreSQL at postgres://postgres@127.0.0.1:5432/test)',
  '  --persons N      persons to seed (default 100000)',
  '  --rounds R       measured rounds (default 9); --duration S seconds each (default 5)',
  '  --warmup S       warm-up seconds per configuration and workload (default 10)',
  '  --connections C  concurrent connections of the load generator (default 16)',
  '  --workloads      a comma-separated subset of W1–W5 (default all)',
  '  --json FILE      writes the whole report as JSON',
  '  --no-micro       skips the audit-append, audit-integrity and document-verification measurements',
  '  --profile DIR    writes a V8 CPU profile of gateway (a) into DIR when it stops',
  'Ctrl-C stops every process the run started and removes its temporary data folder.',
].join('\n');

const options = readCommandLine(
  {
    name: 'bench',
    usage: USAGE,
    options: {
      persons: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      workloads: { type: 'string' },
      json: { type: 'string' },
      'no-micro': { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  },
  ({ values }) => {
    const workloads = values.workloads?.split(',').map((w) => w.trim());
    const unknown = workloads?.find((w) => !(WORKLOAD_IDS as readonly string[]).includes(w));
    if (unknown !== undefined)
      throw new UsageError(`--workloads must be a comma-separated subset of ${WORKLOAD_IDS.join(', ')}, got ${JSON.stringify(unknown)}`);
    return {
      persons: integerOption(values.persons, 'persons', 100_000),
      // Nine, not five: on this shared machine one configuration's CPU per request moves by up to 2× between
      // rounds, and the median of nine moves less than the median of five.
      rounds: integerOption(values.rounds, 'rounds', 9),
      duration: integerOption(values.duration, 'duration', 5),
      // Steady state, not V8's first seconds: right after 2 s of W2, gateway (a) spent up to twice the CPU per request it spent later.
      warmup: integerOption(values.warmup, 'warmup', 10),
      connections: integerOption(values.connections, 'connections', 16),
      jsonFile: values.json,
      onlyWorkloads: workloads,
      micro: !values['no-micro'],
      profileDir: values.profile,
    };
  },
);
const { persons, rounds, duration, warmup, connections, jsonFile, onlyWorkloads, micro, profileDir } = options;

type ConfigId = 'a' | 'p' | 'b' | 'c' | 'd';
const CONFIGS: Record<ConfigId, string> = {
  a: 'this gateway, security + durable audit on',
  p: 'this gateway, the same with the PostgreSQL audit store',
  b: 'vanilla @apollo/gateway + @apollo/server',
  c: 'Hive Gateway',
  d: 'subgraphs called directly (floor)',
};

interface Round extends LoadResult {
  /** Gateway process CPU (user + system, all threads) per response, ms. */
  gatewayCpuMs: number | null;
  /** …of which its main thread's (the event loop). */
  gatewayMainThreadCpuMs: number | null;
  /** All six subgraph processes' CPU per response, ms. */
  subgraphCpuMs: number;
  /** Redis and PostgreSQL server processes' CPU per response, ms. */
  serverCpuMs: number;
  /** (a) only: audit records written during the run. */
  auditRecords?: number;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-bench-'));
watchInterrupts(() => rmSync(dataDir, { recursive: true, force: true }));
const services: Service[] = [];
let dropAuditDatabase: (() => Promise<void>) | undefined;

/** Order-independent form of a JSON answer, for comparing configurations. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: { data?: unknown; errors?: unknown[] } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, json: (await response.json()) as { data?: unknown; errors?: unknown[] } };
}

try {
  say(`Seeding ${persons} persons into ${dataDir}…`);
  await seedDatabases({ dataDir, persons, signal: interruption });
  throwIfInterrupted();
  await ensureGatewayKeys(dataDir);
  await writeTestTrustList(dataDir);

  const microReport: Record<string, unknown> = {};
  if (micro) {
    say('Durable audit appends (64 concurrent appenders, 3 s) and offline document verifications (2 s), medians of rounds…');
    const sqliteRates: number[] = [];
    const postgresRates: number[] = [];
    const verificationRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      throwIfInterrupted();
      sqliteRates.push(await measureAppends({ dataDir: mkdtempSync(join(dataDir, 'appends-')), concurrency: 64, seconds: 3 }));
      const scratch = await scratchPostgres();
      try {
        postgresRates.push(await measureAppends({ dataDir, databaseUrl: scratch.url, concurrency: 64, seconds: 3 }));
      } finally {
        await scratch.drop();
      }
      verificationRates.push(await measureVerifications(dataDir, 2));
    }
    say('auditIntegrity on 100,000 audit records: the first answer, incremental ones after 1,000 more, a full one (npm run bench:integrity alone)…');
    const integritySqlite = await measureIntegrity({
      dataDir: mkdtempSync(join(dataDir, 'integrity-')),
      records: 100_000,
      newRecords: 1000,
      rounds: 5,
    });
    const integrityScratch = await scratchPostgres();
    let integrityPostgres: IntegrityMeasurement;
    try {
      integrityPostgres = await measureIntegrity({ dataDir, databaseUrl: integrityScratch.url, records: 100_000, newRecords: 1000, rounds: 5 });
    } finally {
      await integrityScratch.drop();
    }
    Object.assign(microReport, {
      auditIntegrityMs: { sqlite: integritySqlite, postgres: integrityPostgres },
      auditAppendsPerSecond: {
        sqlite: median(sqliteRates),
        postgres: median(postgresRates),
        rounds: { sqlite: sqliteRates, postgres: postgresRates },
      },
      offlineDocumentVerificationsPerSecond: { median: median(verificationRates), rounds: verificationRates },
    });
  }

  say('Starting six subgraphs and four gateways…');
  const subgraphs = await startSubgraphs(dataDir);
  services.push(...subgraphs.values());
  const supergraphFile = writeBenchSupergraph(dataDir, Object.fromEntries([...subgraphs].map(([name, s]) => [name, s.url])));
  const replica = 'bench-a';
  const auditDatabase = await scratchPostgres();
  dropAuditDatabase = auditDatabase.drop;
  const ours = gatewayEnvironment(dataDir, subgraphs, 'kuasheng-bench');
  const gateways: Record<'a' | 'p' | 'b' | 'c', Service> = {
    a: await startService(
      'gateway (a)',
      'gateway/main.ts',
      [],
      { ...ours, GATEWAY_REPLICA_ID: replica },
      profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    ),
    p: await startService('gateway (p)', 'gateway/main.ts', [], { ...ours, GATEWAY_REPLICA_ID: 'bench-p', AUDIT_DATABASE_URL: auditDatabase.url }),
    b: await startService('vanilla @apollo/gateway (b)', 'scripts/bench/vanilla-gateway.ts', [], {
      DATA_DIR: dataDir,
      BENCH_SUPERGRAPH_FILE: supergraphFile,
    }),
    // METADATA_SERVER_DETECTION: Hive's telemetry dependencies otherwise probe for a cloud metadata server.
    c: await startService('Hive Gateway (c)', 'scripts/bench/hive-gateway.ts', [], {
      DATA_DIR: dataDir,
      BENCH_SUPERGRAPH_FILE: supergraphFile,
      METADATA_SERVER_DETECTION: 'none',
    }),
  };
  services.push(...Object.values(gateways));
  const reader = await readerHeaders(dataDir);
  const headersOf = (config: ConfigId): Record<string, string> => (config === 'a' || config === 'p' ? reader : {});
  // Certificates for W3, issued through (a).
  const issue = await certificateIssuer(dataDir, gateways.a.url);
  const workloads = (await buildWorkloads(dataDir, issue)).filter((w) => !onlyWorkloads || onlyWorkloads.includes(w.id));

  say('Checking that the gateways give the same answers…');
  for (const workload of workloads) {
    for (const body of workload.bodies.slice(0, 6)) {
      const configs = ['a', 'p', 'b', 'c'] as const;
      const answers = await Promise.all(configs.map((config) => post(gateways[config].url, body, headersOf(config))));
      answers.forEach((answer, i) => {
        if (answer.status !== 200 || answer.json.errors)
          throw new Error(`${workload.id} (${configs[i]}): HTTP ${answer.status} ${JSON.stringify(answer.json.errors ?? '')}`);
      });
      if (answers.some((answer) => !isDeepStrictEqual(canonical(answer.json), canonical(answers[0].json)))) {
        throw new Error(
          `${workload.id}: the configurations answered differently:\n${answers.map((a) => JSON.stringify(a.json).slice(0, 600)).join('\n')}`,
        );
      }
    }
  }

  say('Recording the subgraph calls for (d)…');
  const plans = new Map<Workload['id'], Stage[][]>();
  for (const workload of workloads) {
    plans.set(
      workload.id,
      await recordPlans({
        supergraphFile,
        dataDir,
        requests: workload.bodies.map((b) => JSON.parse(b) as { query: string; variables: Record<string, unknown> }),
      }),
    );
  }

  const audit = new Database(join(dataDir, 'audit.db'), { readonly: true, fileMustExist: true });
  const countAudit = audit.prepare('SELECT COUNT(*) AS n FROM audit_records WHERE chain_id = ?');
  const auditPostgres = new pg.Client({ connectionString: auditDatabase.url });
  await auditPostgres.connect();
  const audited = async (config: 'a' | 'p') =>
    config === 'a'
      ? (countAudit.get(replica) as { n: number }).n
      : Number((await auditPostgres.query('SELECT COUNT(*) AS n FROM audit_records WHERE chain_id = $1', ['bench-p'])).rows[0].n);
  const subgraphCpu = () => [...subgraphs.values()].reduce((sum, s) => sum + s.cpuMs(), 0);

  const run = async (config: ConfigId, workload: Workload, seconds: number): Promise<Round> => {
    throwIfInterrupted();
    const gateway = config === 'd' ? null : gateways[config];
    const audits = config === 'a' || config === 'p';
    const beforeAudit = audits ? await audited(config) : 0;
    const cpu0 = gateway?.cpuMs() ?? 0;
    const main0 = gateway?.mainThreadCpuMs() ?? 0;
    const sub0 = subgraphCpu();
    const server0 = serverCpuSnapshot();
    const result =
      config === 'd'
        ? await runDirectLoad({ stages: plans.get(workload.id)!, connections, durationSeconds: seconds, dataDir })
        : await runLoad({ url: gateway!.url, bodies: workload.bodies, headers: headersOf(config), connections, durationSeconds: seconds });
    const cpu1 = gateway?.cpuMs() ?? 0;
    const main1 = gateway?.mainThreadCpuMs() ?? 0;
    const sub1 = subgraphCpu();
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${workload.id} (${config}): ${result.non2xx} non-2xx, ${result.errors} errors`);
    const round: Round = {
      ...result,
      gatewayCpuMs: gateway ? (cpu1 - cpu0) / result.total : null,
      gatewayMainThreadCpuMs: gateway ? (main1 - main0) / result.total : null,
      subgraphCpuMs: (sub1 - sub0) / result.total,
      serverCpuMs: serverCpuSince(server0) / result.total,
    };
    if (audits) {
      // Requests still in flight when the load stopped are answered (and audited) after it: wait for them.
      await new Promise((resolve) => setTimeout(resolve, 300));
      round.auditRecords = (await audited(config)) - beforeAudit;
      if (round.auditRecords < result.total || round.auditRecords > result.total + connections) {
        throw new Error(`${workload.id} (${config}): ${result.total} responses but ${round.auditRecords} audit records`);
      }
    }
    return round;
  };

  say(`Warming up (${warmup} s per configuration and workload), then ${rounds} rounds × ${duration} s, ${connections} connections…`);
  const order: ConfigId[] = ['a', 'p', 'b', 'c', 'd'];
  for (const workload of workloads) for (const config of order) await run(config, workload, warmup);
  const results = new Map<string, Round[]>();
  for (let r = 0; r < rounds; r++) {
    for (const workload of workloads) {
      // Rotate the order every round so drift on this shared machine does not favour one configuration.
      for (let k = 0; k < order.length; k++) {
        const config = order[(k + r) % order.length];
        const round = await run(config, workload, duration);
        const key = `${workload.id}/${config}`;
        results.set(key, [...(results.get(key) ?? []), round]);
        say(
          `  round ${r + 1} ${workload.id} (${config}): ${round.requestsPerSecond.toFixed(0)} req/s, p50 ${round.p50} ms, p99 ${round.p99} ms${round.gatewayCpuMs !== null ? `, gateway CPU ${round.gatewayCpuMs.toFixed(2)} ms/req` : ''}`,
        );
      }
    }
  }
  // Does (a)'s person-search index keep up with the load? Searches read the records after its watermark directly.
  const head = (audit.prepare('SELECT MAX(seq) AS seq FROM audit_records WHERE chain_id = ?').get(replica) as { seq: number }).seq;
  const indexFile = subjectIndexFile(join(dataDir, 'audit.db'));
  const personIndex = { head, indexedSeq: 0, runs: 0, entries: 0 };
  if (existsSync(indexFile)) {
    const index = new Database(indexFile, { readonly: true, fileMustExist: true });
    personIndex.indexedSeq =
      (index.prepare('SELECT indexed_seq FROM subject_chains WHERE chain_id = ?').get(replica) as { indexed_seq: number } | undefined)?.indexed_seq ??
      0;
    Object.assign(
      personIndex,
      index.prepare('SELECT COUNT(*) AS runs, COALESCE(SUM(entries), 0) AS entries FROM subject_runs WHERE chain_id = ?').get(replica),
    );
    index.close();
  }
  audit.close();
  await auditPostgres.end();

  type Summary = ReturnType<typeof summarise>;
  type Ratio = {
    requestsPerSecond: number | null;
    p50: number | null;
    p99: number | null;
    gatewayCpu: number | null;
    gatewayCpuPerRound: (number | null)[];
  };
  type WorkloadReport = { title: string; ratios: Record<string, Ratio> } & Record<ConfigId, Summary>;
  const summarise = (list: Round[]) => ({
    requestsPerSecond: median(list.map((x) => x.requestsPerSecond)),
    p50: median(list.map((x) => x.p50)),
    p99: median(list.map((x) => x.p99)),
    gatewayCpuMsPerRequest: list[0].gatewayCpuMs === null ? null : median(list.map((x) => x.gatewayCpuMs!)),
    gatewayMainThreadCpuMsPerRequest: list[0].gatewayMainThreadCpuMs === null ? null : median(list.map((x) => x.gatewayMainThreadCpuMs!)),
    subgraphCpuMsPerRequest: median(list.map((x) => x.subgraphCpuMs)),
    serverCpuMsPerRequest: median(list.map((x) => x.serverCpuMs)),
    responses: list.reduce((sum, x) => sum + x.total, 0),
    ...(list[0].auditRecords !== undefined ? { auditRecords: list.reduce((sum, x) => sum + x.auditRecords!, 0) } : {}),
    rounds: list,
  });
  const peakRss = Object.fromEntries(Object.entries(gateways).map(([config, s]) => [config, s.peakRssMiB()]));
  const report = {
    machine: { cpus: cpus().length, node: process.version },
    settings: { persons, rounds, duration, connections, workloads: workloads.map((w) => w.id) },
    configurations: CONFIGS,
    peakRssMiB: peakRss,
    personIndex,
    workloads: Object.fromEntries(
      workloads.map((w): [string, WorkloadReport] => {
        const s = Object.fromEntries(order.map((c) => [c, summarise(results.get(`${w.id}/${c}`)!)]));
        const ratio = (x: number | null, y: number | null) => (x !== null && y !== null && y > 0 ? x / y : null);
        return [
          w.id,
          {
            title: w.title,
            ...(s as Record<ConfigId, Summary>),
            ratios: Object.fromEntries(
              (['b', 'c', 'd'] as const).map((other) => [
                `a/${other}`,
                {
                  requestsPerSecond: ratio(s.a.requestsPerSecond, s[other].requestsPerSecond),
                  p50: ratio(s.a.p50, s[other].p50),
                  p99: ratio(s.a.p99, s[other].p99),
                  gatewayCpu: ratio(s.a.gatewayCpuMsPerRequest, s[other].gatewayCpuMsPerRequest),
                  // Round by round (the two measured within one rotation): how much of a ratio is this machine's noise.
                  gatewayCpuPerRound: s.a.rounds.map((round, i) => ratio(round.gatewayCpuMs, s[other].rounds[i].gatewayCpuMs)),
                },
              ]),
            ),
          },
        ];
      }),
    ),
    ...microReport,
  };

  const f = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '—' : x.toFixed(digits));
  say();
  say(
    `${rounds} rounds × ${duration} s, ${connections} connections, ${persons} persons, medians; gateway CPU = the gateway process's own CPU time per response.`,
  );
  say();
  say('| workload | config | req/s | p50 ms | p99 ms | gateway CPU ms/req | subgraphs CPU ms/req | Redis + PostgreSQL CPU ms/req |');
  say('|---|---|---|---|---|---|---|---|');
  for (const w of workloads) {
    const entry = report.workloads[w.id];
    for (const c of order) {
      const s = entry[c];
      say(
        `| ${w.id} ${w.title} | (${c}) ${CONFIGS[c]} | ${f(s.requestsPerSecond)} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.gatewayCpuMsPerRequest, 2)} | ${f(s.subgraphCpuMsPerRequest, 2)} | ${f(s.serverCpuMsPerRequest, 2)} |`,
      );
    }
    for (const other of ['b', 'c', 'd'] as const) {
      const r = entry.ratios[`a/${other}`];
      say(`| ${w.id} | ratio a/${other} | ${f(r.requestsPerSecond, 2)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.gatewayCpu, 2)} | | |`);
    }
  }
  say();
  say(
    'Gateway CPU ms/request split between the main thread (event loop) and the other threads (audit writer and index threads, V8 and libuv helpers):',
  );
  say();
  say(`| workload | ${(['a', 'p', 'b', 'c'] as const).map((c) => `(${c}) main / other`).join(' | ')} |`);
  say('|---|---|---|---|---|');
  for (const w of workloads) {
    const entry = report.workloads[w.id];
    const split = (c: ConfigId) =>
      `${f(entry[c].gatewayMainThreadCpuMsPerRequest, 2)} / ${f(entry[c].gatewayCpuMsPerRequest! - entry[c].gatewayMainThreadCpuMsPerRequest!, 2)}`;
    say(`| ${w.id} | ${(['a', 'p', 'b', 'c'] as const).map(split).join(' | ')} |`);
  }
  say();
  say("Issue 6's targets (medians of this run), for (a) and for (p):");
  say();
  say('| target | (a) | (p) |');
  say('|---|---|---|');
  const verdict = (x: number | null, limit: number, atMost: boolean) =>
    x === null
      ? '—'
      : `${x.toFixed(2)} ${atMost ? (x <= limit ? '≤' : '>') : x >= limit ? '≥' : '<'} ${limit} ${(atMost ? x <= limit : x >= limit) ? 'met' : '**not met**'}`;
  for (const id of ['W1', 'W2'] as const) {
    const e = report.workloads[id];
    if (!e) continue;
    const ratio = (c: 'a' | 'p', other: 'b' | 'c', key: 'gatewayCpuMsPerRequest' | 'p99' | 'requestsPerSecond') => e[c][key]! / e[other][key]!;
    say(
      `| ${id}: gateway CPU/request vs (b), at most 0.5× | ${verdict(ratio('a', 'b', 'gatewayCpuMsPerRequest'), 0.5, true)} | ${verdict(ratio('p', 'b', 'gatewayCpuMsPerRequest'), 0.5, true)} |`,
    );
    say(
      `| ${id}: gateway CPU/request vs (c), at most 0.7× | ${verdict(ratio('a', 'c', 'gatewayCpuMsPerRequest'), 0.7, true)} | ${verdict(ratio('p', 'c', 'gatewayCpuMsPerRequest'), 0.7, true)} |`,
    );
    say(`| ${id}: p99 vs (b), at most 1× | ${verdict(ratio('a', 'b', 'p99'), 1, true)} | ${verdict(ratio('p', 'b', 'p99'), 1, true)} |`);
    if (id === 'W1')
      say(
        `| W1: requests/s vs (b), at least 1.3× | ${verdict(ratio('a', 'b', 'requestsPerSecond'), 1.3, false)} | ${verdict(ratio('p', 'b', 'requestsPerSecond'), 1.3, false)} |`,
      );
  }
  say();
  say('The same CPU ratios round by round (each pair measured in one rotation of the configurations), to show the machine’s noise:');
  say();
  say('| workload | (a)/(b) gateway CPU per round | (a)/(c) gateway CPU per round |');
  say('|---|---|---|');
  for (const w of workloads) {
    const e = report.workloads[w.id];
    const rounds = (other: 'b' | 'c') => e.ratios[`a/${other}`].gatewayCpuPerRound.map((x) => f(x, 2)).join(', ');
    say(`| ${w.id} | ${rounds('b')} | ${rounds('c')} |`);
  }
  say();
  say(`Peak RSS (MiB, over the whole run): (a) ${f(peakRss.a)}, (p) ${f(peakRss.p)}, (b) ${f(peakRss.b)}, (c) ${f(peakRss.c)}.`);
  for (const c of ['a', 'p'] as const) {
    const auditTotal = workloads.reduce((sum, w) => sum + (report.workloads[w.id][c].auditRecords ?? 0), 0);
    const responsesTotal = workloads.reduce((sum, w) => sum + report.workloads[w.id][c].responses, 0);
    say(
      `(${c}) answered ${responsesTotal} requests in the measured rounds and wrote ${auditTotal} audit records (requests in flight at a round's end are answered and audited after the load generator stopped counting).`,
    );
  }
  say(
    `(a)'s person-search index at the end of the run: ${personIndex.entries} entries in ${personIndex.runs} runs, indexed up to record ${personIndex.indexedSeq} of ${personIndex.head} (searches read the ${personIndex.head - personIndex.indexedSeq} after it from the records).`,
  );
  if (micro) {
    const m = microReport as {
      auditAppendsPerSecond: { sqlite: number; postgres: number };
      offlineDocumentVerificationsPerSecond: { median: number };
      auditIntegrityMs: Record<'sqlite' | 'postgres', IntegrityMeasurement>;
    };
    say();
    say(
      `Durable audit appends/s, 64 appenders: SQLite (WAL, synchronous=FULL) ${f(m.auditAppendsPerSecond.sqlite)}, PostgreSQL ${f(m.auditAppendsPerSecond.postgres)}. Offline document verifications/s, one core: ${f(m.offlineDocumentVerificationsPerSecond.median)}.`,
    );
    for (const [name, i] of [
      ['SQLite', m.auditIntegrityMs.sqlite],
      ['PostgreSQL', m.auditIntegrityMs.postgres],
    ] as const) {
      say(
        `auditIntegrity, ${name}, ${f(i.records)} records: first answer ${f(i.firstMs)} ms, incremental ${f(i.incrementalMs)} ms (median; ${f(i.recordsReadPerIncremental)} records read), full ${f(i.fullMs)} ms.`,
      );
    }
  }
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
} catch (error) {
  // Interrupted, the run fails in whatever step it was: that failure is no news.
  if (!interruption.aborted) throw error;
} finally {
  // Gateways before the subgraphs: a gateway still answering the last requests must not find its subgraphs gone (Hive Gateway logs each such failure).
  const subgraphNames = new Set<string>(SERVICES.map((s) => s.name));
  await stopAll(services.filter((s) => !subgraphNames.has(s.name)));
  await stopAll(services.filter((s) => subgraphNames.has(s.name)));
  await dropAuditDatabase?.();
  rmSync(dataDir, { recursive: true, force: true });
}
if (interruption.aborted) {
  process.stderr.write(`Interrupted: the processes are stopped and ${dataDir} is removed.\n`);
  process.exit((interruption.reason as BenchInterrupted).exitCode);
}
