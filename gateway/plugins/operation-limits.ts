import type { GraphQLFormattedError, OperationDefinitionNode } from 'graphql';
import { ERRORS } from '../../common/errors.js';
import type { IntegerRange } from '../../common/settings.js';
import { measureOperation, type OperationMeasure } from '../limits/measure.js';
import type { GatewayPlugin, GraphQLAnswer } from '../pipeline/plugin.js';

/** The limits an operation is held to; `tokens` is applied by the parser itself (the engine's `maxTokens`). */
export interface OperationLimits {
  /** Deepest nesting of fields. Default 24 (the full introspection query is 15, a full dossier 6). */
  depth: number;
  /** Aliased fields, once fragments are expanded. Default 30. */
  aliases: number;
  /** Fields of the root selection set. Default 10. */
  rootFields: number;
  /** Fields once fragments are expanded. Default 2000 (the full introspection query is 230, a full dossier 95). */
  fields: number;
  /** Directive applications as written. Default 50. */
  directives: number;
}

/** Each limit's default and bounds; the gateway's settings (MAX_OPERATION_…) read the same. */
export const OPERATION_LIMIT_RANGES = Object.freeze({
  depth: { default: 24, min: 1, max: 1000 },
  aliases: { default: 30, min: 0, max: 100_000 },
  rootFields: { default: 10, min: 1, max: 10_000 },
  fields: { default: 2000, min: 1, max: 1_000_000 },
  directives: { default: 50, min: 0, max: 100_000 },
  tokens: { default: 15_000, min: 100, max: 1_000_000 },
} satisfies Record<keyof OperationLimits | 'tokens', IntegerRange>);

const LABELS: Record<keyof OperationLimits, string> = {
  depth: 'depth',
  aliases: 'aliases',
  rootFields: 'root fields',
  fields: 'fields (fragments expanded)',
  directives: 'directives',
};

/** The errors of one operation over its limits (none when within them). */
export function limitErrors(measure: OperationMeasure, limits: OperationLimits): GraphQLFormattedError[] {
  const errors: GraphQLFormattedError[] = [];
  for (const limit of Object.keys(LABELS) as (keyof OperationLimits)[]) {
    if (measure[limit] <= limits[limit]) continue;
    const actual = Number.isFinite(measure[limit]) ? measure[limit] : Number.MAX_SAFE_INTEGER;
    errors.push({
      message: `${ERRORS.OPERATION_LIMIT_EXCEEDED.message} Its ${LABELS[limit]}: ${actual}, at most ${limits[limit]}.`,
      extensions: { code: 'OPERATION_LIMIT_EXCEEDED', limit, maximum: limits[limit], actual },
    });
  }
  return errors;
}

/**
 * Operation limits, before anything is authorised or planned: depth,
 * aliases, root fields, fields with fragments expanded (counted without
 * expanding them) and directives. Measured once per parsed document (the
 * engine keeps documents parsed), so a repeated query costs a lookup.
 */
export function useOperationLimits(limits: Partial<OperationLimits> = {}): GatewayPlugin {
  const effective: OperationLimits = {
    depth: limits.depth ?? OPERATION_LIMIT_RANGES.depth.default,
    aliases: limits.aliases ?? OPERATION_LIMIT_RANGES.aliases.default,
    rootFields: limits.rootFields ?? OPERATION_LIMIT_RANGES.rootFields.default,
    fields: limits.fields ?? OPERATION_LIMIT_RANGES.fields.default,
    directives: limits.directives ?? OPERATION_LIMIT_RANGES.directives.default,
  };
  for (const [name, value] of Object.entries(effective)) {
    const range = OPERATION_LIMIT_RANGES[name as keyof OperationLimits];
    if (!Number.isInteger(value) || value < range.min || value > range.max)
      throw new TypeError(`operation limit ${name} must be a whole number from ${range.min} to ${range.max}, got ${String(value)}`);
  }
  const verdicts = new WeakMap<OperationDefinitionNode, GraphQLAnswer | null>();
  return {
    name: 'operation-limits',
    onOperation({ document, operation }) {
      let verdict = verdicts.get(operation);
      if (verdict === undefined) {
        const errors = limitErrors(measureOperation(document, operation), effective);
        verdict = errors.length > 0 ? { status: ERRORS.OPERATION_LIMIT_EXCEEDED.status, payload: { errors } } : null;
        verdicts.set(operation, verdict);
      }
      return verdict ?? undefined;
    },
  };
}
