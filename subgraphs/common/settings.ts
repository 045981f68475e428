/**
 * Reading settings from environment variables, shared by the gateway and the
 * subgraphs: each reader checks its value and throws a `ConfigError` naming
 * the variable, so a bad setting stops start-up with a clear message.
 */

/** A setting is invalid; the message names the variable. */
export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** An integer setting within bounds. */
export function integerSetting(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(variable, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** SHUTDOWN_GRACE_MS (gateway and subgraphs alike), default 10 s: how long a stopping process lets requests in flight finish. */
export function shutdownGraceSetting(env: NodeJS.ProcessEnv): number {
  return integerSetting(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000);
}

/** An absolute http(s) URL setting. */
export function urlSetting(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `must use http or https, got ${url.protocol}`);
  }
  return url.toString();
}

/** LOG_LEVEL: one of pino's levels. */
export function logLevelSetting(env: NodeJS.ProcessEnv): string {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  return level;
}
