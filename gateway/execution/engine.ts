import { createHash } from 'node:crypto';
import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import {
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  Lexer,
  NoSchemaIntrospectionCustomRule,
  parse,
  Source,
  specifiedRules,
  TokenKind,
  validate,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { GraphQLHttpRequest, GraphQLHttpResult } from '../../common/http/server.js';
import { APPLICATION_JSON, CONTENT_TYPE, GRAPHQL_RESPONSE_JSON, graphQLResponseType, mediaTypeOf } from '../../common/http/media-types.js';
import { maskResponseData } from '../authorization/masking.js';
import { CLIENT_ERROR_CODES, ERRORS } from '../../common/errors.js';
import type { GatewayContext } from '../pipeline/context.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { DocumentRequest, ExecutedOperation, GraphQLAnswer, GraphQLPayload, OperationRequest } from '../pipeline/plugin.js';
import type { OperationAuthorization } from '../authorization/operation-guard.js';
import { executePlan, isSupportedPlan, type PlanError } from './plan-executor.js';
import { applyLiveChecks, type LiveChecks, withLiveChecks } from './live-verdict.js';
import { Lru } from './lru.js';
import { compileResponseShape, shapeResponse, type ResponseShape } from './response-shape.js';
import { SubgraphClient, SubgraphFetchError } from './subgraph-client.js';
import type { SubgraphFetch } from './subgraph-fetch.js';
import { knownOperationTypesRule } from '../../common/known-operation-types.js';
import { variableCheck, type VariableCheck } from './variables.js';

/**
 * The gateway's GraphQL stages, in place of Apollo Server's: the request
 * body, a parsed-and-validated document cached per query text, the
 * operation and its variables (parse/validate), the plugins' authorise
 * stage (scopes, purpose, masking), a query plan and response shape cached
 * per authorised document (plan), execution against the subgraphs through
 * the subgraph-fetch stage, and the plugins' response stage.
 *
 * Plans are made by @apollo/query-planner from the same supergraph
 * @apollo/gateway loads. They run on this gateway's executor (undici
 * connection pools, reused assertions, precompiled shaping); a plan it does
 * not cover (@defer, @interfaceObject and @fromContext rewrites) runs on
 * @apollo/gateway's own executor, as does everything with
 * `GATEWAY_EXECUTOR=apollo`.
 */

export interface EngineOptions {
  subgraphTimeoutMs: number;
  /** Subgraph URLs by name; a subgraph not named here is reached at its supergraph URL. */
  subgraphUrls: Partial<Record<string, string>>;
  /** The plugins' stages the engine runs: document, operation, authorise, plan, result, response. */
  pipeline: Pick<Pipeline, 'document' | 'operation' | 'authorise' | 'plan' | 'result' | 'response'>;
  /** `native` (default): this gateway's executor, @apollo/gateway's for what it does not cover. `apollo`: always @apollo/gateway's. */
  executor: 'native' | 'apollo';
  /** The subgraph-fetch stage both executors use: headers, disclosures, unavailability. */
  fetch: SubgraphFetch;
  /** Introspection (`__schema`, `__type`) allowed. */
  introspection: boolean;
  /** Documents kept parsed and validated. Default 1000. */
  documentCacheSize?: number;
  /** Lexical tokens a document may have; the parser stops past it (OPERATION_LIMIT_EXCEEDED, `limit: tokens`). Default 15000. */
  maxTokens?: number;
}

interface SchemaState {
  version: number;
  schema: GraphQLSchema;
  /** graphql-js form of the supergraph: type conditions of entity representations. */
  supergraphSchema: GraphQLSchema;
  apiSchema: ReturnType<Supergraph['apiSchema']>;
  planner: QueryPlanner;
  clients: Map<string, SubgraphClient>;
}

interface PreparedOperation {
  plan: QueryPlan;
  shape: ResponseShape;
  native: boolean;
  /** The authorised document as planned: with the live checks of its verifications added. */
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** What the live checks added, to fold in and remove after execution. */
  liveChecks: LiveChecks | null;
}

interface CachedDocument {
  document: DocumentNode;
  queryHash: string;
}

/**
 * A request refused before it runs. Either the HTTP request is not one
 * GraphQL request the gateway serves (its status whatever the response
 * type), or it is a GraphQL request error — parse, validation, operation,
 * variables — which GraphQL over HTTP answers 400 in
 * application/graphql-response+json and 200 in application/json (the
 * legacy type, whose clients read errors only from a 200).
 */
class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLFormattedError[],
    readonly graphqlRequestError = false,
    readonly headers: Record<string, string> = {},
  ) {
    super(errors[0]?.message ?? 'bad request');
  }
}

function requestError(status: number, code: string, message: string, headers?: Record<string, string>): RequestError {
  return new RequestError(status, [{ message, extensions: { code } }], false, headers);
}

function graphqlRequestError(errors: GraphQLFormattedError[]): RequestError {
  return new RequestError(400, errors, true);
}

/** The parameters of a GraphQL request (GraphQL over HTTP), from a POST's JSON body or a GET's query string. */
type RequestParameters = DocumentRequest;

/** A GET parameter that holds JSON (`variables`, `extensions`); absent is undefined. */
function jsonParameter(search: URLSearchParams, name: string): unknown {
  const text = search.get(name);
  if (text === null || text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw requestError(400, 'BAD_REQUEST', `The "${name}" parameter is not valid JSON.`);
  }
}

function requestParameters(request: GraphQLHttpRequest): RequestParameters {
  if (request.method === 'GET') {
    const search = new URLSearchParams(request.search);
    return {
      query: search.get('query') ?? undefined,
      variables: jsonParameter(search, 'variables'),
      operationName: search.get('operationName') ?? undefined,
      extensions: jsonParameter(search, 'extensions'),
      documentId: search.get('documentId') ?? undefined,
    };
  }
  if (request.method !== 'POST')
    throw requestError(405, 'BAD_REQUEST', 'Send GraphQL requests by POST with a JSON body, or queries by GET.', { allow: 'GET, POST' });
  if (request.contentType === undefined) throw requestError(400, 'BAD_REQUEST', 'Content-Type must be application/json.');
  if (mediaTypeOf(request.contentType) !== APPLICATION_JSON) throw requestError(415, 'BAD_REQUEST', 'Content-Type must be application/json.');
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw requestError(400, 'BAD_REQUEST', 'The body must be one GraphQL request object (batches are not accepted).');
  const { query, variables, operationName, extensions, documentId } = body as Record<string, unknown>;
  return { query, variables, operationName, extensions, documentId };
}

const isMap = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Answers hold personal data: no cache (a browser's, for a GET) may keep them. */
const NOT_STORED = { 'cache-control': 'no-store' } as const;

/**
 * Each cache keyed by a document (parsed documents, authorisation
 * decisions, plans with their shapes) holds at most this many characters of
 * query text in all: what a document costs in memory grows with its text,
 * and a client sending many large distinct queries must not make the
 * gateway hold much. A query longer than this is never cached.
 */
export const CACHE_QUERY_CHARACTERS = 8 * 1024 * 1024;

/**
 * Whether `parse(query, { maxTokens })` failed with `error` because of the
 * token limit rather than a syntax error: the parser stops at the first token
 * past the limit, so the limit is what stopped it when the error stands where
 * that token starts. Counted with graphql-js's own lexer (which skips comments
 * as the parser does), never read from the message's wording.
 */
export function stoppedByTokenLimit(query: string, maxTokens: number, error: GraphQLError): boolean {
  const at = error.positions?.[0];
  if (at === undefined) return false;
  const lexer = new Lexer(new Source(query));
  try {
    for (let count = 0; ; ) {
      const token = lexer.advance();
      if (token.kind === TokenKind.EOF) return false;
      count += 1;
      if (count > maxTokens) return token.start === at;
      if (token.start >= at) return false;
    }
  } catch {
    return false; // a lexical error before the limit
  }
}

export function createEngine(options: EngineOptions) {
  const stages = options.pipeline;
  const maxTokens = options.maxTokens ?? 15_000;
  let state: SchemaState | null = null;
  let apolloExecutor: GatewayExecutor | null = null;
  const documents = new Lru<CachedDocument>(options.documentCacheSize ?? 1000, CACHE_QUERY_CHARACTERS);
  const operations = new Lru<PreparedOperation>(2000, CACHE_QUERY_CHARACTERS);
  const rules = options.introspection
    ? [...specifiedRules, knownOperationTypesRule]
    : [...specifiedRules, knownOperationTypesRule, NoSchemaIntrospectionCustomRule];
  // Per operation of a cached document (a new supergraph parses documents anew).
  const variableChecks = new WeakMap<OperationDefinitionNode, VariableCheck | null>();

  /** A new supergraph: new schema, planner and caches. The connection pools of unchanged subgraphs are kept. */
  function load(supergraphSdl: string, version: number): void {
    const supergraph = Supergraph.build(supergraphSdl);
    const apiSchema = supergraph.apiSchema();
    const clients = new Map<string, SubgraphClient>();
    for (const subgraph of supergraph.subgraphs().values()) {
      const url = options.subgraphUrls[subgraph.name] ?? subgraph.url;
      const previous = state?.clients.get(subgraph.name);
      clients.set(subgraph.name, previous && previous.url === url ? previous : new SubgraphClient({ url, timeoutMs: options.subgraphTimeoutMs }));
    }
    const retired = [...(state?.clients.values() ?? [])].filter((c) => ![...clients.values()].includes(c));
    state = {
      version,
      schema: apiSchema.toGraphQLJSSchema(),
      supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
      apiSchema,
      planner: new QueryPlanner(supergraph),
      clients,
    };
    documents.clear();
    operations.clear();
    for (const client of retired) void client.close();
  }

  function parsedDocument(schema: GraphQLSchema, query: string): CachedDocument {
    const hit = documents.get(query);
    if (hit) return hit;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens });
    } catch (error) {
      const e = error as GraphQLError;
      // A limit of the gateway's, like the operation limits' (the same status whatever the media type), not a GraphQL request error.
      if (stoppedByTokenLimit(query, maxTokens, e)) {
        throw new RequestError(ERRORS.OPERATION_LIMIT_EXCEEDED.status, [
          {
            message: `${ERRORS.OPERATION_LIMIT_EXCEEDED.message} Its tokens: more than ${maxTokens}.`,
            extensions: { code: 'OPERATION_LIMIT_EXCEEDED', limit: 'tokens', maximum: maxTokens },
          },
        ]);
      }
      throw graphqlRequestError([{ message: e.message, locations: e.locations, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }]);
    }
    const errors = validate(schema, document, rules);
    if (errors.length > 0)
      throw graphqlRequestError(
        errors.map((e) => ({ message: e.message, locations: e.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
      );
    const cached = { document, queryHash: createHash('sha256').update(query).digest('hex') };
    documents.set(query, cached, query.length);
    return cached;
  }

  function prepared(current: SchemaState, authorization: OperationAuthorization, operationName: string | null): PreparedOperation {
    const key = `${current.version}\u0000${authorization.queryHash}\u0000${operationName ?? ''}`;
    const hit = operations.get(key);
    if (hit) return hit;
    // A verification's verdict includes the live status: the issuing domain is asked in the same plan.
    const { document, checks: liveChecks } = withLiveChecks(current.schema, authorization.document!);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    const plan = current.planner.buildQueryPlan(operationFromDocument(current.apiSchema, document, { operationName: operationName ?? undefined }));
    const shape = compileResponseShape(current.schema, operation);
    const entry: PreparedOperation = { plan, shape, native: isSupportedPlan(plan), document, operation, liveChecks };
    // A plan and its shape grow with the pruned document: weighed as the decision is.
    operations.set(key, entry, authorization.weight);
    return entry;
  }

  /** The client's variables with the operation's defaults for the ones it left out. */
  function variablesOf(operation: OperationDefinitionNode, raw: Record<string, unknown>): Record<string, unknown> {
    const variables = { ...raw };
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      if (variables[name] === undefined && definition.defaultValue) variables[name] = valueFromASTUntyped(definition.defaultValue);
    }
    return variables;
  }

  function formatError(error: PlanError | GraphQLFormattedError, context: GatewayContext): GraphQLFormattedError {
    const code = error.extensions?.code;
    if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) {
      const { http: _http, ...extensions } = error.extensions ?? {};
      return { message: error.message, ...(error.path ? { path: error.path } : {}), extensions };
    }
    context.logger.error({ code, path: error.path, message: error.message }, 'internal error in a request');
    return {
      message: ERRORS.INTERNAL_SERVER_ERROR.message,
      ...(error.path ? { path: error.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }

  async function runNative(current: SchemaState, entry: PreparedOperation, context: GatewayContext, variables: Record<string, unknown>) {
    const errors: PlanError[] = [];
    const merged = await executePlan(entry.plan, current.supergraphSchema, {
      variables,
      errors,
      send: async (serviceName, body) => {
        const client = current.clients.get(serviceName);
        if (!client) throw new SubgraphFetchError(`no subgraph named ${serviceName}`);
        const response = await client.post(body, options.fetch.headers(serviceName, context));
        response.extensions = options.fetch.received(serviceName, context, response.extensions);
        return response;
      },
      unavailable: (serviceName, error) => options.fetch.unavailable(serviceName, context, error),
    });
    const shapeErrors: { message: string; path: (string | number)[] }[] = [];
    const data = shapeResponse(entry.shape, merged, {
      schema: current.schema,
      variables,
      mask: context.maskIdentifiers,
      errors: shapeErrors,
      introspect: (field: FieldNode) => introspect(current.schema, field, entry.operation, variables),
    });
    const extensions =
      errors.length === 0 && shapeErrors.length > 0
        ? { valueCompletion: shapeErrors.map((e) => ({ ...e, extensions: { code: 'INVALID_GRAPHQL' } })) }
        : undefined;
    return { data, errors: errors as GraphQLFormattedError[], extensions };
  }

  async function runApollo(
    current: SchemaState,
    entry: PreparedOperation,
    authorization: OperationAuthorization,
    context: GatewayContext,
    query: string,
    variables: Record<string, unknown>,
    operationName: string | null,
  ) {
    if (!apolloExecutor) throw new Error('the @apollo/gateway executor is not loaded');
    const result = await apolloExecutor({
      request: { query, variables, operationName: operationName ?? undefined },
      document: entry.document,
      queryHash: authorization.queryHash,
      operationName,
      operation: entry.operation,
      source: query,
      context,
      logger: context.logger,
      metrics: {},
      schema: current.schema,
      cache: undefined,
      overallCachePolicy: undefined,
      requestIsBatched: false,
    } as never);
    const data = (result.data ?? null) as Record<string, unknown> | null;
    if (context.maskIdentifiers) maskResponseData(current.schema, entry.document, data);
    const errors = (result.errors ?? []).map((e) => (e instanceof GraphQLError ? e.toJSON() : (e as GraphQLFormattedError)));
    return { data, errors, extensions: result.extensions };
  }

  /** Handles one admitted GraphQL request (POST, or a query by GET), running the plugins' stages along the way. */
  async function handle(request: GraphQLHttpRequest, context: GatewayContext): Promise<GraphQLHttpResult> {
    // Content negotiation first: every answer below, refusals included, is of the type the client prefers.
    const responseType = graphQLResponseType(request.accept);
    const headers = { 'content-type': CONTENT_TYPE[responseType ?? APPLICATION_JSON], ...NOT_STORED };
    const answer = (status: number, payload: GraphQLPayload, extra?: Record<string, string>): GraphQLHttpResult => {
      const given: GraphQLAnswer = { status, payload };
      stages.response(given, context);
      return { status: given.status, body: JSON.stringify(given.payload), headers: extra ? { ...headers, ...extra } : headers };
    };
    const early = (given: GraphQLAnswer) => answer(given.status, given.payload, given.headers);
    try {
      const current = state;
      if (!current) throw requestError(503, 'INTERNAL_SERVER_ERROR', 'The gateway has no supergraph loaded yet.');
      if (responseType === null) throw requestError(406, 'NOT_ACCEPTABLE', ERRORS.NOT_ACCEPTABLE.message);
      const parameters = requestParameters(request);
      if (parameters.extensions !== undefined && parameters.extensions !== null && !isMap(parameters.extensions))
        throw requestError(400, 'BAD_REQUEST', '"extensions" must be an object.');
      // Document: a plugin may supply the query text (a registered document named by id), or refuse.
      let supplied = stages.document(parameters, context);
      if (supplied instanceof Promise) supplied = await supplied;
      if (supplied) return early(supplied);
      const { query, variables: rawVariables, operationName: rawName, extensions } = parameters;
      if (typeof query !== 'string' || query.length === 0) {
        // A document id no plugin resolved (a gateway without trusted documents).
        if (
          (extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery ||
          (parameters.documentId !== undefined && parameters.documentId !== null)
        )
          throw requestError(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'Persisted queries are not supported: send the query text.');
        throw requestError(400, 'BAD_REQUEST', 'The request must contain a non-empty "query" string.');
      }
      if (rawVariables !== undefined && rawVariables !== null && !isMap(rawVariables))
        throw requestError(400, 'BAD_REQUEST', '"variables" must be an object.');
      if (rawName !== undefined && rawName !== null && typeof rawName !== 'string')
        throw requestError(400, 'BAD_REQUEST', '"operationName" must be a string.');
      const operationName = (rawName as string | null | undefined) || null;

      // Parse/validate.
      const { document, queryHash } = parsedDocument(current.schema, query);
      const operation = getOperationAST(document, operationName);
      if (!operation) {
        throw graphqlRequestError([
          {
            message: operationName
              ? `Unknown operation named "${operationName}".`
              : 'Must provide operation name if query contains multiple operations.',
            extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
          },
        ]);
      }
      const resolvedName = operation.name?.value ?? null;
      context.operation = { name: resolvedName, type: operation.operation, hash: queryHash };
      // A GET must change nothing (a link, a prefetch, a cache may repeat it): mutations only by POST.
      if (request.method === 'GET' && operation.operation !== 'query')
        throw requestError(405, 'BAD_REQUEST', `A ${operation.operation} is sent by POST, never by GET.`, { allow: 'POST' });
      const provided = (rawVariables ?? {}) as Record<string, unknown>;
      let check = variableChecks.get(operation);
      if (check === undefined) variableChecks.set(operation, (check = variableCheck(current.schema, operation)));
      // Plainly valid variables skip graphql-js's coercion; anything else gets it, and its errors.
      const coerced = check?.(provided) ? null : getVariableValues(current.schema, operation.variableDefinitions ?? [], provided, { maxErrors: 50 });
      if (coerced?.errors)
        throw graphqlRequestError(
          coerced.errors.map((e) => ({ message: e.message, locations: e.locations, extensions: { code: 'BAD_USER_INPUT' } })),
        );
      if (operation.operation === 'subscription') throw requestError(400, 'BAD_REQUEST', 'Subscriptions are not supported.');
      const resolved: OperationRequest = {
        schema: current.schema,
        document,
        queryHash,
        operation,
        operationName: resolvedName,
        query,
        variables: provided,
      };
      let refused = stages.operation(resolved, context);
      if (refused instanceof Promise) refused = await refused;
      if (refused) return early(refused);
      refused = stages.authorise(resolved, context);
      if (refused instanceof Promise) refused = await refused;
      if (refused) return early(refused);

      // Deny by default: without a decision of the scopes plugin nothing is run.
      const authorization = context.authorization;
      if (authorization === null) {
        context.logger.error('no plugin authorised the operation: refused (is the scopes plugin in the list?)');
        throw requestError(500, 'INTERNAL_SERVER_ERROR', ERRORS.INTERNAL_SERVER_ERROR.message);
      }
      let result: ExecutedOperation;
      if (!authorization.document) {
        // Nothing the caller may see was asked: no subgraph is called (the scopes plugin answers each removed field).
        result = { data: {}, errors: [] };
      } else {
        const entry = prepared(current, authorization, resolvedName);
        let planned = stages.plan(entry.plan, context);
        if (planned instanceof Promise) planned = await planned;
        if (planned) return early(planned);
        const variables = variablesOf(operation, provided);
        const executed =
          entry.native && options.executor === 'native'
            ? await runNative(current, entry, context, variables)
            : await runApollo(current, entry, authorization, context, query, provided, operationName);
        const errors = executed.errors.map((e) => formatError(e, context));
        result = {
          data: executed.data,
          errors: entry.liveChecks ? applyLiveChecks(entry.liveChecks, executed.data, errors) : errors,
          extensions: executed.extensions,
        };
      }
      stages.result(result, context);
      return answer(200, {
        ...(result.errors.length ? { errors: result.errors } : {}),
        data: result.data,
        ...(result.extensions ? { extensions: result.extensions } : {}),
      });
    } catch (error) {
      if (error instanceof RequestError) {
        const status = error.graphqlRequestError && responseType !== GRAPHQL_RESPONSE_JSON ? 200 : error.status;
        return answer(status, { errors: error.errors }, error.headers);
      }
      throw error;
    }
  }

  return {
    load,
    handle,
    /** @apollo/gateway's executor, for the plans the native one does not cover. */
    setApolloExecutor(executor: GatewayExecutor) {
      apolloExecutor = executor;
    },
    async close() {
      await Promise.all([...(state?.clients.values() ?? [])].map((c) => c.close()));
    },
    /** Cancels every subgraph call in flight, and refuses new ones (the end of the shutdown grace). */
    async cancel() {
      await Promise.all([...(state?.clients.values() ?? [])].map((c) => c.cancel()));
    },
  };
}

/** Root introspection fields, answered from the API schema. */
function introspect(schema: GraphQLSchema, field: FieldNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): unknown {
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as never,
        variableDefinitions: operation.variableDefinitions,
        selectionSet: { kind: Kind.SELECTION_SET, selections: [field] },
      },
    ],
  };
  const result = execute({ schema, document, variableValues: variables }) as { data?: Record<string, unknown> | null };
  return result.data?.[field.alias?.value ?? field.name.value] ?? null;
}

export type Engine = ReturnType<typeof createEngine>;
