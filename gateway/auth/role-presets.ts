/**
 * Scope presets of `npm run token -- --role …`: the scopes a development
 * token needs to act as one of the gateway's three kinds of caller, derived
 * from the scope vocabulary ({@link SCOPES}) and from what purpose binding
 * lets through without a matter.
 */
import type { Matter } from '../authorization/matter-catalog.js';
import { PURPOSE_FREE_SCOPES } from '../authorization/purpose-binding.js';
import { SCOPES } from './caller.js';

const VOCABULARY = Object.keys(SCOPES);

/** `<domain>:read` scopes that disclose a person's or organisation's records (so are bound to a matter); `audit:read` is not one. */
export const DATA_READ_SCOPES: readonly string[] = Object.freeze(VOCABULARY.filter((s) => s.endsWith(':read') && !PURPOSE_FREE_SCOPES.has(s)));

/** The roles `npm run token -- --role` knows. */
export const TOKEN_ROLES = ['approval', 'notary', 'auditor'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export function isTokenRole(value: string): value is TokenRole {
  return (TOKEN_ROLES as readonly string[]).includes(value);
}

interface RolePreset {
  /** The scopes of the role's token (without a matter). */
  scopes: readonly string[];
  /** One line for the usage text: what the role does with them. */
  summary: string;
}

export const ROLE_PRESETS: Readonly<Record<TokenRole, RolePreset>> = Object.freeze({
  // A province's approval system reads all five domains, always under the matter it handles (x-matter-code).
  approval: {
    scopes: [...DATA_READ_SCOPES, 'audit:receipt'],
    summary: "a province's approval system: every domain's read scope, used under the matter declared per request, and its receipts' proofs",
  },
  // A notary office verifies what a holder presents (no matter needed) and may look a licence up under a matter.
  notary: {
    scopes: VOCABULARY.filter((s) => s === 'certificate:verify' || s === 'licence:read' || s === 'audit:receipt'),
    summary: 'a notary office: verifyDocument (no matter needed) and licence records (under a declared matter)',
  },
  // An auditor reads the audit trail: every scope of the audit domain, all purpose-free.
  auditor: {
    scopes: VOCABULARY.filter((s) => s.startsWith('audit:')),
    summary: 'an auditor: auditRecords, auditIntegrity, accessReport (no matter needed)',
  },
});

/**
 * The scopes of a role's token. An approval token bound to one matter gets
 * exactly the scopes that matter grants (its `certificate:issue` or
 * `pii:unmasked` included), no more: the gateway would let no other through
 * under that matter.
 */
export function roleScopes(role: TokenRole, matter?: Matter): string[] {
  if (matter === undefined) return [...ROLE_PRESETS[role].scopes];
  if (role !== 'approval') throw new TypeError(`a matter binds an approval token, not a ${role} token`);
  // The receipt proofs are purpose-free: a token bound to a matter may still prove its accesses were recorded.
  return VOCABULARY.filter((s) => matter.scopes.has(s) || s === 'audit:receipt');
}
