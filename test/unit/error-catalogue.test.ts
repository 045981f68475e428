import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERROR_CODES, ERRORS, INTERNAL_CODES } from '../../common/errors.js';
import { classifyOutcome } from '../../gateway/audit/outcome.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CODES = Object.keys(ERRORS).sort();

/** The codes in the first column of the reference's `## Errors` table (docs/reference.md). */
function readmeCodes(): string[] {
  const readme = readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Errors'));
  const table = section.slice(0, section.indexOf('\n## ', 1) > 0 ? section.indexOf('\n## ', 1) : undefined);
  const codes = new Set<string>();
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const match of line.split('|')[1].matchAll(/`([A-Z][A-Z_]+)`/g)) codes.add(match[1]);
  }
  return [...codes].sort();
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** Codes the services raise: in GraphQL error extensions, rejections and the HTTP layer's refusals. */
function raisedCodes(): Map<string, string> {
  const raised = new Map<string, string>();
  const patterns = [
    /extensions: \{ code: '([A-Z_]+)'/g,
    /\brejection\('([A-Z_]+)'/g,
    /\brefuse\('([A-Z_]+)'/g,
    /\bgatewayError\('([A-Z_]+)'/g,
    /\brequestError\(\d{3}, '([A-Z_]+)'/g,
    /\banswerError\(\d{3}, '([A-Z_]+)'/g,
  ];
  for (const file of ['common', 'gateway', 'subgraphs'].flatMap(sourceFiles)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const pattern of patterns) for (const match of text.matchAll(pattern)) raised.set(match[1], file);
  }
  return raised;
}

describe('the error catalogue', () => {
  it('lists the same codes as the README’s error table', () => {
    expect(readmeCodes()).toEqual(CODES);
  });

  it('holds every code the services raise (the scan finds them: it is not vacuous)', () => {
    const raised = raisedCodes();
    expect(raised.size).toBeGreaterThan(10);
    expect([...raised].filter(([code]) => !(code in ERRORS) && !INTERNAL_CODES.has(code)).map(([code, file]) => `${code} in ${file}`)).toEqual([]);
    // The internal ones never reach a client as they are.
    for (const code of INTERNAL_CODES) expect(CLIENT_ERROR_CODES.has(code)).toBe(false);
  });

  it('gives each code a status and a message; all but INTERNAL_SERVER_ERROR reach clients as they are', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(spec.status, code).toBeGreaterThanOrEqual(200);
      expect(spec.status, code).toBeLessThan(600);
      expect(spec.message.length, code).toBeGreaterThan(3);
    }
    expect([...CLIENT_ERROR_CODES].sort()).toEqual(CODES.filter((c) => c !== 'INTERNAL_SERVER_ERROR'));
  });

  describe('the audit outcome a code records', () => {
    it.each([
      [401, ['UNAUTHENTICATED'], false, 'DENIED'],
      [400, ['MATTER_REQUIRED'], false, 'DENIED'],
      [400, ['BAD_USER_INPUT'], false, 'FAILED'],
      [408, ['REQUEST_TIMEOUT'], false, 'FAILED'],
      [200, ['UNAUTHORIZED_FIELD_OR_TYPE'], true, 'PARTIAL'],
      [200, ['UNAUTHORIZED_FIELD_OR_TYPE'], false, 'DENIED'],
      [200, ['SUBGRAPH_UNAVAILABLE'], true, 'PARTIAL'],
      [200, ['BAD_USER_INPUT'], false, 'FAILED'],
      [200, [], true, 'ALLOWED'],
    ] as const)('%i with %j (disclosed: %s) is %s', (status, codes, disclosed, outcome) => {
      expect(classifyOutcome(status, new Set(codes), disclosed)).toBe(outcome);
    });
  });
});
