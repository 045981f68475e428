/**
 * `npm run bench:compare`: variants of this gateway (a) side by side, for a
 * change too small for the full bench to resolve on this noisy machine.
 * Each variant is the gateway with its own environment; all run at once on
 * the same six subgraphs, one workload, rounds in rotating order, and each
 * round's CPU is also compared with the first variant's in the same
 * rotation.
 *
 *   npm run bench:compare -- --variant 'no delay:AUDIT_COMMIT_DELAY_MS=0' --variant '5 ms:AUDIT_COMMIT_DELAY_MS=5'
 *
 * A variant may run the gateway of another checkout, `NAME@DIR:…`: a change
 * measured against its base commit on the same subgraphs and data,
 *
 *   git worktree add ../base main~3 && ln -s "$PWD/node_modules" ../base/node_modules
 *   npm run bench:compare -- --variant 'base@../base:' --variant 'change:'
 *
 * Options: see USAGE below. Ctrl-C (or SIGTERM) stops every process the run
 * started and removes its temporary data folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { integerOption, readCommandLine, UsageError } from '../common/command-line.js';
import { seedDatabases } from './seed/index.js';
import { ensureGatewayKeys } from '../common/gateway-keys.js';
import { writeTestTrustList } from '../test/support/identity.js';
import { certificateIssuer, readerHeaders } from './bench/callers.js';
import { type BenchInterrupted, interruption, throwIfInterrupted, watchInterrupts } from './bench/interruption.js';
import { median, runLoad } from './bench/load.js';
import { gatewayEnvironment, startService, startSubgraphs, stopAll, type Service } from './bench/stack.js';
import { buildWorkloads, type Workload } from './bench/workloads.js';

const USAGE = [
  "usage: npm run bench:compare -- --variant 'NAME[@DIR]:VAR=VALUE,…' --variant … [--workload W2] [--rounds R] [--duration S]",
  '                                [--warmup S] [--connections C] [--persons N] [--cpu-prof DIR]',
  '  runs two or more variants of this gateway side by side on the same six subgraphs and seeded data',
  '  --variant      a name, optionally @DIR (the gateway of another checkout), and its environment; two or more',
  '  --workload     one of W1–W5 (default W2)',
  '  --rounds R     measured rounds (default 10); --duration S seconds each (default 5); --warmup S per variant (default 10)',
  '  --connections  concurrent connections (default 16); --persons N persons to seed (default 100000)',
  '  --cpu-prof DIR a V8 CPU profile of each gateway, written to DIR/<variant> when it stops',
  'Ctrl-C stops every process the run started and removes its temporary data folder.',
].join('\n');

interface Variant {
  name: string;
  env: Record<string, string>;
  /** The checkout whose gateway runs (default: this one). */
  root?: string;
}

function parseVariant(text: string): Variant {
  const match = /^([^:@]+)(?:@([^:]+))?:(.*)$/.exec(text);
  if (!match) throw new UsageError(`--variant must be NAME[@DIR]:VAR=VALUE,…, got ${JSON.stringify(text)}`);
  const env: Record<string, string> = {};
  for (const pair of match[3].split(',').filter(Boolean)) {
    const [variable, ...value] = pair.split('=');
    if (!/^[A-Z][A-Z0-9_]*$/.test(variable) || value.length === 0)
      throw new UsageError(`--variant ${match[1]}: ${JSON.stringify(pair)} is not VAR=VALUE`);
    env[variable] = value.join('=');
  }
  const root = match[2] === undefined ? undefined : resolve(match[2]);
  if (root !== undefined && !existsSync(join(root, 'gateway/main.ts')))
    throw new UsageError(`--variant ${match[1]}: ${root} is not a checkout (no gateway/main.ts)`);
  return { name: match[1], env, root };
}

const { variants, workloadId, rounds, duration, warmup, connections, persons, cpuProfileDir } = readCommandLine(
  {
    name: 'bench:compare',
    usage: USAGE,
    options: {
      variant: { type: 'string', multiple: true },
      workload: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      persons: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  },
  ({ values }) => {
    const variants = (values.variant ?? []).map(parseVariant);
    if (variants.length < 2) throw new UsageError('give two or more --variant NAME:VAR=VALUE,…');
    if (new Set(variants.map((v) => v.name)).size !== variants.length) throw new UsageError('variant names must differ');
    const workloadId = (values.workload ?? 'W2') as Workload['id'];
    if (!['W1', 'W2', 'W3', 'W4', 'W5'].includes(workloadId)) throw new UsageError('--workload must be one of W1–W5');
    if (values['cpu-prof'] !== undefined && values['cpu-prof'].trim() === '') throw new UsageError('--cpu-prof needs a folder');
    return {
      variants,
      workloadId,
      rounds: integerOption(values.rounds, 'rounds', 10),
      duration: integerOption(values.duration, 'duration', 5),
      warmup: integerOption(values.warmup, 'warmup', 10),
      connections: integerOption(values.connections, 'connections', 16),
      persons: integerOption(values.persons, 'persons', 100_000),
      cpuProfileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    };
  },
);

const say = (line = '') => process.stdout.write(`${line}\n`);
const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-compare-'));
watchInterrupts(() => rmSync(dataDir, { recursive: true, force: true }));
const services: Service[] = [];
try {
  say(`Seeding ${persons} persons into ${dataDir}…`);
  await seedDatabases({ dataDir, persons, signal: interruption });
  throwIfInterrupted();
  await ensureGatewayKeys(dataDir);
  await writeTestTrustList(dataDir);
  const subgraphs = await startSubgraphs(dataDir);
  services.push(...subgraphs.values());
  const common = gatewayEnvironment(dataDir, subgraphs, 'kuasheng-compare');
  // Each variant its own audit store (a data folder of its own that shares the keys, identity providers and the rest), so that
  // checkouts of different audit schema versions compare side by side; the rounds do not overlap.
  const gateways: Service[] = [];
  for (const [i, variant] of variants.entries()) {
    const own = join(dataDir, `variant-${i}`);
    mkdirSync(own);
    for (const entry of readdirSync(dataDir)) {
      if (!entry.startsWith('audit') && !entry.startsWith('revocations') && !entry.startsWith('variant-'))
        symlinkSync(join(dataDir, entry), join(own, entry));
    }
    const gateway = await startService(
      `gateway (${variant.name})`,
      'gateway/main.ts',
      [],
      { ...common, DATA_DIR: own, GATEWAY_REPLICA_ID: `compare-${i}`, ...variant.env },
      // Node refuses --cpu-prof in NODE_OPTIONS: a profile of each gateway goes to --cpu-prof DIR/<variant>.
      cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfileDir, variant.name.replace(/[^\w.-]+/g, '_'))}`],
      variant.root,
    );
    services.push(gateway);
    gateways.push(gateway);
  }
  const headers = await readerHeaders(dataDir);
  const issue = await certificateIssuer(dataDir, gateways[0].url);
  const workload = (await buildWorkloads(dataDir, issue)).find((w) => w.id === workloadId)!;

  const measure = async (gateway: Service, seconds: number) => {
    throwIfInterrupted();
    const cpu0 = gateway.cpuMs();
    const main0 = gateway.mainThreadCpuMs();
    const result = await runLoad({ url: gateway.url, bodies: workload.bodies, headers, connections, durationSeconds: seconds });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${gateway.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return { ...result, cpuMs: (gateway.cpuMs() - cpu0) / result.total, mainMs: (gateway.mainThreadCpuMs() - main0) / result.total };
  };
  type Round = Awaited<ReturnType<typeof measure>>;

  say(`Warming up (${warmup} s each), then ${rounds} rounds × ${duration} s of ${workload.id}, ${connections} connections, order rotating…`);
  for (const gateway of gateways) await measure(gateway, warmup);
  const results: Round[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const round = await measure(gateways[i], duration);
      results[i].push(round);
      line.push(`${variants[i].name} ${round.cpuMs.toFixed(2)} ms`);
    }
    say(`  round ${r + 1}: ${line.join(', ')}`);
  }

  say();
  say(`| variant | req/s | p50 ms | p99 ms | gateway CPU ms/req | main thread ms/req | per-round CPU ratio to ${variants[0].name}: median (range) |`);
  say('|---|---|---|---|---|---|---|');
  for (const [i, variant] of variants.entries()) {
    const rs = results[i];
    const ratios = rs.map((round, r) => round.cpuMs / results[0][r].cpuMs);
    const spread = i === 0 ? '1' : `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    say(
      `| ${variant.name} | ${median(rs.map((x) => x.requestsPerSecond)).toFixed(0)} | ${median(rs.map((x) => x.p50))} | ${median(rs.map((x) => x.p99))} | ${median(rs.map((x) => x.cpuMs)).toFixed(3)} | ${median(rs.map((x) => x.mainMs)).toFixed(3)} | ${spread} |`,
    );
  }
} catch (error) {
  // Interrupted, the run fails in whatever step it was: that failure is no news.
  if (!interruption.aborted) throw error;
} finally {
  await stopAll([...services].reverse());
  rmSync(dataDir, { recursive: true, force: true });
}
if (interruption.aborted) {
  process.stderr.write(`Interrupted: the processes are stopped and ${dataDir} is removed.\n`);
  process.exit((interruption.reason as BenchInterrupted).exitCode);
}
