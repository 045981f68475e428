/**
 * The supervisor of `npm start`: runs each service as a child process,
 * restarts one that exits unexpectedly (with back-off, and a line saying
 * so) while the others go on serving, and stops them all cleanly.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ServiceSpec {
  name: string;
  /** Module to run, relative to `root`. */
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Settings that pin the service to the address it first bound (its port), so that a restart is found where it was. */
  pin?: (url: string) => NodeJS.ProcessEnv;
  /** The services this one sends requests to: `stopAll` stops it before them, so that its requests in flight still reach them. */
  calls?: readonly string[];
}

export interface SupervisorOptions {
  /** The project root: the children's working directory. */
  root: string;
  /** Where the supervisor's lines go. */
  say: (line: string) => void;
  /** Delay before the first restart, doubled for each restart in a row (at most 30 s). Default 1000 ms. */
  backoffMs?: number;
  /** Restarts in a row (without the service staying up for `stableMs`) before giving up on the federation. Default 5. */
  maxRestarts?: number;
  /** A service up this long has recovered: its next exit starts the back-off afresh. Default 60 s. */
  stableMs?: number;
  /** A service that does not report ready within this long has failed to start. Default 60 s. */
  readyTimeoutMs?: number;
  /** Called once when a service cannot be kept running: the supervisor has stopped every service. */
  onGiveUp?: (name: string) => void;
  /** How long `stopAll` waits for a service to exit after SIGTERM before it kills it (SIGKILL). Default 5 s; give its shutdown grace and some. */
  killAfterMs?: number;
}

interface Supervised {
  spec: ServiceSpec;
  child: ChildProcess | null;
  url: string | null;
  /** Restarts since the service was last stable. */
  restarts: number;
  upSince: number;
  retry: NodeJS.Timeout | null;
}

const MAX_BACKOFF_MS = 30_000;

export interface Supervisor {
  /** Starts a service and resolves with the URL it reported ready; rejects when it exits (or times out) before that. */
  start(spec: ServiceSpec): Promise<{ name: string; url: string; pid: number }>;
  /** The pid of a service's current process (null while it is down). */
  pid(name: string): number | null;
  /**
   * Stops every service (SIGTERM, SIGKILL after `killAfterMs`) and cancels
   * pending restarts: a service after those that call it. Idempotent.
   */
  stopAll(): Promise<void>;
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const backoffMs = options.backoffMs ?? 1_000;
  const maxRestarts = options.maxRestarts ?? 5;
  const stableMs = options.stableMs ?? 60_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const killAfterMs = options.killAfterMs ?? 5_000;
  const services = new Map<string, Supervised>();
  let stopping = false;
  let stoppedAll: Promise<void> | null = null;

  /** Forks the service's process; resolves with its URL once it reports ready, rejects when it exits or times out first. */
  function launch(service: Supervised): Promise<string> {
    return new Promise((resolve, reject) => {
      const { spec } = service;
      const child = fork(`${options.root}${spec.entry}`, spec.args, {
        cwd: options.root,
        env: spec.env,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      service.child = child;
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error(`${spec.name} did not become ready within ${readyTimeoutMs / 1000} s`));
        child.kill('SIGKILL');
      }, readyTimeoutMs);
      child.on('message', (message: { ready?: string }) => {
        if (!message.ready || ready) return;
        ready = true;
        clearTimeout(timer);
        service.url = message.ready;
        service.upSince = Date.now();
        if (spec.pin) spec.env = { ...spec.env, ...spec.pin(message.ready) };
        resolve(message.ready);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (service.child === child) service.child = null;
        if (!ready) reject(new Error(`${spec.name} exited before it was ready (${signal ?? `code ${code}`})`));
        else if (!stopping) exitedUnexpectedly(service, signal ?? `code ${code}`);
      });
    });
  }

  function exitedUnexpectedly(service: Supervised, how: string): void {
    if (Date.now() - service.upSince >= stableMs) service.restarts = 0;
    // Ctrl-C reaches the children too, and one may exit before the supervisor has heard it: decide a moment later.
    setTimeout(() => scheduleRestart(service, `${service.spec.name} exited unexpectedly (${how})`), 100);
  }

  function scheduleRestart(service: Supervised, why: string): void {
    if (stopping) return;
    if (service.restarts >= maxRestarts) {
      options.say(`supervisor: ${why}; it did not stay up after ${maxRestarts} restarts in a row: stopping the federation.`);
      void stopAll().then(() => options.onGiveUp?.(service.spec.name));
      return;
    }
    service.restarts++;
    const delay = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (service.restarts - 1));
    options.say(
      `supervisor: ${why}; restarting it in ${delay} ms (restart ${service.restarts} of at most ${maxRestarts} in a row). The other services go on.`,
    );
    service.retry = setTimeout(() => {
      service.retry = null;
      if (stopping) return;
      launch(service).then(
        (url) => options.say(`supervisor: ${service.spec.name} is back at ${url} (pid ${service.child?.pid}).`),
        (error: Error) => scheduleRestart(service, error.message),
      );
    }, delay);
  }

  /** SIGTERM, and SIGKILL if it has not exited after `killAfterMs`; resolves once it has exited. */
  function terminate(service: Supervised): Promise<void> {
    return new Promise<void>((resolve) => {
      if (service.retry) clearTimeout(service.retry);
      const child = service.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  function stopAll(): Promise<void> {
    stopping = true;
    stoppedAll ??= (async () => {
      const stops = new Map<string, Promise<void>>();
      const stop = (service: Supervised, path: ReadonlySet<string>): Promise<void> => {
        const name = service.spec.name;
        let stopped = stops.get(name);
        if (stopped) return stopped;
        // Its callers first (a cycle of calls is broken where it closes).
        const callers = [...services.values()].filter((s) => s.spec.calls?.includes(name) && !path.has(s.spec.name));
        const within = new Set([...path, name]);
        stopped = Promise.all(callers.map((caller) => stop(caller, within))).then(() => terminate(service));
        stops.set(name, stopped);
        return stopped;
      };
      await Promise.all([...services.values()].map((service) => stop(service, new Set())));
    })();
    return stoppedAll;
  }

  return {
    async start(spec) {
      if (services.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
      const service: Supervised = { spec: { ...spec }, child: null, url: null, restarts: 0, upSince: 0, retry: null };
      services.set(spec.name, service);
      const url = await launch(service);
      return { name: spec.name, url, pid: service.child!.pid! };
    },
    pid: (name) => services.get(name)?.child?.pid ?? null,
    stopAll,
  };
}
