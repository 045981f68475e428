import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTAGE_LOG_INTERVAL_MS } from '../../common/outage-log.js';
import { DEFAULT_HTTP_TIMEOUTS } from '../../common/settings.js';
import { normalizeRateLimitOptions } from '../../gateway/access/rate-limit-options.js';
import { normalizeAuditRetentionOptions } from '../../gateway/audit/retention.js';
import { DEFAULT_COMMIT_DELAY_MS } from '../../gateway/audit/writer.js';
import { normalizeAuthenticatorOptions } from '../../gateway/auth/authenticate.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { loadSubgraphConfig } from '../../subgraphs/config.js';
import { loadWitnessConfig } from '../../common/witness/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** The Configuration table of docs/reference.md: each variable's documented default, as written. */
function documentedDefaults(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## Errors'));
  const defaults = new Map<string, string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const [, variables, fallback] = line.split('|').map((cell) => cell.trim());
    for (const match of variables.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) defaults.set(match[1], fallback.replaceAll('`', ''));
  }
  return defaults;
}

/** The variables of the Configuration table of docs/reference.md. */
function documentedVariables(): string[] {
  const readme = readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## Errors'));
  const variables = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const match of line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) variables.add(match[1]);
  }
  return [...variables];
}

describe('settings', () => {
  const files = ['common', 'gateway', 'subgraphs'].flatMap(sourceFiles).map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

  it('are each read from the environment in one place (one default, one bound)', () => {
    const variables = documentedVariables();
    expect(variables.length).toBeGreaterThan(25);
    const readTwice: string[] = [];
    for (const variable of variables) {
      const readers = files
        .filter(({ text }) => new RegExp(`env\\.${variable}\\b|env\\['${variable}'\\]|\\(env, '${variable}'`).test(text))
        .map(({ file }) => file);
      if (readers.length > 1) readTwice.push(`${variable}: ${readers.join(', ')}`);
    }
    expect(readTwice).toEqual([]);
  });

  it('are read only by the settings and configuration modules and the command lines', () => {
    const readers = files.filter(({ text }) => /\benv\.[A-Z][A-Z0-9_]+|\(env, '[A-Z]/.test(text)).map(({ file }) => file);
    expect(readers.length).toBeGreaterThan(2);
    expect(readers.filter((file) => !/(^|\/)(settings|config|cli-arguments|verify-cli-arguments|retention)\.ts$/.test(file))).toEqual([]);
  });

  it('have one default: the README, the configurations and the modules that take the options agree', () => {
    const gateway = loadGatewayConfig({});
    const subgraph = loadSubgraphConfig('credit', {});
    const integers: Record<string, number> = {
      GATEWAY_PORT: gateway.port,
      SUBGRAPH_TIMEOUT_MS: gateway.subgraphTimeoutMs,
      MAX_REQUEST_BYTES: gateway.maxRequestBytes,
      HTTP_HEADERS_TIMEOUT_MS: gateway.httpTimeouts.headersTimeoutMs,
      HTTP_REQUEST_TIMEOUT_MS: gateway.httpTimeouts.requestTimeoutMs,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: gateway.httpTimeouts.keepAliveTimeoutMs,
      SHUTDOWN_GRACE_MS: gateway.shutdownGraceMs,
      CLOCK_TOLERANCE_SECONDS: gateway.clockToleranceSeconds,
      JWKS_CACHE_MAX_AGE_MS: gateway.jwks.cacheMaxAgeMs,
      JWKS_COOLDOWN_MS: gateway.jwks.cooldownMs,
      JWKS_TIMEOUT_MS: gateway.jwks.timeoutMs,
      JWKS_MAX_STALE_MS: gateway.jwks.maxStaleMs,
      RATE_LIMIT_CLIENT: gateway.rateLimitClient,
      RATE_LIMIT_PROVINCE: gateway.rateLimitProvince,
      RATE_LIMIT_WINDOW_SECONDS: gateway.rateLimitWindowSeconds,
      AUDIT_RETENTION_DAYS: gateway.auditRetention.retentionDays!,
      AUDIT_COMMIT_DELAY_MS: gateway.auditCommitDelayMs,
      WITNESS_PORT: loadWitnessConfig({}).port,
      LOG_OUTAGE_INTERVAL_MS: gateway.outageLogIntervalMs,
    };
    const documented = documentedDefaults();
    for (const [variable, value] of Object.entries(integers)) expect(`${variable}=${documented.get(variable)}`).toBe(`${variable}=${value}`);
    // The subgraphs read the shared settings alike.
    expect(subgraph.httpTimeouts).toEqual(gateway.httpTimeouts);
    expect(subgraph.shutdownGraceMs).toBe(gateway.shutdownGraceMs);
    expect(subgraph.dataDir).toBe(gateway.dataDir);
    // A module given no option does what its setting's default says.
    const authenticatorDefaults = normalizeAuthenticatorOptions({ trustListFile: 't.json', audience: 'a' });
    expect(authenticatorDefaults.clockToleranceSeconds).toBe(gateway.clockToleranceSeconds);
    expect({
      cacheMaxAgeMs: authenticatorDefaults.jwksCacheMaxAgeMs,
      cooldownMs: authenticatorDefaults.jwksCooldownMs,
      timeoutMs: authenticatorDefaults.jwksTimeoutMs,
      maxStaleMs: authenticatorDefaults.jwksMaxStaleMs,
    }).toEqual(gateway.jwks);
    expect(normalizeRateLimitOptions()).toEqual({
      perClient: { limit: gateway.rateLimitClient, windowSeconds: gateway.rateLimitWindowSeconds },
      perProvince: { limit: gateway.rateLimitProvince, windowSeconds: gateway.rateLimitWindowSeconds },
    });
    expect(normalizeAuditRetentionOptions().retentionDays).toBe(gateway.auditRetention.retentionDays);
    expect(DEFAULT_COMMIT_DELAY_MS).toBe(gateway.auditCommitDelayMs);
    expect(DEFAULT_OUTAGE_LOG_INTERVAL_MS).toBe(gateway.outageLogIntervalMs);
    expect(DEFAULT_HTTP_TIMEOUTS).toEqual(gateway.httpTimeouts);
  });
});
