/**
 * Seeded pseudo-random numbers for the synthetic data.
 *
 * The seeder must be reproducible byte for byte, so nothing here reads the
 * clock or `Math.random()`. The generator is sfc32 (small, fast, 128-bit
 * state, passes PractRand far beyond what a seeder needs); the seed string is
 * spread over the state with cyrb128. Independent streams (one per household,
 * one per organisation) are derived from the root state and an integer, so a
 * change in how one household draws numbers never shifts any other household.
 */

/** Four 32-bit words: the state of a stream, or the key streams are derived from. */
export type SeedKey = readonly [number, number, number, number];

/** cyrb128: hashes a string to four well-mixed 32-bit words. */
export function hashString(text: string): SeedKey {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** murmur3 finaliser: a bijective 32-bit mix, used to derive stream states and cheap hashes. */
export function mix32(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A seeded stream of pseudo-random numbers (sfc32). */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: SeedKey) {
    [this.a, this.b, this.c, this.d] = key;
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate similar keys.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A stream seeded from a string, e.g. the `--seed` value. */
  static fromString(seed: string): Random {
    return new Random(hashString(seed));
  }

  /** The stream number `index` under `key` (e.g. household 1234 under the 'households' key). */
  static derive(key: SeedKey, index: number): Random {
    const i = index | 0;
    return new Random([
      mix32(key[0] ^ i),
      mix32(key[1] + Math.imul(i, 0x9e3779b9)),
      mix32(key[2] ^ Math.imul(i, 0x85ebca6b)),
      mix32(key[3] + i + 0x632be5ab),
    ]);
  }

  /** Next unsigned 32-bit integer. */
  uint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (c << 21) | (c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A new independent stream derived from this one's next outputs. */
  fork(): Random {
    return new Random([this.uint32(), this.uint32(), this.uint32(), this.uint32()]);
  }
}

/** A fixed list of choices with weights; picks in O(log n). */
export class WeightedList<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new TypeError('WeightedList needs at least one entry');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach(([, weight], i) => {
      if (!(weight >= 0)) throw new TypeError(`weight must be non-negative, got ${weight}`);
      sum += weight;
      this.cumulative[i] = sum;
    });
    if (sum <= 0) throw new TypeError('WeightedList needs a positive total weight');
    this.total = sum;
  }

  pick(rng: Random): T {
    const target = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

/** Shorthand for a weighted list written as `{ value: weight }`. */
export function weighted<K extends string>(weights: Readonly<Record<K, number>>): WeightedList<K> {
  return new WeightedList(Object.entries(weights) as [K, number][]);
}
