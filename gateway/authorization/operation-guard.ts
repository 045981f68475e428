import { createHash } from 'node:crypto';
import { print } from 'graphql';
import { authorizeOperation, type AuthorizedOperation } from '../../common/scopes/authorize-operation.js';
import type { SecurityPolicy } from '../../common/scopes/security-policy.js';
import { Lru } from '../execution/lru.js';

/** An authorised operation ready for planning: its pruned document and that document's hash. */
export interface OperationAuthorization extends AuthorizedOperation {
  /** Plan-cache key of the pruned document: a plan made for other scopes can never be served. */
  queryHash: string;
  /**
   * What this decision weighs in the caches that keep it or what is made
   * from it (its plan): the larger of the query text and the pruned
   * document as printed, plus the denied paths. A short query whose
   * fragments expand weighs what it expands to.
   */
  weight: number;
}

export interface OperationGuardOptions {
  /** The current policy (it changes when the supergraph is reloaded). */
  policy: () => { policy: SecurityPolicy; version: number };
  /** Authorisation decisions remembered per (document, operation, scopes, policy). Default 2000. */
  cacheSize?: number;
  /** At most this much query text (the `weight` of each decision) in the cache. Default unbounded. */
  cacheCharacters?: number;
}

/**
 * Field-level scope enforcement, before query planning: prunes a validated
 * operation to what the effective scopes allow, with the denied paths and
 * the requirements purpose binding reads. Decisions are cached per
 * (document, operation, scope set, policy version). The engine plans only
 * the pruned document, under its own hash, so a plan made for other scopes
 * is never served; it then nulls each removed path with one error each.
 */
/** What one denied path weighs (its path and coordinate, and the error made of it), in characters. */
const DENIED_PATH_WEIGHT = 128;

export function createOperationGuard(options: OperationGuardOptions) {
  const cache = new Lru<OperationAuthorization>(options.cacheSize ?? 2000, options.cacheCharacters ?? Number.POSITIVE_INFINITY);

  const authorise = (
    schema: Parameters<typeof authorizeOperation>[0]['schema'],
    document: Parameters<typeof authorizeOperation>[0]['document'],
    queryHash: string,
    operationName: string | null,
    scopes: ReadonlySet<string>,
    weight = 0,
  ): OperationAuthorization => {
    const { policy, version } = options.policy();
    const key = `${version}\u0000${queryHash}\u0000${operationName ?? ''}\u0000${[...scopes].sort().join(' ')}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const result = authorizeOperation({ schema, document, operationName, policy, scopes });
    const printed = result.document ? print(result.document) : '';
    const authorization: OperationAuthorization = {
      ...result,
      queryHash: result.document ? createHash('sha256').update(printed).digest('hex') : '',
      weight: Math.max(weight, printed.length) + DENIED_PATH_WEIGHT * result.denied.length,
    };
    cache.set(key, authorization, authorization.weight);
    return authorization;
  };

  return { authorise, clearCache: () => cache.clear() };
}

export type OperationGuard = ReturnType<typeof createOperationGuard>;
