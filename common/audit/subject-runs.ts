// The SQLite store's person-search index, as sorted runs of (key, seq) pairs.
//
// Shared by the index thread (index-worker.ts), which writes the runs, and
// the main thread, which reads them for searches and the verifier.
//
// A run holds the index entries of a contiguous stretch of one chain, sorted
// by (key, seq) and cut into blocks of about BLOCK_ENTRIES entries, each a
// SQLite row (run, first_key, entries BLOB). A block never splits one key, so
// a search reads exactly one block per run. An entry is two little-endian
// float64: the subject key and the record's seq.
import { createHash } from 'node:crypto';

/** Entries per block (a block may hold more when one key has many). */
export const BLOCK_ENTRIES = 512;
const ENTRY_BYTES = 16;

/** One row of `subject_blocks`: the block's first key and its entries, (key, seq) pairs of little-endian float64. */
export interface SubjectBlock {
  firstKey: number;
  entries: Buffer;
}

/**
 * The index key of a subject hash: its first 13 hex digits as a number (52
 * bits, exact in a float64). Keys are not unique, so every search checks the
 * full hash in the record it finds. A subject that is not hex (never made by
 * the gateway, but possible in a hand-made record) is keyed by its SHA-256.
 */
export function subjectKey(subject: string): number {
  // String(): a record read back from a row changed by hand may hold another type (its type says string), keyed by its text.
  const text = String(subject);
  // A SHA-256 in hex always has a key.
  return hexKey(text) ?? hexKey(createHash('sha256').update(text, 'utf8').digest('hex'))!;
}

/** The first 13 hex digits of `text` as a number, or null if they are not all hex digits. */
function hexKey(text: string): number | null {
  if (text.length < 13) return null;
  let key = 0;
  for (let i = 0; i < 13; i++) {
    const c = text.charCodeAt(i);
    // 0-9, A-F, a-f
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (digit < 0) return null;
    key = key * 16 + digit;
  }
  return key;
}

/** A key as the verifier compares it: 13 lower-case hex digits. */
export function keyHex(key: number): string {
  return key.toString(16).padStart(13, '0');
}

/** Parallel arrays of keys and seqs, sorted by (key, seq), packed into blocks: [{ firstKey, entries: Buffer }]. */
export function packBlocks(keys: ArrayLike<number>, seqs: ArrayLike<number>): SubjectBlock[] {
  const count = keys.length;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => keys[a] - keys[b] || seqs[a] - seqs[b]);
  const sortedKeys = new Float64Array(count);
  const sortedSeqs = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    sortedKeys[i] = keys[order[i]];
    sortedSeqs[i] = seqs[order[i]];
  }
  return blocksOfSorted(sortedKeys, sortedSeqs, count);
}

/** Entries already in (key, seq) order, cut into blocks at key changes. */
export function blocksOfSorted(keys: ArrayLike<number>, seqs: ArrayLike<number>, count = keys.length): SubjectBlock[] {
  const blocks: SubjectBlock[] = [];
  let start = 0;
  while (start < count) {
    let end = Math.min(start + BLOCK_ENTRIES, count);
    while (end < count && keys[end] === keys[end - 1]) end++;
    const entries = Buffer.allocUnsafe((end - start) * ENTRY_BYTES);
    for (let i = start; i < end; i++) {
      entries.writeDoubleLE(keys[i], (i - start) * ENTRY_BYTES);
      entries.writeDoubleLE(seqs[i], (i - start) * ENTRY_BYTES + 8);
    }
    blocks.push({ firstKey: keys[start], entries });
    start = end;
  }
  return blocks;
}

/** Number of entries in a block. */
export function blockLength(entries: Buffer): number {
  return entries.length / ENTRY_BYTES;
}

export function keyAt(entries: Buffer, index: number): number {
  return entries.readDoubleLE(index * ENTRY_BYTES);
}

export function seqAt(entries: Buffer, index: number): number {
  return entries.readDoubleLE(index * ENTRY_BYTES + 8);
}

/** The seqs filed under `key` in one block, by binary search. */
export function seqsOfKey(entries: Buffer, key: number): number[] {
  let low = 0;
  let high = blockLength(entries);
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyAt(entries, middle) < key) low = middle + 1;
    else high = middle;
  }
  const seqs: number[] = [];
  for (let i = low; i < blockLength(entries) && keyAt(entries, i) === key; i++) seqs.push(seqAt(entries, i));
  return seqs;
}
