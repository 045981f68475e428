import type { FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode } from '@apollo/query-planner';
import { isAbstractType, isObjectType, type GraphQLSchema } from 'graphql';
import type { SubgraphResponse } from './subgraph-client.js';

/**
 * Executes @apollo/query-planner plans: fetches in sequence or in parallel
 * as the plan says, entity representations built from what earlier fetches
 * returned, every answer merged into one tree that the response shape then
 * trims to the operation. Covers the plan nodes this federation's
 * supergraph produces (Fetch, Sequence, Parallel, Flatten, Condition);
 * `isSupportedPlan` says when a plan needs more (@defer, subscriptions,
 * @interfaceObject or @fromContext rewrites) and must go to @apollo/gateway.
 */

export interface PlanError {
  message: string;
  path?: (string | number)[];
  extensions: Record<string, unknown>;
}

export interface PlanExecution {
  /** The request's variables as the client sent them (subgraphs validate them again). */
  variables: Record<string, unknown>;
  /** Sends one fetch to a subgraph; throws when the subgraph is unavailable (the error is recorded, the rest goes on). */
  send(serviceName: string, body: string): Promise<SubgraphResponse>;
  /** What to record when `send` throws: one error for that fetch. */
  unavailable(serviceName: string, error: unknown): PlanError;
  errors: PlanError[];
}

/** Per-fetch work done once per plan: the request body around the variables, the compiled `requires`. */
interface PreparedFetch {
  bodyPrefix: string;
  requires?: QueryPlanSelectionNode[];
  /** `requires` when it is the usual `... on T { __typename key… }` with leaf fields only: read without walking the selections. */
  flat: { typeCondition: string; fields: string[] } | null;
}

const prepared = new WeakMap<FetchNode, PreparedFetch>();

function prepare(fetch: FetchNode): PreparedFetch {
  let entry = prepared.get(fetch);
  if (!entry) {
    const head = JSON.stringify({ query: fetch.operation, ...(fetch.operationName ? { operationName: fetch.operationName } : {}) });
    entry = { bodyPrefix: `${head.slice(0, -1)},"variables":`, requires: fetch.requires, flat: flatRequires(fetch.requires) };
    prepared.set(fetch, entry);
  }
  return entry;
}

function flatRequires(requires: readonly QueryPlanSelectionNode[] | undefined): PreparedFetch['flat'] {
  if (requires?.length !== 1) return null;
  const [fragment] = requires;
  if (fragment.kind !== 'InlineFragment' || !fragment.typeCondition) return null;
  const fields: string[] = [];
  for (const selection of fragment.selections) {
    if (selection.kind !== 'Field' || selection.selections) return null;
    fields.push(selection.alias ?? selection.name);
  }
  return fields.includes('__typename') ? { typeCondition: fragment.typeCondition, fields } : null;
}

/** `representation` for a flat `requires`, on an entity of exactly its type condition. */
function flatRepresentation(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> | null {
  const result: Record<string, unknown> = {};
  for (const name of fields) {
    const value = record[name];
    if (value === undefined) return null;
    result[name] = Array.isArray(value) ? value.slice() : value;
  }
  return result;
}

export function isSupportedPlan(plan: QueryPlan): boolean {
  const supported = (node: PlanNode | undefined): boolean => {
    if (!node) return true;
    switch (node.kind) {
      case 'Fetch':
        return !node.inputRewrites?.length && !node.outputRewrites?.length && !node.contextRewrites?.length && !node.hasDefers;
      case 'Sequence':
      case 'Parallel':
        return node.nodes.every(supported);
      case 'Flatten':
        return supported(node.node);
      case 'Condition':
        return supported(node.ifClause) && supported(node.elseClause);
      default:
        return false;
    }
  };
  return plan.node === undefined || (plan.node.kind !== 'Subscription' && supported(plan.node));
}

interface Cursor {
  path: (string | number)[];
  data: unknown;
  root: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merges a subgraph's answer into what earlier fetches returned (objects key by key, equal-length lists item by item). */
export function deepMerge(target: Record<string, unknown>, source: Record<string, unknown> | null | undefined): void {
  if (!source) return;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined || key === '__proto__') continue;
    const existing = target[key];
    if (isRecord(existing) && isRecord(value)) deepMerge(existing, value);
    else if (Array.isArray(existing) && Array.isArray(value) && existing.length === value.length) {
      for (let i = 0; i < value.length; i++) {
        if (isRecord(existing[i]) && isRecord(value[i])) deepMerge(existing[i] as Record<string, unknown>, value[i] as Record<string, unknown>);
        else existing[i] = value[i];
      }
    } else target[key] = value;
  }
}

function flattenAt(value: unknown, path: readonly (string | number)[], from = 0): unknown {
  if (from === path.length || value === null || value === undefined) return value;
  const head = path[from];
  if (head === '@') return (value as unknown[]).flatMap((item) => flattenAt(item, path, from + 1) as never);
  if (Array.isArray(value)) throw new Error(`unexpected list in the result at ${String(head)}`);
  return flattenAt(Object.hasOwn(value as object, head as string) ? (value as Record<string, unknown>)[head as string] : undefined, path, from + 1);
}

function isObjectOfType(schema: GraphQLSchema, value: Record<string, unknown>, condition: string): boolean {
  const typename = value.__typename;
  if (typeof typename !== 'string') return false;
  if (typename === condition) return true;
  const type = schema.getType(typename);
  const conditional = schema.getType(condition);
  if (!type || !conditional || !isObjectType(type)) return false;
  return isAbstractType(conditional) && schema.isSubType(conditional, type);
}

/** The representation of an entity for a fetch's `requires`, or null when the entity lacks a key field. */
function representation(schema: GraphQLSchema, source: unknown, selections: readonly QueryPlanSelectionNode[]): Record<string, unknown> | null {
  if (source === null || source === undefined) return null;
  const record = source as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const name = selection.alias ?? selection.name;
      const value = record[name];
      if (value === undefined) return null;
      if (Array.isArray(value))
        result[name] = value.map((item) => (selection.selections ? representation(schema, item, selection.selections) : item));
      else result[name] = selection.selections ? representation(schema, value, selection.selections) : value;
    } else if (selection.typeCondition && isObjectOfType(schema, record, selection.typeCondition)) {
      deepMerge(result, representation(schema, record, selection.selections));
    }
  }
  return result;
}

/** The response paths of the entities a Flatten fetch sent, for rewriting `_entities.N` error paths. */
function hydratedPaths(cursor: Cursor): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (parent: (string | number)[], from: number, data: unknown) => {
    if (data === null || data === undefined) return;
    if (from === cursor.path.length) return void out.push([...parent]);
    const head = cursor.path[from];
    if (head === '@') {
      (data as unknown[]).forEach((item, i) => {
        walk([...parent, i], from + 1, item);
      });
    } else if (Array.isArray(data)) {
      data.forEach((item, i) => {
        walk([...parent, i], from, item);
      });
    } else if (Object.hasOwn(data as object, head as string)) {
      walk([...parent, head], from + 1, (data as Record<string, unknown>)[head as string]);
    }
  };
  walk([], 0, cursor.root);
  return out;
}

/**
 * `sent[i]` is the index, among the cursor's non-null entities, of the entity
 * whose representation went as `_entities[i]`: entities without one (another
 * member of a union, a key lost to an earlier failure) are not sent, so the
 * two numberings differ. (@apollo/gateway indexes the hydrated paths by `i`
 * directly, and so names the wrong entity in that case.)
 */
function collectErrors(execution: PlanExecution, fetch: FetchNode, cursor: Cursor, response: SubgraphResponse, sent: readonly number[]): void {
  let paths: (string | number)[][] | undefined;
  for (const error of response.errors ?? []) {
    let path: (string | number)[] | undefined;
    if (Array.isArray(error.path)) {
      if (fetch.requires && typeof error.path[1] === 'number') {
        paths ??= hydratedPaths(cursor);
        path = [...(paths[sent[error.path[1]]] ?? []), ...error.path.slice(2)];
      } else path = [...cursor.path, ...error.path];
    }
    const extensions: Record<string, unknown> = { ...(isRecord(error.extensions) ? error.extensions : {}), serviceName: fetch.serviceName };
    if (typeof extensions.code !== 'string') extensions.code = 'DOWNSTREAM_SERVICE_ERROR';
    execution.errors.push({
      message:
        typeof error.message === 'string' && error.message ? error.message : `Error while fetching subquery from service "${fetch.serviceName}"`,
      ...(path ? { path } : {}),
      extensions,
    });
  }
}

async function executeFetch(execution: PlanExecution, schema: GraphQLSchema, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const entities = Array.isArray(cursor.data) ? cursor.data.filter((e) => e !== null && e !== undefined) : [cursor.data];
  if (entities.length === 0) return;
  const { bodyPrefix, requires, flat } = prepare(fetch);
  const variables: Record<string, unknown> = {};
  for (const name of fetch.variableUsages ?? []) {
    if (Object.hasOwn(execution.variables, name) && execution.variables[name] !== undefined) variables[name] = execution.variables[name];
  }
  let targets: Record<string, unknown>[];
  const sent: number[] = [];
  if (requires) {
    const representations: Record<string, unknown>[] = [];
    targets = [];
    for (let i = 0; i < entities.length; i++) {
      const entity = entities[i] as Record<string, unknown>;
      const rep =
        flat && entity.__typename === flat.typeCondition ? flatRepresentation(entity, flat.fields) : representation(schema, entity, requires);
      if (rep?.__typename) {
        representations.push(rep);
        targets.push(entity);
        sent.push(i);
      }
    }
    if (representations.length === 0) return;
    variables.representations = representations;
  } else targets = entities as Record<string, unknown>[];

  let response: SubgraphResponse;
  try {
    response = await execution.send(fetch.serviceName, `${bodyPrefix + JSON.stringify(variables)}}`);
  } catch (error) {
    execution.errors.push(execution.unavailable(fetch.serviceName, error));
    return;
  }
  if (response.errors?.length) collectErrors(execution, fetch, cursor, response, sent);
  const data = response.data;
  if (!data) return;
  if (!requires) {
    for (const target of targets) deepMerge(target, data);
    return;
  }
  const received = data._entities;
  if (!Array.isArray(received) || received.length !== targets.length) {
    execution.errors.push({
      message: `Expected "data._entities" to contain ${targets.length} elements`,
      extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: fetch.serviceName },
    });
    return;
  }
  for (let i = 0; i < targets.length; i++) {
    const entity = received[i] as Record<string, unknown> | null;
    if (entity && !entity.__typename) entity.__typename = targets[i].__typename;
    if (entity) deepMerge(targets[i], entity);
  }
}

async function executeNode(execution: PlanExecution, schema: GraphQLSchema, node: PlanNode, cursor: Cursor): Promise<void> {
  switch (node.kind) {
    case 'Fetch':
      return executeFetch(execution, schema, node, cursor);
    case 'Sequence':
      for (const child of node.nodes) await executeNode(execution, schema, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(execution, schema, child, cursor)));
      return;
    case 'Flatten': {
      const data = flattenAt(cursor.data, node.path);
      if (data === null || data === undefined) return;
      return executeNode(execution, schema, node.node, { path: [...cursor.path, ...node.path], data, root: cursor.root });
    }
    case 'Condition': {
      const branch = execution.variables[node.condition] === true ? node.ifClause : node.elseClause;
      if (branch) await executeNode(execution, schema, branch, cursor);
      return;
    }
    default:
      throw new Error(`plan node ${node.kind} is not supported by this executor`);
  }
}

/** Runs the plan and returns the merged, not yet shaped, data. */
export async function executePlan(plan: QueryPlan, schema: GraphQLSchema, execution: PlanExecution): Promise<Record<string, unknown>> {
  const root: Record<string, unknown> = {};
  if (plan.node) await executeNode(execution, schema, plan.node as PlanNode, { path: [], data: root, root });
  return root;
}
