import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
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

interface Walk {
  input: AuthorizeOperationInput;
  fragments: Map<string, FragmentDefinitionNode>;
  denied: DeniedField[];
  requestedScopes: Set<string>;
  requirements: Map<string, ScopeRequirement>;
  requestedCoordinates: Set<string>;
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

/** Paths of the fields directly selected by a removed fragment, for the errors. */
function directFieldPaths(walk: Walk, selectionSet: SelectionSetNode, path: readonly string[], typeName: string): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      walk.denied.push({ path: [...path, responseKey(selection)], coordinate: typeName });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      directFieldPaths(walk, selection.selectionSet, path, typeName);
    } else {
      const fragment = walk.fragments.get(selection.name.value);
      if (fragment) directFieldPaths(walk, fragment.selectionSet, path, typeName);
    }
  }
}

/**
 * An introspection field with the named fragments under it inlined: it needs
 * no scope, but the pruned document carries no fragment definitions, so a
 * spread left in it (every tool's introspection query has them) would name
 * a fragment that is no longer there.
 */
function inlineFragmentSpreads<T extends FieldNode | InlineFragmentNode>(walk: Walk, node: T): T {
  if (!node.selectionSet) return node;
  let changed = false;
  const selections = node.selectionSet.selections.map((selection): SelectionNode => {
    let inline: FieldNode | InlineFragmentNode;
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = walk.fragments.get(selection.name.value)!;
      inline = {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        directives: selection.directives,
        selectionSet: fragment.selectionSet,
      };
    } else inline = selection;
    const result = inlineFragmentSpreads(walk, inline);
    if (result !== selection) changed = true;
    return result;
  });
  return changed ? { ...node, selectionSet: { ...node.selectionSet, selections } } : node;
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
    walk.denied.push({ path: fieldPath, coordinate });
    return null;
  }
  if (!node.selectionSet) return node;
  const deniedBefore = walk.denied.length;
  const selectionSet = authorizeSelectionSet(walk, getNamedType(field.type) as GraphQLCompositeType, node.selectionSet, fieldPath);
  if (selectionSet) return selectionSet === node.selectionSet ? node : { ...node, selectionSet };
  // Nothing requested below is allowed: the field itself goes, reported once at its own path.
  walk.denied.length = deniedBefore;
  walk.denied.push({ path: fieldPath, coordinate });
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
  let changed = false;
  for (const selection of selectionSet.selections) {
    let result: SelectionNode | null;
    if (selection.kind === Kind.FIELD) {
      result = authorizeField(walk, parent, selection, path);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      result = authorizeFragment(walk, parent, selection, path);
    } else {
      // Named fragments are inlined: a fragment used in two places may be
      // pruned differently in each (paths differ), and the planned document
      // then names every field it fetches explicitly.
      const fragment = walk.fragments.get(selection.name.value)!;
      const inline: InlineFragmentNode = {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        directives: selection.directives,
        selectionSet: fragment.selectionSet,
      };
      result = authorizeFragment(walk, parent, inline, path);
      changed = true;
    }
    if (result !== selection) changed = true;
    if (result) kept.push(result);
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
  const walk: Walk = { input, fragments, denied: [], requestedScopes: new Set(), requirements: new Map(), requestedCoordinates: new Set() };
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
