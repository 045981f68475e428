import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  Kind,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { satisfies, type ScopeRequirement, type SecurityPolicy } from './security-policy.js';

/** A field removed from an operation because the caller's effective scopes do not cover it. */
export interface DeniedField {
  /** Response path (aliases applied, list levels omitted), e.g. ["persons", "credit"]. */
  path: readonly string[];
  /** Schema coordinate, e.g. "Person.credit". */
  coordinate: string;
}

export interface AuthorizedOperation {
  /** The operation with fragments inlined and unauthorised fields removed; `null` when nothing is left. */
  document: DocumentNode | null;
  operation: OperationDefinitionNode['operation'];
  denied: readonly DeniedField[];
  /** Every scope named by a requirement of a requested field (granted or not). */
  requestedScopes: ReadonlySet<string>;
  /** The distinct requirements of the requested fields (granted or not): purpose binding reads them. */
  requirements: readonly ScopeRequirement[];
  /** Coordinates of the requested fields (for the audit record). */
  requestedCoordinates: ReadonlySet<string>;
}

export interface AuthorizeOperationInput {
  /** The API schema the operation was validated against. */
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  policy: SecurityPolicy;
  scopes: ReadonlySet<string>;
}

/** A named fragment once authorised: reused at every spread of it, never walked or copied again. */
interface FragmentResult {
  /** Its selections pruned (fragments within inlined), as one inline fragment node; null when nothing is left. */
  inline: InlineFragmentNode | null;
  /** Denied fields, their paths relative to the spread. */
  denied: readonly DeniedField[];
}

interface Walk {
  input: AuthorizeOperationInput;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Each named fragment's result, made at its first spread (per walk, that is per scope set). */
  fragmentResults: Map<string, FragmentResult>;
  /** Direct response keys per named fragment. */
  fragmentKeys: Map<string, readonly string[]>;
  /** A fragment's shared node with a spread's directives, per printed directives: one node per distinct form. */
  withDirectives: Map<InlineFragmentNode, Map<string, InlineFragmentNode>>;
  denied: DeniedField[];
  /** `path ␀ coordinate` of each entry of `denied`: one entry per removed path. */
  deniedKeys: Set<string>;
  requestedScopes: Set<string>;
  requirements: Map<string, ScopeRequirement>;
  requestedCoordinates: Set<string>;
}

function deniedKey(path: readonly string[], coordinate: string): string {
  return `${path.join('\u0000')}\u0001${coordinate}`;
}

function deny(walk: Walk, path: readonly string[], coordinate: string): void {
  const key = deniedKey(path, coordinate);
  if (walk.deniedKeys.has(key)) return;
  walk.deniedKeys.add(key);
  walk.denied.push({ path, coordinate });
}

/** Drops the entries after the first `length` (a field whose every child was denied is reported once, at its own path). */
function truncateDenied(walk: Walk, length: number): void {
  for (let i = length; i < walk.denied.length; i++) walk.deniedKeys.delete(deniedKey(walk.denied[i].path, walk.denied[i].coordinate));
  walk.denied.length = length;
}

function noteRequirement(walk: Walk, requirement: ScopeRequirement): void {
  for (const all of requirement) for (const scope of all) walk.requestedScopes.add(scope);
  walk.requirements.set(JSON.stringify(requirement), requirement);
}

function responseKey(field: FieldNode): string {
  return field.alias?.value ?? field.name.value;
}

/** Requirements of one field: its own, its return type's, and — on an interface — every implementation's. */
function requirementsOf(walk: Walk, parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): ScopeRequirement[] {
  const { policy, schema } = walk.input;
  const found: ScopeRequirement[] = [];
  const add = (r: ScopeRequirement | undefined) => r && found.push(r);
  add(policy.fieldScopes.get(`${parent.name}.${field.name}`));
  add(policy.typeScopes.get(parent.name));
  add(policy.typeScopes.get(getNamedType(field.type).name));
  if (isInterfaceType(parent)) {
    // A field read through an interface may resolve on any implementation: all of theirs must hold.
    for (const implementation of schema.getPossibleTypes(parent)) {
      add(policy.fieldScopes.get(`${implementation.name}.${field.name}`));
      add(policy.typeScopes.get(implementation.name));
    }
  }
  return found;
}

/** Response keys selected directly by a selection set (through inline fragments and named ones, each named one once). */
function directKeys(walk: Walk, selectionSet: SelectionSetNode, into: Set<string>): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) into.add(responseKey(selection));
    else if (selection.kind === Kind.INLINE_FRAGMENT) directKeys(walk, selection.selectionSet, into);
    else for (const key of fragmentKeys(walk, selection.name.value)) into.add(key);
  }
}

function fragmentKeys(walk: Walk, name: string): readonly string[] {
  let keys = walk.fragmentKeys.get(name);
  if (keys === undefined) {
    const into = new Set<string>();
    const fragment = walk.fragments.get(name);
    if (fragment) directKeys(walk, fragment.selectionSet, into);
    walk.fragmentKeys.set(name, (keys = [...into]));
  }
  return keys;
}

/** Paths of the fields directly selected by a removed fragment, for the errors. */
function directFieldPaths(walk: Walk, selectionSet: SelectionSetNode, path: readonly string[], typeName: string): void {
  const keys = new Set<string>();
  directKeys(walk, selectionSet, keys);
  for (const key of keys) deny(walk, [...path, key], typeName);
}

/**
 * Selections with every named fragment spread replaced by its authorised
 * inline form (one node per fragment, shared by all its spreads), and a
 * selection that is the very same node as an earlier one dropped: a
 * fragment spread twice in one place is there once. Under introspection
 * fields nothing needs a scope, but the pruned document carries no
 * fragment definitions, so their spreads are inlined too.
 */
function inlineFragmentSpreads<T extends FieldNode | InlineFragmentNode>(walk: Walk, node: T): T {
  if (!node.selectionSet) return node;
  let changed = false;
  const kept: SelectionNode[] = [];
  const seen = new Set<SelectionNode>();
  for (const selection of node.selectionSet.selections) {
    const result =
      selection.kind === Kind.FRAGMENT_SPREAD
        ? spreadUnchecked(walk, selection)
        : inlineFragmentSpreads(walk, selection as FieldNode | InlineFragmentNode);
    if (result !== selection) changed = true;
    if (seen.has(result)) {
      changed = true;
      continue;
    }
    seen.add(result);
    kept.push(result);
  }
  return changed ? { ...node, selectionSet: { ...node.selectionSet, selections: kept } } : node;
}

/** An introspection fragment, inlined once and shared by its spreads. */
function spreadUnchecked(walk: Walk, spread: FragmentSpreadNode): InlineFragmentNode {
  const name = spread.name.value;
  let result = walk.fragmentResults.get(name);
  if (!result) {
    const fragment = walk.fragments.get(name)!;
    const inline = inlineFragmentSpreads(walk, {
      kind: Kind.INLINE_FRAGMENT,
      typeCondition: fragment.typeCondition,
      selectionSet: fragment.selectionSet,
    } as InlineFragmentNode);
    walk.fragmentResults.set(name, (result = { inline, denied: [] }));
  }
  return withDirectives(walk, result.inline!, spread);
}

/**
 * The fragment's shared inline node, or — for a spread with its own
 * directives (`@include`, `@skip`) — one node carrying them around the same
 * selections, shared by the spreads with the same directives.
 */
function withDirectives(walk: Walk, inline: InlineFragmentNode, spread: FragmentSpreadNode): InlineFragmentNode {
  if (!spread.directives || spread.directives.length === 0) return inline;
  let forms = walk.withDirectives.get(inline);
  if (!forms) walk.withDirectives.set(inline, (forms = new Map()));
  const key = spread.directives.map((directive) => print(directive)).join(' ');
  let node = forms.get(key);
  if (!node) forms.set(key, (node = { ...inline, directives: spread.directives }));
  return node;
}

/** A named fragment authorised once per walk; every spread of it reuses the result. */
function authorizeSpread(walk: Walk, parent: GraphQLCompositeType, spread: FragmentSpreadNode, path: readonly string[]): InlineFragmentNode | null {
  const name = spread.name.value;
  let result = walk.fragmentResults.get(name);
  if (!result) {
    const fragment = walk.fragments.get(name)!;
    // Its denied fields are collected relative to the spread, apart from the walk's.
    const outer = { denied: walk.denied, deniedKeys: walk.deniedKeys };
    walk.denied = [];
    walk.deniedKeys = new Set();
    const inline = authorizeFragment(
      walk,
      parent,
      {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        selectionSet: fragment.selectionSet,
      } as InlineFragmentNode,
      [],
    );
    result = { inline, denied: walk.denied };
    walk.denied = outer.denied;
    walk.deniedKeys = outer.deniedKeys;
    walk.fragmentResults.set(name, result);
  }
  for (const denied of result.denied) deny(walk, [...path, ...denied.path], denied.coordinate);
  return result.inline ? withDirectives(walk, result.inline, spread) : null;
}

function authorizeField(walk: Walk, parent: GraphQLCompositeType, node: FieldNode, path: readonly string[]): FieldNode | null {
  const name = node.name.value;
  if (name.startsWith('__')) return inlineFragmentSpreads(walk, node); // __typename, and introspection for authenticated callers
  const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : {};
  const field = fields[name];
  if (!field) return node; // validated already; nothing to decide
  const coordinate = `${parent.name}.${name}`;
  walk.requestedCoordinates.add(coordinate);
  const fieldPath = [...path, responseKey(node)];
  let allowed = true;
  for (const requirement of requirementsOf(walk, parent, field)) {
    noteRequirement(walk, requirement);
    if (!satisfies(requirement, walk.input.scopes)) allowed = false;
  }
  if (!allowed) {
    deny(walk, fieldPath, coordinate);
    return null;
  }
  if (!node.selectionSet) return node;
  const deniedBefore = walk.denied.length;
  const selectionSet = authorizeSelectionSet(walk, getNamedType(field.type) as GraphQLCompositeType, node.selectionSet, fieldPath);
  if (selectionSet) return selectionSet === node.selectionSet ? node : { ...node, selectionSet };
  // Nothing requested below is allowed: the field itself goes, reported once at its own path.
  truncateDenied(walk, deniedBefore);
  deny(walk, fieldPath, coordinate);
  return null;
}

function authorizeFragment(walk: Walk, parent: GraphQLCompositeType, node: InlineFragmentNode, path: readonly string[]): InlineFragmentNode | null {
  const typeName = node.typeCondition?.name.value;
  const type = typeName ? (walk.input.schema.getType(typeName) as GraphQLCompositeType) : parent;
  const typeRequirement = walk.input.policy.typeScopes.get(type.name);
  if (typeRequirement && !isAbstractType(type)) {
    noteRequirement(walk, typeRequirement);
    if (!satisfies(typeRequirement, walk.input.scopes)) {
      directFieldPaths(walk, node.selectionSet, path, type.name);
      return null;
    }
  }
  const selectionSet = authorizeSelectionSet(walk, type, node.selectionSet, path);
  if (!selectionSet) return null;
  return selectionSet === node.selectionSet ? node : { ...node, selectionSet };
}

function authorizeSelectionSet(
  walk: Walk,
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  path: readonly string[],
): SelectionSetNode | null {
  const kept: SelectionNode[] = [];
  const seen = new Set<SelectionNode>();
  let changed = false;
  for (const selection of selectionSet.selections) {
    let result: SelectionNode | null;
    if (selection.kind === Kind.FIELD) {
      result = authorizeField(walk, parent, selection, path);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      result = authorizeFragment(walk, parent, selection, path);
    } else {
      // Named fragments are inlined (the planned document names every field it fetches), each one authorised
      // once and shared by all its spreads: a document whose fragments spread each other is walked in linear time.
      result = authorizeSpread(walk, parent, selection, path);
      changed = true;
    }
    if (result !== selection) changed = true;
    if (!result) continue;
    // The same shared node twice in one selection set (a fragment spread twice) selects the same thing: once is enough.
    if (seen.has(result)) continue;
    seen.add(result);
    kept.push(result);
  }
  if (kept.length === 0) return null;
  return changed ? { ...selectionSet, selections: kept } : selectionSet;
}

/**
 * Applies field-level scopes to an operation before it is planned, with
 * Apollo Router's semantics: every field whose `@requiresScopes` (on the
 * field, its parent type, its return type, or any implementation of an
 * interface it is read through) is not satisfied is removed; its path is
 * reported so the response can carry `null` and one error there. Aliases,
 * fragments (inlined), inline fragments on interfaces and unions, and
 * `@include`/`@skip` (kept, but never able to let a denied field through)
 * all go through the same walk.
 */
export function authorizeOperation(input: AuthorizeOperationInput): AuthorizedOperation {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of input.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) {
      if (input.operationName ? definition.name?.value === input.operationName : !operation) operation = definition;
    }
  }
  if (!operation) throw new Error('authorizeOperation: the document has no such operation (validate it first)');
  const walk: Walk = {
    input,
    fragments,
    fragmentResults: new Map(),
    fragmentKeys: new Map(),
    withDirectives: new Map(),
    denied: [],
    deniedKeys: new Set(),
    requestedScopes: new Set(),
    requirements: new Map(),
    requestedCoordinates: new Set(),
  };
  const rootType = input.schema.getRootType(operation.operation);
  if (!rootType) throw new Error(`authorizeOperation: the schema has no ${operation.operation} type`);
  const selectionSet = authorizeSelectionSet(walk, rootType, operation.selectionSet, []);
  let document: DocumentNode | null = null;
  if (selectionSet === operation.selectionSet && input.document.definitions.length === 1) {
    document = input.document; // nothing denied, no fragments: plan the original as is
  } else if (selectionSet) {
    const pruned = selectionSet === operation.selectionSet ? operation : { ...operation, selectionSet };
    document = { kind: Kind.DOCUMENT, definitions: [pruned] };
  }
  return {
    document,
    operation: operation.operation,
    denied: walk.denied,
    requestedScopes: walk.requestedScopes,
    requirements: [...walk.requirements.values()],
    requestedCoordinates: walk.requestedCoordinates,
  };
}

/**
 * Puts `null` at every denied path of a response's data, through lists, so
 * removed fields come back as null rather than missing. Objects that are
 * themselves null (an unknown person) are left alone.
 */
export function insertDeniedNulls(data: Record<string, unknown> | null | undefined, denied: readonly DeniedField[]): void {
  if (!data) return;
  const place = (value: unknown, path: readonly string[], index: number): void => {
    if (Array.isArray(value)) {
      for (const item of value) place(item, path, index);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (index === path.length - 1) {
      if (record[path[index]] === undefined) record[path[index]] = null;
      return;
    }
    place(record[path[index]], path, index + 1);
  };
  for (const { path } of denied) place(data, path, 0);
}
