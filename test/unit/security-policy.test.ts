import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { describe, expect, it } from 'vitest';
import { SUPERGRAPH_FILE } from '../../scripts/compose-supergraph.js';
import { andRequirements, extractSecurityPolicy, satisfies, stripSecurityFeatures } from '../../common/scopes/security-policy.js';

const supergraph = readFileSync(SUPERGRAPH_FILE, 'utf8');

async function gatewayAccepts(sdl: string): Promise<void> {
  const gateway = new ApolloGateway({ supergraphSdl: sdl, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  try {
    await gateway.load();
  } finally {
    await gateway.stop();
  }
}

describe('the committed supergraph', () => {
  it('declares field scopes that the policy reads, by coordinate', () => {
    const policy = extractSecurityPolicy(supergraph);
    expect(policy.fieldScopes.get('Person.credit')).toEqual([['credit:read']]);
    expect(policy.fieldScopes.get('Person.socialInsurance')).toEqual([['social-insurance:read']]);
    expect(policy.typeScopes.get('CreditRecord')).toEqual([['credit:read']]);
    expect(policy.fieldScopes.get('Query.person')).toHaveLength(5);
    expect(policy.authenticated.has('Query.organisation')).toBe(true);
  });

  it('is refused by @apollo/gateway as composed (the known obstacle)…', async () => {
    await expect(gatewayAccepts(supergraph)).rejects.toThrow(/SECURITY/);
  });

  it('…and accepted once its security features are stripped, with nothing else lost', async () => {
    const stripped = stripSecurityFeatures(supergraph);
    expect(stripped).not.toMatch(/requiresScopes|@authenticated|specs\.apollo\.dev\/authenticated/);
    await gatewayAccepts(stripped);
    expect(stripped).toContain('credit: CreditProfile');
  });

  it('refuses @policy, which this gateway does not enforce, rather than ignoring it', () => {
    const withPolicy = supergraph.replace('type CreditRecord', 'type CreditRecord @policy(policies: [["x"]])');
    expect(() => extractSecurityPolicy(withPolicy)).toThrow(/@policy/);
  });

  it('refuses a security feature linked under another name', () => {
    const renamed = supergraph.replace(
      '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
      '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", as: "scopes", for: SECURITY)',
    );
    expect(() => extractSecurityPolicy(renamed)).toThrow(/another name/);
  });
});

describe('scope requirements', () => {
  it('satisfies OR of ANDs', () => {
    expect(satisfies([['a', 'b'], ['c']], new Set(['c']))).toBe(true);
    expect(satisfies([['a', 'b'], ['c']], new Set(['a']))).toBe(false);
    expect(satisfies([['a', 'b'], ['c']], new Set(['a', 'b']))).toBe(true);
  });

  it('combines two requirements that must both hold', () => {
    expect(andRequirements([['a'], ['b']], [['c']])).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
  });
});
