import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from './interruption.js';

const RUNNER = fileURLToPath(new URL('./load-runner.ts', import.meta.url));

export interface LoadOptions {
  url: string;
  /** Request bodies, taken in turn. */
  bodies: string[];
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Responses received. */
  total: number;
}

/**
 * Runs a load-generating script in its own process (so the load does not
 * share an event loop with what it measures): its input goes in a JSON
 * file, its result comes back as JSON on its standard output.
 */
export function runLoadProcess(script: string, options: unknown): Promise<LoadResult> {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-load-'));
  const input = join(folder, 'input.json');
  writeFileSync(input, JSON.stringify(options));
  return new Promise<LoadResult>((resolve, reject) => {
    const child = trackChild(spawn(process.execPath, ['--import', 'tsx', script, input], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${err}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  }).finally(() => rmSync(folder, { recursive: true, force: true }));
}

/** autocannon against one URL, taking the bodies in turn (load-runner.ts). */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return runLoadProcess(RUNNER, options);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
