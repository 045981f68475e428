import {
  GraphQLEnumType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DirectiveNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { MASKED_FIELDS } from '../authorization/masking.js';

/**
 * The client's operation compiled once per plan into a shape: the walk that
 * turns the merged subgraph data into exactly the response the operation
 * asked for. It drops what the plan fetched only for joining (keys,
 * `__typename`), resolves fragments by each object's runtime type, bubbles
 * nulls out of non-null positions, checks leaf values, and masks personal
 * identifiers (the coordinates of MASKED_FIELDS) when the request may not
 * see them unmasked. The semantics follow @apollo/gateway's result shaping;
 * the work per request is a loop over precomputed entries.
 */

type Condition = { skip?: boolean | string; include?: boolean | string };

type TypeShape =
  | { kind: 'nonNull'; of: TypeShape }
  | { kind: 'list'; of: TypeShape }
  | { kind: 'leaf'; name: string; check: (value: unknown) => boolean }
  | { kind: 'composite'; name: string; entries: Entry[] };

type Entry =
  | { kind: 'field'; responseName: string; condition?: Condition; type: TypeShape; mask?: (value: string) => string; parent: string }
  | { kind: 'typename'; responseName: string; condition?: Condition }
  | { kind: 'introspection'; responseName: string; condition?: Condition; field: FieldNode }
  | { kind: 'fragment'; condition?: Condition; applies: ReadonlySet<string>; typeCondition: string | null; entries: Entry[] };

export interface ResponseShape {
  rootType: string;
  entries: Entry[];
  /** Root fields answered from the schema (`__schema`, `__type`), not from subgraphs. */
  introspection: FieldNode[];
}

/** A problem found while shaping (Apollo's `valueCompletion` errors). */
export interface ShapeError {
  message: string;
  path: (string | number)[];
}

export interface ShapeContext {
  schema: GraphQLSchema;
  variables: Record<string, unknown>;
  /** Mask personal identifiers (no `pii:unmasked` in the effective scopes). */
  mask: boolean;
  errors: ShapeError[];
  introspect: (field: FieldNode) => unknown;
}

function conditionOf(directives: readonly DirectiveNode[] | undefined): Condition | undefined {
  if (!directives || directives.length === 0) return undefined;
  let condition: Condition | undefined;
  for (const directive of directives) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const argument = directive.arguments?.find((a) => a.name.value === 'if');
    if (!argument) continue;
    const value =
      argument.value.kind === Kind.VARIABLE ? argument.value.name.value : argument.value.kind === Kind.BOOLEAN ? argument.value.value : undefined;
    if (value === undefined) continue;
    condition = { ...condition, [name]: value };
  }
  return condition;
}

function skipped(condition: Condition | undefined, variables: Record<string, unknown>): boolean {
  if (!condition) return false;
  const read = (value: boolean | string) => (typeof value === 'boolean' ? value : variables[value] === true);
  if (condition.skip !== undefined && read(condition.skip)) return true;
  if (condition.include !== undefined && !read(condition.include)) return true;
  return false;
}

const BUILT_IN_CHECKS: Record<string, (value: unknown) => boolean> = {
  String: (v) => typeof v === 'string',
  Boolean: (v) => typeof v === 'boolean',
  Int: (v) => Number.isInteger(v) && (v as number) <= 2147483647 && (v as number) >= -2147483648,
  Float: (v) => typeof v === 'number' && Number.isFinite(v),
  ID: (v) => typeof v === 'string' || Number.isInteger(v),
};

/** Every composite type `condition` applies to: itself, its members or implementations. */
function subtypesOf(schema: GraphQLSchema, condition: GraphQLCompositeType): Set<string> {
  const names = new Set<string>([condition.name]);
  if (!isAbstractType(condition)) return names;
  for (const type of Object.values(schema.getTypeMap())) {
    if ((isObjectType(type) || isInterfaceType(type)) && schema.isSubType(condition, type)) names.add(type.name);
  }
  return names;
}

export function compileResponseShape(schema: GraphQLSchema, operation: OperationDefinitionNode): ResponseShape {
  const root = schema.getRootType(operation.operation);
  if (!root) throw new Error(`the schema has no ${operation.operation} type`);
  const appliesCache = new Map<string, Set<string>>();
  const introspection: FieldNode[] = [];

  const typeShape = (type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined): TypeShape => {
    if (type instanceof GraphQLNonNull) return { kind: 'nonNull', of: typeShape(type.ofType, selectionSet) };
    if (type instanceof GraphQLList) return { kind: 'list', of: typeShape(type.ofType, selectionSet) };
    if (type instanceof GraphQLEnumType) {
      const values = new Set(type.getValues().map((v) => v.name));
      return { kind: 'leaf', name: type.name, check: (v) => typeof v === 'string' && values.has(v) };
    }
    if (type instanceof GraphQLScalarType) return { kind: 'leaf', name: type.name, check: BUILT_IN_CHECKS[type.name] ?? ((v) => v !== undefined) };
    if (!selectionSet) throw new Error(`composite type ${type.name} selected without a selection set`);
    return { kind: 'composite', name: type.name, entries: entries(type, selectionSet, false) };
  };

  const entries = (parent: GraphQLCompositeType, selectionSet: SelectionSetNode, atRoot: boolean): Entry[] => {
    const list: Entry[] = [];
    for (const selection of selectionSet.selections) {
      const condition = conditionOf(selection.directives);
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const responseName = selection.alias?.value ?? name;
        if (name === '__typename') {
          list.push({ kind: 'typename', responseName, condition });
        } else if (name === '__schema' || name === '__type') {
          if (!atRoot) throw new Error(`${name} is only valid on the root type`);
          introspection.push(selection);
          list.push({ kind: 'introspection', responseName, condition, field: selection });
        } else {
          if (!isObjectType(parent) && !isInterfaceType(parent)) throw new Error(`cannot select ${name} on union ${parent.name}`);
          const field = parent.getFields()[name];
          if (!field) throw new Error(`${parent.name}.${name} is not in the schema`);
          const mask = MASKED_FIELDS.get(`${parent.name}.${name}`);
          list.push({ kind: 'field', responseName, condition, type: typeShape(field.type, selection.selectionSet), mask, parent: parent.name });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (!type || !isCompositeType(type)) throw new Error(`unknown type condition ${selection.typeCondition?.name.value}`);
        let applies = appliesCache.get(type.name);
        if (!applies) appliesCache.set(type.name, (applies = subtypesOf(schema, type)));
        list.push({
          kind: 'fragment',
          condition,
          applies,
          typeCondition: selection.typeCondition ? type.name : null,
          entries: entries(type, selection.selectionSet, atRoot),
        });
      } else {
        throw new Error('named fragments must be inlined before shaping');
      }
    }
    return list;
  };

  return { rootType: root.name, entries: entries(root, operation.selectionSet, true), introspection };
}

/**
 * What the last `complete` call found besides its value, read by its caller
 * right after the call (shaping is synchronous): INVALID, a null in a
 * non-null position (the enclosing object becomes null); REPORTED, an error
 * was already reported below (the bubbling is not reported again). Flags, not
 * a result object per value: a 50-person batch completes hundreds of values.
 */
let status = 0;
const INVALID = 1;
const REPORTED = 2;

function describe(path: (string | number)[], type: string, parent: string): string {
  const last = path[path.length - 1];
  return typeof last === 'string' ? `field ${parent}.${last}` : `array element of type ${type} at index ${last}`;
}

function complete(
  output: unknown,
  input: unknown,
  type: TypeShape,
  entry: Extract<Entry, { kind: 'field' }>,
  path: (string | number)[],
  context: ShapeContext,
): unknown {
  if (output === null || (output !== undefined && type.kind === 'leaf')) {
    status = 0;
    return output;
  }
  switch (type.kind) {
    case 'nonNull': {
      const inner = complete(output, input, type.of, entry, path, context);
      if (inner === null) {
        if (!(status & REPORTED)) {
          const name = type.of.kind === 'leaf' || type.of.kind === 'composite' ? type.of.name : 'list';
          context.errors.push({ message: `Cannot return null for non-nullable ${describe(path, name, entry.parent)}.`, path: [...path] });
        }
        status = INVALID | REPORTED;
        return null;
      }
      return inner;
    }
    case 'list': {
      if (input === null) {
        status = 0;
        return null;
      }
      if (!Array.isArray(input)) {
        context.errors.push({ message: `Invalid non-list value for ${describe(path, 'list', entry.parent)}.`, path: [...path] });
        status = REPORTED;
        return null;
      }
      const existing = Array.isArray(output) && output.length === input.length ? output : undefined;
      const result = new Array<unknown>(input.length);
      let nullify = false;
      let reported = false;
      for (let i = 0; i < input.length; i++) {
        path.push(i);
        result[i] = complete(existing?.[i], input[i] ?? null, type.of, entry, path, context);
        path.pop();
        if (status & INVALID) nullify = true;
        if (status & REPORTED) reported = true;
      }
      status = reported ? REPORTED : 0;
      return nullify ? null : result;
    }
    case 'leaf': {
      status = 0;
      if (input === null) return null;
      if (!type.check(input)) {
        context.errors.push({ message: `Invalid value found for ${describe(path, type.name, entry.parent)}.`, path: [...path] });
        status = REPORTED;
        return null;
      }
      return entry.mask && context.mask && typeof input === 'string' ? entry.mask(input) : input;
    }
    case 'composite': {
      status = 0;
      if (input === null) return null;
      if (typeof input !== 'object' || Array.isArray(input)) {
        context.errors.push({ message: `Invalid non-object value for ${describe(path, type.name, entry.parent)}.`, path: [...path] });
        status = REPORTED;
        return null;
      }
      const record = input as Record<string, unknown>;
      let runtime = type.name;
      const typename = record.__typename;
      if (typeof typename === 'string') {
        const named = context.schema.getType(typename);
        if (!named || !isCompositeType(named)) {
          context.errors.push({ message: `Invalid __typename found for object at ${describe(path, type.name, entry.parent)}.`, path: [...path] });
          status = REPORTED;
          return null;
        }
        runtime = typename;
      }
      const target = (output as Record<string, unknown> | undefined) ?? {};
      const ok = applyEntries(record, type.entries, target, runtime, path, context);
      status = ok ? 0 : REPORTED;
      return ok ? target : null;
    }
  }
}

function applyEntries(
  input: Record<string, unknown>,
  entries: Entry[],
  output: Record<string, unknown>,
  parentType: string,
  path: (string | number)[],
  context: ShapeContext,
): boolean {
  for (const entry of entries) {
    if (entry.condition && skipped(entry.condition, context.variables)) continue;
    switch (entry.kind) {
      case 'field': {
        path.push(entry.responseName);
        const value = complete(output[entry.responseName], input[entry.responseName] ?? null, entry.type, entry, path, context);
        path.pop();
        output[entry.responseName] = value;
        if (status & INVALID) return false;
        break;
      }
      case 'typename': {
        if (output[entry.responseName] !== undefined) break;
        let value = input[entry.responseName] ?? null;
        if (value === null && entry.responseName !== '__typename') value = input.__typename ?? null;
        const named =
          typeof value === 'string' ? (context.schema.getType(value) ?? context.schema.getType(parentType)) : context.schema.getType(parentType);
        if (!named || !isObjectType(named)) return false;
        output[entry.responseName] = named.name;
        break;
      }
      case 'introspection':
        if (output[entry.responseName] === undefined) output[entry.responseName] = context.introspect(entry.field);
        break;
      case 'fragment': {
        const typename = input.__typename;
        const runtime = typeof typename === 'string' ? typename : parentType;
        if (entry.typeCondition !== null && !entry.applies.has(runtime)) break;
        if (!applyEntries(input, entry.entries, output, entry.typeCondition ?? parentType, path, context)) return false;
        break;
      }
    }
  }
  return true;
}

/** Shapes the merged data into the response; null when a null bubbled to the root. */
export function shapeResponse(shape: ResponseShape, input: Record<string, unknown>, context: ShapeContext): Record<string, unknown> | null {
  const output: Record<string, unknown> = {};
  return applyEntries(input, shape.entries, output, shape.rootType, [], context) ? output : null;
}
