import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normalizeCorsOptions, normalizeOrigin } from '../../gateway/plugins/cors.js';
import { AMBIENT_HEADERS, isSimpleRequest, normalizeCsrfPreventionOptions, useCsrfPrevention } from '../../gateway/plugins/csrf-prevention.js';
import { createPipeline } from '../../gateway/pipeline/pipeline.js';
import { quietLogger } from '../support/federation.js';

const request = (method: string, headers: Record<string, string> = {}) => ({ method, headers }) as unknown as IncomingMessage;

describe('the CORS plugin’s options', () => {
  it.each([
    ['https://portal.example.gov.cn', 'https://portal.example.gov.cn'],
    ['https://Portal.Example.gov.cn:443/', 'https://portal.example.gov.cn'],
    ['http://localhost:5173', 'http://localhost:5173'],
  ])('takes %s as the origin %s', (value, origin) => {
    expect(normalizeOrigin(value)).toBe(origin);
  });

  it.each([
    '*',
    'https://*.example.gov.cn',
    'null',
    'portal.example.gov.cn',
    'https://portal.example.gov.cn/app',
    'https://u:p@portal.example.gov.cn',
    'ftp://x.example',
    'https://x.example?',
  ])('refuses %s (origins are exact)', (value) => {
    expect(() => normalizeOrigin(value)).toThrow(TypeError);
  });

  it('fills the defaults and refuses bad ones at start-up', () => {
    const normalized = normalizeCorsOptions({ origins: ['https://a.example'] });
    expect(normalized.allowedHeaders).toBe(
      'authorization, content-type, x-matter-code, x-case-number, x-request-id, apollo-require-preflight, x-apollo-operation-name',
    );
    expect(normalized.maxAgeSeconds).toBe(600);
    expect(() => normalizeCorsOptions({ maxAgeSeconds: -1 })).toThrow(/maxAgeSeconds/);
    expect(() => normalizeCorsOptions({ allowedHeaders: ['bad header'] })).toThrow(/allowedHeaders/);
  });
});

describe('the CSRF-prevention plugin', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['GET', {}, true],
    ['HEAD', {}, true],
    ['POST', {}, true],
    ['POST', { 'content-type': 'text/plain;charset=UTF-8' }, true],
    ['POST', { 'content-type': 'Multipart/Form-Data; boundary=x' }, true],
    ['POST', { 'content-type': 'application/x-www-form-urlencoded' }, true],
    ['POST', { 'content-type': 'application/json' }, false],
    ['POST', { 'content-type': 'application/graphql-response+json' }, false],
    ['PUT', {}, false],
    ['OPTIONS', {}, false],
  ])('takes %s %j for a simple request: %s', (method, headers, simple) => {
    expect(isSimpleRequest(request(method, headers))).toBe(simple);
  });

  it('matches ambient headers exactly or by prefix, and refuses a bad list at start-up', () => {
    const { isAmbient } = normalizeCsrfPreventionOptions();
    expect(AMBIENT_HEADERS).toContain('accept');
    expect(['sec-fetch-mode', 'x-forwarded-for', 'proxy-authorization', 'user-agent'].every(isAmbient)).toBe(true);
    expect(['x-matter-code', 'apollo-require-preflight', 'authorization'].some(isAmbient)).toBe(false);
    expect(normalizeCsrfPreventionOptions({ ambientHeaders: [...AMBIENT_HEADERS, 'x-edge-*'] }).isAmbient('x-edge-region')).toBe(true);
    expect(() => normalizeCsrfPreventionOptions({ ambientHeaders: ['not a header'] })).toThrow(TypeError);
  });

  it('refuses a simple request that only a proxy’s own header would let through, once that header is named', async () => {
    const ids = { requestId: 'r', correlationId: null };
    const forged = request('GET', { host: 'x', 'x-edge-region': 'north' });
    const admit = (plugin: ReturnType<typeof useCsrfPrevention>) => {
      const pipeline = createPipeline([plugin], { logger: quietLogger() });
      return pipeline.admit(forged, pipeline.begin(ids));
    };
    expect(await admit(useCsrfPrevention())).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await admit(useCsrfPrevention({ ambientHeaders: [...AMBIENT_HEADERS, 'x-edge-region'] }))).toMatchObject({
      code: 'CSRF_PREVENTED',
      status: 400,
    });
  });
});
