import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_FILE } from '../../scripts/compose-supergraph.js';

describe('schema/supergraph.graphql', () => {
  it('is exactly what composing the subgraph SDLs produces now (run npm run compose when this fails)', () => {
    const result = composeSupergraph();
    expect(result.ok).toBe(true);
    if (result.ok) expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(result.supergraphSdl);
  });

  it('joins all five domain subgraphs', () => {
    const sdl = readFileSync(SUPERGRAPH_FILE, 'utf8');
    for (const graph of ['CREDIT', 'HOUSEHOLD', 'LICENCES', 'PROVIDENT_FUND', 'SOCIAL_INSURANCE']) {
      expect(sdl).toMatch(new RegExp(`^\\s+${graph} @join__graph`, 'm'));
    }
  });
});
