import { buildSchema, parse, print, validate, visit } from 'graphql';
import { describe, expect, it } from 'vitest';
import { authorizeOperation, insertDeniedNulls } from '../../common/scopes/authorize-operation.js';
import { extractSecurityPolicy } from '../../common/scopes/security-policy.js';

const SDL = /* GraphQL */ `
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  type Query {
    person(id: ID!): Person @requiresScopes(scopes: [["a"], ["b"]])
    persons: [Person]
    holder(id: ID!): Holder
    record(id: ID!): Record
    public: String
  }
  type Person {
    id: ID!
    name: String @requiresScopes(scopes: [["a"]])
    secret: String @requiresScopes(scopes: [["a", "c"]])
    account: Account
  }
  type Account @requiresScopes(scopes: [["b"]]) { balance: String }
  type Organisation { code: ID! rating: String @requiresScopes(scopes: [["b"]]) }
  union Holder = Person | Organisation
  interface Record { id: ID! detail: String }
  type Penalty implements Record { id: ID! detail: String @requiresScopes(scopes: [["c"]]) }
  type Award implements Record { id: ID! detail: String }
`;
const schema = buildSchema(SDL);
const policy = extractSecurityPolicy(SDL);

function authorize(query: string, scopes: string[], operationName?: string) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  return authorizeOperation({ schema, document, operationName, policy, scopes: new Set(scopes) });
}

const paths = (result: ReturnType<typeof authorize>) => result.denied.map((d) => d.path.join('.'));

describe('authorizeOperation', () => {
  describe('requirement semantics (outer list OR, inner list AND)', () => {
    it('allows a field when any one alternative is held', () => {
      expect(authorize('{ person(id: 1) { id } }', ['b']).denied).toEqual([]);
      expect(authorize('{ person(id: 1) { id } }', ['a']).denied).toEqual([]);
    });

    it('denies a field when no alternative is wholly held', () => {
      const result = authorize('{ person(id: 1) { id name secret } }', ['a']);
      expect(result.denied).toEqual([{ path: ['person', 'secret'], coordinate: 'Person.secret' }]);
      expect(print(result.document!)).not.toContain('secret');
      expect(authorize('{ person(id: 1) { secret } }', ['a', 'c']).denied).toEqual([]);
    });

    it('applies type-level scopes to every field returning the type', () => {
      expect(paths(authorize('{ person(id: 1) { id account { balance } } }', ['a']))).toEqual(['person.account']);
      expect(authorize('{ person(id: 1) { id account { balance } } }', ['a', 'b']).denied).toEqual([]);
    });

    it('leaves unscoped fields to every authenticated caller', () => {
      const result = authorize('{ public }', []);
      expect(result.denied).toEqual([]);
      expect(result.document).not.toBeNull();
    });
  });

  describe('when the operation hides fields behind aliases and fragments', () => {
    it('reports denied paths under their aliases', () => {
      expect(paths(authorize('{ who: person(id: 1) { hidden: secret id } }', ['a']))).toEqual(['who.hidden']);
    });

    it('prunes inside named fragments, per place of use', () => {
      const result = authorize(
        `query Q { first: person(id: 1) { ...P } second: person(id: 2) { ...P } }
         fragment P on Person { id name secret }`,
        ['a'],
      );
      expect(paths(result)).toEqual(['first.secret', 'second.secret']);
      const printed = print(result.document!);
      expect(printed).not.toContain('fragment');
      expect(printed).not.toContain('secret');
      expect(printed).toContain('name');
    });

    it('prunes inside inline fragments on a union member', () => {
      const result = authorize('{ holder(id: 1) { ... on Person { id name } ... on Organisation { code rating } } }', ['a']);
      expect(result.denied).toEqual([{ path: ['holder', 'rating'], coordinate: 'Organisation.rating' }]);
    });

    it('requires every implementation’s scopes for a field read through an interface', () => {
      expect(paths(authorize('{ record(id: 1) { id detail } }', []))).toEqual(['record.detail']);
      expect(authorize('{ record(id: 1) { id detail } }', ['c']).denied).toEqual([]);
      // Through the concrete type only that type's requirement applies.
      expect(authorize('{ record(id: 1) { id ... on Award { detail } } }', []).denied).toEqual([]);
    });

    it('keeps @include/@skip but never lets them carry a denied field through', () => {
      const result = authorize('query Q($on: Boolean!) { person(id: 1) { id secret @include(if: $on) name @skip(if: $on) } }', ['a']);
      expect(paths(result)).toEqual(['person.secret']);
      expect(print(result.document!)).toContain('@skip(if: $on)');
    });

    it('picks the named operation of a multi-operation document', () => {
      const result = authorize('query A { public } query B { person(id: 1) { id secret } }', ['a'], 'B');
      expect(paths(result)).toEqual(['person.secret']);
    });
  });

  describe('when nothing requested below a field is allowed', () => {
    it('removes the field itself and reports it once', () => {
      expect(authorize('{ person(id: 1) { secret } }', ['a']).denied).toEqual([{ path: ['person'], coordinate: 'Query.person' }]);
    });

    it('returns no document when nothing at all is left', () => {
      const result = authorize('{ person(id: 1) { id } }', ['c']);
      expect(result.document).toBeNull();
      expect(paths(result)).toEqual(['person']);
    });
  });

  it('collects every scope the operation touches, granted or not, for purpose binding', () => {
    const result = authorize('{ person(id: 1) { name account { balance } } public }', ['a', 'b']);
    expect([...result.requestedScopes].sort()).toEqual(['a', 'b']);
    expect([...result.requestedCoordinates]).toContain('Account.balance');
  });

  it('returns the very same document when nothing is denied (no needless copies)', () => {
    const document = parse('{ person(id: 1) { id name } }');
    const result = authorizeOperation({ schema, document, policy, scopes: new Set(['a']) });
    expect(result.document).toBe(document);
  });

  it('inlines named fragments inside introspection fields too: the pruned document has no fragment definitions', () => {
    const result = authorize(
      '{ ...Root } fragment Root on Query { __schema { types { ...T } } } fragment T on __Type { name fields { ...F } } fragment F on __Field { name }',
      [],
    );
    expect(result.denied).toEqual([]);
    expect(result.document!.definitions).toHaveLength(1);
    // The pruned document stands alone: valid, with no spread left.
    expect(validate(schema, result.document!)).toEqual([]);
    let spreads = 0;
    visit(result.document!, { FragmentSpread: () => void spreads++ });
    expect(spreads).toBe(0);
  });
});

describe('insertDeniedNulls', () => {
  it('puts null at each denied path, through lists, leaving null parents alone', () => {
    const data: Record<string, unknown> = { persons: [{ id: '1' }, null, { id: '3' }], person: null };
    insertDeniedNulls(data, [
      { path: ['persons', 'secret'], coordinate: 'Person.secret' },
      { path: ['person', 'name'], coordinate: 'Person.name' },
      { path: ['other'], coordinate: 'Query.other' },
    ]);
    expect(data).toEqual({ persons: [{ id: '1', secret: null }, null, { id: '3', secret: null }], person: null, other: null });
  });

  describe('cost linear in the document', () => {
    /** Fragment Fk spreads F(k-1) twice: 2^levels copies once expanded, in a document of a few hundred bytes. */
    function doubling(levels: number, spread = (inner: string) => `...${inner} ...${inner}`): string {
      let query = `{ person(id: 1) { ...F${levels} } }\nfragment F0 on Person { id name secret }\n`;
      for (let k = 1; k <= levels; k++) query += `fragment F${k} on Person { ${spread(`F${k - 1}`)} }\n`;
      return query;
    }

    it('walks each named fragment once, however often it is spread: 30 doubling levels give a small pruned document', () => {
      const result = authorize(doubling(30), ['a']);
      // One denied field (F0's secret), reported once at its one response path.
      expect(result.denied).toEqual([{ path: ['person', 'secret'], coordinate: 'Person.secret' }]);
      const printed = print(result.document!);
      expect(printed.length).toBeLessThan(20_000);
      expect(printed).not.toContain('secret');
      expect(printed).toContain('name');
    });

    it('shares one node per fragment between its spreads, with and without their directives', () => {
      const result = authorize(
        doubling(24, (inner) => `...${inner} @include(if: true) ...${inner} @include(if: true)`),
        ['a'],
      );
      expect(print(result.document!).length).toBeLessThan(20_000);
      let spreadsOfF0 = 0;
      visit(result.document!, { Field: (node) => void (node.name.value === 'id' && spreadsOfF0++) });
      expect(spreadsOfF0).toBe(1);
    });

    it('reports a fragment denied on its type once per response path, each fragment listed once', () => {
      const query = `{ holder(id: 1) { ...H2 } }
        fragment O on Organisation { code rating }
        fragment H1 on Holder { ...O ...O }
        fragment H2 on Holder { ...H1 ...H1 }`;
      expect(paths(authorize(query, []))).toEqual(['holder.rating']);
    });
  });
});
