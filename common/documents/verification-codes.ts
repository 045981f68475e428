/**
 * The catalogue of verification outcomes: one stable code per finding, the
 * verdict it leads to, and a sentence for people. Codes are what clients,
 * the GraphQL layer and tests branch on; sentences may be reworded.
 */

/** Overall verdict on a document (the live status from the issuer is added elsewhere). */
export type DocumentVerdict = 'VALID' | 'INVALID' | 'EXPIRED' | 'NOT_YET_VALID' | 'UNTRUSTED_ISSUER' | 'WRONG_TYPE';

export const VERIFICATION_CODES = Object.freeze({
  OK: { verdict: 'VALID', message: 'The seal verifies, the content is intact and the document is within its validity period.' },
  DOCUMENT_MALFORMED: {
    verdict: 'INVALID',
    message: 'This is not a sealed document of this format (not a token or QR text of ours, or its parts cannot be decoded).',
  },
  DOCUMENT_TRUNCATED: { verdict: 'INVALID', message: 'The document is incomplete: it was cut off (copied or scanned only in part).' },
  HEADER_INVALID: {
    verdict: 'INVALID',
    message: "The document's header was changed or is not of this format (unknown members, algorithm or missing key id).",
  },
  CONTENT_ALTERED: { verdict: 'INVALID', message: 'The content was changed after the document was sealed.' },
  SIGNATURE_INVALID: {
    verdict: 'INVALID',
    message: 'The seal does not match this document: the signature was replaced or damaged, or the header was changed.',
  },
  SEAL_NOT_IN_FORCE: { verdict: 'INVALID', message: 'The seal key was not in force at the time the document says it was sealed.' },
  UNKNOWN_KEY: {
    verdict: 'UNTRUSTED_ISSUER',
    message: 'The document was sealed with a key that is not in the trust list: the issuer is unknown or the key was withdrawn.',
  },
  ISSUER_MISMATCH: { verdict: 'UNTRUSTED_ISSUER', message: 'The document names another authority than the one whose seal it bears.' },
  WRONG_TYPE: { verdict: 'WRONG_TYPE', message: 'The document is genuine but of another type than the one asked for.' },
  NOT_YET_VALID: { verdict: 'NOT_YET_VALID', message: 'The document is genuine but its validity period has not begun.' },
  EXPIRED: { verdict: 'EXPIRED', message: 'The document is genuine but its validity period has ended.' },
} as const satisfies Record<string, { verdict: DocumentVerdict; message: string }>);

/** A stable verification code. */
export type VerificationCode = keyof typeof VERIFICATION_CODES;
