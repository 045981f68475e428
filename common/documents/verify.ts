/**
 * Verifying a sealed document against a seal trust list, as a notary office
 * does with a document a person brings: authenticity (a trusted authority's
 * seal), integrity (nothing changed since sealing), the seal in force at
 * sealing time, the validity period, and whether the document is this
 * person's — each reported separately, with one stable code for the verdict.
 *
 * Bad input never throws: garbage, truncated, forged and altered documents
 * are outcomes. Only a programming error (bad options, no trust list) does.
 */
import { compactVerify } from 'jose';
import {
  DOCUMENT_TYPE_NAMES,
  isDocumentType,
  ORGANISATION_DOCUMENT_TYPES,
  type DocumentFormat,
  type DocumentPayload,
  type DocumentType,
} from './types.js';
import { payloadDigest } from './document.js';
import { readDocumentPayload } from './payload.js';
import { parseDocumentToken } from './token.js';
import { bindingMatches, holderNamesMatch, normaliseHolderIdentifier } from './holder-binding.js';
import { instantMillis } from './iso-instant.js';
import { decompressPayload } from './payload-compression.js';
import { provinceNameOf } from './seal-authority.js';
import type { SealTrustList, TrustedSealKey } from './seal-trust-list.js';
import { VERIFICATION_CODES, type DocumentVerdict, type VerificationCode } from './verification-codes.js';

/** Options of {@link verifyDocument}. */
export interface VerifyDocumentOptions {
  /**
   * The holder as the notary reads them from the person's ID card (or the
   * organisation's licence). The ID number is only hashed with the
   * document's salt and compared; it is never returned or logged.
   */
  holder?: { name?: string; idNumber?: string };
  /** Verification time; default now. */
  now?: Date;
  /** The type the caller needs; another type gives WRONG_TYPE. Default: any type. */
  expectedType?: DocumentType;
  /**
   * Allowed clock difference between issuer and verifier, seconds, applied
   * to the validity period and to the seal key's period in force; default
   * 300. Without it a document checked seconds after issue by a verifier
   * whose clock runs behind would be NOT_YET_VALID.
   */
  clockToleranceSeconds?: number;
}

interface NormalizedVerifyDocumentOptions {
  holder: { name: string | null; idNumber: string | null } | null;
  now: number;
  expectedType: DocumentType | null;
  toleranceMs: number;
}

/** Fills defaults and checks options; a bad option is a programming error and throws a TypeError naming it. */
export function normalizeVerifyDocumentOptions(options: VerifyDocumentOptions = {}): NormalizedVerifyDocumentOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('verifyDocument: options must be an object');
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('verifyDocument: now must be a valid Date');
  if (options.expectedType !== undefined && !isDocumentType(options.expectedType))
    throw new TypeError(`verifyDocument: expectedType ${JSON.stringify(options.expectedType)} is not a document type`);
  const tolerance = options.clockToleranceSeconds ?? 300;
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > 86_400)
    throw new TypeError('verifyDocument: clockToleranceSeconds must be a whole number from 0 to 86400');
  let holder: NormalizedVerifyDocumentOptions['holder'] = null;
  if (options.holder !== undefined) {
    const { name, idNumber } = options.holder ?? {};
    if (name !== undefined && typeof name !== 'string') throw new TypeError('verifyDocument: holder.name must be a string');
    if (idNumber !== undefined && typeof idNumber !== 'string') throw new TypeError('verifyDocument: holder.idNumber must be a string');
    // An empty field is a field the notary left blank: not checked, rather than "does not match".
    const given = (value: string | undefined) => (value === undefined || value.trim() === '' ? null : value);
    holder = { name: given(name), idNumber: given(idNumber) };
    if (holder.name === null && holder.idNumber === null) holder = null;
  }
  return { holder, now: now.getTime(), expectedType: options.expectedType ?? null, toleranceMs: tolerance * 1000 };
}

/** The result of a verification; every part is reported separately. */
export interface DocumentVerification {
  verdict: DocumentVerdict;
  code: VerificationCode;
  /** A sentence for people, from the catalogue; branch on `code`, not on this. */
  message: string;
  integrity: {
    /** The seal (signature) verifies with the trusted key the document names. */
    signatureValid: boolean;
    /**
     * The payload is the one the document's header commits to (its SHA-256
     * `dig`). Alone this proves nothing — anyone can compute a digest — but
     * with a failed signature it says which part broke: false, the content
     * was changed; true, the signature or header was.
     */
    contentIntact: boolean;
  };
  /**
   * The issuing authority. `trusted: true` only when its seal verified with
   * a key of the trust list and the document names that same authority;
   * the name is then the trust list's. Otherwise the authority the
   * document claims, `trusted: false`; null when nothing can be read.
   */
  issuer: { id: string; name: string; province: string; provinceName: string | null; trusted: boolean } | null;
  /** Validity period; null unless the seal verified. `until` null: does not expire. */
  validity: { from: string; until: string | null; status: 'CURRENT' | 'EXPIRED' | 'NOT_YET_VALID' } | null;
  /** The certified content; null unless the seal verified (altered content is never shown). */
  content: Record<string, unknown> | null;
  /**
   * null unless the seal verified. `sealKid`: the seal key used, for tracing
   * the sealing. `format`: 2, or 1 for a document sealed before keyed
   * holder bindings, whose binding `exposesIdNumber` (anyone holding the
   * document can recover the masked digits).
   */
  document: {
    type: DocumentType;
    typeName: string;
    serial: string;
    issuedAt: string;
    sealKid: string;
    format: DocumentFormat;
    exposesIdNumber: boolean;
  } | null;
  /** The holder as the document shows them (masked ID number); null unless the seal verified. */
  holder: { name: string; idMasked: string } | null;
  /**
   * Whether the document is the given person's. `checked` false when no
   * holder was given or the seal did not verify; a match value is null
   * when that field was not given.
   */
  holderMatch: {
    checked: boolean;
    nameMatches: boolean | null;
    idNumberMatches: boolean | null;
    /**
     * An ID number was given, but the document's binding is keyed (format 2):
     * only the issuing authority can check it, online. `idNumberMatches` is
     * then null here; the gateway's verification asks the issuer.
     */
    idNumberNeedsIssuer: boolean;
  };
}

const NOT_CHECKED = Object.freeze({ checked: false, nameMatches: null, idNumberMatches: null, idNumberNeedsIssuer: false });

type Parts = Partial<Omit<DocumentVerification, 'verdict' | 'code' | 'message'>>;

function outcome(code: VerificationCode, parts: Parts = {}): DocumentVerification {
  const { verdict, message } = VERIFICATION_CODES[code];
  return {
    verdict,
    code,
    message,
    integrity: parts.integrity ?? { signatureValid: false, contentIntact: false },
    issuer: parts.issuer ?? null,
    validity: parts.validity ?? null,
    content: parts.content ?? null,
    document: parts.document ?? null,
    holder: parts.holder ?? null,
    holderMatch: parts.holderMatch ?? { ...NOT_CHECKED },
  };
}

/** The issuer a payload claims, for documents whose seal did not verify; null when the payload is unreadable. */
function claimedIssuer(payloadBytes: Uint8Array): DocumentVerification['issuer'] {
  const value = decompressPayload(payloadBytes);
  const issuer = (value as { issuer?: unknown } | null)?.issuer as Record<string, unknown> | undefined;
  if (typeof issuer !== 'object' || issuer === null) return null;
  const { id, name, province } = issuer;
  if (typeof id !== 'string' || typeof name !== 'string' || typeof province !== 'string') return null;
  return {
    id: id.slice(0, 64),
    name: name.slice(0, 200),
    province: province.slice(0, 6),
    provinceName: provinceNameOf(province) ?? null,
    trusted: false,
  };
}

function sealInForce(key: TrustedSealKey, issuedAt: number, toleranceMs: number): boolean {
  if (key.activatedAt !== null && issuedAt < key.activatedAt - toleranceMs) return false;
  if (key.retiredAt !== null && issuedAt > key.retiredAt + toleranceMs) return false;
  return true;
}

function matchHolder(payload: DocumentPayload, given: NormalizedVerifyDocumentOptions['holder']): DocumentVerification['holderMatch'] {
  if (given === null) return { ...NOT_CHECKED };
  const nameMatches = given.name === null ? null : holderNamesMatch(given.name, payload.holder.name);
  if (given.idNumber === null) return { checked: true, nameMatches, idNumberMatches: null, idNumberNeedsIssuer: false };
  // An organisation's credit code is public and printed whole: compared as shown.
  if (ORGANISATION_DOCUMENT_TYPES.has(payload.type)) {
    const idNumberMatches = normaliseHolderIdentifier(given.idNumber) === normaliseHolderIdentifier(payload.holder.idMasked);
    return { checked: true, nameMatches, idNumberMatches, idNumberNeedsIssuer: false };
  }
  // A keyed binding (format 2) says nothing to whoever lacks the issuer's key: only the issuer checks it.
  if (payload.v !== 1) return { checked: true, nameMatches, idNumberMatches: null, idNumberNeedsIssuer: true };
  return {
    checked: true,
    nameMatches,
    idNumberMatches: bindingMatches(payload.holder.binding, payload.holder.salt, given.idNumber),
    idNumberNeedsIssuer: false,
  };
}

/**
 * Verifies a document (its token or QR text; white space and line breaks
 * are tolerated) against a loaded seal trust list.
 *
 * Checks, in order, each failure with its own code: the text is a document
 * of this format and complete (DOCUMENT_MALFORMED, DOCUMENT_TRUNCATED,
 * HEADER_INVALID); the content matches the sealed header (CONTENT_ALTERED);
 * the seal key is in the trust list (UNKNOWN_KEY); the signature verifies
 * (SIGNATURE_INVALID); the document names the authority whose key sealed it
 * (ISSUER_MISMATCH); that key was in force at the stated sealing time
 * (SEAL_NOT_IN_FORCE); the type is the one expected (WRONG_TYPE); the
 * validity period includes `now` (NOT_YET_VALID, EXPIRED). Holder match is
 * reported beside the verdict and does not change it.
 *
 * **Live status is not decided here.** Whether the issuer has since revoked
 * or superseded the document is known only to the issuer's server, which
 * adds it to this result; a verification with this function alone (the
 * offline verifier) must say that it did not check it.
 */
export async function verifyDocument(input: unknown, trustList: SealTrustList, options: VerifyDocumentOptions = {}): Promise<DocumentVerification> {
  const settings = normalizeVerifyDocumentOptions(options);
  if (typeof trustList !== 'object' || trustList === null || !(trustList.keys instanceof Map)) {
    throw new TypeError('verifyDocument: trustList must be a loaded seal trust list (loadSealTrustList or parseSealTrustList)');
  }

  const parsed = parseDocumentToken(input);
  if ('code' in parsed) return outcome(parsed.code);
  const { header, payloadBytes, compact } = parsed;

  const contentIntact = payloadDigest(payloadBytes) === header.dig;
  if (!contentIntact) return outcome('CONTENT_ALTERED', { issuer: claimedIssuer(payloadBytes) });

  const key = trustList.keys.get(header.kid);
  const unsealed = { integrity: { signatureValid: false, contentIntact }, issuer: claimedIssuer(payloadBytes) };
  if (!key) return outcome('UNKNOWN_KEY', unsealed);
  // The key decides the algorithm, never the header (algorithm confusion).
  if (header.alg !== key.alg) return outcome('SIGNATURE_INVALID', unsealed);
  try {
    await compactVerify(compact, key.key, { algorithms: [key.alg] });
  } catch {
    return outcome('SIGNATURE_INVALID', unsealed);
  }

  const integrity = { signatureValid: true, contentIntact };
  const authority = key.authority;
  const sealer = { id: authority.id, name: authority.name, province: authority.province, provinceName: authority.provinceName, trusted: true };
  const read = readDocumentPayload(decompressPayload(payloadBytes));
  if ('problem' in read) return outcome('DOCUMENT_MALFORMED', { integrity, issuer: sealer });
  const payload = read.payload;

  // A trusted authority's seal on a document naming another authority is a forgery by, or a bug at, the sealer.
  if (payload.issuer.id !== authority.id || payload.issuer.province !== authority.province) {
    return outcome('ISSUER_MISMATCH', { integrity, issuer: claimedIssuer(payloadBytes) });
  }
  const issuedAt = instantMillis(payload.issuedAt)!;
  if (!sealInForce(key, issuedAt, settings.toleranceMs)) return outcome('SEAL_NOT_IN_FORCE', { integrity, issuer: sealer });

  const from = instantMillis(payload.validFrom)!;
  const until = payload.validUntil === null ? null : instantMillis(payload.validUntil)!;
  const status =
    settings.now < from - settings.toleranceMs
      ? 'NOT_YET_VALID'
      : until !== null && settings.now >= until + settings.toleranceMs
        ? 'EXPIRED'
        : 'CURRENT';
  const sealed: Parts = {
    integrity,
    issuer: sealer,
    validity: { from: payload.validFrom, until: payload.validUntil, status },
    content: payload.content,
    document: {
      type: payload.type,
      typeName: DOCUMENT_TYPE_NAMES[payload.type],
      serial: payload.serial,
      issuedAt: payload.issuedAt,
      sealKid: key.kid,
      format: payload.v,
      exposesIdNumber: payload.v === 1,
    },
    holder: { name: payload.holder.name, idMasked: payload.holder.idMasked },
    holderMatch: matchHolder(payload, settings.holder),
  };
  if (settings.expectedType !== null && payload.type !== settings.expectedType) return outcome('WRONG_TYPE', sealed);
  if (status === 'NOT_YET_VALID') return outcome('NOT_YET_VALID', sealed);
  if (status === 'EXPIRED') return outcome('EXPIRED', sealed);
  return outcome('OK', sealed);
}
