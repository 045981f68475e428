import { fork } from 'node:child_process';
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

/** Starts a service's process, waits until it is ready, sends it SIGINT and SIGTERM at once (Ctrl-C under npm start), and reports how it ended. */
async function stopTwice(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
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
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: string }) => m.ready && resolve());
    void exited.then(() => reject(new Error(`exited before it was ready: ${output}`)));
  });
  child.kill('SIGINT');
  child.kill('SIGTERM');
  return { code: await exited, output };
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
