import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES, type SubgraphName } from '../../subgraphs/catalog.js';
import { subgraphUrlVariable } from '../../gateway/config.js';
import { subgraphPortVariable } from '../../subgraphs/config.js';
import { trackChild } from './interruption.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  /** CPU time (user + system) the process has used, in milliseconds, from /proc. */
  cpuMs(): number;
  /** The same for its main thread alone (the event loop); the rest is worker threads (the audit's), V8's and libuv's. */
  mainThreadCpuMs(): number;
  /** Peak resident set size in MiB (VmHWM). */
  peakRssMiB(): number;
}

function cpuMsOf(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/pid/stat (1-based), in clock ticks (100 Hz on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * CPU time (ms) of each process of the local database servers (Redis,
 * PostgreSQL), by pid: what requests cost outside the gateway process, for
 * the configurations that use them. See `serverCpuSince`.
 */
export function serverCpuSnapshot(): Map<number, number> {
  const snapshot = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'redis-server' || comm === 'postgres') snapshot.set(Number(entry), cpuMsOf(Number(entry)));
    } catch {
      // the process ended while we looked
    }
  }
  return snapshot;
}

/** CPU the database servers used since `before`: processes still running are counted; a process that ended in between is missed (an undercount, never negative). */
export function serverCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of serverCpuSnapshot()) total += ms - (before.get(pid) ?? 0);
  return total;
}

function peakRssOf(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Starts a service of this checkout, or of another one given as `root` (a worktree of a base commit, to measure a change against it). */
export function startService(
  name: string,
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeOptions: string[] = [],
  root = ROOT,
): Promise<Service> {
  return new Promise((resolve, reject) => {
    const child = trackChild(
      fork(join(root, entry), args, {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'warn', ...env },
        execArgv: [...nodeOptions, '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    child.once('message', (m: { ready?: string }) => {
      if (!m.ready) return reject(new Error(`${name}: unexpected message`));
      resolve({
        name,
        url: m.ready,
        child,
        cpuMs: () => cpuMsOf(child.pid!),
        mainThreadCpuMs: () => cpuMsOf(child.pid!, child.pid!),
        peakRssMiB: () => peakRssOf(child.pid!),
      });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
}

/** The six subgraphs as their own processes on free ports, over a seeded data folder. */
export async function startSubgraphs(dataDir: string): Promise<Map<SubgraphName, Service>> {
  const started = await Promise.all(
    SERVICES.map((s) => startService(s.name, 'subgraphs/main.ts', [s.name], { DATA_DIR: dataDir, [subgraphPortVariable(s.name)]: '0' })),
  );
  return new Map(started.map((s) => [s.name as SubgraphName, s]));
}

export function subgraphUrls(subgraphs: Map<SubgraphName, Service>): NodeJS.ProcessEnv {
  return Object.fromEntries([...subgraphs].map(([name, s]) => [subgraphUrlVariable(name), s.url]));
}

/**
 * Gateway (a)'s environment over the bench's data folder and subgraphs:
 * Redis under its own key prefix, and rate budgets high enough not to refuse
 * the load (they are still checked on every request).
 */
export function gatewayEnvironment(dataDir: string, subgraphs: Map<SubgraphName, Service>, keyPrefix: string): NodeJS.ProcessEnv {
  return {
    DATA_DIR: dataDir,
    TRUST_LIST_FILE: join(dataDir, 'trust-list.json'),
    GATEWAY_PORT: '0',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `${keyPrefix}-${process.pid}:`,
    // Budgets in cost units that no run exhausts (a batch of 50 costs 250), still spent on every request.
    RATE_LIMIT_WINDOW_SECONDS: '86400',
    RATE_LIMIT_CLIENT: '1000000000',
    RATE_LIMIT_PROVINCE: '1000000000',
    ...subgraphUrls(subgraphs),
  };
}

export async function stopAll(services: Iterable<Service>): Promise<void> {
  await Promise.all(
    [...services].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
          s.child.once('exit', () => resolve());
          s.child.kill('SIGTERM');
          setTimeout(() => s.child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}
