import { readFileSync } from 'node:fs';
import { getIntrospectionQuery, getOperationAST, parse, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema, print, validate } from 'graphql';
import { extractSecurityPolicy } from '../../common/scopes/security-policy.js';
import { createOperationGuard } from '../../gateway/authorization/operation-guard.js';
import { stoppedByTokenLimit } from '../../gateway/execution/engine.js';
import { measureOperation } from '../../gateway/limits/measure.js';
import { limitErrors, OPERATION_LIMIT_RANGES, useOperationLimits } from '../../gateway/plugins/operation-limits.js';
import { WORKLOAD_QUERIES } from '../../scripts/bench/workloads.js';
import { FULL_DOSSIER } from '../support/queries.js';

const measure = (query: string) => {
  const document = parse(query);
  return measureOperation(document, getOperationAST(document)!);
};

/** The queries of the README's tour (the `"query":"…"` of each curl). */
function readmeQueries(): string[] {
  // A shell variable spliced into a curl body ('"$DOC"') stands for a string.
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replaceAll(/'"\$(\w+)"'/g, '$1');
  return [...readme.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)].map((match) => JSON.parse(`"${match[1]}"`) as string);
}

describe('measureOperation', () => {
  it('counts depth, aliases, root fields, fields and directives through fragments', () => {
    expect(
      measure(`query Q($skip: Boolean!) {
        a: person(idNumber: "1") { name ...P }
        b: person(idNumber: "2") @skip(if: $skip) { ...P ... on Person { sex } }
        __typename
      }
      fragment P on Person { registration { household { number } } }`),
    ).toEqual({ depth: 4, aliases: 2, rootFields: 3, fields: 11, directives: 1 });
  });

  it('measures the expansion without expanding: 40 levels of fragments each used twice apart are 2^40 fields', () => {
    let query = '{ organisation(creditCode: "x") { ...F40 } }\nfragment F0 on Organisation { name }\n';
    for (let k = 1; k <= 40; k++)
      query += `fragment F${k} on Organisation { ... on Organisation { ...F${k - 1} } ... on Organisation { ...F${k - 1} } }\n`;
    expect(measure(query).fields).toBe(1 + 2 ** 40);
  });

  it('counts a fragment spread twice in one place once, as the gateway keeps it once', () => {
    let query = '{ organisation(creditCode: "x") { ...F30 } }\nfragment F0 on Organisation { name creditCode }\n';
    for (let k = 1; k <= 30; k++) query += `fragment F${k} on Organisation { ...F${k - 1} ...F${k - 1} }\n`;
    expect(measure(query)).toMatchObject({ depth: 2, fields: 3 });
  });
});

describe('the default limits', () => {
  const defaults = Object.fromEntries(Object.entries(OPERATION_LIMIT_RANGES).map(([name, range]) => [name, range.default])) as Record<string, number>;
  const queries: [string, string][] = [
    ['the full dossier', FULL_DOSSIER],
    [
      'the introspection query',
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }),
    ],
    ...Object.entries(WORKLOAD_QUERIES).map(([name, query]) => [`the bench's ${name}`, query] as [string, string]),
    ...readmeQueries().map((query, i) => [`README query ${i + 1}`, query] as [string, string]),
  ];

  it('find the README tour', () => expect(queries.length).toBeGreaterThanOrEqual(10));

  for (const [name, query] of queries) {
    it(`leave room for ${name}: every measure at most three quarters of its limit`, () => {
      const measured = measure(query);
      for (const limit of ['depth', 'aliases', 'rootFields', 'fields', 'directives'] as const)
        expect(`${limit} ${measured[limit]}`).toBe(`${limit} ${Math.min(measured[limit], Math.floor(defaults[limit] * 0.75))}`);
    });
  }

  it('name each limit exceeded, with its maximum and the actual value', () => {
    const errors = limitErrors(
      { depth: 30, aliases: 0, rootFields: 1, fields: Number.POSITIVE_INFINITY, directives: 0 },
      {
        depth: 24,
        aliases: 30,
        rootFields: 10,
        fields: 2000,
        directives: 50,
      },
    );
    expect(errors.map((e) => e.extensions)).toEqual([
      { code: 'OPERATION_LIMIT_EXCEEDED', limit: 'depth', maximum: 24, actual: 30 },
      { code: 'OPERATION_LIMIT_EXCEEDED', limit: 'fields', maximum: 2000, actual: Number.MAX_SAFE_INTEGER },
    ]);
  });

  it('refuse an out-of-range limit at start-up', () => {
    expect(() => useOperationLimits({ depth: 0 })).toThrow(/depth must be a whole number from 1/);
    expect(() => useOperationLimits({ fields: 1.5 })).toThrow(/fields/);
  });
});

describe('the authorisation cache', () => {
  it('weighs a decision by what it holds: a short query whose fragments expand weighs its pruned document', () => {
    const sdl = 'type Query { item(id: ID!): Item } type Item { item(id: ID!): Item a: String b: String c: String d: String e: String }';
    const schema = buildSchema(sdl);
    let query = '{ item(id: 1) { ...F5 } }\nfragment F0 on Item { a b c d e }\n';
    for (let k = 1; k <= 5; k++) query += `fragment F${k} on Item { x${k}: item(id: 1) { ...F${k - 1} } y${k}: item(id: 2) { ...F${k - 1} } }\n`;
    const document = parse(query);
    expect(validate(schema, document)).toEqual([]);
    const guard = createOperationGuard({ policy: () => ({ policy: extractSecurityPolicy(sdl), version: 1 }), cacheCharacters: 4000 });
    const first = guard.authorise(schema, document, 'h', null, new Set(), query.length);
    expect(first.weight).toBeGreaterThan(4000);
    expect(first.weight).toBeGreaterThanOrEqual(print(first.document!).length);
    expect(query.length).toBeLessThan(1000);
    // Heavier than the whole cache: not kept, so the next request decides anew.
    expect(guard.authorise(schema, document, 'h', null, new Set(), query.length)).not.toBe(first);
    const small = parse('{ item(id: 1) { a } }');
    const kept = guard.authorise(schema, small, 's', null, new Set(), 20);
    expect(guard.authorise(schema, small, 's', null, new Set(), 20)).toBe(kept);
  });
});

describe('the token limit, told from a syntax error by position', () => {
  const parseError = (query: string, maxTokens: number) => {
    try {
      parse(query, { maxTokens });
    } catch (error) {
      return error as GraphQLError;
    }
    throw new Error('parsed');
  };

  it('is the limit when the parser stopped at the first token past it', () => {
    const query = `{ ${'a '.repeat(50)}}`; // 52 tokens
    expect(stoppedByTokenLimit(query, 20, parseError(query, 20))).toBe(true);
    // Comments are not tokens, for the parser as for the count.
    const commented = `# a comment\n{ ${'a # note\n'.repeat(50)}}`;
    expect(stoppedByTokenLimit(commented, 20, parseError(commented, 20))).toBe(true);
  });

  it('is a syntax error when the document breaks before the limit, however long it is', () => {
    const query = `{ a ) ${'b '.repeat(100)}}`; // the ")" is token 3; the document has over 100
    const error = parseError(query, 20);
    expect(error.message).toMatch(/^Syntax Error: Expected Name, found "\)"/);
    expect(stoppedByTokenLimit(query, 20, error)).toBe(false);
    const lexical = '{ a "unterminated';
    expect(stoppedByTokenLimit(lexical, 20, parseError(lexical, 20))).toBe(false);
  });
});
