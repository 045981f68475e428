import { buildSchema, getOperationAST, getVariableValues, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { variableCheck } from '../../gateway/execution/variables.js';

const schema = buildSchema(`
  enum Sex { MALE FEMALE }
  input Range { from: Int! to: Int! }
  scalar Date
  type Query { q(a: ID, b: [ID!], c: String, d: Int, e: Float, f: Boolean, g: Sex, h: Range, i: Date, j: [[Int]]): Int }
`);

const operation = (variables: string) => getOperationAST(parse(`query Q(${variables}) { q }`))!;

/** What graphql-js says of the values: valid or not. */
const graphqlAccepts = (variables: string, provided: Record<string, unknown>) =>
  getVariableValues(schema, operation(variables).variableDefinitions ?? [], provided).errors === undefined;

const TYPES = ['ID', 'ID!', '[ID!]!', '[ID]', 'String!', 'Int', 'Int!', 'Float!', 'Boolean!', '[[Int]]', '[Int!]'];
const VALUES: unknown[] = [
  '110101199003071234',
  '',
  '户籍',
  7,
  -0,
  2.5,
  2147483647,
  2147483648,
  -2147483649,
  Number.NaN,
  Infinity,
  true,
  false,
  null,
  undefined,
  [],
  ['a', 'b'],
  ['a', null],
  ['a', 1],
  [1, 2],
  [[1, null], null],
  [[1], [2.5]],
  {},
  { length: 1, 0: 'a' },
];

describe('variableCheck', () => {
  it('passes only values graphql-js accepts, for every type and value tried', () => {
    let passed = 0;
    for (const type of TYPES) {
      const check = variableCheck(schema, operation(`$v: ${type}`))!;
      expect(check).not.toBeNull();
      for (const value of VALUES) {
        const provided = value === undefined ? {} : { v: value };
        if (check(provided)) {
          passed++;
          expect({ type, value, accepted: graphqlAccepts(`$v: ${type}`, provided) }).toEqual({ type, value, accepted: true });
        }
      }
    }
    // The quick test is used, not only safe: most valid combinations pass it.
    expect(passed).toBeGreaterThan(40);
  });

  it('passes the plain cases the gateway sees, so graphql-js is not needed for them', () => {
    const batch = variableCheck(schema, operation('$ids: [ID!]!, $n: Int = 5, $flag: Boolean'))!;
    expect(batch({ ids: ['110101199003071234', '110101199003071235'] })).toBe(true);
    expect(batch({ ids: [], n: 3, flag: null })).toBe(true);
  });

  it.each([
    ['a required variable left out', '$ids: [ID!]!', {}],
    ['null for a non-null', '$id: ID!', { id: null }],
    ['a number for a String', '$s: String!', { s: 1 }],
    ['one ID where a list is expected (valid, but for graphql-js to coerce)', '$ids: [ID!]!', { ids: 'x' }],
    ['a null item in a list of non-null', '$ids: [ID!]!', { ids: ['a', null] }],
    ['an Int beyond 32 bits', '$n: Int!', { n: 2 ** 31 }],
    ['an integer for an ID (valid, but converted by graphql-js)', '$id: ID!', { id: 7 }],
  ])('leaves %s to graphql-js', (_case, variables, provided) => {
    expect(variableCheck(schema, operation(variables))!(provided)).toBe(false);
  });

  it('has no quick test for enums, input objects and custom scalars', () => {
    for (const variables of ['$g: Sex', '$h: Range', '$i: Date', '$a: ID, $g: Sex']) expect(variableCheck(schema, operation(variables))).toBeNull();
  });

  it('accepts a left-out non-null variable that has a default, and a left-out nullable one', () => {
    const check = variableCheck(schema, operation('$n: Int! = 5, $c: String'))!;
    expect(check({})).toBe(true);
    expect(graphqlAccepts('$n: Int! = 5, $c: String', {})).toBe(true);
  });
});
