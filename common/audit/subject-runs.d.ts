/** Types of `audit-subject-runs.js` (plain JavaScript so that the index thread can load it). */

/** Entries per block (a block may hold more when one key has many). */
export declare const BLOCK_ENTRIES: number;

/** One row of `subject_blocks`: the block's first key and its entries, (key, seq) pairs of little-endian float64. */
export interface SubjectBlock {
  firstKey: number;
  entries: Buffer;
}

/** The index key of a subject hash: its first 13 hex digits as a number. Not unique: searches check the full hash. */
export declare function subjectKey(subject: string): number;
/** A key as the verifier compares it: 13 lower-case hex digits. */
export declare function keyHex(key: number): string;
/** Sorts parallel keys and seqs by (key, seq) and cuts them into blocks. */
export declare function packBlocks(keys: ArrayLike<number>, seqs: ArrayLike<number>): SubjectBlock[];
/** Entries already in (key, seq) order, cut into blocks at key changes. */
export declare function blocksOfSorted(keys: ArrayLike<number>, seqs: ArrayLike<number>, count?: number): SubjectBlock[];
export declare function blockLength(entries: Buffer): number;
export declare function keyAt(entries: Buffer, index: number): number;
export declare function seqAt(entries: Buffer, index: number): number;
/** The seqs filed under `key` in one block. */
export declare function seqsOfKey(entries: Buffer, key: number): number[];
