import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every npm script that runs a script of this repository (the others run vitest, tsc and Biome). */
const SCRIPTS = [
  'start',
  'seed',
  'compose',
  'token',
  'token:revoke',
  'idp',
  'idp:rotate',
  'keys:rotate-gateway',
  'bench',
  'bench:compare',
  'bench:integrity',
  'audit:verify',
  'audit:export',
  'witness',
  'certificate:verify',
  'seal-keys',
  'trusted-documents',
] as const;

const packageScripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The file an npm script runs: `tsx scripts/x.ts`. */
function entryOf(name: string): string {
  const match = /^tsx (scripts\/[\w-]+\.ts)$/.exec(packageScripts[name]);
  if (!match) throw new Error(`npm script ${name} is not "tsx scripts/<file>.ts": ${packageScripts[name]}`);
  return match[1];
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A scratch folder for everything a script might touch: its DATA_DIR, its
 * TMPDIR (where bench makes its data folder) and nothing else. Settings that
 * would point a script at a real store are left out.
 */
function scratchEnvironment(scratch: string): NodeJS.ProcessEnv {
  const { REDIS_URL: _r, AUDIT_DATABASE_URL: _a, DATA_DIR: _d, TRUST_LIST_FILE: _t, SEED_PERSONS: _s, ...inherited } = process.env;
  return { ...inherited, DATA_DIR: join(scratch, 'data'), TMPDIR: join(scratch, 'tmp'), LOG_LEVEL: 'warn' };
}

function run(entry: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A script that acts on --help instead of answering it may run for half an hour: it fails here, stopped.
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What the scratch folder holds, apart from tsx's compile cache (it lives in TMPDIR). */
function leftovers(scratch: string): string[] {
  const tmp = join(scratch, 'tmp');
  return [
    ...readdirSync(scratch).filter((entry) => entry !== 'tmp'),
    ...readdirSync(tmp)
      .filter((entry) => !entry.startsWith('tsx-'))
      .map((entry) => `tmp/${entry}`),
  ];
}

/** The state of the checkout's files a script could write: the supergraph, the default data folder, anything git sees. */
function checkoutState(): string {
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });
  const data = join(ROOT, 'data');
  const dataState = existsSync(data) ? readdirSync(data, { recursive: true }).map(String).sort().join(',') : 'none';
  return `${status}\nsupergraph ${statSync(join(ROOT, 'schema/supergraph.graphql')).mtimeMs}\ndata ${dataState}`;
}

const usageLine = (name: string) => new RegExp(`^usage: npm (run )?${name.replace(/[:-]/g, '\\$&')}\\b`);

describe('the npm scripts', () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let before: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'kuasheng-scripts-'));
    mkdirSync(join(scratch, 'tmp'));
    env = scratchEnvironment(scratch);
    before = checkoutState();
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('are all in the table below', () => {
    const runningScripts = Object.keys(packageScripts).filter((name) => !['test', 'typecheck', 'lint', 'format'].includes(name));
    expect(runningScripts.sort()).toEqual([...SCRIPTS].sort());
  });

  describe.each(SCRIPTS)('npm run %s', (name) => {
    it.each(['--help', '-h'])('answers %s with its usage on stdout, exit 0, and does nothing else', async (flag) => {
      const result = await run(entryOf(name), [flag], env);
      expect(result.stderr).toBe('');
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      expect(result.stdout).toMatch(usageLine(name));
      expect(leftovers(scratch)).toEqual([]);
      expect(checkoutState()).toBe(before);
    });

    it('refuses an unknown option with exit 2 and its usage on stderr, and does nothing else', async () => {
      const result = await run(entryOf(name), ['--no-such-option'], env);
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 2, signal: null });
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('--no-such-option');
      expect(result.stderr).toMatch(new RegExp(usageLine(name).source.slice(1), 'm'));
      expect(leftovers(scratch)).toEqual([]);
      expect(checkoutState()).toBe(before);
    });
  });
});

describe('npm run bench, interrupted', () => {
  it('stops on SIGINT while seeding and removes its temporary data folder', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'kuasheng-bench-test-'));
    mkdirSync(join(scratch, 'tmp'));
    try {
      const env = scratchEnvironment(scratch);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', entryOf('bench'), '--persons', '3000', '--rounds', '1', '--duration', '1', '--warmup', '1', '--no-micro'],
        { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      );
      // Its data folder is made in TMPDIR, i.e. in the scratch folder.
      const dataFolders = () => readdirSync(join(scratch, 'tmp')).filter((entry) => entry.startsWith('kuasheng-bench-'));
      const deadline = Date.now() + 60_000;
      while (!(stdout.includes('Seeding') && dataFolders().length > 0) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(dataFolders(), stdout + stderr).toHaveLength(1);
      const folder = join(scratch, 'tmp', dataFolders()[0]);

      child.kill('SIGINT');
      const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
      if (outcome === 'hung') child.kill('SIGKILL');
      expect(outcome).toEqual({ code: 130, signal: null });
      expect(existsSync(folder)).toBe(false);
      expect(leftovers(scratch)).toEqual([]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
