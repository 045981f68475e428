import { buildSchema, getOperationAST, parse, validate, type FieldNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compileResponseShape, shapeResponse, type ShapeError } from '../../gateway/execution/response-shape.js';
import { MASKED_FIELDS, maskIdNumber } from '../../gateway/authorization/masking.js';

/**
 * The response shape turns the merged subgraph data into exactly what the
 * operation asked for. The input of each test is what a plan's fetches would
 * have merged: keys and `__typename` the client never asked for included.
 */

const schema = buildSchema(/* GraphQL */ `
  type Query {
    person(id: ID!): Person
    me: Person!
    persons: [Person]!
    strictPersons: [Person!]
    holder(id: ID!): Holder
    holders: [Holder]
    node: Node
    team: Team
    count: Int
  }
  interface Node { id: ID! }
  type Person implements Node {
    id: ID!
    idNumber: ID!
    name: String!
    nickname: String
    age: Int
    level: Int!
    colour: Colour
    tags: [String!]
    home: Place
  }
  type Organisation implements Node { id: ID! creditCode: ID! name: String! }
  union Holder = Person | Organisation
  type Place { city: String postcode: String }
  type Team { name: String crew: [Person!]! }
  enum Colour { RED GREEN }
`);

const ID_NUMBER = '11010519491231002X';

function run(
  query: string,
  input: Record<string, unknown>,
  options: { variables?: Record<string, unknown>; mask?: boolean; introspect?: (field: FieldNode) => unknown } = {},
) {
  const document = parse(query);
  // Operations here are valid against the schema, as the engine's are by the time they are shaped.
  expect(validate(schema, document)).toEqual([]);
  const shape = compileResponseShape(schema, getOperationAST(document)!);
  const errors: ShapeError[] = [];
  const data = shapeResponse(shape, input, {
    schema,
    variables: options.variables ?? {},
    mask: options.mask ?? false,
    errors,
    introspect:
      options.introspect ??
      (() => {
        throw new Error('no introspection expected');
      }),
  });
  return { data, errors };
}

describe('response shape', () => {
  describe('when the plan fetched more than was asked', () => {
    it('drops keys, __typename and fields the operation did not select', () => {
      const { data, errors } = run('{ person(id: "1") { name home { city } } }', {
        person: {
          __typename: 'Person',
          id: '1',
          idNumber: ID_NUMBER,
          name: '张三',
          age: 40,
          home: { __typename: 'Place', city: '拉萨', postcode: '850000' },
        },
      });
      expect(errors).toEqual([]);
      expect(data).toStrictEqual({ person: { name: '张三', home: { city: '拉萨' } } });
    });

    it('answers a field absent from the merged data (a failed fetch) as null', () => {
      const { data, errors } = run('{ person(id: "1") { name nickname } count }', { person: { __typename: 'Person', name: '张三' } });
      expect(data).toStrictEqual({ person: { name: '张三', nickname: null }, count: null });
      expect(errors).toEqual([]);
    });
  });

  describe('aliases and fragments', () => {
    it('reads and writes each field under its alias', () => {
      const { data } = run('{ a: person(id: "1") { who: name again: name } b: person(id: "2") { name } }', {
        a: { __typename: 'Person', who: '张三', again: '张三', name: 'not asked under this key' },
        b: { __typename: 'Person', name: '李四' },
      });
      expect(data).toStrictEqual({ a: { who: '张三', again: '张三' }, b: { name: '李四' } });
    });

    it('merges the same field selected through two fragments into one object', () => {
      const { data } = run('{ person(id: "1") { ... on Person { home { city } } ... on Node { ... on Person { home { postcode } name } } } }', {
        person: { __typename: 'Person', name: '张三', home: { city: '拉萨', postcode: '850000' } },
      });
      expect(data).toStrictEqual({ person: { home: { city: '拉萨', postcode: '850000' }, name: '张三' } });
    });

    it('applies the inline fragments of a union by each object’s __typename', () => {
      const { data } = run('{ holders { __typename ... on Person { name idNumber } ... on Organisation { name creditCode } } }', {
        holders: [
          { __typename: 'Organisation', name: '雪域公司', creditCode: '91540102900000014B', idNumber: 'never' },
          null,
          { __typename: 'Person', name: '张三', idNumber: ID_NUMBER, creditCode: 'never' },
        ],
      });
      expect(data).toStrictEqual({
        holders: [
          { __typename: 'Organisation', name: '雪域公司', creditCode: '91540102900000014B' },
          null,
          { __typename: 'Person', name: '张三', idNumber: ID_NUMBER },
        ],
      });
    });

    it('applies a fragment on an interface to every implementation, and a fragment on one type only to it', () => {
      const query = '{ node { id ... on Person { nickname } } holder(id: "o") { ... on Node { id } } }';
      const { data } = run(query, {
        node: { __typename: 'Organisation', id: 'o', nickname: 'not a field of Organisation' },
        holder: { __typename: 'Organisation', id: 'o' },
      });
      expect(data).toStrictEqual({ node: { id: 'o' }, holder: { id: 'o' } });
    });
  });

  describe('__typename', () => {
    it('answers the runtime type, also under an alias, and the static type when the data does not name it', () => {
      const { data } = run(
        '{ __typename person(id: "1") { __typename kind: __typename } node { __typename t: __typename ... on Node { n: __typename } } }',
        {
          person: { name: '张三' },
          node: { __typename: 'Organisation', id: 'o' },
        },
      );
      expect(data).toStrictEqual({
        __typename: 'Query',
        person: { __typename: 'Person', kind: 'Person' },
        // Inside a fragment on the interface, an alias the data lacks is answered from the object's __typename.
        node: { __typename: 'Organisation', t: 'Organisation', n: 'Organisation' },
      });
    });
  });

  describe('@skip and @include', () => {
    const query = /* GraphQL */ `
      query($yes: Boolean!, $no: Boolean!) {
        person(id: "1") {
          name @skip(if: true)
          idNumber @include(if: false)
          nickname @include(if: $yes)
          age @skip(if: $no)
          ... on Person @include(if: $yes) { colour }
        }
      }
    `;
    const input = { person: { __typename: 'Person', name: '张三', idNumber: ID_NUMBER, nickname: '小张', age: 40, colour: 'RED' } };

    it('leaves out what a literal condition excludes', () => {
      const { data } = run(query, input, { variables: { yes: true, no: false } });
      expect(data!.person).not.toHaveProperty('name');
      expect(data!.person).not.toHaveProperty('idNumber');
    });

    it('reads variable conditions per request from one compiled shape', () => {
      const document = parse(query);
      const shape = compileResponseShape(schema, getOperationAST(document)!);
      const shapeWith = (variables: Record<string, unknown>) =>
        shapeResponse(shape, input, { schema, variables, mask: false, errors: [], introspect: () => null });
      expect(shapeWith({ yes: true, no: false })).toStrictEqual({ person: { nickname: '小张', age: 40, colour: 'RED' } });
      expect(shapeWith({ yes: false, no: true })).toStrictEqual({ person: {} });
    });
  });

  describe('null in a non-null position', () => {
    it('nulls the nearest nullable parent with one error naming the path', () => {
      const { data, errors } = run('{ person(id: "1") { name nickname } count }', {
        person: { __typename: 'Person', name: null, nickname: '小张' },
        count: 3,
      });
      expect(data).toStrictEqual({ person: null, count: 3 });
      expect(errors).toEqual([{ message: 'Cannot return null for non-nullable field Person.name.', path: ['person', 'name'] }]);
    });

    it('bubbles through several non-null levels and still reports only once', () => {
      const { data, errors } = run('{ team { name crew { name } } count }', {
        team: {
          name: '一组',
          crew: [
            { __typename: 'Person', name: '张三' },
            { __typename: 'Person', name: null },
          ],
        },
        count: 1,
      });
      // crew[1].name is String! → crew[1] (Person!) → crew ([Person!]!) → team, the first nullable.
      expect(data).toStrictEqual({ team: null, count: 1 });
      expect(errors).toHaveLength(1);
      expect(errors[0].path).toEqual(['team', 'crew', 1, 'name']);
    });

    it('nulls the whole data when the null reaches a non-null root field', () => {
      const { data, errors } = run('{ me { name } count }', { me: { __typename: 'Person', name: null }, count: 1 });
      expect(data).toBeNull();
      expect(errors).toEqual([{ message: 'Cannot return null for non-nullable field Person.name.', path: ['me', 'name'] }]);
    });

    it('nulls a [T!] list when one item is null, and keeps null items of a [T] list', () => {
      const { data, errors } = run('{ strictPersons { name } persons { name } person(id: "1") { tags name } }', {
        strictPersons: [{ __typename: 'Person', name: 'a' }, null, { __typename: 'Person', name: 'c' }],
        persons: [{ __typename: 'Person', name: 'a' }, null],
        person: { __typename: 'Person', tags: ['x', null], name: '张三' },
      });
      expect(data).toStrictEqual({ strictPersons: null, persons: [{ name: 'a' }, null], person: { tags: null, name: '张三' } });
      expect(errors.map((e) => e.path)).toEqual([
        ['strictPersons', 1],
        ['person', 'tags', 1],
      ]);
      expect(errors[0].message).toBe('Cannot return null for non-nullable array element of type Person at index 1.');
    });
  });

  describe('leaf values', () => {
    it.each([
      ['an enum value the schema does not have', 'colour', 'BLUE'],
      ['a fraction for an Int', 'age', 1.5],
      ['an Int out of 32-bit range', 'age', 2 ** 31],
      ['a string for an Int', 'age', '40'],
    ])('nulls %s with an error at its path', (_case, field, value) => {
      const { data, errors } = run(`{ person(id: "1") { name ${field} } }`, { person: { __typename: 'Person', name: '张三', [field]: value } });
      expect(data).toStrictEqual({ person: { name: '张三', [field]: null } });
      expect(errors).toEqual([{ message: `Invalid value found for field Person.${field}.`, path: ['person', field] }]);
    });

    it('keeps valid values of every built-in kind', () => {
      const { data, errors } = run('{ person(id: "1") { id age colour tags } }', {
        person: { __typename: 'Person', id: 7, age: -2147483648, colour: 'GREEN', tags: [] },
      });
      expect(errors).toEqual([]);
      expect(data).toStrictEqual({ person: { id: 7, age: -2147483648, colour: 'GREEN', tags: [] } });
    });

    it('reports an invalid value in a non-null position once, and nulls the parent', () => {
      const { data, errors } = run('{ person(id: "1") { name level } }', { person: { __typename: 'Person', name: '张三', level: 'high' } });
      expect(data).toStrictEqual({ person: null });
      expect(errors).toEqual([{ message: 'Invalid value found for field Person.level.', path: ['person', 'level'] }]);
    });
  });

  describe('masking of personal identifiers', () => {
    it('is configured for Person.idNumber (the coordinate this schema shares with the gateway’s)', () => {
      expect(MASKED_FIELDS.has('Person.idNumber')).toBe(true);
    });

    const query =
      '{ person(id: "1") { idNumber alias: idNumber id } holder(id: "1") { ... on Person { idNumber } ... on Organisation { creditCode } } }';
    const input = () => ({
      person: { __typename: 'Person', idNumber: ID_NUMBER, alias: ID_NUMBER, id: ID_NUMBER },
      holder: { __typename: 'Person', idNumber: ID_NUMBER },
    });

    it('masks Person.idNumber, under aliases and through fragments, when the request may not see it', () => {
      const merged = input();
      const { data } = run(query, merged, { mask: true });
      const masked = maskIdNumber(ID_NUMBER);
      expect(masked).not.toBe(ID_NUMBER);
      // Person.id is not a masked coordinate, even holding the same value.
      expect(data).toStrictEqual({ person: { idNumber: masked, alias: masked, id: ID_NUMBER }, holder: { idNumber: masked } });
      // The merged data (where the ID number is the entity key) is left whole.
      expect(merged.person.idNumber).toBe(ID_NUMBER);
    });

    it('leaves it whole when the request may see it unmasked', () => {
      const { data } = run(query, input(), { mask: false });
      expect(data).toStrictEqual({ person: { idNumber: ID_NUMBER, alias: ID_NUMBER, id: ID_NUMBER }, holder: { idNumber: ID_NUMBER } });
    });

    it('masks once when the same field is selected twice', () => {
      const { data } = run(
        '{ person(id: "1") { idNumber ... on Person { idNumber } } }',
        { person: { __typename: 'Person', idNumber: ID_NUMBER } },
        { mask: true },
      );
      expect(data).toStrictEqual({ person: { idNumber: maskIdNumber(ID_NUMBER) } });
    });
  });

  describe('introspection at the root', () => {
    it('answers __schema and __type from the schema, not from the merged data', () => {
      const asked: string[] = [];
      const { data } = run(
        '{ s: __schema { queryType { name } } __type(name: "Person") { name } count }',
        { s: 'from a subgraph?', count: 2 },
        {
          introspect: (field) => {
            asked.push(field.name.value);
            return field.name.value === '__schema' ? { queryType: { name: 'Query' } } : { name: 'Person' };
          },
        },
      );
      expect(asked).toEqual(['__schema', '__type']);
      expect(data).toStrictEqual({ s: { queryType: { name: 'Query' } }, __type: { name: 'Person' }, count: 2 });
    });
  });

  it('refuses named fragments: they must be inlined (by the operation guard) before shaping', () => {
    const document = parse('{ person(id: "1") { ...F } } fragment F on Person { name }');
    expect(() => compileResponseShape(schema, getOperationAST(document)!)).toThrow(/inlined/);
  });
});
