import type { ErrorCode } from '../../common/errors.js';
import { type IdentifierKind, personalIdentifierIn } from '../../common/identifiers.js';
import type { Matter, MatterCatalog } from './matter-catalog.js';
import type { ScopeRequirement } from '../../common/scopes/security-policy.js';

/** Request headers that declare the purpose of a request. */
export const MATTER_HEADER = 'x-matter-code';
export const CASE_NUMBER_HEADER = 'x-case-number';

/**
 * Scopes that are not about a person's records and so need no matter:
 * verifying a certificate someone presents (its own rules: the holder brought
 * it), revoking one's own certificates, and auditing access. Every other
 * scope discloses personal data and is bound to a declared matter.
 */
export const PURPOSE_FREE_SCOPES: ReadonlySet<string> = new Set(['certificate:verify', 'certificate:revoke', 'audit:read', 'audit:receipt']);

/** Case numbers (办件编号) as provinces write them: letters, digits, CJK and the usual punctuation. */
const CASE_NUMBER = /^[\p{L}\p{N}\-_/.()（）〔〕[\]#]{1,64}$/u;

/** The catalogue's codes of purpose binding. */
export type PurposeErrorCode = Extract<ErrorCode, 'MATTER_UNKNOWN' | 'MATTER_NOT_ALLOWED' | 'MATTER_REQUIRED' | 'CASE_NUMBER_INVALID'>;

export class PurposeError extends Error {
  constructor(
    readonly code: PurposeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PurposeError';
  }
}

/** What the refusal of a case number holding a personal identifier names (never the identifier itself). */
const IDENTIFIER_NAMES: Record<IdentifierKind, string> = {
  ID_NUMBER: 'a citizen ID number (15 or more digits in a row)',
  MOBILE_NUMBER: 'a mobile phone number',
  CREDIT_CODE: 'a unified social credit code',
};

/**
 * Checks a declared case number. Its form: 1-64 letters, digits or
 * case-number punctuation. Its content: no personal identifier, because the
 * case number is kept in the audit trail and shown to auditors as it is —
 * where the subjects of a request appear only as keyed hashes. Please keep
 * this check before anything stores or forwards the case number: a refused
 * one must appear nowhere, not even in the refusal's message.
 */
function checkCaseNumber(caseNumber: string): void {
  if (!CASE_NUMBER.test(caseNumber)) {
    throw new PurposeError('CASE_NUMBER_INVALID', `Header ${CASE_NUMBER_HEADER} must be 1-64 letters, digits or case-number punctuation.`);
  }
  const identifier = personalIdentifierIn(caseNumber);
  if (identifier !== null) {
    throw new PurposeError(
      'CASE_NUMBER_INVALID',
      `Header ${CASE_NUMBER_HEADER} may not hold ${IDENTIFIER_NAMES[identifier]}: the case number is kept in the audit trail as it is, and personal identifiers never are.`,
    );
  }
}

/** The declared purpose of one request and what it lets the caller see. */
export interface Purpose {
  matter: Matter | null;
  caseNumber: string | null;
  /** The token's scopes ∩ (the matter's scopes ∪ purpose-free scopes). */
  effectiveScopes: ReadonlySet<string>;
}

export interface BindPurposeInput {
  catalog: MatterCatalog;
  tokenScopes: ReadonlySet<string>;
  /** The token's optional `matters` claim: when present, only these matters may be declared. */
  tokenMatters?: readonly string[];
  matterCode: string | undefined;
  caseNumber: string | undefined;
}

/**
 * Binds a request to its declared matter (PIPL Art. 6 and 34: minimum
 * necessary, within statutory duty). Throws PurposeError for an unknown
 * matter, a matter the token may not act under, or a case number that is
 * malformed or holds a personal identifier (ID number, mobile number,
 * credit code).
 * Whether a matter was required at all is decided once the operation is
 * known (`requireMatter`).
 */
export function bindPurpose(input: BindPurposeInput): Purpose {
  const caseNumber = input.caseNumber?.trim() || null;
  if (caseNumber !== null) checkCaseNumber(caseNumber);
  const code = input.matterCode?.trim();
  const effective = new Set<string>();
  if (!code) {
    for (const scope of input.tokenScopes) if (PURPOSE_FREE_SCOPES.has(scope)) effective.add(scope);
    return { matter: null, caseNumber, effectiveScopes: effective };
  }
  const matter = input.catalog.get(code);
  if (!matter) throw new PurposeError('MATTER_UNKNOWN', `Matter ${JSON.stringify(code.slice(0, 32))} is not in the matter catalog.`);
  if (input.tokenMatters && !input.tokenMatters.includes(matter.code)) {
    throw new PurposeError('MATTER_NOT_ALLOWED', `This token may not act under matter ${matter.code}.`);
  }
  let grantsData = false;
  for (const scope of input.tokenScopes) {
    if (matter.scopes.has(scope)) {
      effective.add(scope);
      if (!PURPOSE_FREE_SCOPES.has(scope)) grantsData = true;
    } else if (PURPOSE_FREE_SCOPES.has(scope)) effective.add(scope);
  }
  if (!grantsData) {
    throw new PurposeError('MATTER_NOT_ALLOWED', `None of this token's scopes is needed for matter ${matter.code} (${matter.name}).`);
  }
  return { matter, caseNumber, effectiveScopes: effective };
}

/**
 * Throws MATTER_REQUIRED when an operation asks for personal data without a
 * declared matter: when some requirement of what it asks for cannot be met
 * by purpose-free scopes alone (a certificate's status, readable with
 * `certificate:verify`, needs no matter; a person's record does).
 */
export function requireMatter(purpose: Purpose, requirements: readonly ScopeRequirement[]): void {
  if (purpose.matter) return;
  for (const requirement of requirements) {
    if (!requirement.some((all) => all.every((scope) => PURPOSE_FREE_SCOPES.has(scope)))) {
      throw new PurposeError('MATTER_REQUIRED', `This operation reads personal data: declare the matter it serves in the ${MATTER_HEADER} header.`);
    }
  }
}
