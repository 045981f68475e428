import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MATTER_CATALOG_FILE } from '../../gateway/config.js';
import { SCOPES } from '../../gateway/auth/caller.js';
import { loadMatterCatalog } from '../../gateway/authorization/matter-catalog.js';
import { bindPurpose, PurposeError, requireMatter } from '../../gateway/authorization/purpose-binding.js';

const known = new Set(Object.keys(SCOPES));
const catalog = loadMatterCatalog(DEFAULT_MATTER_CATALOG_FILE, known);
const folder = mkdtempSync(join(tmpdir(), 'kuasheng-matters-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof PurposeError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

describe('the matter catalog (config/matters.json)', () => {
  it('holds at least 15 matters of the national lists, each with a legal basis and known scopes', () => {
    const all = catalog.all();
    expect(all.length).toBeGreaterThanOrEqual(15);
    const names = all.map((m) => m.name);
    for (const name of [
      '户口迁移',
      '养老保险关系转移接续',
      '住房公积金异地转移接续',
      '异地就医登记备案',
      '职业资格证书核验',
      '企业开办',
      '营业执照变更登记',
      '失业保险金申领',
      '社会保障卡申领',
    ]) {
      expect(names).toContain(name);
    }
    for (const matter of all) {
      expect(matter.legalBasis.length).toBeGreaterThan(5);
      for (const scope of matter.scopes) expect(known.has(scope)).toBe(true);
    }
  });

  it.each([
    ['an unknown scope', { code: 'TB-XX-001', name: 'x', description: 'x', legalBasis: 'x', scopes: ['weather:read'] }, /unknown scope/],
    ['a malformed code', { code: 'bad code', name: 'x', description: 'x', legalBasis: 'x', scopes: ['credit:read'] }, /code/],
    ['no legal basis', { code: 'TB-XX-001', name: 'x', description: 'x', scopes: ['credit:read'] }, /legalBasis/],
  ])('refuses a catalog with %s, naming the entry', (_case, entry, message) => {
    const file = join(folder, 'matters.json');
    writeFileSync(file, JSON.stringify({ matters: [entry] }));
    expect(() => loadMatterCatalog(file, known)).toThrow(message);
  });
});

describe('bindPurpose', () => {
  const tokenScopes = new Set(['household:read', 'credit:read', 'social-insurance:read', 'certificate:verify', 'pii:unmasked']);

  it('intersects the token’s scopes with the matter’s (plus purpose-free scopes)', () => {
    const purpose = bindPurpose({ catalog, tokenScopes, matterCode: 'TB-SB-001', caseNumber: '（2026）藏人社转字第0012号' });
    expect([...purpose.effectiveScopes].sort()).toEqual(['certificate:verify', 'household:read', 'social-insurance:read']);
    expect(purpose.matter!.name).toBe('养老保险关系转移接续');
    expect(purpose.caseNumber).toBe('（2026）藏人社转字第0012号');
  });

  it('grants pii:unmasked only under a matter that needs full identifiers', () => {
    expect(bindPurpose({ catalog, tokenScopes, matterCode: 'TB-HJ-001', caseNumber: undefined }).effectiveScopes.has('pii:unmasked')).toBe(true);
    expect(bindPurpose({ catalog, tokenScopes, matterCode: 'TB-SB-001', caseNumber: undefined }).effectiveScopes.has('pii:unmasked')).toBe(false);
  });

  it('without a matter leaves only purpose-free scopes', () => {
    expect([...bindPurpose({ catalog, tokenScopes, matterCode: undefined, caseNumber: undefined }).effectiveScopes]).toEqual(['certificate:verify']);
  });

  it.each([
    ['MATTER_UNKNOWN', { matterCode: 'TB-ZZ-999' }],
    ['MATTER_NOT_ALLOWED', { matterCode: 'TB-GJJ-001', tokenScopes: new Set(['credit:read']) }],
    ['MATTER_NOT_ALLOWED', { matterCode: 'TB-SB-001', tokenMatters: ['TB-HJ-001'] }],
    ['CASE_NUMBER_INVALID', { matterCode: 'TB-SB-001', caseNumber: 'x'.repeat(65) }],
    ['CASE_NUMBER_INVALID', { matterCode: 'TB-SB-001', caseNumber: '<script>' }],
    ['CASE_NUMBER_INVALID', { matterCode: 'TB-SB-001', caseNumber: '湘社保〔2026〕430102199001011234号' }],
    ['CASE_NUMBER_INVALID', { matterCode: 'TB-SB-001', caseNumber: '藏人社引进2026-13812345678' }],
    ['CASE_NUMBER_INVALID', { matterCode: 'TB-SB-001', caseNumber: '湘市监〔2026〕91350100M000100Y43号' }],
  ])('refuses with %s', (code, overrides) => {
    const input = { catalog, tokenScopes, matterCode: undefined as string | undefined, caseNumber: undefined as string | undefined };
    expect(codeOf(() => bindPurpose({ ...input, ...overrides }))).toBe(code);
  });

  it('names the kind of identifier a refused case number holds, never the identifier', () => {
    const refusal = (caseNumber: string) => {
      try {
        bindPurpose({ catalog, tokenScopes, matterCode: 'TB-SB-001', caseNumber });
      } catch (error) {
        return (error as PurposeError).message;
      }
      return 'NO_ERROR';
    };
    expect(refusal('湘社保〔2026〕430102199001011234号')).toMatch(/citizen ID number/);
    expect(refusal('湘社保〔2026〕430102199001011234号')).not.toMatch(/4301/);
    expect(refusal('藏人社引进2026-13812345678')).toMatch(/mobile phone number/);
    expect(refusal('湘市监〔2026〕91350100M000100Y43号')).toMatch(/credit code/);
  });

  it('requires a matter once the operation asks for personal data, not for purpose-free work', () => {
    const none = bindPurpose({ catalog, tokenScopes, matterCode: undefined, caseNumber: undefined });
    expect(codeOf(() => requireMatter(none, [[['household:read']]]))).toBe('MATTER_REQUIRED');
    expect(codeOf(() => requireMatter(none, [[['certificate:verify']]]))).toBe('NO_ERROR');
    // Satisfiable by a purpose-free scope alone: no matter needed.
    expect(codeOf(() => requireMatter(none, [[['certificate:verify'], ['certificate:issue']]]))).toBe('NO_ERROR');
    expect(codeOf(() => requireMatter(none, []))).toBe('NO_ERROR');
  });
});
