import type { GraphQLFormattedError } from 'graphql';
import { ERRORS } from '../../common/errors.js';
import { type DeniedField, insertDeniedNulls } from '../../common/scopes/authorize-operation.js';
import type { OperationAuthorization, OperationGuard } from '../authorization/operation-guard.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';

export interface ScopesOptions {
  /** Field-level decisions from the supergraph's `@requiresScopes`, cached (authorization/operation-guard.ts). */
  guard: OperationGuard;
  /** `filter` (default): denied fields come back null, one error each. `reject`: any denied field refuses the whole operation (403). */
  mode?: 'filter' | 'reject';
}

function deniedErrors(denied: readonly DeniedField[]): GraphQLFormattedError[] {
  return denied.map(({ path, coordinate }) => ({
    message: `${ERRORS.UNAUTHORIZED_FIELD_OR_TYPE.message} (${coordinate})`,
    path: [...path],
    extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', coordinate },
  }));
}

/**
 * Scopes, before planning: the operation is pruned to what the request's
 * effective scopes allow, and only the pruned document is planned (under
 * its own hash, so a plan made for other scopes is never served). Each
 * removed field comes back null with one UNAUTHORIZED_FIELD_OR_TYPE error,
 * or — in `reject` mode — the operation is refused.
 */
export function useScopes(options: ScopesOptions): GatewayPlugin {
  const { guard } = options;
  const reject = (options.mode ?? 'filter') === 'reject';
  // The errors of a cached decision, made once.
  const errorsOf = new WeakMap<OperationAuthorization, readonly GraphQLFormattedError[]>();
  const denialsOf = (authorization: OperationAuthorization): readonly GraphQLFormattedError[] => {
    let errors = errorsOf.get(authorization);
    if (errors === undefined) errorsOf.set(authorization, (errors = deniedErrors(authorization.denied)));
    return errors;
  };
  return {
    name: 'scopes',
    onAuthorise(operation, context) {
      const authorization = guard.authorise(
        operation.schema,
        operation.document,
        operation.queryHash,
        operation.operationName,
        context.purpose.effectiveScopes,
        operation.query.length,
      );
      context.authorization = authorization;
      if (reject && authorization.denied.length > 0)
        return { status: ERRORS.UNAUTHORIZED_FIELD_OR_TYPE.status, payload: { errors: [...denialsOf(authorization)], data: null } };
      return undefined;
    },
    onResult(result, context) {
      const authorization = context.authorization;
      if (authorization === null || authorization.denied.length === 0) return;
      // With nothing left to run, the answer is the requested root fields, each null.
      insertDeniedNulls(result.data, authorization.document ? authorization.denied : authorization.denied.filter((d) => d.path.length === 1));
      for (const error of denialsOf(authorization)) result.errors.push(error);
    },
  };
}
