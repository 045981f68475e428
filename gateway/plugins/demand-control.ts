import { ERRORS } from '../../common/errors.js';
import type { IntegerRange } from '../../common/settings.js';
import type { AccessGuardPlugin } from './access-guard.js';
import { compileCostShape, type CostModel, costOfAnswer, estimateWithDependence, sizesKey } from '../limits/cost.js';
import type { OperationDefinitionNode } from 'graphql';
import type { RequestContext } from '../pipeline/context.js';
import type { GatewayPlugin, GraphQLAnswer, OperationRequest } from '../pipeline/plugin.js';

export interface DemandControlOptions {
  /** The supergraph's `@cost` and `@listSize` (it changes when the supergraph is reloaded). */
  model: () => CostModel;
  /** Operations estimated above this are refused (COST_LIMIT_EXCEEDED). Default 10000. */
  maxCost?: number;
  /** Size of a list with nothing to go by. Default 10. */
  defaultListSize?: number;
  /** The budgets: an operation spends its estimated cost (admission spent its first unit). Without it, nothing is charged. */
  budgets?: Pick<AccessGuardPlugin, 'charge'>;
}

/** MAX_OPERATION_COST and COST_DEFAULT_LIST_SIZE: the defaults and bounds. */
export const DEMAND_CONTROL_RANGES = Object.freeze({
  maxCost: { default: 10_000, min: 1, max: 100_000_000 },
  defaultListSize: { default: 10, min: 0, max: 10_000 },
} satisfies Record<string, IntegerRange>);

/** Estimates kept per operation for the different sizes its variables give (batch sizes, page sizes). */
const SIZINGS_KEPT = 64;

function rateLimited(limitedBy: string | undefined, retryAfterSeconds: number): GraphQLAnswer {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return {
    status: ERRORS.RATE_LIMITED.status,
    headers: { 'retry-after': String(retryAfter) },
    payload: { errors: [{ message: ERRORS.RATE_LIMITED.message, extensions: { code: 'RATE_LIMITED', limitedBy, retryAfterSeconds: retryAfter } }] },
  };
}

/**
 * Demand control: each operation's cost is estimated from the schema
 * (`limits/cost.ts`) before it runs and refused above the maximum with the
 * estimate in the error; the caller's and its province's budgets are then
 * charged the cost (at least 1, spent at admission), so that 5,000 dossiers
 * in one request cost what 5,000 one-dossier requests cost. The actual cost,
 * counted on the answer, goes beside the estimate into the audit record.
 */
export function useDemandControl(options: DemandControlOptions): GatewayPlugin {
  const maxCost = options.maxCost ?? DEMAND_CONTROL_RANGES.maxCost.default;
  const defaultListSize = options.defaultListSize ?? DEMAND_CONTROL_RANGES.defaultListSize.default;
  for (const [name, value] of Object.entries({ maxCost, defaultListSize })) {
    const range = DEMAND_CONTROL_RANGES[name as keyof typeof DEMAND_CONTROL_RANGES];
    if (!Number.isInteger(value) || value < range.min || value > range.max)
      throw new TypeError(`demand control: ${name} must be a whole number from ${range.min} to ${range.max}, got ${String(value)}`);
  }
  const { budgets } = options;
  // What the answer is costed against: the operation as the engine resolved it.
  const operations = new WeakMap<RequestContext, OperationRequest>();
  // Per parsed operation (the engine keeps documents parsed, and parses them anew for a new supergraph):
  // the variables that size it and its estimate for each sizing seen, and its cost shape.
  const estimates = new WeakMap<OperationDefinitionNode, { sizedBy: readonly string[]; bySizes: Map<string, number> }>();
  const shapes = new WeakMap<OperationDefinitionNode, ReturnType<typeof compileCostShape>>();
  return {
    name: 'demand-control',
    after: ['operation-limits', 'authentication'],
    onOperation(resolved, context) {
      const { schema, document, operation, variables } = resolved;
      const model = options.model();
      const known = estimates.get(operation);
      const key = known ? sizesKey(known.sizedBy, variables) : '';
      let estimated = known?.bySizes.get(key);
      if (estimated === undefined) {
        const { cost, readsVariables } = estimateWithDependence({ schema, model, document, operation, variables, defaultListSize });
        estimated = Math.ceil(cost);
        if (!known || readsVariables.some((name) => !known.sizedBy.includes(name))) {
          // Which variables are read can depend on their values (a page size given or null): keyed by every one ever read.
          const sizedBy = known ? [...new Set([...known.sizedBy, ...readsVariables])] : readsVariables;
          estimates.set(operation, { sizedBy, bySizes: new Map([[sizesKey(sizedBy, variables), estimated]]) });
        } else if (known.bySizes.size < SIZINGS_KEPT) {
          // A batch sized by its keys has one estimate per batch size: a few dozen kept, the rest estimated each time.
          known.bySizes.set(key, estimated);
        }
      }
      context.cost = { estimated, actual: null };
      operations.set(context, resolved);
      if (estimated > maxCost) {
        return {
          status: ERRORS.COST_LIMIT_EXCEEDED.status,
          payload: {
            errors: [
              {
                message: `${ERRORS.COST_LIMIT_EXCEEDED.message} Estimated cost ${estimated}, at most ${maxCost}.`,
                extensions: { code: 'COST_LIMIT_EXCEEDED', estimatedCost: estimated, maxCost },
              },
            ],
          },
        };
      }
      const more = estimated - 1;
      if (!budgets || more <= 0) return undefined;
      const decision = budgets.charge(context, more);
      return decision.allowed ? undefined : rateLimited(decision.limitedBy, decision.retryAfterSeconds);
    },
    onResult(result, context) {
      const resolved = operations.get(context);
      if (!context.cost || !resolved) return;
      const { schema, document, operation } = resolved;
      let shape = shapes.get(operation);
      if (shape === undefined) shapes.set(operation, (shape = compileCostShape({ schema, model: options.model(), document, operation })));
      context.cost.actual = costOfAnswer(shape, result.data);
    },
  };
}
