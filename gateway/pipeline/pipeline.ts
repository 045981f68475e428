import type { IncomingMessage } from 'node:http';
import type { QueryPlan } from '@apollo/query-planner';
import type { Logger } from 'pino';
import type { AdmissionAnswer, HttpAnswer, Rejection, RequestIds, UndeliveredReason } from '../../common/http/server.js';
import { rejection } from '../errors.js';
import { type GatewayContext, NO_OPERATION, NO_PURPOSE, type RequestContext } from './context.js';
import { type DocumentRequest, type ExecutedOperation, type GatewayPlugin, type GraphQLAnswer, HOOKS, type OperationRequest } from './plugin.js';

/** The stages of the request path, each running the plugins' hooks for it in list order. */
export interface Pipeline {
  /** The plugins' names, in order. */
  readonly plugins: readonly string[];
  /** Request received: a new context (`request` is null for a request the HTTP parser refused). */
  begin(ids: RequestIds, request?: IncomingMessage | null): RequestContext;
  /**
   * Admission: the first rejection or answer a hook gives, or the context of
   * an admitted request (deny by default: no caller, no admission).
   */
  admit(request: IncomingMessage, context: RequestContext): Promise<GatewayContext | Rejection | AdmissionAnswer>;
  /** The request's parameters before parsing: a hook may supply the query text, or answer. */
  document(request: DocumentRequest, context: GatewayContext): StageAnswer;
  operation(operation: OperationRequest, context: GatewayContext): StageAnswer;
  authorise(operation: OperationRequest, context: GatewayContext): StageAnswer;
  plan(plan: QueryPlan, context: GatewayContext): StageAnswer;
  /** Headers of a fetch to `subgraph`. */
  subgraphHeaders(subgraph: string, context: GatewayContext): Record<string, string>;
  /** A subgraph's answer extensions, for the hooks to read (and delete from). */
  subgraphResponse(subgraph: string, context: GatewayContext, extensions: Record<string, unknown>): void;
  result(result: ExecutedOperation, context: GatewayContext): void;
  response(answer: GraphQLAnswer, context: RequestContext): void;
  complete(context: RequestContext, answer: HttpAnswer): Promise<HttpAnswer>;
  /** The completed answer did not reach the client. */
  undelivered(context: RequestContext, answer: HttpAnswer, reason: UndeliveredReason): void;
}

export interface PipelineOptions {
  /** The requests' logger until a plugin binds one of its own. */
  logger: Logger;
}

const HOOK_NAMES: ReadonlySet<string> = new Set(HOOKS);

/** Refuses a list that cannot run as written: at start-up, naming the plugin. */
function checkPlugins(plugins: readonly GatewayPlugin[]): void {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (typeof plugin?.name !== 'string' || plugin.name.length === 0) throw new TypeError('every gateway plugin needs a name');
    if (seen.has(plugin.name)) throw new TypeError(`gateway plugin ${plugin.name} is listed twice`);
    // A plugin may carry its own methods beside its hooks; a hook name that is not one (a typo) is refused.
    for (const key of Object.keys(plugin)) {
      if (/^on[A-Z]/.test(key) && !HOOK_NAMES.has(key))
        throw new TypeError(`gateway plugin ${plugin.name}: unknown hook ${key} (hooks: ${HOOKS.join(', ')})`);
      if (HOOK_NAMES.has(key) && typeof plugin[key as keyof GatewayPlugin] !== 'function')
        throw new TypeError(`gateway plugin ${plugin.name}: ${key} must be a function`);
    }
    if (plugin.after !== undefined && !(Array.isArray(plugin.after) && plugin.after.every((n) => typeof n === 'string')))
      throw new TypeError(`gateway plugin ${plugin.name}: after must be a list of plugin names`);
    seen.add(plugin.name);
  }
  const names = plugins.map((p) => p.name);
  for (const [index, plugin] of plugins.entries()) {
    for (const earlier of plugin.after ?? []) {
      const at = names.indexOf(earlier);
      if (at > index) throw new TypeError(`gateway plugin ${plugin.name} must come after ${earlier} in the list`);
    }
  }
}

type Hook<K extends (typeof HOOKS)[number]> = NonNullable<GatewayPlugin[K]>;

/** What an answering stage gives: an answer ends the request; a promise only when a hook had to wait (a budget in Redis). */
export type StageAnswer = GraphQLAnswer | undefined | Promise<GraphQLAnswer | undefined>;

/** A stage whose hooks may answer: the first answer ends it (and the request). Synchronous until a hook returns a promise. */
function firstAnswer<T>(hooks: readonly ((value: T, context: GatewayContext) => StageAnswer)[]) {
  const rest = async (pending: Promise<GraphQLAnswer | undefined>, from: number, value: T, context: GatewayContext) => {
    const first = await pending;
    if (first) return first;
    for (let i = from; i < hooks.length; i++) {
      const answer = await hooks[i](value, context);
      if (answer) return answer;
    }
    return undefined;
  };
  return (value: T, context: GatewayContext): StageAnswer => {
    for (let i = 0; i < hooks.length; i++) {
      const answer = hooks[i](value, context);
      if (answer instanceof Promise) return rest(answer, i + 1, value, context);
      if (answer) return answer;
    }
    return undefined;
  };
}

/**
 * Builds the request path from an ordered list of plugins, once, at
 * start-up: each stage becomes an array of the hooks for it, so a request
 * pays only for the hooks that exist.
 */
export function createPipeline(plugins: readonly GatewayPlugin[], options: PipelineOptions): Pipeline {
  checkPlugins(plugins);
  const hooks = <K extends (typeof HOOKS)[number]>(key: K): Hook<K>[] =>
    plugins.flatMap((plugin) => (plugin[key] ? [(plugin[key] as (...args: unknown[]) => unknown).bind(plugin) as Hook<K>] : []));
  const onRequest = hooks('onRequest');
  const onAdmission = hooks('onAdmission');
  const onDocument = hooks('onDocument');
  const onOperation = hooks('onOperation');
  const onAuthorise = hooks('onAuthorise');
  const onPlan = hooks('onPlan');
  const onSubgraphRequest = hooks('onSubgraphRequest');
  const onSubgraphResponse = hooks('onSubgraphResponse');
  const onResult = hooks('onResult');
  const onResponse = hooks('onResponse');
  const onComplete = hooks('onComplete');
  const onUndelivered = hooks('onUndelivered');
  const { logger } = options;

  return {
    plugins: plugins.map((p) => p.name),
    begin({ requestId, correlationId }, request = null) {
      const context: RequestContext = {
        requestId,
        correlationId,
        logger,
        caller: null,
        purpose: NO_PURPOSE,
        operation: NO_OPERATION,
        authorization: null,
        maskIdentifiers: true,
        cost: null,
      };
      for (const hook of onRequest) hook(context, request);
      return context;
    },
    async admit(request, context) {
      for (const hook of onAdmission) {
        const decided = await hook(request, context);
        if (decided) return decided;
      }
      if (context.caller === null) return rejection('UNAUTHENTICATED', { reason: 'TOKEN_MISSING' }, { 'www-authenticate': 'Bearer' });
      return context as GatewayContext;
    },
    document: firstAnswer(onDocument),
    operation: firstAnswer(onOperation),
    authorise: firstAnswer(onAuthorise),
    plan: firstAnswer(onPlan),
    subgraphHeaders(subgraph, context) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const hook of onSubgraphRequest) hook(subgraph, context, headers);
      return headers;
    },
    subgraphResponse(subgraph, context, extensions) {
      for (const hook of onSubgraphResponse) hook(subgraph, context, extensions);
    },
    result(result, context) {
      for (const hook of onResult) hook(result, context);
    },
    response(answer, context) {
      for (const hook of onResponse) hook(answer, context);
    },
    async complete(context, answer) {
      let final = answer;
      for (const hook of onComplete) final = await hook(context, final);
      return final;
    },
    undelivered(context, answer, reason) {
      for (const hook of onUndelivered) hook(context, answer, reason);
    },
  };
}
