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
 * Options: --variant 'NAME:VAR=VALUE,VAR=VALUE' (two or more), --workload W2
 * (W1–W5), --rounds R (10), --duration S (5), --warmup S (10, per variant),
 * --connections C (16),
 * --persons N (100000), --cpu-prof DIR (a V8 CPU profile of each gateway,
 * written to DIR/<variant> when it stops; open it in Chrome DevTools).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedDatabases } from './seed/index.js';
import { ensureGatewayKeys } from '../common/gateway-keys.js';
import { writeTestTrustList } from '../test/support/identity.js';
import { certificateIssuer, readerHeaders } from './bench/callers.js';
import { median, runLoad } from './bench/load.js';
import { gatewayEnvironment, startService, startSubgraphs, stopAll, type Service } from './bench/stack.js';
import { buildWorkloads, type Workload } from './bench/workloads.js';

const argv = process.argv.slice(2);
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
function option(name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a positive whole number`);
  return value;
}

interface Variant {
  name: string;
  env: Record<string, string>;
  /** The checkout whose gateway runs (default: this one). */
  root?: string;
}

function parseVariant(text: string | undefined): Variant {
  const match = /^([^:@]+)(?:@([^:]+))?:(.*)$/.exec(text ?? '');
  if (!match) fail(`--variant must be NAME[@DIR]:VAR=VALUE,…, got ${JSON.stringify(text)}`);
  const env: Record<string, string> = {};
  for (const pair of match[3].split(',').filter(Boolean)) {
    const [variable, ...value] = pair.split('=');
    if (!/^[A-Z][A-Z0-9_]*$/.test(variable) || value.length === 0) fail(`--variant ${match[1]}: ${JSON.stringify(pair)} is not VAR=VALUE`);
    env[variable] = value.join('=');
  }
  const root = match[2] === undefined ? undefined : resolve(match[2]);
  if (root !== undefined && !existsSync(join(root, 'gateway/main.ts'))) fail(`--variant ${match[1]}: ${root} is not a checkout (no gateway/main.ts)`);
  return { name: match[1], env, root };
}

const variants = argv.flatMap((arg, i) => (arg === '--variant' ? [parseVariant(argv[i + 1])] : []));
if (variants.length < 2) fail('give two or more --variant NAME:VAR=VALUE,…');
if (new Set(variants.map((v) => v.name)).size !== variants.length) fail('variant names must differ');
const workloadIndex = argv.indexOf('--workload');
const workloadId = (workloadIndex < 0 ? 'W2' : argv[workloadIndex + 1]) as Workload['id'];
if (!['W1', 'W2', 'W3', 'W4', 'W5'].includes(workloadId)) fail('--workload must be one of W1–W5');
const rounds = option('rounds', 10);
const duration = option('duration', 5);
const warmup = option('warmup', 10);
const connections = option('connections', 16);
const persons = option('persons', 100_000);
const profileIndex = argv.indexOf('--cpu-prof');
const profileFolder = profileIndex < 0 ? undefined : argv[profileIndex + 1];
if (profileIndex >= 0 && (profileFolder === undefined || profileFolder.startsWith('--'))) fail('--cpu-prof needs a folder');
const cpuProfileDir = profileFolder === undefined ? undefined : resolve(profileFolder);

const say = (line = '') => process.stdout.write(`${line}\n`);
const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-compare-'));
const services: Service[] = [];
try {
  say(`Seeding ${persons} persons…`);
  await seedDatabases({ dataDir, persons });
  await ensureGatewayKeys(dataDir);
  await writeTestTrustList(dataDir);
  const subgraphs = await startSubgraphs(dataDir);
  services.push(...subgraphs.values());
  const common = gatewayEnvironment(dataDir, subgraphs, 'kuasheng-compare');
  // Each variant its own audit chain (replica) in the same store; the rounds do not overlap.
  const gateways: Service[] = [];
  for (const [i, variant] of variants.entries()) {
    const gateway = await startService(
      `gateway (${variant.name})`,
      'gateway/main.ts',
      [],
      { ...common, GATEWAY_REPLICA_ID: `compare-${i}`, ...variant.env },
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
} finally {
  await stopAll([...services].reverse());
  rmSync(dataDir, { recursive: true, force: true });
}
