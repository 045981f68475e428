/**
 * Errors of the sealed-document library, each with a stable `code` callers
 * branch on. These are for the issuing side and for configuration: bad seal
 * authorities, missing keys, an invalid trust list, a bad draft. Verifying a
 * document never throws for bad input; its outcomes are the verification
 * codes of verification-codes.ts.
 */

/** An authority definition is invalid (id, name or province); `field` names it. */
export class SealAuthorityError extends TypeError {
  readonly code = 'SEAL_AUTHORITY_INVALID' as const;

  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`Invalid seal authority: ${field} ${reason}`);
    this.name = 'SealAuthorityError';
  }
}

/** An authority's seal key is missing or unreadable in the data folder. */
export class SealKeyError extends Error {
  readonly code: 'SEAL_KEY_NOT_FOUND' | 'SEAL_KEY_INVALID' | 'SEAL_KEY_BUSY';

  constructor(
    code: SealKeyError['code'],
    readonly authorityId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Seal key of ${authorityId}: ${reason}`, options);
    this.name = 'SealKeyError';
    this.code = code;
  }
}

/**
 * The seal trust list is invalid; `field` names the place, e.g.
 * `authorities[2].jwks.keys[0]`. Loading stops at the first mistake: a
 * half-understood trust list would make a notary accept a forged seal.
 */
export class SealTrustListError extends Error {
  readonly code = 'SEAL_TRUST_LIST_INVALID' as const;

  constructor(
    readonly source: string,
    readonly field: string,
    reason: string,
  ) {
    super(`Invalid seal trust list ${source}: ${field} ${reason}`);
    this.name = 'SealTrustListError';
  }
}

/**
 * A document draft handed to `sealDocument` is invalid (a programming or
 * data error on the issuing side); `field` names it. The message never
 * repeats the holder's identifier.
 */
export class DocumentDraftError extends TypeError {
  readonly code: 'DOCUMENT_DRAFT_INVALID' | 'DOCUMENT_TOO_LARGE';

  constructor(
    readonly field: string,
    reason: string,
    code: DocumentDraftError['code'] = 'DOCUMENT_DRAFT_INVALID',
  ) {
    super(`Invalid document draft: ${field} ${reason}`);
    this.name = 'DocumentDraftError';
    this.code = code;
  }
}
