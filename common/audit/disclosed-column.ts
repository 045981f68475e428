// The stored form of a record's `disclosed` list, read back.
//
// A module of its own, without imports at run time, because the index thread
// (index-worker.ts) reads the column too; the stores read it through
// columns.ts.
//
// Records are written with the list as the canonical text hashes it,
// [[subgraph, type, subject], …] (see disclosedJson in record.ts);
// stores written before that hold [{ subgraph, type, subject }, …]. Both are
// read. Anything else (a row changed by hand) is passed through as found, so
// that the record's hash no longer matches and the verifier says so.
import type { AuditRecord } from './record.js';

/** The fields of a stored item in the older form; in a row changed by hand any of them may be missing or of another type. */
interface StoredItem {
  subgraph?: unknown;
  type?: unknown;
  subject?: unknown;
}

/**
 * The `disclosed` list of a record from its column's value (JSON text, or
 * parsed JSON from PostgreSQL's jsonb); a value that is not such a list is
 * returned as found.
 */
export function decodeDisclosed(value: unknown): AuditRecord['disclosed'] {
  // Typed as the list the record holds, though a row changed by hand gives back whatever it holds:
  // that record's hash then fails, which is how the verifier tells.
  return decode(value) as AuditRecord['disclosed'];
}

function decode(value: unknown): unknown {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (!Array.isArray(list)) return list;
  return list.map((item: unknown) => {
    if (Array.isArray(item)) return item.length === 3 ? { subgraph: item[0], type: item[1], subject: item[2] } : item;
    // jsonb gives objects back with keys reordered; rebuild them in the order records are written.
    if (item === null || typeof item !== 'object') return item;
    const { subgraph, type, subject } = item as StoredItem;
    return { subgraph, type, subject };
  });
}

/**
 * The distinct subjects of a stored `disclosed` list; an item without a
 * subject is skipped. Strings, unless a row was changed by hand.
 */
export function disclosedSubjects(value: unknown): Set<unknown> {
  const list = decode(value);
  const subjects = new Set<unknown>();
  if (!Array.isArray(list)) return subjects;
  for (const item of list)
    if (item !== null && typeof item === 'object' && (item as StoredItem).subject !== undefined) subjects.add((item as StoredItem).subject);
  return subjects;
}
