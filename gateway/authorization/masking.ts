import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { checkCreditCode, checkIdNumber, maskIdNumber } from '../../common/identifiers.js';

const ID_NUMBER_SHAPE = /^\d{17}[\dXx]$/;

/**
 * Masks personal identifiers in responses (PIPL Art. 6 and 51: minimum
 * necessary, de-identification) unless the caller's effective scopes include
 * the unmasking scope. Masking happens at the gateway, on the final response,
 * because the ID number is also the federation's entity key: subgraphs must
 * see it whole to join records.
 */

export { maskIdNumber };

/** `138****5678`. */
export function maskPhone(value: string): string {
  return value.length >= 7 ? `${value.slice(0, 3)}${'*'.repeat(value.length - 7)}${value.slice(-4)}` : '*'.repeat(value.length);
}

/** Keeps the administrative part and the road name; from the first house number on, `****`. */
export function maskStreetAddress(value: string): string {
  const firstDigit = value.search(/[0-9０-９]/);
  return firstDigit < 0 ? value : `${value.slice(0, firstDigit)}****`;
}

type Masker = (value: string) => string;

/** Coordinates whose string values are personal identifiers. */
export const MASKED_FIELDS: ReadonlyMap<string, Masker> = new Map<string, Masker>([
  ['Person.idNumber', maskIdNumber],
  ['SocialInsuranceRecord.phone', maskPhone],
  ['Address.street', maskStreetAddress],
  ['Address.full', maskStreetAddress],
  // A driving licence's number is its holder's ID number (GB 11643), as printed on the card.
  // A driving licence's number is its holder's ID number; a business licence's is its
  // (public) credit code, which can be all digits too. A valid ID number is always masked,
  // and so is anything else of its shape that is not a valid credit code (typos included).
  ['Licence.number', (v) => (checkIdNumber(v).valid || (ID_NUMBER_SHAPE.test(v) && !checkCreditCode(v).valid) ? maskIdNumber(v) : v)],
]);

function maskValue(value: unknown, masker: Masker): unknown {
  if (typeof value === 'string') return masker(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, masker));
  return value;
}

/**
 * Masks, in place, every masked field the operation selected. Where one
 * response key could come from fields of different types (fragments on a
 * union), it is masked if any of them is masked: over-masking is the safe
 * side.
 */
export function maskResponseData(schema: GraphQLSchema, document: DocumentNode, data: Record<string, unknown> | null | undefined): void {
  if (!data) return;
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return;
  const root = schema.getRootType(operation.operation);
  if (root) maskSelection(schema, root, operation.selectionSet, data);
}

function maskSelection(schema: GraphQLSchema, parent: GraphQLCompositeType, selectionSet: SelectionSetNode, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) maskSelection(schema, parent, selectionSet, item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType) : parent;
      maskSelection(schema, type, selection.selectionSet, record);
      continue;
    }
    if (selection.kind !== Kind.FIELD) continue; // fragments are inlined by authorisation
    const key = selection.alias?.value ?? selection.name.value;
    if (!(key in record)) continue;
    const fields = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields() : {};
    const field = fields[selection.name.value];
    if (!field) continue;
    const masker = MASKED_FIELDS.get(`${parent.name}.${field.name}`);
    if (masker) record[key] = maskValue(record[key], masker);
    else if (selection.selectionSet) {
      maskSelection(schema, getNamedType(field.type) as GraphQLCompositeType, selection.selectionSet, record[key]);
    }
  }
}
