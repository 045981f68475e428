/**
 * The claims model: what a verified bearer token says about its caller, and
 * the documented scope vocabulary.
 *
 * A token issued by a trusted provincial identity provider carries:
 *
 * | claim      | meaning                                                                 |
 * |------------|-------------------------------------------------------------------------|
 * | `iss`      | the identity provider, as listed in the trust list                      |
 * | `sub`      | the calling system or officer                                           |
 * | `org`      | the department (organisation) the caller acts for                       |
 * | `province` | 6-digit GB/T 2260 province-level code the caller acts for, e.g. 540000  |
 * | `scope`    | space-separated scopes, `<domain>:<action>`, see {@link SCOPES}         |
 * | `jti`      | unique token id: the handle for revocation                              |
 * | `aud`      | must name the gateway (e.g. `kuasheng-gateway`)                         |
 * | `exp`, `iat` | required; `nbf` optional; lifetime `exp - iat` is bounded              |
 * | `matters`  | optional: the matter (事项) codes this token may act under              |
 */

/** A caller whose bearer token has been verified. Never carries the token itself. */
export interface Caller {
  /** `sub`: the calling system or officer. */
  subject: string;
  /** `org`: the department the caller acts for. */
  organisation: string;
  /** `province`: 6-digit GB/T 2260 province-level code, e.g. 540000; one its issuer may speak for. */
  province: string;
  /** `iss`: the identity provider that vouched for the caller. */
  issuer: string;
  /** `jti`: the token id, for revocation and audit. */
  tokenId: string;
  /** `scope`, split on spaces. Unknown but well-formed scopes are kept: they grant nothing here. */
  scopes: ReadonlySet<string>;
  /** `exp`, epoch seconds. */
  expiresAt: number;
  /** Optional `matters` claim: matter codes this token may act under. Absent means no restriction from the token. */
  matters?: readonly string[];
}

/**
 * The scope vocabulary, `<domain>:<action>`, with what each grants. Scopes
 * are deliberately per domain and action so that a matter (事项) can be
 * granted exactly the data it needs (PIPL minimum necessary).
 */
export const SCOPES = Object.freeze({
  'household:read': 'Read household registration (户籍) records: persons, households, moves.',
  'social-insurance:read': 'Read social insurance (社会保险) accounts, contribution history and transfers.',
  'provident-fund:read': 'Read housing provident fund (住房公积金) accounts and transfers.',
  'credit:read': 'Read enterprise and personal credit (信用) records and sanctions.',
  'licence:read': 'Read business licences (营业执照) and professional qualifications.',
  'certificate:issue': 'Issue certificates (证明) for a matter.',
  'certificate:verify': 'Verify that a presented certificate is genuine and current.',
  'certificate:revoke': 'Revoke a certificate issued in error.',
  'audit:read': 'Read the audit trail of who accessed which personal data, and why.',
  'audit:receipt': 'Obtain the inclusion proof of an audit receipt (hashes only, nothing of the record): proof that an access was recorded.',
  'pii:unmasked': 'See personal identifiers (ID number, phone, street address) unmasked; masked by default.',
} as const);

/** A scope of the documented vocabulary. */
export type Scope = keyof typeof SCOPES;

/** The scope that lifts masking of personal identifiers. */
export const PII_UNMASKED_SCOPE: Scope = 'pii:unmasked';

const SCOPE_SYNTAX = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

/** Whether `value` is a well-formed scope, `<domain>:<action>` in lower-case kebab-case. Says nothing about whether it is known. */
export function isScopeSyntax(value: string): boolean {
  return SCOPE_SYNTAX.test(value);
}

/** Whether `value` is a scope of the documented vocabulary. */
export function isKnownScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/**
 * Splits a `scope` claim (space-separated, RFC 8693 §4.2) into its scopes.
 * Returns `undefined` when any entry is malformed: a token that garbles its
 * scopes is refused rather than half-understood.
 */
export function parseScopeClaim(claim: string): Set<string> | undefined {
  const scopes = new Set<string>();
  for (const entry of claim.split(' ')) {
    // Repeated spaces give empty entries; they are harmless.
    if (entry === '') continue;
    if (!isScopeSyntax(entry)) return undefined;
    scopes.add(entry);
  }
  return scopes;
}

const MATTER_CODE_SYNTAX = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Whether `value` looks like a matter (事项) code. Only the shape is checked
 * here; whether the matter exists is the matter catalogue's business.
 */
export function isMatterCodeSyntax(value: string): boolean {
  return MATTER_CODE_SYNTAX.test(value);
}
