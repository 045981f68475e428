import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  getNamedType,
  getNullableType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
  visit,
} from 'graphql';

/** `@listSize` of one field, as the cost spec (and Apollo Router, Hive Gateway) read it. */
export interface ListSize {
  assumedSize?: number;
  /** Int arguments whose value is the list's size (the largest, when several are given). */
  slicingArguments?: readonly string[];
  /** Fields of the returned object that the size applies to (a connection's `records`), instead of the field itself. */
  sizedFields?: readonly string[];
}

/** The demand-control directives of a supergraph: `@cost` weights and `@listSize` per coordinate. */
export interface CostModel {
  /** `Type.field` or `Type` → weight. */
  weights: ReadonlyMap<string, number>;
  /** `Type.field` → its list size rules. */
  listSizes: ReadonlyMap<string, ListSize>;
}

/** A spread by fragment name and directives: the same spread twice in one selection set selects the same fields. */
const spreadKey = (spread: FragmentSpreadNode): string =>
  spread.directives?.length ? `${spread.name.value} ${spread.directives.map((d) => print(d)).join(' ')}` : spread.name.value;

const argumentValue = (directive: DirectiveNode, name: string): unknown => {
  const argument = directive.arguments?.find((a) => a.name.value === name);
  return argument ? valueFromASTUntyped(argument.value) : undefined;
};

/** Reads `@cost` and `@listSize` from a supergraph SDL (under their own names or the cost spec's `cost__` prefix). */
export function extractCostModel(supergraphSdl: string): CostModel {
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  let typeName = '';
  const read = (directives: readonly DirectiveNode[] | undefined, coordinate: string) => {
    for (const directive of directives ?? []) {
      const name = directive.name.value.replace(/^cost__/, '');
      if (name === 'cost') {
        const weight = Number(argumentValue(directive, 'weight'));
        if (Number.isFinite(weight)) weights.set(coordinate, weight);
      } else if (name === 'listSize') {
        listSizes.set(coordinate, {
          assumedSize: argumentValue(directive, 'assumedSize') as number | undefined,
          slicingArguments: argumentValue(directive, 'slicingArguments') as string[] | undefined,
          sizedFields: argumentValue(directive, 'sizedFields') as string[] | undefined,
        });
      }
    }
  };
  const enter = (node: { name: { value: string }; directives?: readonly DirectiveNode[] }) => {
    typeName = node.name.value;
    read(node.directives, typeName);
  };
  visit(parse(supergraphSdl), {
    ObjectTypeDefinition: enter,
    ObjectTypeExtension: enter,
    InterfaceTypeDefinition: enter,
    ScalarTypeDefinition: enter,
    EnumTypeDefinition: enter,
    FieldDefinition: (node) => read(node.directives, `${typeName}.${node.name.value}`),
  });
  return { weights, listSizes };
}

export interface CostOptions {
  schema: GraphQLSchema;
  model: CostModel;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Readonly<Record<string, unknown>>;
  /** Size of a list field with nothing to go by. */
  defaultListSize: number;
}

/**
 * The estimated cost of an operation, from the schema, with the semantics
 * of the cost directive spec (IBM; as Apollo Router and Hive Gateway
 * implement it): every object costs 1 (or its type's `@cost`), a leaf 0, a
 * field adds its own `@cost`; a list multiplies what one item costs by its
 * size — the value of a slicing argument (`deposits(last:)`), else, for a
 * field that takes its keys as a list (`persons(idNumbers:)`), how many keys
 * it is given, else its `@listSize(assumedSize:)`, else the default size.
 * Introspection costs nothing. Named fragments are costed once per
 * estimate, so the work is linear in the document.
 */
export function estimateCost(options: CostOptions): number {
  return estimateWithDependence(options).cost;
}

/**
 * The estimate, and the variables it read (none: it holds for every request
 * of the operation). It reads a variable only as a size — a list's length or
 * a number — so requests whose variables have the same {@link sizesKey} have
 * the same estimate.
 */
export function estimateWithDependence(options: CostOptions): { cost: number; readsVariables: readonly string[] } {
  const { schema, model, variables, defaultListSize } = options;
  const readsVariables = new Set<string>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of options.document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const fragmentCosts = new Map<string, number>();

  const value = (node: ValueNode): unknown => {
    // A list written out keeps its length whatever its variables hold: only a variable as the whole value is read.
    if (node.kind === Kind.VARIABLE) readsVariables.add(node.name.value);
    return valueFromASTUntyped(node, variables as Record<string, unknown>);
  };

  /** How many items a list field is expected to hold. */
  const listSize = (coordinate: string, definition: GraphQLField<unknown, unknown>, field: FieldNode, sized?: number): number => {
    if (sized !== undefined) return sized;
    const rules = model.listSizes.get(coordinate);
    let size: number | undefined;
    for (const name of rules?.slicingArguments ?? []) {
      const given = field.arguments?.find((a) => a.name.value === name);
      const raw = given ? value(given.value) : definition.args.find((a) => a.name === name)?.defaultValue;
      if (typeof raw === 'number' && Number.isFinite(raw)) size = Math.max(size ?? 0, raw);
    }
    if (size === undefined) {
      // Keys given as a list argument: one item per key.
      for (const argument of field.arguments ?? []) {
        const type = definition.args.find((a) => a.name === argument.name.value)?.type;
        if (type && isListType(getNullableType(type))) {
          const keys = value(argument.value);
          if (Array.isArray(keys)) size = Math.max(size ?? 0, keys.length);
        }
      }
    }
    return Math.max(0, size ?? rules?.assumedSize ?? defaultListSize);
  };

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, sizedFields?: ReadonlyMap<string, number>): number => {
    let total = 0;
    const spreads = new Set<string>();
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(selection, parent, sizedFields?.get(selection.name.value));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType) : parent;
        total += selectionCost(selection.selectionSet, type ?? parent, sizedFields);
      } else {
        // A fragment spread again in the same selection set selects the same fields: it costs once (as the gateway keeps it once).
        const key = spreadKey(selection);
        if (spreads.has(key)) continue;
        spreads.add(key);
        const name = selection.name.value;
        let cost = sizedFields ? undefined : fragmentCosts.get(name);
        if (cost === undefined) {
          const fragment = fragments.get(name);
          const type = fragment ? (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined) : undefined;
          cost = fragment && type ? selectionCost(fragment.selectionSet, type, sizedFields) : 0;
          if (!sizedFields) fragmentCosts.set(name, cost);
        }
        total += cost;
      }
    }
    return total;
  };

  const fieldCost = (field: FieldNode, parent: GraphQLCompositeType, sized?: number): number => {
    const name = field.name.value;
    if (name.startsWith('__')) return 0;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    if (!definition) return 0;
    const coordinate = `${parent.name}.${name}`;
    const named = getNamedType(definition.type);
    const composite = isCompositeType(named);
    const itemCost = model.weights.get(named.name) ?? (composite ? 1 : 0);
    const rules = model.listSizes.get(coordinate);
    let below = 0;
    if (field.selectionSet && composite) {
      // A connection: the size goes to its sized fields (`records`), not to the connection itself.
      const sizedFields =
        rules?.sizedFields && rules.sizedFields.length > 0
          ? new Map(rules.sizedFields.map((f) => [f, listSize(coordinate, definition, field)] as const))
          : undefined;
      below = selectionCost(field.selectionSet, named as GraphQLCompositeType, sizedFields);
    }
    const isList = isListType(getNullableType(definition.type));
    const size = isList && !rules?.sizedFields?.length ? listSize(coordinate, definition, field, sized) : (sized ?? 1);
    return (model.weights.get(coordinate) ?? 0) + size * (itemCost + below);
  };

  const root = schema.getRootType(options.operation.operation);
  const cost = root ? selectionCost(options.operation.selectionSet, root) : 0;
  return { cost, readsVariables: [...readsVariables] };
}

/**
 * What an estimate reads of the named variables: a list's length, a number's
 * value, and of anything else only its kind. Equal keys, equal estimates.
 */
export function sizesKey(names: readonly string[], variables: Readonly<Record<string, unknown>>): string {
  let key = '';
  for (const name of names) {
    const value = variables[name];
    key += Array.isArray(value) ? `[${value.length}]` : typeof value === 'number' ? `#${value}` : `:${value === null ? 'null' : typeof value}`;
  }
  return key;
}

/** One field of an operation as the actual cost reads it: its response key, weight, per-item cost and children. */
interface CostNode {
  key: string;
  weight: number;
  /** Per object returned (0 for a leaf: then only `weight` counts). */
  itemCost: number;
  children: CostNode[] | null;
}

/**
 * The fields of an operation that the actual cost looks at, compiled once
 * per operation: fragments flattened into their selection sets (a field
 * selected twice under one key counted once), leaves without a weight left
 * out. Walking an answer along it costs a property read per object field.
 */
export function compileCostShape(options: Omit<CostOptions, 'variables' | 'defaultListSize'>): CostNode[] {
  const { schema, model } = options;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of options.document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const collect = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, into: Map<string, CostNode>, seen: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
        if (!definition) continue;
        const named = getNamedType(definition.type);
        const weight = model.weights.get(`${parent.name}.${name}`) ?? 0;
        const composite = isCompositeType(named);
        if (!composite && weight === 0) continue;
        const key = selection.alias?.value ?? name;
        let node = into.get(key);
        if (!node) into.set(key, (node = { key, weight, itemCost: composite ? (model.weights.get(named.name) ?? 1) : 0, children: null }));
        if (composite && selection.selectionSet) {
          const children = new Map((node.children ?? []).map((c) => [c.key, c] as const));
          collect(selection.selectionSet, named as GraphQLCompositeType, children, new Set());
          node.children = [...children.values()];
        }
      } else {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          if (seen.has(selection.name.value)) continue;
          seen.add(selection.name.value);
        }
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (!fragment) continue;
        const type = fragment.typeCondition ? (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined) : parent;
        collect(fragment.selectionSet, type ?? parent, into, seen);
      }
    }
  };
  const root = schema.getRootType(options.operation.operation);
  const nodes = new Map<string, CostNode>();
  if (root) collect(options.operation.selectionSet, root, nodes, new Set());
  return [...nodes.values()];
}

/** What an answer actually cost along a compiled shape ({@link compileCostShape}). */
export function costOfAnswer(shape: readonly CostNode[], data: Record<string, unknown> | null): number {
  if (!data) return 0;
  let total = 0;
  for (const node of shape) {
    total += node.weight;
    if (node.itemCost === 0 && node.children === null) continue;
    const value = data[node.key];
    if (Array.isArray(value)) {
      for (const item of value)
        if (item !== null && typeof item === 'object') total += node.itemCost + (node.children ? costOfAnswer(node.children, item) : 0);
    } else if (value !== null && typeof value === 'object') {
      total += node.itemCost + (node.children ? costOfAnswer(node.children, value as Record<string, unknown>) : 0);
    }
  }
  return total;
}
