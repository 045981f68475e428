import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, SUBGRAPHS, databaseFileOf } from '../../subgraphs/catalog.js';
import { subgraphPortVariable } from '../../subgraphs/config.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { createIssuedDocumentStore } from '../../subgraphs/shared/issued-documents.js';
import { DEMO_PERSONS, seedDatabases } from '../../scripts/seed/index.js';
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

interface StartRun {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs `node --import tsx scripts/start.ts`; with `group`, `tsx scripts/start.ts`
 * (what `npm start` runs) as the leader of its own process group, which a
 * terminal's Ctrl-C reaches as a whole: tsx, the supervisor and every service.
 */
function startScript(env: NodeJS.ProcessEnv, options: { group?: boolean } = {}): StartRun {
  const command: [string, string[]] = options.group
    ? [join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/start.ts']]
    : [process.execPath, ['--import', 'tsx', 'scripts/start.ts']];
  const child = spawn(command[0], command[1], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    detached: options.group ?? false,
  });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  child.stderr.on('data', (chunk) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** Every pid `npm start` printed for its services. */
function servicePids(output: string): number[] {
  return [...output.matchAll(/^\s+\S+\s+http\S+\s+\(pid (\d+)\)/gm)].map((match) => Number(match[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a run the test left running (an assertion failed): Ctrl-C first, which lets the script stop its children, then SIGKILL. */
async function stopLeftover(run: StartRun, group: boolean): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  const target = group ? -run.child.pid! : run.child.pid!;
  process.kill(target, 'SIGINT');
  await Promise.race([run.exited, new Promise((r) => setTimeout(r, 15_000))]);
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Lines of a stack trace or an error: a clean stop prints none. */
const ERROR_LINES = /Error|^\s+at /m;

/**
 * Keeps `loops` requests in flight to the gateway, one after another each,
 * until `stop`: then resolves with every answer received (status, and
 * whether the body had errors) and whether one came after `mark` was called.
 */
function keepBusy(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>, loops = 6) {
  const answers: { status: number; errors: boolean; at: number }[] = [];
  let running = true;
  let markedAt = Number.POSITIVE_INFINITY;
  const loop = async () => {
    while (running) {
      try {
        const { status, body } = await postGraphQL(url, query, variables, headers);
        answers.push({ status, errors: body.errors !== undefined, at: Date.now() });
      } catch {
        return; // the gateway no longer takes connections
      }
    }
  };
  const all = Promise.all(Array.from({ length: loops }, loop));
  return {
    mark: () => {
      markedAt = Date.now();
    },
    async stop() {
      running = false;
      await all;
      return { answers, answeredAfterMark: answers.filter((a) => a.at > markedAt).length };
    },
  };
}

/**
 * The printed dossier asked for every demo person at once: several plan steps
 * across the five domains, long enough that some are still to come when the
 * stop begins (a subgraph stopped too early fails them).
 */
function batchOf(example: { query: string; variables: Record<string, unknown> }) {
  const query = example.query.replace(
    'query Dossier($id: ID!) { person(idNumber: $id) {',
    'query Dossiers($ids: [ID!]!) { persons(idNumbers: $ids) {',
  );
  expect(query).not.toBe(example.query);
  return { query, variables: { ids: DEMO_PERSONS.map((p) => p.idNumber) } };
}

/** The example query and headers `npm start` printed. */
function printedExample(output: string) {
  const { query, variables } = JSON.parse(/-d '(.+)'$/m.exec(output)![1]);
  const headers = {
    authorization: `Bearer ${/-H 'authorization: Bearer ([\w.-]+)'/.exec(output)![1]}`,
    'x-matter-code': /-H 'x-matter-code: ([\w-]+)'/.exec(output)![1],
  };
  return { query, variables, headers };
}

async function freshEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    SEED_PERSONS: '200',
    GATEWAY_PORT: String(await freePort()),
    WITNESS_PORT: String(await freePort()),
    IDP_PORT_HUNAN: String(await freePort()),
    IDP_PORT_XIZANG: String(await freePort()),
    IDP_PORT_NATIONAL: String(await freePort()),
    // Budgets out of the way: requests are kept in flight as fast as the machine answers them, and budgets are not what is tested here.
    RATE_LIMIT_CLIENT: '100000',
    RATE_LIMIT_PROVINCE: '100000',
    ...extra,
  };
  for (const s of SERVICES) env[subgraphPortVariable(s.name)] = String(await freePort());
  return env;
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
  it('seeds empty databases, starts five subgraphs and the gateway, serves the example query, and stops every process cleanly on Ctrl-C with requests in flight', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-'));
    folders.push(dataDir);
    // At the default log level: a clean stop logs no error and no stack trace, not even as a warning.
    const env = await freshEnv(dataDir, { LOG_LEVEL: 'info' });
    // Every service on a free port, the audit subgraph too: a default port may be taken by anything else running.
    const run = startScript(env, { group: true });
    try {
      // The last line printed: the output may arrive in several chunks, and the example comes after 'Ctrl-C stops it'.
      await waitFor(() => run.output().includes('the profile of'), 90_000);
      const output = run.output();
      expect(output).toContain(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`);
      expect(output).toContain('(it holds no database yet)');
      for (const s of SUBGRAPHS) expect(output).toContain(s.name);
      // The demo audit witness, on its port, with the gateway's key set and its own key in the data folder.
      expect(output).toMatch(new RegExp(`^\\s+witness\\s+http://127\\.0\\.0\\.1:${env.WITNESS_PORT}\\s`, 'm'));
      const witnessAnswer = await fetch(`http://127.0.0.1:${env.WITNESS_PORT}/checkpoints`);
      expect(witnessAnswer.status).toBe(200);
      expect(statSync(join(dataDir, 'witness', 'witness.key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dataDir, 'witness', 'witness.vkey'), 'utf8')).toMatch(/^witness\.hunan\.kuasheng\.gov\.cn\+[0-9a-f]{8}\+/);
      // The three demo identity providers, each on its port with its discovery document.
      for (const name of ['hunan', 'xizang', 'national']) {
        const issuer = `http://127.0.0.1:${env[`IDP_PORT_${name.toUpperCase()}`]}`;
        expect(output).toMatch(new RegExp(`^\\s+idp-${name}\\s+${issuer.replaceAll('.', '\\.')}\\s`, 'm'));
        const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
        expect(discovery.issuer).toBe(issuer);
      }

      // The example printed is the one a newcomer will paste: it must work.
      const { query, variables, headers } = printedExample(output);
      const gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;
      const { status, body } = await postGraphQL(gatewayUrl, query, variables, headers);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.person.name).toBe(DEMO_PERSONS[0].name);
      // Without the token, the same query is refused: deny by default.
      const anonymous = await postGraphQL(gatewayUrl, query, variables);
      expect(anonymous.status).toBe(401);

      // Ctrl-C as a terminal sends it: SIGINT to every process of the group at once, while requests are in flight.
      const pids = servicePids(output);
      expect(pids).toHaveLength(SERVICES.length + 5); // the subgraphs, the demo witness, the three demo identity providers and the gateway
      const batch = batchOf({ query, variables });
      const busy = keepBusy(gatewayUrl, batch.query, batch.variables, headers);
      await new Promise((r) => setTimeout(r, 500));
      busy.mark();
      process.kill(-run.child.pid!, 'SIGINT');
      expect(await run.exited).toBe(0);
      const { answers, answeredAfterMark } = await busy.stop();
      // The requests in flight were answered in full: the subgraphs they called were stopped only after the gateway.
      expect(answeredAfterMark).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status !== 200 || a.errors)).toEqual([]);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      expect(alive(-run.child.pid!), 'a process of the group').toBe(false);
      expect(run.output()).not.toMatch(ERROR_LINES);
      await expect(fetch(`http://127.0.0.1:${env.GATEWAY_PORT}/health`)).rejects.toThrow();
    } finally {
      await stopLeftover(run, true);
    }
  }, 120_000);

  it('stops every process cleanly on SIGTERM (a service manager) with requests in flight, and starts again on the same data without seeding', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-'));
    folders.push(dataDir);
    const env = await freshEnv(dataDir, { LOG_LEVEL: 'info' });
    for (const round of ['first', 'second']) {
      const run = startScript(env);
      try {
        await waitFor(() => run.output().includes('the profile of'), 90_000);
        if (round === 'second') expect(run.output()).not.toContain('Seeding');
        const { query, variables, headers } = printedExample(run.output());
        const pids = servicePids(run.output());
        expect(pids).toHaveLength(SERVICES.length + 5); // the subgraphs, the demo witness, the three demo identity providers and the gateway
        const batch = batchOf({ query, variables });
        const busy = keepBusy(`http://127.0.0.1:${env.GATEWAY_PORT}/graphql`, batch.query, batch.variables, headers);
        await new Promise((r) => setTimeout(r, 500));
        busy.mark();
        run.child.kill('SIGTERM');
        expect(await run.exited).toBe(0);
        const { answers, answeredAfterMark } = await busy.stop();
        expect(answeredAfterMark).toBeGreaterThan(0);
        expect(answers.filter((a) => a.status !== 200 || a.errors)).toEqual([]);
        for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
        expect(run.output()).not.toMatch(ERROR_LINES);
      } finally {
        await stopLeftover(run, false);
      }
    }
  }, 180_000);

  it('restarts a service that exits unexpectedly while the others go on serving, and stops the federation when one will not stay up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-'));
    folders.push(dataDir);
    const env = await freshEnv(dataDir, { RESTART_BACKOFF_MS: '100', RESTART_LIMIT: '2' });
    const gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;
    const run = startScript(env);
    const pidOf = (name: string) => Number(new RegExp(`^\\s+${name}\\s+http\\S+\\s+\\(pid (\\d+)\\)`, 'm').exec(run.output())![1]);
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

describe('npm start on a data folder that holds stored state', () => {
  let template: string;

  beforeAll(async () => {
    template = mkdtempSync(join(tmpdir(), 'kuasheng-start-state-'));
    folders.push(template);
    await seedDatabases({ dataDir: template, persons: 40 });
    // A certificate issued and revoked: what a silent re-seed used to lose (and the revoked one would verify VALID again).
    const db = openDatabase(databaseFileOf(template, 'social-insurance'));
    const store = createIssuedDocumentStore(db);
    store.record({
      serial: 'SB-540100-2026-0000BB01',
      type: 'SOCIAL_INSURANCE_PARTICIPATION',
      authority_id: '540100-social-insurance',
      authority_province: '540000',
      holder_key: DEMO_PERSONS[0].idNumber,
      issued_at: '2026-12-01T08:00:00.000Z',
      valid_until: '2027-03-01T08:00:00.000Z',
      token: 'sealed-SB-540100-2026-0000BB01',
    });
    store.revoke('SB-540100-2026-0000BB01', 'issued in error', '2026-12-02T08:00:00.000Z');
    db.close();
  });

  /** A copy of the template, damaged by `damage`; the content and mtime of each domain database afterwards. */
  function damagedCopy(damage: (dataDir: string) => void): { dataDir: string; files: Record<string, { sha256: string; mtimeMs: number } | null> } {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-start-state-'));
    folders.push(dataDir);
    cpSync(template, dataDir, { recursive: true });
    damage(dataDir);
    return { dataDir, files: databaseFiles(dataDir) };
  }

  function databaseFiles(dataDir: string): Record<string, { sha256: string; mtimeMs: number } | null> {
    return Object.fromEntries(
      SUBGRAPHS.map((s) => {
        const file = databaseFileOf(dataDir, s.name);
        try {
          return [s.name, { sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), mtimeMs: statSync(file).mtimeMs }];
        } catch {
          return [s.name, null];
        }
      }),
    );
  }

  /**
   * Starts npm start on the folder, which must refuse at once: exit 1, the file named, no stack trace, nothing seeded or changed.
   * (Given 30 s, within the test's timeout: one that starts the federation instead is stopped by the `finally`.)
   */
  async function expectRefusal(dataDir: string, before: ReturnType<typeof databaseFiles>, file: string, reason: RegExp): Promise<string> {
    const run = startScript(await freshEnv(dataDir));
    try {
      expect(await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))])).toBe(1);
      const output = run.output();
      expect(output).toContain(file);
      expect(output).toMatch(reason);
      expect(output).toMatch(/npm run seed -- --force|backup/);
      expect(output).not.toContain('Seeding');
      expect(output).not.toMatch(/^\s+at /m);
      expect(databaseFiles(dataDir)).toEqual(before);
      const documents = new Database(databaseFileOf(dataDir, 'social-insurance'), { readonly: true });
      try {
        expect(documents.prepare("SELECT status FROM issued_documents WHERE serial = 'SB-540100-2026-0000BB01'").pluck().get()).toBe('REVOKED');
      } finally {
        documents.close();
      }
      return output;
    } finally {
      await stopLeftover(run, false);
    }
  }

  it('refuses a household database truncated to 0 bytes, naming it, and leaves the other databases as they were', async () => {
    const { dataDir, files } = damagedCopy((d) => truncateSync(databaseFileOf(d, 'household'), 0));
    await expectRefusal(dataDir, files, databaseFileOf(dataDir, 'household'), /empty \(0 bytes\)/);
  });

  it('refuses a database missing while the others are there', async () => {
    const { dataDir, files } = damagedCopy((d) => rmSync(databaseFileOf(d, 'credit')));
    await expectRefusal(dataDir, files, databaseFileOf(dataDir, 'credit'), /is missing, while/);
  });

  it('refuses a corrupt database: another kind of file, or damaged pages', async () => {
    const { dataDir, files } = damagedCopy((d) => {
      writeFileSync(databaseFileOf(d, 'provident-fund'), 'PK\u0003\u0004 a zip archive, perhaps'.repeat(200));
      const licences = readFileSync(databaseFileOf(d, 'licences'));
      for (let i = 16_384; i < licences.length; i += 7) licences[i] = (licences[i] + 101) % 256;
      writeFileSync(databaseFileOf(d, 'licences'), licences);
    });
    const output = await expectRefusal(dataDir, files, databaseFileOf(dataDir, 'provident-fund'), /not a SQLite database/);
    expect(output).toContain(databaseFileOf(dataDir, 'licences'));
    expect(output).toMatch(/licences\.db (is damaged|cannot be read)/);
  });

  it('refuses a database of a newer schema version, naming the file and both versions', async () => {
    const { dataDir, files } = damagedCopy((d) => {
      const db = new Database(databaseFileOf(d, 'credit'));
      db.pragma('user_version = 42');
      db.close();
    });
    await expectRefusal(dataDir, files, databaseFileOf(dataDir, 'credit'), /schema version 42, newer than version 1/);
  });
});
