import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 6962 (section 2.1, as restated by RFC 9162): the
 * tree hash of a sequence of leaves, the incremental head a writer keeps
 * (a compact range), inclusion proofs ("leaf i is in the tree of size n with
 * this root") and consistency proofs ("the tree of size m is a prefix of the
 * tree of size n"), and their verification.
 *
 * Hashes are 32-byte SHA-256 values. Leaf hashes are domain-separated from
 * node hashes (0x00 and 0x01 prefixes), so no leaf can pass for a subtree.
 * Proof generation takes a `hashOf(lo, hi)` function — the tree hash of
 * leaves [lo, hi) — so that a proof can be built from whatever holds the
 * leaves: an array ({@link leafRangeHasher}), or a compact range and the
 * leaves after it (a writer that no longer holds the old leaves).
 */

export type Hash = Uint8Array;

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** The leaf hash of an audit record: its entry in the tree is its 32-byte record hash (hex in the store). */
export function recordLeafHash(recordHash: string): Buffer {
  return leafHash(Buffer.from(recordHash, 'hex'));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The tree hash of no leaves: SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT: Buffer = createHash('sha256').digest();

/** The largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`);
}

/** The tree hash of already hashed leaves, RFC 6962's MTH. */
export function treeHash(leaves: readonly Hash[], lo = 0, hi = leaves.length): Buffer {
  if (hi - lo === 0) return EMPTY_TREE_ROOT;
  if (hi - lo === 1) return Buffer.from(leaves[lo]);
  // Bottom-up, level by level: the same tree as MTH's recursion (each level pairs from the left, an odd last node moves up).
  let level: Uint8Array[] = leaves.slice(lo, hi);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return Buffer.from(level[0]);
}

/** `hashOf(lo, hi)` over an array of leaf hashes, where leaf `i` of the tree is `leaves[i - offset]`. */
export function leafRangeHasher(leaves: readonly Hash[], offset = 0): (lo: number, hi: number) => Buffer {
  return (lo, hi) => {
    if (lo < offset || hi - offset > leaves.length)
      throw new RangeError(`leaves ${lo}..${hi} are not held (held: ${offset}..${offset + leaves.length})`);
    return treeHash(leaves, lo - offset, hi - offset);
  };
}

/**
 * The head of a tree as its writer keeps it: the roots of the perfect
 * subtrees that make up leaves [0, size), largest first (one per set bit of
 * `size`). Appending is O(1) amortised; the root is O(log size).
 */
export class CompactRange {
  #size: number;
  #nodes: Buffer[];

  private constructor(size: number, nodes: Buffer[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** A range from its size and node hashes (as {@link nodes} gives them); throws when their count does not fit the size. */
  static of(size: number, nodes: readonly Hash[]): CompactRange {
    checkSize('size', size);
    if (nodes.length !== popCount(size)) throw new RangeError(`a compact range of ${size} leaves has ${popCount(size)} nodes, not ${nodes.length}`);
    for (const node of nodes) if (node.length !== HASH_SIZE) throw new RangeError('every node must be a 32-byte hash');
    return new CompactRange(
      size,
      nodes.map((node) => Buffer.from(node)),
    );
  }

  /** The range of the leaves given, in order. */
  static fromLeaves(leaves: Iterable<Hash>): CompactRange {
    const range = CompactRange.empty();
    for (const leaf of leaves) range.append(leaf);
    return range;
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree roots, largest (leftmost) first. */
  nodes(): Buffer[] {
    return this.#nodes.map((node) => Buffer.from(node));
  }

  /** Appends one leaf hash. */
  append(leaf: Hash): void {
    if (leaf.length !== HASH_SIZE) throw new RangeError('a leaf hash must be 32 bytes');
    let node: Buffer = Buffer.from(leaf);
    // The new leaf merges with the last subtree as long as the two have the same height: once per trailing 1 bit of the old size.
    for (let size = this.#size; size % 2 === 1; size = Math.floor(size / 2)) {
      node = nodeHash(this.#nodes.pop() as Buffer, node);
    }
    this.#nodes.push(node);
    this.#size++;
  }

  /** The tree hash of leaves [0, size). */
  root(): Buffer {
    if (this.#nodes.length === 0) return EMPTY_TREE_ROOT;
    let root = this.#nodes[this.#nodes.length - 1];
    for (let i = this.#nodes.length - 2; i >= 0; i--) root = nodeHash(this.#nodes[i], root);
    return Buffer.from(root);
  }

  /** The leaf ranges [lo, hi) the nodes cover, in the order of {@link nodes}. */
  spans(): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let lo = 0;
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(this.#size, 1))); bit >= 1; bit /= 2) {
      if (Math.floor(this.#size / bit) % 2 === 1) {
        spans.push([lo, lo + bit]);
        lo += bit;
      }
    }
    return spans;
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#nodes]);
  }
}

function popCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/**
 * `hashOf(lo, hi)` for a tree whose first leaves are known only by their
 * compact range `prefix`, the rest (from `prefix.size` on) by their hashes.
 * A range inside the prefix must be one of its subtrees or made of them;
 * RFC 6962's proofs only ask for such ranges when the leaf or the old size
 * is at or after the prefix.
 */
export function prefixedRangeHasher(prefix: CompactRange, leavesAfter: readonly Hash[]): (lo: number, hi: number) => Buffer {
  const spans = prefix.spans();
  const nodes = prefix.nodes();
  const after = leafRangeHasher(leavesAfter, prefix.size);
  const hashOf = (lo: number, hi: number): Buffer => {
    if (lo >= prefix.size) return after(lo, hi);
    const exact = spans.findIndex(([a, b]) => a === lo && b === hi);
    if (exact >= 0) return nodes[exact];
    if (hi - lo < 2) throw new RangeError(`leaf ${lo} is inside the compact range and no longer held`);
    const k = split(hi - lo);
    return nodeHash(hashOf(lo, lo + k), hashOf(lo + k, hi));
  };
  return hashOf;
}

/** RFC 6962's PATH(m, D[n]): the leaf ranges whose tree hashes prove leaf m, bottom first. */
function inclusionRanges(m: number, lo: number, hi: number, out: Array<[number, number]>): void {
  if (hi - lo <= 1) return;
  const k = split(hi - lo);
  if (m < lo + k) {
    inclusionRanges(m, lo, lo + k, out);
    out.push([lo + k, hi]);
  } else {
    inclusionRanges(m, lo + k, hi, out);
    out.push([lo, lo + k]);
  }
}

/** The inclusion proof of leaf `index` in the tree of `size` leaves (bottom first, as RFC 6962 orders it). */
export function inclusionProof(index: number, size: number, hashOf: (lo: number, hi: number) => Buffer): Buffer[] {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  const ranges: Array<[number, number]> = [];
  inclusionRanges(index, 0, size, ranges);
  return ranges.map(([lo, hi]) => hashOf(lo, hi));
}

/** RFC 6962's SUBPROOF(m, D[n], b), over leaves [lo, hi). */
function consistencyRanges(m: number, lo: number, hi: number, complete: boolean, out: Array<[number, number]>): void {
  if (m === hi - lo) {
    if (!complete) out.push([lo, hi]);
    return;
  }
  const k = split(hi - lo);
  if (m <= k) {
    consistencyRanges(m, lo, lo + k, complete, out);
    out.push([lo + k, hi]);
  } else {
    consistencyRanges(m - k, lo + k, hi, false, out);
    out.push([lo, lo + k]);
  }
}

/** The consistency proof from the tree of `oldSize` leaves to the tree of `newSize`; empty when old is 0 or both are equal. */
export function consistencyProof(oldSize: number, newSize: number, hashOf: (lo: number, hi: number) => Buffer): Buffer[] {
  checkSize('oldSize', oldSize);
  checkSize('newSize', newSize);
  if (oldSize > newSize) throw new RangeError(`a tree of ${oldSize} leaves cannot be a prefix of one of ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const ranges: Array<[number, number]> = [];
  consistencyRanges(oldSize, 0, newSize, true, ranges);
  return ranges.map(([lo, hi]) => hashOf(lo, hi));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** RFC 9162, 2.1.3.2: whether `proof` shows the leaf hash at `index` in the tree of `size` leaves with `root`. Never throws. */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162, 2.1.4.2: whether `proof` shows the tree (`oldSize`, `oldRoot`) to be a prefix of (`newSize`, `newRoot`). Never throws. */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Hash, newRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (oldRoot.length !== HASH_SIZE || newRoot.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (oldSize === 0) return proof.length === 0;
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // A power-of-two old tree is one subtree of the new one: its root starts the path.
  const path: Uint8Array[] = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}
