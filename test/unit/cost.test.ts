import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { stripSecurityFeatures } from '../../common/scopes/security-policy.js';
import { compileCostShape, costOfAnswer, estimateCost, estimateWithDependence, extractCostModel } from '../../gateway/limits/cost.js';
import type { GatewayContext } from '../../gateway/pipeline/context.js';
import type { OperationRequest } from '../../gateway/pipeline/plugin.js';
import { useDemandControl } from '../../gateway/plugins/demand-control.js';
import { WORKLOAD_QUERIES } from '../../scripts/bench/workloads.js';

const sdl = readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8');
const model = extractCostModel(sdl);
const schema = Supergraph.build(stripSecurityFeatures(sdl)).apiSchema().toGraphQLJSSchema();
const estimate = (query: string, variables: Record<string, unknown> = {}, defaultListSize = 10) => {
  const document = parse(query);
  return estimateCost({ schema, model, document, operation: getOperationAST(document)!, variables, defaultListSize });
};

describe('the cost model', () => {
  it('reads @listSize from the supergraph', () => {
    expect(model.listSizes.get('Household.members')).toEqual({ assumedSize: 6, slicingArguments: undefined, sizedFields: undefined });
    expect(model.listSizes.get('ProvidentFundAccount.deposits')?.slicingArguments).toEqual(['last']);
    expect(model.listSizes.get('Query.auditRecords')).toMatchObject({ slicingArguments: ['first'], sizedFields: ['records'] });
  });
});

describe('estimateCost', () => {
  it('costs 1 per object and 0 per leaf', () => {
    expect(estimate('{ person(idNumber: "x") { name sex } }')).toBe(1);
    expect(estimate('{ person(idNumber: "x") { name registration { status household { number } } } }')).toBe(3);
  });

  it('multiplies a list by its @listSize, by a slicing argument (given or its default), else by the default size', () => {
    expect(estimate('{ person(idNumber: "x") { migrations { date } } }')).toBe(1 + 5);
    expect(estimate('{ person(idNumber: "x") { providentFundAccounts { deposits(last: 2) { month } } } }')).toBe(1 + 3 * (1 + 2));
    expect(estimate('{ person(idNumber: "x") { providentFundAccounts { deposits { month } } } }')).toBe(1 + 3 * (1 + 12));
    expect(estimate('{ auditRecords(first: 7) { records { id } } }')).toBe(1 + 7);
    expect(estimate('{ person(idNumber: "x") { credit { records { title } } } }', {}, 10)).toBe(1 + 1 + 10);
  });

  it('counts the keys of a list argument, from a literal or a variable', () => {
    expect(estimate('{ persons(idNumbers: ["a", "b", "c"]) { name } }')).toBe(3);
    expect(estimate('query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', { ids: Array(5000).fill('x') })).toBe(5000);
    expect(estimate(WORKLOAD_QUERIES.BATCH, { ids: Array(50).fill('x') })).toBe(250);
    expect(estimate(WORKLOAD_QUERIES.DOSSIER, { id: 'x' })).toBe(15);
  });

  it('costs a fragment spread twice in one place once, and introspection nothing', () => {
    let query = '{ organisation(creditCode: "x") { ...F30 } }\nfragment F0 on Organisation { name region { fullName } }\n';
    for (let k = 1; k <= 30; k++) query += `fragment F${k} on Organisation { ...F${k - 1} ...F${k - 1} }\n`;
    expect(estimate(query)).toBe(2);
    expect(estimate('{ __schema { types { name fields { name } } } }')).toBe(0);
  });
});

describe('the actual cost', () => {
  it('counts the objects that came back', () => {
    const document = parse('{ persons(idNumbers: ["a", "b", "c"]) { name registration { status } } }');
    const data = { persons: [{ name: 'a', registration: { status: 'X' } }, null, { name: 'c', registration: null }] };
    expect(costOfAnswer(compileCostShape({ schema, model, document, operation: getOperationAST(document)! }), data)).toBe(3);
  });

  it('counts through fragments', () => {
    const document = parse(
      '{ person(idNumber: "x") { ...P ... on Person { licences { title } } } } fragment P on Person { name providentFundAccounts { status } }',
    );
    const data = { person: { name: 'x', providentFundAccounts: [{ status: 'A' }, { status: 'B' }], licences: [{ title: 't' }] } };
    const operation = getOperationAST(document)!;
    // The person, two accounts, one licence.
    expect(costOfAnswer(compileCostShape({ schema, model, document, operation }), data)).toBe(1 + 2 + 1);
  });
});

describe('whether an estimate depends on the variables', () => {
  it('is fixed for a dossier by id, and not for a batch whose keys are a variable', () => {
    const of = (query: string, variables: Record<string, unknown>) => {
      const document = parse(query);
      return estimateWithDependence({ schema, model, document, operation: getOperationAST(document)!, variables, defaultListSize: 10 })
        .readsVariables;
    };
    expect(of(WORKLOAD_QUERIES.DOSSIER, { id: 'x' })).toEqual([]);
    expect(of(WORKLOAD_QUERIES.BATCH, { ids: ['x'] })).toEqual(['ids']);
    expect(of('query($n: Int) { person(idNumber: "x") { providentFundAccounts { deposits(last: $n) { month } } } }', { n: 2 })).toEqual(['n']);
    // A list written out has its length whatever its variables hold.
    expect(of('query($a: ID!) { persons(idNumbers: [$a, "b"]) { name } }', { a: 'x' })).toEqual([]);
  });
});

describe('the demand-control plugin', () => {
  // One parsed operation asked again and again with other variables, as the engine's document cache hands it out.
  const run = (query: string) => {
    const plugin = useDemandControl({ model: () => model, maxCost: 100_000 });
    const document = parse(query);
    const operation = getOperationAST(document)!;
    return (variables: Record<string, unknown>) => {
      const context = { cost: null } as unknown as GatewayContext;
      const resolved: OperationRequest = { schema, document, queryHash: '', operation, operationName: null, query, variables };
      expect(plugin.onOperation!(resolved, context)).toBeUndefined();
      return context.cost!.estimated;
    };
  };

  it('estimates each batch size anew, whatever it estimated for the operation before', () => {
    const batch = run(WORKLOAD_QUERIES.BATCH);
    const sizes = [50, 3, 50, 5000, 3, 0];
    expect(sizes.map((n) => batch({ ids: Array(n).fill('x') }))).toEqual(
      sizes.map((n) => estimate(WORKLOAD_QUERIES.BATCH, { ids: Array(n).fill('x') })),
    );
    expect(batch({ ids: Array(5000).fill('x') })).toBe(5 * 5000);
  });

  it('keeps apart estimates of one operation sized by two variables, a page size given or null', () => {
    const query = 'query($n: Int, $ids: [ID!]!) { persons(idNumbers: $ids) { providentFundAccounts { deposits(last: $n) { month } } } }';
    const paged = run(query);
    const cases: Record<string, unknown>[] = [
      { n: 2, ids: ['a'] },
      { n: null, ids: ['a'] },
      { n: null, ids: ['a', 'b', 'c'] },
      { n: 2, ids: ['a', 'b'] },
      { n: 7, ids: ['a'] },
      { n: null, ids: ['a'] },
    ];
    expect(cases.map((variables) => paged(variables))).toEqual(cases.map((variables) => estimate(query, variables)));
  });
});
