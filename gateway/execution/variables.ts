import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLString,
  Kind,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';

/**
 * A quick test of an operation's variables, in front of graphql-js's
 * `getVariableValues`: true only when every value is plainly valid for its
 * type (a string for an `ID!`, an array of strings for `[ID!]!`, …), in
 * which case `getVariableValues` would find nothing wrong either. False
 * means "not sure": the caller then runs `getVariableValues`, which gives
 * the errors. Only the built-in scalars, lists and non-null are tested this
 * way; an operation with an enum or input object variable has no quick test
 * (`variableCheck` returns null).
 *
 * The gateway passes the variables on as the client sent them (the
 * subgraphs coerce them again), so it needs graphql-js only for the answer
 * "valid or not"; on a 50-person batch check, coercing the list was 3 % of
 * the main thread.
 */
export type VariableCheck = (provided: Record<string, unknown>) => boolean;

type ValueCheck = (value: unknown) => boolean;

const MAX_INT = 2147483647;
const MIN_INT = -2147483648;

/** Non-null values each built-in scalar's `parseValue` accepts without converting. */
const SCALARS = new Map<GraphQLNamedType, ValueCheck>([
  [GraphQLID, (v) => typeof v === 'string'],
  [GraphQLString, (v) => typeof v === 'string'],
  [GraphQLBoolean, (v) => typeof v === 'boolean'],
  [GraphQLInt, (v) => typeof v === 'number' && Number.isInteger(v) && v <= MAX_INT && v >= MIN_INT],
  [GraphQLFloat, (v) => typeof v === 'number' && Number.isFinite(v)],
]);

/** The test of a value of a type, null allowed unless the type is non-null; null when the type has no quick test. */
function valueCheck(schema: GraphQLSchema, type: TypeNode): ValueCheck | null {
  switch (type.kind) {
    case Kind.NON_NULL_TYPE: {
      const inner = valueCheck(schema, type.type);
      return inner && ((v) => v !== null && v !== undefined && inner(v));
    }
    case Kind.LIST_TYPE: {
      const item = valueCheck(schema, type.type);
      // A single value where a list is expected is valid too (coerced to a list of one), but not plainly: left to graphql-js.
      return item && ((v) => v === null || v === undefined || (Array.isArray(v) && v.every(item)));
    }
    case Kind.NAMED_TYPE: {
      const named = schema.getType(type.name.value);
      const scalar = named ? SCALARS.get(named) : undefined;
      return scalar ? (v) => v === null || v === undefined || scalar(v) : null;
    }
    default:
      return null;
  }
}

/** The quick test of an operation's variables, or null when one of its variables has a type without one. */
export function variableCheck(schema: GraphQLSchema, operation: OperationDefinitionNode): VariableCheck | null {
  const checks: { name: string; check: ValueCheck; optional: boolean }[] = [];
  for (const definition of operation.variableDefinitions ?? []) {
    const check = valueCheck(schema, definition.type);
    if (!check) return null;
    // Left out: valid when the variable may be null or has a default (validation checked the default).
    checks.push({
      name: definition.variable.name.value,
      check,
      optional: definition.type.kind !== Kind.NON_NULL_TYPE || definition.defaultValue !== undefined,
    });
  }
  return (provided) => {
    for (const { name, check, optional } of checks) {
      if (!Object.hasOwn(provided, name)) {
        if (!optional) return false;
      } else if (!check(provided[name])) return false;
    }
    return true;
  };
}
