import type { ChildProcess } from 'node:child_process';

/**
 * Ctrl-C (SIGINT) or SIGTERM during `npm run bench` or `bench:compare`:
 * every child process the run started (services, load generators) is
 * stopped at once, none starts any more, and the run fails at its next step,
 * so that its own `finally` removes the temporary data folder and drops the
 * scratch database, as after any failure. A second signal does not wait:
 * it removes what `onForce` names and exits.
 *
 * Module state, not per run: signals and child processes belong to the
 * whole process, and a script runs one benchmark.
 */
const controller = new AbortController();
const children = new Set<ChildProcess>();

/** Aborted once the run is interrupted; its reason is a {@link BenchInterrupted}. */
export const interruption: AbortSignal = controller.signal;

/** The run was interrupted by a signal; `exitCode` is the shell's convention (128 + signal number). */
export class BenchInterrupted extends Error {
  readonly exitCode: number;

  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.name = 'BenchInterrupted';
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 5000).unref();
}

/** Installs the SIGINT and SIGTERM handlers; `onForce` runs on a second signal, just before the process exits. */
export function watchInterrupts(onForce: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        for (const child of children) child.kill('SIGKILL');
        onForce();
        process.exit((controller.signal.reason as BenchInterrupted).exitCode);
      }
      process.stderr.write(`\n${signal}: stopping the benchmark's processes and removing its data…\n`);
      controller.abort(new BenchInterrupted(signal));
      for (const child of children) stop(child);
    });
  }
}

/** Registers a child process to stop when the run is interrupted (at once, if it already was). */
export function trackChild<T extends ChildProcess>(child: T): T {
  if (controller.signal.aborted) {
    stop(child);
    return child;
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Throws the {@link BenchInterrupted} once the run is interrupted: call it between steps. */
export function throwIfInterrupted(): void {
  controller.signal.throwIfAborted();
}
