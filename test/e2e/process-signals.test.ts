import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../common/services.js';
import { subgraphUrlVariable } from '../../gateway/config.js';
import { subgraphPortVariable } from '../../subgraphs/config.js';
import { removeData, seedTemporaryData } from '../support/federation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dataDir: string;
beforeAll(async () => {
  dataDir = await seedTemporaryData(50);
});
afterAll(() => {
  if (dataDir) removeData(dataDir);
});

interface ServiceRun {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Forks a service's process as `npm start` does (with an IPC channel) and waits until it reports ready. */
async function forkService(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<ServiceRun> {
  const child = fork(join(ROOT, entry), args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      if (signal) output += `(killed by ${signal})`;
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { ready?: string }) => m.ready && resolve(m.ready));
    void exited.then(() => reject(new Error(`exited before it was ready: ${output}`)));
  });
  return { child, url, output: () => output, exited };
}

/** Starts a service, sends it SIGINT and SIGTERM at once (Ctrl-C under npm start), and reports how it ended. */
async function stopTwice(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const run = await forkService(entry, args, env);
  run.child.kill('SIGINT');
  run.child.kill('SIGTERM');
  return { code: await run.exited, output: run.output() };
}

describe('a service that Ctrl-C reaches twice (SIGINT from the terminal, SIGTERM from the supervisor)', () => {
  it('the gateway stops once, cleanly (exit 0)', async () => {
    const env: NodeJS.ProcessEnv = { GATEWAY_PORT: '0', GATEWAY_REPLICA_ID: 'gateway-signals', TRUST_LIST_FILE: join(dataDir, 'trust-list.json') };
    for (const s of SERVICES) env[subgraphUrlVariable(s.name)] = 'http://127.0.0.1:9/';
    const { code, output } = await stopTwice('gateway/main.ts', [], env);
    expect(output).not.toMatch(/Error/);
    expect(code, output).toBe(0);
  });

  it('a subgraph stops once, cleanly (exit 0)', async () => {
    const { code, output } = await stopTwice('subgraphs/main.ts', ['credit'], { [subgraphPortVariable('credit')]: '0' });
    expect(output).not.toMatch(/Error/);
    expect(code, output).toBe(0);
  });
});

describe('a service under a supervisor (forked with an IPC channel)', () => {
  it('leaves SIGINT to the supervisor: it goes on serving until the SIGTERM that stops it in order (exit 0)', async () => {
    // The terminal's SIGINT reaches every process at once; a subgraph that stopped on it would cut the gateway's requests in flight.
    const run = await forkService('subgraphs/main.ts', ['credit'], { [subgraphPortVariable('credit')]: '0' });
    try {
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await fetch(new URL('/health', run.url))).status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
      expect(run.output()).not.toMatch(/Error/);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  });

  it('stops when its supervisor is gone (the IPC channel closes), rather than run on holding its port', async () => {
    const run = await forkService('subgraphs/main.ts', ['credit'], { [subgraphPortVariable('credit')]: '0' });
    try {
      run.child.disconnect();
      expect(await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]), run.output()).toBe(0);
      await expect(fetch(new URL('/health', run.url))).rejects.toThrow();
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  });
});
