import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore, type AuditStore } from '../../common/audit/store.js';
import type { RunningGateway } from '../../gateway/server.js';
import { auditRecordsWhere } from '../support/audit-records.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

/**
 * The query IDE: GraphiQL served by the gateway itself to browsers, with
 * introspection on only; its page, files and Content-Security-Policy over
 * HTTP, and — where Chromium is installed (/usr/bin/chromium) — the page
 * rendered in a headless browser running a query with the token set in its
 * headers editor.
 */

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const require = createRequire(import.meta.url);
const packageFile = (name: string, file: string) => readFileSync(join(dirname(require.resolve(`${name}/package.json`)), file));

let dataDir: string;
let federation: TestFederation;
let closed: RunningGateway;
let store: AuditStore;

beforeAll(async () => {
  dataDir = await seedTemporaryData(50);
  federation = await startTestFederation({ dataDir });
  closed = await federation.startGateway({ GATEWAY_INTROSPECTION: 'off' });
  store = await openAuditStore({ dataDir });
});

afterAll(async () => {
  await store?.close();
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

const open = (url: string, accept = BROWSER_ACCEPT) => fetch(url, { headers: { accept } });
const origin = () => new URL(federation.gatewayUrl).origin;

describe('the query IDE (GraphiQL)', () => {
  describe('with introspection on (the default outside production)', () => {
    it('serves a page to a browser at GET /graphql, under a strict Content-Security-Policy, without inline script', async () => {
      const response = await open(federation.gatewayUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const policy = response.headers.get('content-security-policy')!;
      const directives = Object.fromEntries(
        policy
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives['default-src']).toEqual(["'none'"]);
      expect(directives['script-src']).toEqual(["'self'"]);
      expect(directives['style-src']).toEqual(["'self'"]);
      expect(directives['connect-src']).toEqual(["'self'"]);
      expect(directives['frame-ancestors']).toEqual(["'none'"]);
      expect(policy).not.toMatch(/unsafe-|https?:|\*/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await response.text();
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThanOrEqual(4);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/\bsrc="graphiql\/[a-z-]+\.js"/);
        expect(body.trim()).toBe('');
      }
      expect(html).not.toMatch(/\son[a-z]+=|javascript:|https?:\/\//i);
    });

    it('serves its files from the npm packages under the gateway’s own origin, and the start script of its own', async () => {
      const html = await (await open(federation.gatewayUrl)).text();
      const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], federation.gatewayUrl));
      expect(links.map((url) => url.origin)).toEqual(links.map(() => origin()));
      const files = new Map<string, Response>();
      for (const url of links) files.set(url.pathname, await fetch(url));
      for (const [path, response] of files) {
        expect(response.status, path).toBe(200);
        expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(response.headers.get('content-type'), path).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      }
      const bytes = async (path: string) => Buffer.from(await files.get(path)!.arrayBuffer());
      expect((await bytes('/graphiql/graphiql.js')).equals(packageFile('graphiql', 'graphiql.min.js'))).toBe(true);
      expect((await bytes('/graphiql/graphiql.css')).equals(packageFile('graphiql', 'graphiql.min.css'))).toBe(true);
      expect((await bytes('/graphiql/react.js')).equals(packageFile('react', 'umd/react.production.min.js'))).toBe(true);
      expect((await bytes('/graphiql/react-dom.js')).equals(packageFile('react-dom', 'umd/react-dom.production.min.js'))).toBe(true);
      const start = (await bytes('/graphiql/start.js')).toString('utf8');
      expect(start).toMatch(/x-matter-code/);
      expect(start).toMatch(/authorization/);
    });

    it('answers a client that takes anything (*/*) with GraphQL, not the page, and audits no page or file', async () => {
      const before = (await auditRecordsWhere(store, () => true)).length;
      await (await open(federation.gatewayUrl)).text();
      await (await fetch(new URL('/graphiql/graphiql.css', federation.gatewayUrl))).text();
      expect((await auditRecordsWhere(store, () => true)).length).toBe(before);
      const client = await open(`${federation.gatewayUrl}?query=%7B__typename%7D`, '*/*');
      expect(client.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await client.json()) as any).errors[0].extensions.code).toBe('CSRF_PREVENTED');
    });
  });

  describe('with introspection off', () => {
    it('serves neither the page nor its files', async () => {
      const page = await open(closed.url);
      expect(page.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await page.json()) as any).errors[0].extensions.code).toBe('CSRF_PREVENTED');
      const file = await fetch(new URL('/graphiql/graphiql.js', closed.url));
      expect(file.status).toBe(404);
      expect(((await file.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
    });
  });

  // In CI (.ci/run installs Chromium) it never skips: a missing browser fails it.
  describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('in headless Chromium', () => {
    it('renders, and runs a query with the bearer token and matter set in its headers editor; no CSP violation, nothing from another origin', async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
      try {
        const page = await browser.newPage();
        const violations: string[] = [];
        const foreign: string[] = [];
        const failures: string[] = [];
        page.on('console', (message) => {
          if (message.text().startsWith('CSP violation')) violations.push(message.text());
        });
        page.on('pageerror', (error) => failures.push(error.message));
        page.on('request', (request) => {
          const url = request.url();
          if (!url.startsWith('data:') && new URL(url).origin !== origin()) foreign.push(url);
        });
        await page.addInitScript(() =>
          document.addEventListener('securitypolicyviolation', (e) => console.log(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)),
        );
        await page.goto(federation.gatewayUrl);
        await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
        const editors = () =>
          page.evaluate(() => [...document.querySelectorAll('.CodeMirror')].map((e) => (e as any).CodeMirror.getValue() as string));
        // The headers editor comes pre-filled with a template of the two headers.
        expect((await editors()).some((text) => text.includes('"authorization"') && text.includes('"x-matter-code"'))).toBe(true);
        const headers = JSON.stringify(federation.defaultHeaders);
        await page.evaluate((text) => {
          const editor = [...document.querySelectorAll('.CodeMirror')].find((e) => (e as any).CodeMirror.getValue().includes('x-matter-code'));
          (editor as any).CodeMirror.setValue(text);
        }, headers);
        await page.click('.graphiql-execute-button');
        await page.waitForFunction(() => document.querySelector('.result-window')?.textContent?.includes('周志强'), null, { timeout: 30_000 });
        expect(violations).toEqual([]);
        expect(foreign).toEqual([]);
        expect(failures).toEqual([]);
      } finally {
        await browser.close();
      }
    });
  });
});
