// The stored form of a record's `disclosed` list, read back.
//
// Plain JavaScript with a declaration file beside it, because the index
// thread (audit-index-worker.js) reads the column too, without a TypeScript
// loader; the stores read it through audit-columns.ts.
//
// Records are written with the list as the canonical text hashes it,
// [[subgraph, type, subject], …] (see disclosedJson in audit-record.ts);
// stores written before that hold [{ subgraph, type, subject }, …]. Both are
// read. Anything else (a row changed by hand) is passed through as found, so
// that the record's hash no longer matches and the verifier says so.

/** The `disclosed` list of a record from its column's value (JSON text, or parsed JSON from PostgreSQL's jsonb). */
export function decodeDisclosed(value) {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (!Array.isArray(list)) return list;
  return list.map((item) => {
    if (Array.isArray(item)) return item.length === 3 ? { subgraph: item[0], type: item[1], subject: item[2] } : item;
    // jsonb gives objects back with keys reordered; rebuild them in the order records are written.
    return item !== null && typeof item === 'object' ? { subgraph: item.subgraph, type: item.type, subject: item.subject } : item;
  });
}

/** The distinct subjects of a stored `disclosed` list; an item without a subject is skipped. */
export function disclosedSubjects(value) {
  const list = decodeDisclosed(value);
  const subjects = new Set();
  if (!Array.isArray(list)) return subjects;
  for (const item of list) if (item !== null && typeof item === 'object' && item.subject !== undefined) subjects.add(item.subject);
  return subjects;
}
