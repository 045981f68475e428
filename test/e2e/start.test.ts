import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICES, SUBGRAPHS } from '../../subgraphs/catalog.js';
import { subgraphPortVariable } from '../../subgraphs/config.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { postGraphQL } from '../support/federation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function startScript(env: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  child.stderr.on('data', (chunk) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe('npm start', () => {
  it('seeds empty databases, starts five subgraphs and the gateway, serves the example query and stops cleanly on Ctrl-C', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-'));
    folders.push(dataDir);
    const env: NodeJS.ProcessEnv = { DATA_DIR: dataDir, SEED_PERSONS: '200', GATEWAY_PORT: String(await freePort()) };
    // Every service on a free port, the audit subgraph too: a default port may be taken by anything else running.
    for (const s of SERVICES) env[subgraphPortVariable(s.name)] = String(await freePort());
    const run = startScript(env);
    try {
      // The last line printed: the output may arrive in several chunks, and the example comes after 'Ctrl-C stops it'.
      await waitFor(() => run.output().includes('the profile of'), 90_000);
      const output = run.output();
      expect(output).toContain(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`);
      for (const s of SUBGRAPHS) expect(output).toContain(s.name);

      // The example printed is the one a newcomer will paste: it must work.
      const example = /-d '(.+)'$/m.exec(output);
      expect(example).not.toBeNull();
      const { query, variables } = JSON.parse(example![1]);
      const token = /-H 'authorization: Bearer ([\w.-]+)'/.exec(output);
      const matter = /-H 'x-matter-code: ([\w-]+)'/.exec(output);
      expect(token).not.toBeNull();
      const { status, body } = await postGraphQL(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`, query, variables, {
        authorization: `Bearer ${token![1]}`,
        'x-matter-code': matter![1],
      });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.person.name).toBe(DEMO_PERSONS[0].name);
      // Without the token, the same query is refused: deny by default.
      const anonymous = await postGraphQL(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`, query, variables);
      expect(anonymous.status).toBe(401);

      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/health`)).rejects.toThrow();
    } finally {
      // When an assertion failed the federation still runs: Ctrl-C lets the script stop its children,
      // which SIGKILL alone would leave behind holding their ports.
      if (run.child.exitCode === null) {
        run.child.kill('SIGINT');
        await Promise.race([run.exited, new Promise((r) => setTimeout(r, 10_000))]);
        run.child.kill('SIGKILL');
      }
    }
  });

  it('restarts a service that exits unexpectedly while the others go on serving, and stops the federation when one will not stay up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-'));
    folders.push(dataDir);
    const env: NodeJS.ProcessEnv = {
      DATA_DIR: dataDir,
      SEED_PERSONS: '200',
      GATEWAY_PORT: String(await freePort()),
      RESTART_BACKOFF_MS: '100',
      RESTART_LIMIT: '2',
    };
    for (const s of SERVICES) env[subgraphPortVariable(s.name)] = String(await freePort());
    const gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;
    const run = startScript(env);
    const pidOf = (name: string) => Number(new RegExp(`^\\s+${name}\\s+http\\S+\\s+\\(pid (\\d+)\\)`, 'm').exec(run.output())![1]);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await waitFor(() => run.output().includes('the profile of'), 90_000);
      const { query, variables } = JSON.parse(/-d '(.+)'$/m.exec(run.output())![1]);
      const headers = {
        authorization: `Bearer ${/-H 'authorization: Bearer ([\w.-]+)'/.exec(run.output())![1]}`,
        'x-matter-code': /-H 'x-matter-code: ([\w-]+)'/.exec(run.output())![1],
      };
      const pids = Object.fromEntries(['gateway', ...SERVICES.map((s) => s.name)].map((name) => [name, pidOf(name)]));

      // A subgraph crashes: the gateway goes on (the dossier is partial meanwhile), the subgraph comes back on its port.
      process.kill(pids.household, 'SIGKILL');
      await waitFor(() => run.output().includes('household exited unexpectedly (SIGKILL); restarting it'), 10_000);
      expect((await fetch(gatewayUrl.replace('/graphql', '/health'))).status).toBe(200);
      await waitFor(() => run.output().includes('household is back at'), 30_000);
      const afterSubgraph = await postGraphQL(gatewayUrl, query, variables, headers);
      expect(afterSubgraph.status).toBe(200);
      expect(afterSubgraph.body.errors).toBeUndefined();
      expect(afterSubgraph.body.data!.person.name).toBe(DEMO_PERSONS[0].name);

      // The gateway crashes: it comes back on its port, and the subgraphs were never stopped.
      process.kill(pids.gateway, 'SIGKILL');
      await waitFor(() => run.output().includes('gateway is back at'), 30_000);
      const afterGateway = await postGraphQL(gatewayUrl, query, variables, headers);
      expect(afterGateway.status).toBe(200);
      expect(afterGateway.body.data!.person.name).toBe(DEMO_PERSONS[0].name);
      for (const s of SERVICES.filter((s) => s.name !== 'household')) expect(alive(pids[s.name])).toBe(true);

      // A subgraph that cannot start any more (its database is gone): two restarts, then every service is stopped, exit 1.
      rmSync(join(dataDir, 'household.db'));
      const restarted = Number(/household is back at \S+ \(pid (\d+)\)/.exec(run.output())![1]);
      process.kill(restarted, 'SIGKILL');
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(/did not stay up after 2 restarts in a row: stopping the federation/);
      for (const s of SERVICES.filter((s) => s.name !== 'household')) expect(alive(pids[s.name])).toBe(false);
      await expect(fetch(gatewayUrl.replace('/graphql', '/health'))).rejects.toThrow();
    } finally {
      if (run.child.exitCode === null) {
        run.child.kill('SIGINT');
        await Promise.race([run.exited, new Promise((r) => setTimeout(r, 10_000))]);
        run.child.kill('SIGKILL');
      }
    }
  });

  it('stops at once with a message naming a bad variable', async () => {
    const run = startScript({ GATEWAY_PORT: 'eighty', DATA_DIR: join(tmpdir(), 'kuasheng-never-created') });
    expect(await run.exited).not.toBe(0);
    expect(run.output()).toMatch(/GATEWAY_PORT/);
  });
});
