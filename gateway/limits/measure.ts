import {
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** What an operation amounts to once its fragments are expanded, measured without expanding them. */
export interface OperationMeasure {
  /** Deepest nesting of fields (a root field is depth 1); fragments are transparent. */
  depth: number;
  /** Aliased fields, counted at every place a fragment puts them. */
  aliases: number;
  /** Fields of the root selection set (through fragments). */
  rootFields: number;
  /** Every field of the expanded operation (`__typename` included). */
  fields: number;
  /** Directive applications in the operation and the fragments it uses, as written. */
  directives: number;
}

interface SelectionTotals {
  depth: number;
  aliases: number;
  fields: number;
}

/**
 * Measures an operation in time linear in its document: each named
 * fragment is measured once and its totals reused at every spread, so a
 * document of a kilobyte whose fragments spread each other twice per level
 * is measured as the 2^30 fields it expands to, in microseconds. A fragment
 * spread more than once in the same selection set, with the same
 * directives, counts once there: it selects the same fields again, and the
 * gateway keeps it once (the scope walk shares one node per fragment).
 * Validate the document first: fragments must exist and not form cycles.
 */
export function measureOperation(document: DocumentNode, operation: OperationDefinitionNode): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const totalsOf = new Map<string, SelectionTotals>();
  const rootFieldsOf = new Map<string, number>();
  const used = new Set<string>();
  let directives = operation.directives?.length ?? 0;

  const spreadKey = (selection: SelectionNode & { kind: Kind.FRAGMENT_SPREAD }) =>
    selection.directives?.length ? `${selection.name.value} ${selection.directives.map((d) => print(d)).join(' ')}` : selection.name.value;

  /** Totals of a selection set; every directive met is counted once per place it is written (fragments once each). */
  const measure = (selectionSet: SelectionSetNode): SelectionTotals => {
    const totals: SelectionTotals = { depth: 0, aliases: 0, fields: 0 };
    const spreads = new Set<string>();
    for (const selection of selectionSet.selections) {
      let part: SelectionTotals;
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? measure(selection.selectionSet) : { depth: 0, aliases: 0, fields: 0 };
        part = { depth: 1 + below.depth, aliases: (selection.alias ? 1 : 0) + below.aliases, fields: 1 + below.fields };
        directives += selection.directives?.length ?? 0;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        part = measure(selection.selectionSet);
        directives += selection.directives?.length ?? 0;
      } else {
        const key = spreadKey(selection);
        if (spreads.has(key)) continue;
        spreads.add(key);
        directives += selection.directives?.length ?? 0;
        part = fragment(selection.name.value);
      }
      totals.depth = Math.max(totals.depth, part.depth);
      totals.aliases += part.aliases;
      totals.fields += part.fields;
    }
    return totals;
  };

  const fragment = (name: string): SelectionTotals => {
    let totals = totalsOf.get(name);
    if (totals === undefined) {
      const definition = fragments.get(name);
      used.add(name);
      // Marked before measuring: a cycle (which validation refuses) cannot recurse for ever.
      totalsOf.set(name, { depth: 0, aliases: 0, fields: 0 });
      if (definition) directives += definition.directives?.length ?? 0;
      totals = definition ? measure(definition.selectionSet) : { depth: 0, aliases: 0, fields: 0 };
      totalsOf.set(name, totals);
    }
    return totals;
  };

  /** Fields of a selection set's own level, through fragments (each named fragment's count once). */
  const levelFields = (selectionSet: SelectionSetNode): number => {
    let count = 0;
    const spreads = new Set<string>();
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) count++;
      else if (selection.kind === Kind.INLINE_FRAGMENT) count += levelFields(selection.selectionSet);
      else {
        const key = spreadKey(selection);
        if (spreads.has(key)) continue;
        spreads.add(key);
        let own = rootFieldsOf.get(selection.name.value);
        if (own === undefined) {
          rootFieldsOf.set(selection.name.value, 0);
          const definition = fragments.get(selection.name.value);
          own = definition ? levelFields(definition.selectionSet) : 0;
          rootFieldsOf.set(selection.name.value, own);
        }
        count += own;
      }
    }
    return count;
  };

  const totals = measure(operation.selectionSet);
  return { depth: totals.depth, aliases: totals.aliases, rootFields: levelFields(operation.selectionSet), fields: totals.fields, directives };
}
