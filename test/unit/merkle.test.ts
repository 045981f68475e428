import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  leafHash,
  leafRangeHasher,
  prefixedRangeHasher,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../common/audit/merkle.js';

// The reference tree of RFC 6962's implementations (Certificate Transparency's test data): its leaves and its heads at sizes 1-8.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((hex) =>
  leafHash(Buffer.from(hex, 'hex')),
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const hex = (hashes: Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString('hex'));
const root = (size: number) => Buffer.from(ROOTS[size], 'hex');

describe('the Merkle tree (RFC 6962)', () => {
  it('has the reference heads at every size, computed whole and incrementally', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe(ROOTS[0]);
    const range = CompactRange.empty();
    expect(range.root().toString('hex')).toBe(ROOTS[0]);
    for (let size = 1; size <= 8; size++) {
      range.append(LEAVES[size - 1]);
      expect(treeHash(LEAVES.slice(0, size)).toString('hex'), `size ${size}`).toBe(ROOTS[size]);
      expect(range.root().toString('hex'), `size ${size}`).toBe(ROOTS[size]);
      expect(CompactRange.of(size, range.nodes()).root().toString('hex')).toBe(ROOTS[size]);
    }
  });

  it('gives the reference inclusion proofs', () => {
    const hashOf = leafRangeHasher(LEAVES);
    expect(hex(inclusionProof(0, 8, hashOf))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(inclusionProof(5, 8, hashOf))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(inclusionProof(2, 3, hashOf))).toEqual(['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']);
    expect(hex(inclusionProof(1, 5, hashOf))).toEqual([
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  it('gives the reference consistency proofs', () => {
    const hashOf = leafRangeHasher(LEAVES);
    expect(consistencyProof(1, 1, hashOf)).toEqual([]);
    expect(hex(consistencyProof(1, 8, hashOf))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(consistencyProof(6, 8, hashOf))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(consistencyProof(2, 5, hashOf))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
    expect(verifyConsistency(6, 8, root(6), root(8), consistencyProof(6, 8, hashOf))).toBe(true);
  });

  // Every shape of the recursion: all leaves of all sizes up to 40, all pairs of sizes.
  const many = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from([i, i * 7, 3])));
  const hashOfMany = leafRangeHasher(many);
  const roots = Array.from({ length: 41 }, (_, n) => treeHash(many.slice(0, n)));

  it('verifies every inclusion proof, and refuses a wrong leaf, index, size, root or proof', () => {
    for (let size = 1; size <= 40; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, size, hashOfMany);
        expect(verifyInclusion(many[index], index, size, proof, roots[size]), `${index} of ${size}`).toBe(true);
        expect(verifyInclusion(many[(index + 1) % 40], index, size, proof, roots[size])).toBe(false);
        if (size > 1) expect(verifyInclusion(many[index], (index + 1) % size, size, proof, roots[size])).toBe(false);
        if (size < 40) expect(verifyInclusion(many[index], index, size + 1, proof, roots[size + 1])).toBe(false);
        expect(verifyInclusion(many[index], index, size, proof, roots[size - 1])).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(many[index], index, size, proof.slice(1), roots[size])).toBe(false);
      }
    }
    expect(verifyInclusion(many[0], 1, 1, [], roots[1])).toBe(false);
  });

  it('verifies every consistency proof, and refuses one against another history', () => {
    const forged = [...many.slice(0, 17), leafHash(Buffer.from('forged')), ...many.slice(18)];
    const forgedRoots = Array.from({ length: 41 }, (_, n) => treeHash(forged.slice(0, n)));
    for (let oldSize = 1; oldSize <= 40; oldSize++) {
      for (let newSize = oldSize; newSize <= 40; newSize++) {
        const proof = consistencyProof(oldSize, newSize, hashOfMany);
        expect(verifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize], proof), `${oldSize} → ${newSize}`).toBe(true);
        if (oldSize < newSize) expect(verifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize - 1], proof)).toBe(false);
        // A history rewritten at leaf 17: the old head can no longer be shown consistent with the rewritten new one.
        if (oldSize > 17) {
          const rewritten = consistencyProof(oldSize, newSize, leafRangeHasher(forged));
          expect(verifyConsistency(oldSize, newSize, roots[oldSize], forgedRoots[newSize], rewritten)).toBe(false);
        }
      }
    }
    expect(verifyConsistency(0, 5, EMPTY_TREE_ROOT, roots[5], [])).toBe(true);
    expect(verifyConsistency(6, 5, roots[6], roots[5], [])).toBe(false);
  });

  it('builds proofs from a compact range and the leaves after it, as a writer that no longer holds old leaves does', () => {
    for (const prefixSize of [1, 5, 8, 13, 21]) {
      const prefix = CompactRange.fromLeaves(many.slice(0, prefixSize));
      const hashOf = prefixedRangeHasher(prefix, many.slice(prefixSize));
      for (let newSize = prefixSize; newSize <= 40; newSize++) {
        expect(hex(consistencyProof(prefixSize, newSize, hashOf))).toEqual(hex(consistencyProof(prefixSize, newSize, hashOfMany)));
        for (let index = prefixSize; index < newSize; index++) {
          expect(hex(inclusionProof(index, newSize, hashOf))).toEqual(hex(inclusionProof(index, newSize, hashOfMany)));
        }
      }
    }
    expect(() => inclusionProof(2, 8, prefixedRangeHasher(CompactRange.fromLeaves(many.slice(0, 5)), many.slice(5, 8)))).toThrow(/no longer held/);
  });

  it('refuses a compact range whose node count does not fit its size', () => {
    expect(() => CompactRange.of(6, [many[0]])).toThrow(/has 2 nodes/);
  });
});
