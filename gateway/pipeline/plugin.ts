import type { IncomingMessage } from 'node:http';
import type { QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLFormattedError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { AdmissionAnswer, HttpAnswer, Rejection, UndeliveredReason } from '../../common/http/server.js';
import type { GatewayContext, RequestContext } from './context.js';

/** What an admission hook decides: nothing (the request goes on), a refusal, or an answer that is no error. */
export type AdmissionResult = Rejection | AdmissionAnswer | undefined;

/** A GraphQL answer before it is serialised: its HTTP status, its payload, and headers of its own (Retry-After). */
export interface GraphQLAnswer {
  status: number;
  payload: GraphQLPayload;
  headers?: Record<string, string>;
}

export interface GraphQLPayload {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * A request's GraphQL parameters as sent (a POST's body or a GET's query
 * string), before the query text is parsed. A document hook may supply the
 * text by setting `query` (a registered document the request names by id).
 */
export interface DocumentRequest {
  query: unknown;
  readonly variables: unknown;
  readonly operationName: unknown;
  /** An object, or undefined/null (the engine has refused anything else). */
  readonly extensions: unknown;
  /** GraphQL over HTTP's persisted documents: the id of a document the server knows. */
  readonly documentId: unknown;
}

/** A parsed, validated operation with its variables coerced: what the operation and authorise stages see. */
export interface OperationRequest {
  /** The API schema the document was validated against. */
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  /** SHA-256 of the query text. */
  readonly queryHash: string;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  /** The query text (its length weighs what caches hold of it). */
  readonly query: string;
  /** The variables as the client sent them. */
  readonly variables: Readonly<Record<string, unknown>>;
}

/** What executing the plan produced, before the answer is serialised; response hooks may change it. */
export interface ExecutedOperation {
  data: Record<string, unknown> | null;
  errors: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * A plugin of the gateway's request pipeline: one concern, made by a
 * `useX(options)` factory at start-up, hooking the stages it needs. Stages
 * run in this order, and within a stage the plugins run in the order of the
 * list (`server.ts`); a hook that answers ends the request there, and the
 * answer still goes through the response and completion stages.
 *
 * Hooks run on every request: keep them allocation-light, and do anything
 * that can be done once (compiling, caching) in the factory.
 */
export interface GatewayPlugin {
  /** Unique in the list; named in start-up errors and in `after`. */
  readonly name: string;
  /** Plugins that must come earlier in the list when both are present (a same-stage dependency). */
  readonly after?: readonly string[];

  /**
   * Request received: ids and headers known, nothing else read yet. Runs
   * also for a request the HTTP parser refused, which has no IncomingMessage
   * (`request` is null).
   */
  onRequest?(context: RequestContext, request: IncomingMessage | null): void;
  /**
   * Admission, before the body is read: a rejection ends the request, and so
   * does an answer that is no error (a CORS preflight's 204).
   */
  onAdmission?(request: IncomingMessage, context: RequestContext): AdmissionResult | Promise<AdmissionResult>;
  /**
   * Document: the request's parameters, before the query text is parsed. A
   * hook may supply the text (`request.query`) or answer. Runs on every
   * request: a request without a document id should cost a hook a property
   * check.
   */
  onDocument?(request: DocumentRequest, context: GatewayContext): GraphQLAnswer | undefined | Promise<GraphQLAnswer | undefined>;
  /** Parse/validate: the operation is resolved and its variables coerced. An answer ends the request. */
  onOperation?(operation: OperationRequest, context: GatewayContext): GraphQLAnswer | undefined | Promise<GraphQLAnswer | undefined>;
  /** Authorise: what the caller may have of the operation. An answer ends the request. */
  onAuthorise?(operation: OperationRequest, context: GatewayContext): GraphQLAnswer | undefined | Promise<GraphQLAnswer | undefined>;
  /** Plan: the (cached) query plan of the authorised operation. An answer ends the request. Return a promise only when it must wait. */
  onPlan?(plan: QueryPlan, context: GatewayContext): GraphQLAnswer | undefined | Promise<GraphQLAnswer | undefined>;
  /** Each subgraph fetch: headers to send with it. */
  onSubgraphRequest?(subgraph: string, context: GatewayContext, headers: Record<string, string>): void;
  /** Each subgraph answer that has extensions: a hook may read them and delete what the client must not see. */
  onSubgraphResponse?(subgraph: string, context: GatewayContext, extensions: Record<string, unknown>): void;
  /** Response: the result of the plan, before it becomes the answer. */
  onResult?(result: ExecutedOperation, context: GatewayContext): void;
  /** Every answer the GraphQL stages give (results and refusals alike), read just before it is serialised. */
  onResponse?(answer: GraphQLAnswer, context: RequestContext): void;
  /**
   * Completion, the last step of every request (admission's and the HTTP
   * layer's refusals included), in list order: may replace the answer.
   */
  onComplete?(context: RequestContext, answer: HttpAnswer): HttpAnswer | Promise<HttpAnswer>;
  /**
   * Undelivered: the completed answer did not reach the client (its
   * connection was gone before the answer went out); `reason` says whether
   * the client had closed it or the shutdown grace ended. Rare: only then.
   */
  onUndelivered?(context: RequestContext, answer: HttpAnswer, reason: UndeliveredReason): void;
}

/** The hook names, in stage order. */
export const HOOKS = [
  'onRequest',
  'onAdmission',
  'onDocument',
  'onOperation',
  'onAuthorise',
  'onPlan',
  'onSubgraphRequest',
  'onSubgraphResponse',
  'onResult',
  'onResponse',
  'onComplete',
  'onUndelivered',
] as const satisfies readonly (keyof GatewayPlugin)[];
