import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAssertionSigner, ASSERTION_LIFETIME_SECONDS, type GatewayAssertion } from '../../common/gateway-assertion.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { stripSecurityFeatures } from '../../common/scopes/security-policy.js';
import { DEFAULT_SUPERGRAPH_FILE } from '../../gateway/config.js';

/** The scopes the comparison configurations (b)–(d) are asserted to have: what configuration (a)'s token and matter allow. */
export const BENCH_SCOPES = ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read', 'certificate:verify'];

/**
 * Assertions for the configurations that are not this gateway (vanilla
 * @apollo/gateway, Hive Gateway, direct subgraph calls). The subgraphs
 * refuse any request without a gateway assertion, so these carry one per
 * subgraph, signed with the gateway's key and re-signed when half its
 * lifetime has passed: the subgraphs do exactly the work they do for (a),
 * and the cost to the comparison gateway is one map lookup per fetch.
 */
export async function benchAssertions(dataDir: string): Promise<(audience: string) => string> {
  const sign = createAssertionSigner(await loadGatewaySigningKey(dataDir));
  const cache = new Map<string, { value: string; renewAt: number }>();
  const claims: GatewayAssertion = {
    caller: { subject: 'bench', organisation: 'bench', province: '540000', issuer: 'bench', tokenId: 'bench' },
    scopes: BENCH_SCOPES,
    matter: 'TB-HJ-004',
    caseNumber: null,
    requestId: 'bench-comparison',
  };
  // The signer is synchronous underneath; keep the cache warm so lookups never wait.
  const renew = async (audience: string) => {
    const value = await sign(audience, claims);
    cache.set(audience, { value, renewAt: Date.now() + (ASSERTION_LIFETIME_SECONDS * 1000) / 2 });
    return value;
  };
  const audiences = ['household', 'social-insurance', 'provident-fund', 'credit', 'licences', 'audit'];
  await Promise.all(audiences.map(renew));
  const timer = setInterval(() => void Promise.all(audiences.map(renew)), (ASSERTION_LIFETIME_SECONDS * 1000) / 4);
  timer.unref();
  return (audience: string) => {
    const hit = cache.get(audience);
    if (!hit) throw new Error(`no bench assertion for ${audience}`);
    return hit.value;
  };
}

/**
 * The supergraph the comparison gateways are given: the committed one with
 * the security features removed (neither enforces this project's scopes)
 * and each subgraph's URL replaced by where the bench started it.
 */
export function writeBenchSupergraph(dataDir: string, urls: Record<string, string>): string {
  let sdl = stripSecurityFeatures(readFileSync(DEFAULT_SUPERGRAPH_FILE, 'utf8'));
  for (const [name, url] of Object.entries(urls)) {
    const pattern = new RegExp(`(join__graph\\(name: "${name}", url: ")[^"]*(")`);
    if (!pattern.test(sdl)) throw new Error(`subgraph ${name} is not in the supergraph`);
    sdl = sdl.replace(pattern, `$1${url}$2`);
  }
  const file = join(dataDir, 'bench-supergraph.graphql');
  writeFileSync(file, sdl);
  return file;
}
