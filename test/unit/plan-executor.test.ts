import type { FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode } from '@apollo/query-planner';
import { buildSchema, OperationTypeNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deepMerge, executePlan, isSupportedPlan, type PlanError } from '../../gateway/execution/plan-executor.js';
import type { SubgraphResponse } from '../../gateway/execution/subgraph-client.js';

/**
 * The plan executor is pure logic over a `send` function: here `send` is a
 * fake standing in for the HTTP client, answering per subgraph and recording
 * every request body exactly as it would have gone on the wire.
 */

// The executor reads the supergraph only for type conditions of `requires`.
const supergraph = buildSchema(/* GraphQL */ `
  type Query { person(id: ID!): Person persons(ids: [ID!]!): [Person]! holders: [Holder] }
  type Person { idNumber: ID! name: String birthPlace: Region credit: Credit }
  type Organisation { creditCode: ID! name: String credit: Credit }
  union Holder = Person | Organisation
  type Region { code: ID! name: String }
  type Credit { score: Int }
`);

const field = (name: string, selections?: QueryPlanSelectionNode[]): QueryPlanSelectionNode => ({
  kind: 'Field',
  name,
  ...(selections ? { selections } : {}),
});
const on = (typeCondition: string, selections: QueryPlanSelectionNode[]): QueryPlanSelectionNode => ({
  kind: 'InlineFragment',
  typeCondition,
  selections,
});

function fetchNode(serviceName: string, operation: string, extra: Partial<FetchNode> = {}): FetchNode {
  return { kind: 'Fetch', serviceName, operation, operationName: undefined, operationKind: OperationTypeNode.QUERY, ...extra };
}

/** An entity fetch of Person.credit, keyed by idNumber (and birthPlace.code, to show nested requires). */
const creditOfPerson = fetchNode(
  'credit',
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Person{credit{score}}}}',
  {
    requires: [on('Person', [field('__typename'), field('idNumber'), field('birthPlace', [field('code')])])],
  },
);

interface Sent {
  serviceName: string;
  body: { query: string; operationName?: string; variables: Record<string, unknown> };
}

type Answer = SubgraphResponse | ((variables: Record<string, unknown>) => SubgraphResponse | Promise<SubgraphResponse>);

/** Runs a plan against fake subgraphs; an answer that is an Error is thrown by `send`. */
async function run(node: PlanNode, answers: Record<string, Answer | Error>, variables: Record<string, unknown> = {}) {
  const sent: Sent[] = [];
  const errors: PlanError[] = [];
  const unavailable: { serviceName: string; error: unknown }[] = [];
  const data = await executePlan({ kind: 'QueryPlan', node }, supergraph, {
    variables,
    errors,
    send: async (serviceName, body) => {
      const parsed = JSON.parse(body) as Sent['body'];
      sent.push({ serviceName, body: parsed });
      const answer = answers[serviceName];
      if (answer === undefined) throw new Error(`the test gave no answer for ${serviceName}`);
      if (answer instanceof Error) throw answer;
      return typeof answer === 'function' ? answer(parsed.variables) : structuredClone(answer);
    },
    unavailable: (serviceName, error) => {
      unavailable.push({ serviceName, error });
      return { message: `The ${serviceName} domain is unavailable.`, extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain: serviceName } };
    },
  });
  return { data, sent, errors, unavailable };
}

/** Answers `_entities` with a credit score per representation, from its idNumber. */
const scoreByIdNumber = (scores: Record<string, number>) => (variables: Record<string, unknown>) => ({
  data: {
    _entities: (variables.representations as { idNumber: string }[]).map((r) => ({ credit: { score: scores[r.idNumber] } })),
  },
});

describe('plan executor', () => {
  describe('a root fetch, then an entity fetch flattened at ["person"]', () => {
    const personFetch = fetchNode('household', 'query Q__household__0($id:ID!){person(id:$id){__typename idNumber name birthPlace{code name}}}', {
      operationName: 'Q__household__0',
      variableUsages: ['id'],
    });
    const plan: PlanNode = { kind: 'Sequence', nodes: [personFetch, { kind: 'Flatten', path: ['person'], node: creditOfPerson }] };
    const household = { data: { person: { __typename: 'Person', idNumber: 'P1', name: '张三', birthPlace: { code: '540102', name: '城关区' } } } };

    it('sends the root fetch with its operation name and only the variables it uses', async () => {
      const { sent } = await run(plan, { household, credit: scoreByIdNumber({ P1: 80 }) }, { id: 'P1', unrelated: 'secret', also: 1 });
      expect(sent[0]).toEqual({
        serviceName: 'household',
        body: { query: personFetch.operation, operationName: 'Q__household__0', variables: { id: 'P1' } },
      });
    });

    it('sends the entity as a representation of exactly the required fields, and merges the answer into it', async () => {
      const { data, sent, errors } = await run(plan, { household, credit: scoreByIdNumber({ P1: 80 }) }, { id: 'P1' });
      expect(errors).toEqual([]);
      expect(sent.map((s) => s.serviceName)).toEqual(['household', 'credit']);
      expect(sent[1].body.variables).toEqual({ representations: [{ __typename: 'Person', idNumber: 'P1', birthPlace: { code: '540102' } }] });
      expect(sent[1].body).not.toHaveProperty('operationName');
      expect(data).toEqual({
        person: { __typename: 'Person', idNumber: 'P1', name: '张三', birthPlace: { code: '540102', name: '城关区' }, credit: { score: 80 } },
      });
    });

    it('does not fetch the entity when the root fetch answered null', async () => {
      const { data, sent } = await run(plan, { household: { data: { person: null } }, credit: scoreByIdNumber({}) }, { id: 'P1' });
      expect(sent.map((s) => s.serviceName)).toEqual(['household']);
      expect(data).toEqual({ person: null });
    });

    it('rewrites a root fetch error’s path as is, and fills in a code and the subgraph’s name', async () => {
      const { errors } = await run(
        plan,
        {
          household: {
            data: { person: null },
            errors: [{ message: 'bad id', path: ['person'], extensions: { code: 'BAD_USER_INPUT' } }, { message: '' }],
          },
        },
        { id: 'x' },
      );
      expect(errors).toEqual([
        { message: 'bad id', path: ['person'], extensions: { code: 'BAD_USER_INPUT', serviceName: 'household' } },
        {
          message: 'Error while fetching subquery from service "household"',
          extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'household' },
        },
      ]);
    });
  });

  describe('an entity fetch over a list (["persons", "@"])', () => {
    const listPlan = (): PlanNode => ({
      kind: 'Sequence',
      nodes: [
        fetchNode('household', '{persons(ids:$ids){__typename idNumber birthPlace{code}}}'),
        { kind: 'Flatten', path: ['persons', '@'], node: creditOfPerson },
      ],
    });
    const person = (idNumber: string) => ({ __typename: 'Person', idNumber, birthPlace: { code: '540102' } });

    it('skips null entities and entities without __typename, and merges each answer into the entity it was for', async () => {
      const persons = [person('P0'), null, { idNumber: 'P2', birthPlace: { code: '540102' } }, person('P3')];
      const { data, sent } = await run(listPlan(), { household: { data: { persons } }, credit: scoreByIdNumber({ P0: 10, P3: 30 }) });
      expect((sent[1].body.variables.representations as { idNumber: string }[]).map((r) => r.idNumber)).toEqual(['P0', 'P3']);
      expect(data.persons).toEqual([
        { ...person('P0'), credit: { score: 10 } },
        null,
        { idNumber: 'P2', birthPlace: { code: '540102' } },
        { ...person('P3'), credit: { score: 30 } },
      ]);
    });

    it('leaves out an entity whose required key is missing', async () => {
      const persons = [person('P0'), { __typename: 'Person', birthPlace: { code: '540102' } }];
      const { sent, data } = await run(listPlan(), { household: { data: { persons } }, credit: scoreByIdNumber({ P0: 10 }) });
      expect(sent[1].body.variables.representations).toEqual([{ __typename: 'Person', idNumber: 'P0', birthPlace: { code: '540102' } }]);
      expect((data.persons as unknown[])[1]).not.toHaveProperty('credit');
    });

    it('sends no entity fetch at all when no entity has a representation', async () => {
      const persons = [null, { idNumber: 'P1' }];
      const { sent } = await run(listPlan(), { household: { data: { persons } }, credit: scoreByIdNumber({}) });
      expect(sent.map((s) => s.serviceName)).toEqual(['household']);
    });

    it('records a mismatched _entities length as one error and merges nothing', async () => {
      const persons = [person('P0'), person('P1')];
      const { data, errors } = await run(listPlan(), {
        household: { data: { persons } },
        credit: { data: { _entities: [{ credit: { score: 1 } }] } },
      });
      expect(errors).toEqual([
        { message: 'Expected "data._entities" to contain 2 elements', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'credit' } },
      ]);
      expect(data.persons).toEqual(persons);
    });

    it('rewrites an error at ["_entities", i, …] to that entity’s response path', async () => {
      const persons = [person('P0'), null, person('P2')];
      const { errors, data } = await run(listPlan(), {
        household: { data: { persons } },
        credit: {
          data: { _entities: [{ credit: { score: 1 } }, { credit: null }] },
          errors: [{ message: 'score unavailable', path: ['_entities', 1, 'credit', 'score'], extensions: { code: 'SCORE' } }],
        },
      });
      expect(errors).toEqual([
        { message: 'score unavailable', path: ['persons', 2, 'credit', 'score'], extensions: { code: 'SCORE', serviceName: 'credit' } },
      ]);
      expect((data.persons as { credit?: unknown }[])[2].credit).toBeNull();
    });

    it('counts _entities indexes over the entities sent, not over those skipped for want of a representation', async () => {
      // P1 has no __typename, so only P0 and P2 are sent: _entities[1] is P2, at persons[2].
      const persons = [person('P0'), { idNumber: 'P1', birthPlace: { code: '540102' } }, person('P2')];
      const { errors } = await run(listPlan(), {
        household: { data: { persons } },
        credit: {
          data: { _entities: [{ credit: { score: 1 } }, null] },
          errors: [{ message: 'refused', path: ['_entities', 1, 'credit'], extensions: { code: 'FORBIDDEN' } }],
        },
      });
      expect(errors.map((e) => e.path)).toEqual([['persons', 2, 'credit']]);
    });

    it('rewrites through nested lists (["holders", "@", …] with a union)', async () => {
      // Only the Person holders are sent: the requires selects on Person.
      const holders = [{ __typename: 'Organisation', creditCode: 'O0' }, person('P1'), null, person('P3')];
      const plan: PlanNode = {
        kind: 'Sequence',
        nodes: [
          fetchNode('licences', '{holders{__typename ...on Person{idNumber birthPlace{code}} ...on Organisation{creditCode}}}'),
          { kind: 'Flatten', path: ['holders', '@'], node: creditOfPerson },
        ],
      };
      const { sent, errors, data } = await run(plan, {
        licences: { data: { holders } },
        credit: {
          data: { _entities: [{ credit: { score: 1 } }, { credit: { score: null } }] },
          errors: [{ message: 'no score', path: ['_entities', 1, 'credit', 'score'] }],
        },
      });
      expect((sent[1].body.variables.representations as { __typename: string }[]).map((r) => r.__typename)).toEqual(['Person', 'Person']);
      expect(errors.map((e) => e.path)).toEqual([['holders', 3, 'credit', 'score']]);
      expect((data.holders as Record<string, unknown>[])[0]).not.toHaveProperty('credit');
      expect((data.holders as Record<string, unknown>[])[1].credit).toEqual({ score: 1 });
    });

    it('rewrites through two list levels', async () => {
      const teams = [{ members: [person('A0'), person('A1')] }, { members: [] }, { members: [person('C0')] }];
      const plan: PlanNode = {
        kind: 'Sequence',
        nodes: [
          fetchNode('household', '{teams{members{__typename idNumber birthPlace{code}}}}'),
          { kind: 'Flatten', path: ['teams', '@', 'members', '@'], node: creditOfPerson },
        ],
      };
      const { errors, sent } = await run(plan, {
        household: { data: { teams } },
        credit: { data: { _entities: [null, null, null] }, errors: [{ message: 'x', path: ['_entities', 2, 'credit'] }] },
      });
      expect((sent[1].body.variables.representations as unknown[]).length).toBe(3);
      expect(errors.map((e) => e.path)).toEqual([['teams', 2, 'members', 0, 'credit']]);
    });
  });

  describe('when a subgraph is unavailable', () => {
    const personFetch = fetchNode('household', '{person(id:"P1"){__typename idNumber name}}');
    const plan: PlanNode = { kind: 'Parallel', nodes: [personFetch, fetchNode('licences', '{organisation{name}}')] };

    it('records exactly one error, from `unavailable`, and the other branch’s data still arrives', async () => {
      const down = new Error('connection refused');
      const { data, errors, unavailable } = await run(plan, { household: down, licences: { data: { organisation: { name: '雪域公司' } } } });
      expect(unavailable).toEqual([{ serviceName: 'household', error: down }]);
      expect(errors).toEqual([
        { message: 'The household domain is unavailable.', extensions: { code: 'SUBGRAPH_UNAVAILABLE', domain: 'household' } },
      ]);
      expect(data).toEqual({ organisation: { name: '雪域公司' } });
    });

    it('does not cascade: fetches depending on the missing data are not sent and add no error', async () => {
      const sequence: PlanNode = { kind: 'Sequence', nodes: [personFetch, { kind: 'Flatten', path: ['person'], node: creditOfPerson }] };
      const { errors, sent } = await run(sequence, { household: new Error('timeout'), credit: scoreByIdNumber({}) });
      expect(sent.map((s) => s.serviceName)).toEqual(['household']);
      expect(errors).toHaveLength(1);
      expect(errors[0].extensions.code).toBe('SUBGRAPH_UNAVAILABLE');
    });
  });

  describe('Condition nodes', () => {
    const plan: PlanNode = {
      kind: 'Condition',
      condition: 'withCredit',
      ifClause: fetchNode('credit', '{a}'),
      elseClause: fetchNode('household', '{b}'),
    };
    const answers = { credit: { data: { a: 1 } }, household: { data: { b: 2 } } };

    it.each([
      [{ withCredit: true }, ['credit'], { a: 1 }],
      [{ withCredit: false }, ['household'], { b: 2 }],
      [{}, ['household'], { b: 2 }],
    ])('with %j runs only the chosen branch', async (variables, services, expected) => {
      const { sent, data } = await run(plan, answers, variables);
      expect(sent.map((s) => s.serviceName)).toEqual(services);
      expect(data).toEqual(expected);
    });

    it('runs nothing when the condition is false and there is no else branch', async () => {
      const { sent, data } = await run({ kind: 'Condition', condition: 'c', ifClause: fetchNode('credit', '{a}') }, answers, { c: false });
      expect(sent).toEqual([]);
      expect(data).toEqual({});
    });
  });

  describe('variables', () => {
    it('forwards only the variables in variableUsages, and none left undefined', async () => {
      const { sent } = await run(
        fetchNode('household', 'query($a:ID,$b:ID){x(a:$a,b:$b)}', { variableUsages: ['a', 'b', 'missing'] }),
        { household: { data: {} } },
        { a: '1', b: undefined, c: '3' },
      );
      expect(sent[0].body.variables).toEqual({ a: '1' });
      expect(Object.keys(sent[0].body.variables)).toEqual(['a']);
    });

    it('sends an empty object when the fetch uses none', async () => {
      const { sent } = await run(fetchNode('household', '{x}'), { household: { data: {} } }, { a: '1' });
      expect(sent[0].body.variables).toEqual({});
    });
  });
});

describe('isSupportedPlan', () => {
  const fetch = fetchNode('household', '{x}');
  const plan = (node?: QueryPlan['node']): QueryPlan => ({ kind: 'QueryPlan', node });

  it('accepts the nodes this executor runs, nested any way, and an empty plan', () => {
    expect(isSupportedPlan(plan())).toBe(true);
    expect(
      isSupportedPlan(
        plan({
          kind: 'Sequence',
          nodes: [
            fetch,
            {
              kind: 'Parallel',
              nodes: [
                { kind: 'Flatten', path: ['a', '@'], node: fetch },
                { kind: 'Condition', condition: 'v', ifClause: fetch, elseClause: fetch },
              ],
            },
          ],
        }),
      ),
    ).toBe(true);
  });

  it.each([
    ['a subscription', plan({ kind: 'Subscription', primary: fetch })],
    ['a @defer node', plan({ kind: 'Defer', primary: { node: fetch }, deferred: [] })],
    ['a @defer node nested in a Sequence', plan({ kind: 'Sequence', nodes: [fetch, { kind: 'Defer', primary: {}, deferred: [] }] })],
    ['a fetch with defers', plan({ ...fetch, hasDefers: true })],
    [
      'input rewrites (@interfaceObject)',
      plan({ kind: 'Flatten', path: ['a'], node: { ...fetch, inputRewrites: [{ kind: 'ValueSetter', path: ['__typename'], setValueTo: 'X' }] } }),
    ],
    ['output rewrites', plan({ kind: 'Parallel', nodes: [{ ...fetch, outputRewrites: [{ kind: 'KeyRenamer', path: ['a'], renameKeyTo: 'b' }] }] })],
    [
      'context rewrites (@fromContext)',
      plan({ kind: 'Condition', condition: 'v', elseClause: { ...fetch, contextRewrites: [{ kind: 'KeyRenamer', path: ['a'], renameKeyTo: 'b' }] } }),
    ],
  ])('refuses %s (it goes to @apollo/gateway)', (_case, refused) => {
    expect(isSupportedPlan(refused)).toBe(false);
  });
});

describe('deepMerge', () => {
  it('merges objects key by key, and lists of equal length item by item', () => {
    const target: Record<string, unknown> = { a: { x: 1 }, list: [{ id: 1 }, { id: 2 }, 3], keep: true };
    deepMerge(target, { a: { y: 2 }, list: [{ name: 'one' }, { name: 'two' }, 4], added: 'new' });
    expect(target).toEqual({ a: { x: 1, y: 2 }, list: [{ id: 1, name: 'one' }, { id: 2, name: 'two' }, 4], keep: true, added: 'new' });
  });

  it('keeps the merged-into objects (other references to them see the merge)', () => {
    const item = { id: 1 };
    const target = { list: [item] };
    deepMerge(target, { list: [{ name: 'one' }] });
    expect(item).toEqual({ id: 1, name: 'one' });
  });

  it('replaces a list of another length, and a value of another kind', () => {
    const target: Record<string, unknown> = { list: [1, 2], object: { a: 1 }, scalar: 1 };
    deepMerge(target, { list: [3], object: null, scalar: { now: 'object' } });
    expect(target).toEqual({ list: [3], object: null, scalar: { now: 'object' } });
  });

  it('ignores undefined values and a null source', () => {
    const target = { a: 1 };
    deepMerge(target, { a: undefined });
    deepMerge(target, null);
    expect(target).toEqual({ a: 1 });
  });

  it('ignores __proto__ from a subgraph’s JSON: no prototype pollution', () => {
    const target: Record<string, unknown> = { nested: {} };
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "nested": {"__proto__": {"polluted": true}}, "ok": 1}') as Record<string, unknown>;
    deepMerge(target, hostile);
    expect(target).toEqual({ nested: {}, ok: 1 });
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(target.nested)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((target as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
