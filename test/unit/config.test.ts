import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig } from '../../gateway/config.js';
import { loadSubgraphConfig } from '../../subgraphs/config.js';

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway configuration', () => {
  it('fills documented defaults from an empty environment', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.subgraphUrls['social-insurance']).toBe('http://127.0.0.1:4002/');
    expect(config.subgraphTimeoutMs).toBe(10_000);
    expect(config.supergraphFile).toMatch(/schema\/supergraph\.graphql$/);
    expect(config.auditCommitDelayMs).toBe(5);
    expect(config.auditRetention.retentionDays).toBe(1095);
    expect(loadGatewayConfig({ AUDIT_COMMIT_DELAY_MS: '0' }).auditCommitDelayMs).toBe(0);
    expect(config.shutdownGraceMs).toBe(10_000);
    expect(loadGatewayConfig({ SHUTDOWN_GRACE_MS: '0' }).shutdownGraceMs).toBe(0);
    expect(config.httpTimeouts).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
    expect(loadGatewayConfig({ HTTP_REQUEST_TIMEOUT_MS: '30000' }).httpTimeouts.requestTimeoutMs).toBe(30_000);
    expect(config.corsOrigins).toEqual([]);
  });

  it('reads CORS_ORIGINS as exact origins, comma-separated, and refuses a wildcard or a path naming the variable', () => {
    expect(loadGatewayConfig({ CORS_ORIGINS: ' https://portal.example.gov.cn, http://localhost:5173/ ,' }).corsOrigins).toEqual([
      'https://portal.example.gov.cn',
      'http://localhost:5173',
    ]);
    for (const value of ['*', 'https://portal.example.gov.cn/app'])
      expect(configErrorOf(() => loadGatewayConfig({ CORS_ORIGINS: value })).variable).toBe('CORS_ORIGINS');
  });

  describe('when a value is bad', () => {
    it.each([
      ['GATEWAY_PORT', 'eighty'],
      ['GATEWAY_PORT', '70000'],
      ['SUBGRAPH_TIMEOUT_MS', '-5'],
      ['SUBGRAPH_URL_CREDIT', 'not a url'],
      ['SUBGRAPH_URL_HOUSEHOLD', 'ftp://127.0.0.1/'],
      ['LOG_LEVEL', 'loud'],
      ['RATE_LIMIT_CLIENT', '9999999'],
      ['AUTHORIZATION_MODE', 'lenient'],
      ['REDIS_URL', 'http://127.0.0.1:6379'],
      ['AUDIT_DATABASE_URL', 'mysql://127.0.0.1/audit'],
      ['AUDIT_MODE', 'sometimes'],
      ['AUDIT_COMMIT_DELAY_MS', '1001'],
      ['AUDIT_COMMIT_DELAY_MS', '0.5'],
      ['GATEWAY_REPLICA_ID', 'has spaces'],
      ['SHUTDOWN_GRACE_MS', '600001'],
      ['SHUTDOWN_GRACE_MS', 'soon'],
      ['HTTP_HEADERS_TIMEOUT_MS', '50'],
      ['AUDIT_RETENTION_DAYS', '30'],
      ['HTTP_REQUEST_TIMEOUT_MS', '4000'],
      ['HTTP_KEEP_ALIVE_TIMEOUT_MS', 'never'],
    ])('names %s in the error', (variable, value) => {
      expect(configErrorOf(() => loadGatewayConfig({ [variable]: value })).variable).toBe(variable);
    });
  });
});

describe('subgraph configuration', () => {
  it('uses the per-subgraph port variable', () => {
    expect(loadSubgraphConfig('provident-fund', { SUBGRAPH_PORT_PROVIDENT_FUND: '5003' }).port).toBe(5003);
    expect(loadSubgraphConfig('credit', {}).port).toBe(4004);
  });

  it('lets requests in flight finish for SHUTDOWN_GRACE_MS on stop, 10 s unless set', () => {
    expect(loadSubgraphConfig('credit', {}).shutdownGraceMs).toBe(10_000);
    expect(loadSubgraphConfig('credit', { SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs).toBe(2500);
    expect(configErrorOf(() => loadSubgraphConfig('credit', { SHUTDOWN_GRACE_MS: '-1' })).variable).toBe('SHUTDOWN_GRACE_MS');
  });

  it('reads the HTTP timeouts as the gateway does', () => {
    expect(loadSubgraphConfig('credit', {}).httpTimeouts).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
    expect(loadSubgraphConfig('credit', { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '3000' }).httpTimeouts).toMatchObject({
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
    });
    expect(configErrorOf(() => loadSubgraphConfig('credit', { HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' })).variable).toBe(
      'HTTP_REQUEST_TIMEOUT_MS',
    );
  });

  it('rejects an unknown subgraph name', () => {
    expect(() => loadSubgraphConfig('weather', {})).toThrow(ConfigError);
  });
});
