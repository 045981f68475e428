/**
 * The sealed electronic document (电子证照 / 电子证明) of 跨省通办: what a
 * document certifies and who sealed it, as carried inside its JWS. See
 * README.md in this folder for the wire format.
 */

/** Kinds of document an authority can seal. */
export const DOCUMENT_TYPES = Object.freeze([
  'SOCIAL_INSURANCE_PARTICIPATION',
  'PROVIDENT_FUND_DEPOSIT',
  'BUSINESS_LICENCE',
  'DRIVING_LICENCE',
  'PROFESSIONAL_QUALIFICATION',
] as const);

/** One of {@link DOCUMENT_TYPES}. */
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** The name printed on the paper original of each kind of document. */
export const DOCUMENT_TYPE_NAMES: Readonly<Record<DocumentType, string>> = Object.freeze({
  SOCIAL_INSURANCE_PARTICIPATION: '社会保险参保证明',
  PROVIDENT_FUND_DEPOSIT: '住房公积金缴存证明',
  BUSINESS_LICENCE: '营业执照',
  DRIVING_LICENCE: '机动车驾驶证',
  PROFESSIONAL_QUALIFICATION: '职业资格证书',
});

/** Document types whose holder is an organisation, identified by its unified social credit code. */
export const ORGANISATION_DOCUMENT_TYPES: ReadonlySet<DocumentType> = new Set<DocumentType>(['BUSINESS_LICENCE']);

/** Whether `value` names a {@link DocumentType}. */
export function isDocumentType(value: unknown): value is DocumentType {
  return typeof value === 'string' && (DOCUMENT_TYPES as readonly string[]).includes(value);
}

/** The authority that sealed a document, as written into it. */
export interface DocumentIssuer {
  /** Stable authority id: GB/T 2260 region code + kind, e.g. `430100-social-insurance`. */
  id: string;
  /** Chinese name at the time of sealing, e.g. 长沙市社会保险服务中心. */
  name: string;
  /** Province-level GB/T 2260 code, e.g. `430000`. */
  province: string;
}

/**
 * Who the document is about. The raw ID number is never written: only its
 * masked form and a salted binding a verifier can test a candidate against.
 */
export interface DocumentHolder {
  /** Name as printed on the holder's ID card (or the organisation's registered name). */
  name: string;
  /**
   * `4301**********9119` for a person (maskIdNumber). For an organisation the
   * unified social credit code in full: it is public (GB 32100) and printed
   * on every business licence.
   */
  idMasked: string;
  /**
   * Format 2: base64url(HMAC-SHA256(the issuing authority's holder-binding
   * key, 'kstb-holder-binding-v2:' + salt + ':' + identifier)); format 1:
   * base64url(SHA-256(salt + ':' + identifier)). Identifier upper-cased.
   */
  binding: string;
  /** 16 random bytes, base64url, fresh for every document. */
  salt: string;
}

/** The signed payload of a document, format version 2 (or 1, sealed before; the same fields, another binding). */
export interface DocumentPayload {
  v: DocumentFormat;
  type: DocumentType;
  /** Unique per issuer, e.g. `SB-430100-2026-000123`. */
  serial: string;
  issuer: DocumentIssuer;
  holder: DocumentHolder;
  /** When the seal was applied: an ISO 8601 instant in UTC. */
  issuedAt: string;
  /** Start of validity (inclusive), ISO 8601 in UTC. */
  validFrom: string;
  /** End of validity (exclusive), ISO 8601 in UTC; null when the document does not expire. */
  validUntil: string | null;
  /** The certified content: periods, places and insurance types; account status and deposit summary; licence fields. */
  content: Record<string, unknown>;
}

/** Payload format versions a verifier reads: 2, and 1 for documents handed out before. */
export const DOCUMENT_FORMATS = Object.freeze([1, 2] as const);

/** One of {@link DOCUMENT_FORMATS}. */
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** The format documents are sealed in: a keyed holder binding. */
export const DOCUMENT_FORMAT_VERSION: DocumentFormat = 2;

/** JWS `typ` of a sealed document; anything else is not a document of this format. */
export const DOCUMENT_JWS_TYPE = 'kuasheng-document+jws';

/**
 * Signature algorithms a seal key may use. Our authorities seal with EdDSA
 * (Ed25519); ES256 is accepted so that a province running P-256 seal keys
 * can join the trust list. Asymmetric only: never HS* or `none`.
 */
export const SEAL_ALGORITHMS = Object.freeze(['EdDSA', 'ES256'] as const);

/** One of {@link SEAL_ALGORITHMS}. */
export type SealAlgorithm = (typeof SEAL_ALGORITHMS)[number];
