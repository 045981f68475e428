import DataLoader from 'dataloader';

/**
 * Per-request batch loaders over one prepared statement each. `fetch`
 * receives all keys asked for in one tick of resolution and must answer with
 * a single statement (the stores use `IN (SELECT value FROM json_each(?))`),
 * which is what keeps a 50-person query at a constant statement count.
 */

/** Loads at most one row per key; unknown keys resolve to null. */
export function rowLoader<Row>(fetch: (keys: string[]) => Row[], keyOf: (row: Row) => string): DataLoader<string, Row | null> {
  return new DataLoader<string, Row | null>(async (keys) => {
    const byKey = new Map<string, Row>();
    for (const row of fetch([...keys])) byKey.set(keyOf(row), row);
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** Loads all rows per key, in the order the statement returns them; unknown keys resolve to []. */
export function groupLoader<Row>(fetch: (keys: string[]) => Row[], keyOf: (row: Row) => string): DataLoader<string, Row[]> {
  return new DataLoader<string, Row[]>(async (keys) => {
    const groups = new Map<string, Row[]>();
    for (const row of fetch([...keys])) {
      const key = keyOf(row);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(row);
    }
    return keys.map((key) => groups.get(key) ?? []);
  });
}
