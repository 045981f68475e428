import { describe, expect, it } from 'vitest';
import { UsageError } from '../../common/command-line.js';
import { normalizeAuthenticatorOptions } from '../../gateway/auth/authenticate.js';
import { PURPOSE_FREE_SCOPES } from '../../gateway/authorization/purpose-binding.js';
import { loadMatterCatalog } from '../../gateway/authorization/matter-catalog.js';
import { SCOPES } from '../../gateway/auth/caller.js';
import { ROLE_PRESETS, roleScopes } from '../../gateway/auth/role-presets.js';
import { parseTokenArguments, type TokenArgumentContext } from '../../gateway/auth/token-arguments.js';
import { loadGatewayConfig, tokenSettings } from '../../gateway/config.js';

const settings = tokenSettings({});
const context: TokenArgumentContext = { maxLifetimeSeconds: settings.maxTokenLifetimeSeconds, audience: settings.tokenAudience, dataDir: 'data' };
const parse = (...argv: string[]) => parseTokenArguments(argv, context);

function usageErrorOf(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('npm run token arguments', () => {
  describe("the gateway's token settings", () => {
    it('bound the lifetime by what the gateway authenticates with, not by a copy', () => {
      expect(loadGatewayConfig({}).maxTokenLifetimeSeconds).toBe(settings.maxTokenLifetimeSeconds);
      expect(normalizeAuthenticatorOptions({ trustListFile: 't.json', audience: 'a' }).maxLifetimeSeconds).toBe(settings.maxTokenLifetimeSeconds);
    });

    it('follow the gateway environment (trust list, matter catalog, audience)', () => {
      expect(tokenSettings({ TRUST_LIST_FILE: '/t.json', MATTER_CATALOG_FILE: '/m.json', TOKEN_AUDIENCE: 'aud' })).toMatchObject({
        trustListFile: '/t.json',
        matterCatalogFile: '/m.json',
        tokenAudience: 'aud',
      });
    });
  });

  describe('when given a role', () => {
    it('derives each preset from the scope vocabulary', () => {
      const dataReads = Object.keys(SCOPES).filter((s) => s.endsWith(':read') && s !== 'audit:read');
      // Each role may ask for its receipts' proofs (hashes only, no matter needed).
      expect(ROLE_PRESETS.approval.scopes).toEqual([...dataReads, 'audit:receipt']);
      expect(ROLE_PRESETS.notary.scopes).toEqual(['licence:read', 'certificate:verify', 'audit:receipt']);
      expect(ROLE_PRESETS.auditor.scopes).toEqual(['audit:read', 'audit:receipt']);
      expect(PURPOSE_FREE_SCOPES.has('audit:receipt')).toBe(true);
      // What the notary and the auditor do needs no matter.
      expect(PURPOSE_FREE_SCOPES.has('certificate:verify')).toBe(true);
      expect(PURPOSE_FREE_SCOPES.has('audit:read')).toBe(true);
    });

    it("gives an approval token bound to a matter exactly that matter's scopes", () => {
      const catalog = loadMatterCatalog(settings.matterCatalogFile, new Set(Object.keys(SCOPES)));
      expect(roleScopes('approval', catalog.get('TB-HJ-004'))).toEqual(ROLE_PRESETS.approval.scopes);
      expect(roleScopes('approval', catalog.get('TB-SB-005'))).toEqual([
        'household:read',
        'social-insurance:read',
        'certificate:issue',
        'audit:receipt',
      ]);
      expect(roleScopes('approval', catalog.get('TB-HJ-002'))).toEqual(['household:read', 'audit:receipt', 'pii:unmasked']);
    });

    it('reads --role, --province and --matter, with the longest lifetime the gateway accepts by default', () => {
      expect(parse('--role', 'approval', '--province', '540000', '--matter', 'TB-HJ-004')).toEqual({
        issuer: undefined,
        province: '540000',
        role: 'approval',
        matter: 'TB-HJ-004',
        scopes: undefined,
        matters: undefined,
        subject: undefined,
        org: undefined,
        ttl: settings.maxTokenLifetimeSeconds,
        audience: 'kuasheng-gateway',
        dataDir: 'data',
      });
    });

    it('keeps the existing flags working', () => {
      expect(
        parse(
          '--issuer',
          'hunan',
          '--province',
          '430000',
          '--scope',
          'household:read credit:read',
          '--matters',
          'TB-HJ-001,TB-HJ-004',
          '--ttl',
          '600',
        ),
      ).toMatchObject({ issuer: 'hunan', scopes: ['household:read', 'credit:read'], matters: ['TB-HJ-001', 'TB-HJ-004'], ttl: 600 });
      expect(parse('-h')).toBe('help');
    });

    it.each([
      [['--role', 'clerk', '--province', '540000'], '--role must be one of approval, notary, auditor'],
      [['--role', 'approval', '--scope', 'credit:read', '--province', '540000'], '--role and --scope'],
      [['--province', '540000'], '--role (approval, notary, auditor) or --scope is required'],
      [['--role', 'notary', '--province', '110000', '--matter', 'TB-ZZ-001'], '--matter binds an approval token'],
      [['--role', 'approval', '--province', '540000', '--matter', 'TB-HJ-004', '--matters', 'TB-HJ-001'], '--matter and --matters'],
      [['--role', 'auditor'], '--province must be a 6-digit'],
      [['--role', 'auditor', '--province', '110000', '--no-such-option'], "Unknown option '--no-such-option'"],
    ])('refuses %j', (argv, message) => {
      expect(usageErrorOf(() => parse(...argv)).message).toContain(message);
    });
  });

  describe('when asked for a lifetime', () => {
    it('refuses one longer than the gateway accepts, saying the gateway would answer LIFETIME_TOO_LONG', () => {
      const message = usageErrorOf(() => parse('--role', 'auditor', '--province', '110000', '--ttl', '7200')).message;
      expect(message).toContain(`at most ${settings.maxTokenLifetimeSeconds} s`);
      expect(message).toContain('LIFETIME_TOO_LONG');
    });

    it.each(['0', '-5', '1.5', 'an hour'])('refuses --ttl %s', (ttl) => {
      expect(usageErrorOf(() => parse('--role', 'auditor', '--province', '110000', `--ttl=${ttl}`)).message).toContain('--ttl');
    });

    it('takes exactly the longest lifetime', () => {
      expect(parse('--role', 'auditor', '--province', '110000', '--ttl', String(settings.maxTokenLifetimeSeconds))).toMatchObject({
        ttl: settings.maxTokenLifetimeSeconds,
      });
    });
  });

  describe('when asked to get the token from an identity provider (--via-idp)', () => {
    it('takes a demo system, with its registered scopes unless --scope narrows them', () => {
      expect(parse('--via-idp', '--client', 'lasa-talent-office-01')).toMatchObject({
        viaIdp: { clientId: 'lasa-talent-office-01', provider: 'xizang' },
        province: '540000',
        scopes: ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read', 'audit:receipt'],
      });
      expect(parse('--via-idp', '--client', 'hn-approval-system', '--scope', 'credit:read')).toMatchObject({ scopes: ['credit:read'] });
    });

    it.each([
      [['--via-idp'], '--client'],
      [['--via-idp', '--client', 'nobody'], '--client'],
      [['--via-idp', '--client', 'hn-approval-system', '--role', 'approval'], '--role'],
      [['--via-idp', '--client', 'hn-approval-system', '--province', '430000'], '--province'],
      [['--via-idp', '--client', 'hn-approval-system', '--scope', 'nothing:read'], 'nothing:read'],
      [['--client', 'hn-approval-system', '--role', 'approval', '--province', '430000'], '--via-idp'],
    ])('refuses %j, naming %s', (argv, named) => {
      expect(usageErrorOf(() => parse(...argv)).message).toContain(named);
    });
  });
});
