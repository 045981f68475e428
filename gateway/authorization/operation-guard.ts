import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, print, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { Logger } from 'pino';
import { authorizeOperation, insertDeniedNulls, type AuthorizedOperation, type DeniedField } from '../../subgraphs/common/scopes/authorize-operation.js';
import type { SecurityPolicy } from '../../subgraphs/common/scopes/security-policy.js';
import { PII_UNMASKED_SCOPE } from '../auth/caller.js';
import type { Admitted } from '../admission.js';
import type { AuditDraft } from '../request-audit.js';
import { gatewayError, GATEWAY_ERRORS } from '../errors.js';
import { maskResponseData } from './masking.js';
import { PurposeError, requireMatter } from './purpose-binding.js';

/** An authorised operation ready for planning: its pruned document and that document's hash. */
export interface OperationAuthorization extends AuthorizedOperation {
  /** Plan-cache key of the pruned document: a plan made for other scopes can never be served. */
  queryHash: string;
}

/** The gateway's per-request context. */
export interface GatewayContext extends Admitted {
  requestId: string;
  logger: Logger;
  /** The request's audit draft, filled in along the way. */
  audit: AuditDraft;
  authorization?: OperationAuthorization;
  /** Set when the guard answered the operation itself (nothing left to plan, or rejected). */
  answeredByGuard?: boolean;
}

export interface OperationGuardOptions {
  /** The current policy (it changes when the supergraph is reloaded). */
  policy: () => { policy: SecurityPolicy; version: number };
  /** `filter` (default): remove unauthorised fields, answer null + one error each. `reject`: refuse the whole operation. */
  mode: 'filter' | 'reject';
  /** Authorisation decisions remembered per (document, operation, scopes, policy). Default 2000. */
  cacheSize?: number;
}

function deniedErrors(denied: readonly DeniedField[]): GraphQLFormattedError[] {
  return denied.map(({ path, coordinate }) => ({
    message: `${GATEWAY_ERRORS.UNAUTHORIZED_FIELD_OR_TYPE.message} (${coordinate})`,
    path: [...path],
    extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', coordinate },
  }));
}

/**
 * Field-level scope enforcement, before query planning, as an Apollo Server
 * plugin plus a wrapper of the gateway's executor:
 *
 * - `didResolveOperation`: prunes the validated operation to what the
 *   effective scopes allow (cached per document × scope set × policy), and
 *   requires a matter when personal data is asked for;
 * - the executor plans and runs the pruned document, keyed by its own hash;
 * - `willSendResponse`: null at each removed path with one error each, and
 *   personal identifiers masked unless `pii:unmasked` is effective.
 */
export function createOperationGuard(options: OperationGuardOptions) {
  const cacheSize = options.cacheSize ?? 2000;
  const cache = new Map<string, OperationAuthorization>();

  const authorise = (schema: Parameters<typeof authorizeOperation>[0]['schema'], document: Parameters<typeof authorizeOperation>[0]['document'], queryHash: string, operationName: string | null, scopes: ReadonlySet<string>): OperationAuthorization => {
    const { policy, version } = options.policy();
    const key = `${version}\u0000${queryHash}\u0000${operationName ?? ''}\u0000${[...scopes].sort().join(' ')}`;
    const hit = cache.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting keeps the most recent last (LRU).
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const result = authorizeOperation({ schema, document, operationName, policy, scopes });
    const authorization: OperationAuthorization = {
      ...result,
      queryHash: result.document ? createHash('sha256').update(print(result.document)).digest('hex') : '',
    };
    cache.set(key, authorization);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return authorization;
  };

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, queryHash, operationName, contextValue }) {
          const authorization = authorise(schema, document, queryHash, operationName ?? null, contextValue.purpose.effectiveScopes);
          try {
            requireMatter(contextValue.purpose, authorization.requirements);
          } catch (error) {
            if (error instanceof PurposeError) throw gatewayError(error.code, error.message);
            throw error;
          }
          contextValue.authorization = authorization;
        },
        async responseForOperation({ contextValue, response }) {
          const authorization = contextValue.authorization!;
          const reject = options.mode === 'reject' && authorization.denied.length > 0;
          if (authorization.document && !reject) return null;
          contextValue.answeredByGuard = true;
          let data: Record<string, unknown> | null = null;
          if (!reject) {
            data = {};
            insertDeniedNulls(data, authorization.denied.filter((d) => d.path.length === 1));
          }
          response.http.status = reject ? GATEWAY_ERRORS.UNAUTHORIZED_FIELD_OR_TYPE.status : 200;
          return { http: response.http, body: { kind: 'single', singleResult: { data, errors: deniedErrors(authorization.denied) as never } } };
        },
        async willSendResponse({ contextValue, response, schema }) {
          const authorization = contextValue.authorization;
          if (!authorization || contextValue.answeredByGuard || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (authorization.denied.length > 0) {
            insertDeniedNulls(result.data as Record<string, unknown> | null, authorization.denied);
            result.errors = [...(result.errors ?? []), ...(deniedErrors(authorization.denied) as never[])];
          }
          if (!contextValue.purpose.effectiveScopes.has(PII_UNMASKED_SCOPE) && authorization.document) {
            maskResponseData(schema, authorization.document, result.data as Record<string, unknown> | null);
          }
        },
      };
    },
  };

  return { plugin, clearCache: () => cache.clear() };
}

type GatewayLike = Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'>;

/**
 * Wraps @apollo/gateway so that it only ever plans and executes the
 * operation as authorised. Deny by default: without an authorisation there
 * is nothing to execute.
 */
export function guardGateway(gateway: ApolloGateway): GatewayLike {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const loaded = await gateway.load(options);
      const execute = loaded.executor!;
      return {
        ...loaded,
        executor: (requestContext) => {
          const authorization = (requestContext.context as GatewayContext).authorization;
          if (!authorization?.document) throw new Error('refusing to execute an operation that was not authorised');
          const operation = authorization.document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
          return execute({ ...requestContext, document: authorization.document, queryHash: authorization.queryHash, operation });
        },
      };
    },
  };
}
