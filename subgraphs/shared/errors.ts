import { GraphQLError } from 'graphql';
import { checkCreditCode, checkIdNumber } from '../../common/identifiers.js';

/**
 * Client-facing errors of the subgraphs. Each carries a stable
 * `extensions.code`; anything else a resolver throws is logged and reaches
 * the client as a generic internal error (see subgraph-server.ts).
 */
export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) },
  });
}

/** Maximum number of keys one list argument (`persons`, `organisations`) may carry. */
export const MAX_KEYS_PER_REQUEST = 100;

/**
 * Validates a citizen ID number argument and returns it normalised.
 * The message names the argument and says what is wrong, never echoing the
 * value itself (it is a personal identifier).
 */
export function requireIdNumber(value: string, argument = 'idNumber'): string {
  const check = checkIdNumber(value);
  if (!check.valid) throw badUserInput(`Argument ${argument} is not a valid citizen ID number: it ${check.reason}.`, argument);
  return check.value;
}

/** Validates a unified social credit code argument and returns it normalised. */
export function requireCreditCode(value: string, argument = 'creditCode'): string {
  const check = checkCreditCode(value);
  if (!check.valid) throw badUserInput(`Argument ${argument} is not a valid unified social credit code: it ${check.reason}.`, argument);
  return check.value;
}

/** Validates a list-of-keys argument's size before anything is looked up. */
export function requireKeyCount(values: readonly unknown[], argument: string): void {
  if (values.length > MAX_KEYS_PER_REQUEST) {
    throw badUserInput(`Argument ${argument} may hold at most ${MAX_KEYS_PER_REQUEST} values, got ${values.length}.`, argument);
  }
}
