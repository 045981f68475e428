/**
 * Sealing a document: the payload is signed with the issuing authority's
 * seal key as a compact JWS, which is the document's token; the token behind
 * a `KSTB1:` prefix is its QR text.
 *
 * Protected header: `{ alg: "EdDSA", kid, typ: "kuasheng-document+jws", zip: "DEF", dig }`.
 * The payload bytes are the raw DEFLATE of the payload's JSON (see
 * payload-compression.ts: without it a typical certificate would not fit a
 * QR code). `dig` is base64url(SHA-256(payload bytes)). The signature alone
 * proves integrity; `dig` only lets a verifier say *what* broke: a payload
 * that no longer matches its header's digest was altered after sealing
 * (CONTENT_ALTERED), while a payload that matches it under a signature that
 * fails means the signature was replaced or the header changed
 * (SIGNATURE_INVALID). It costs 60 characters of QR capacity.
 */
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import { maskIdNumber } from '../identifiers.js';
import { checkCreditCode, checkIdNumber } from '../identifiers.js';
import { DocumentDraftError } from './errors.js';
import { DOCUMENT_SERIAL, readDocumentPayload } from './payload.js';
import { QR_MAX_BYTES, toQrText } from './qr.js';
import {
  DOCUMENT_FORMAT_VERSION,
  DOCUMENT_JWS_TYPE,
  DOCUMENT_TYPES,
  isDocumentType,
  ORGANISATION_DOCUMENT_TYPES,
  type DocumentPayload,
  type DocumentType,
} from './types.js';
import { newBindingSalt } from './holder-binding.js';
import { compressPayload, PAYLOAD_COMPRESSION } from './payload-compression.js';
import { toInstant } from './iso-instant.js';
import type { SealSigner } from './seal-keys.js';

/** A person holding a document: name and citizen ID number (GB 11643). */
export interface PersonHolderDraft {
  name: string;
  idNumber: string;
}

/** An organisation holding a document (business licence): registered name and unified social credit code. */
export interface OrganisationHolderDraft {
  name: string;
  creditCode: string;
}

/** What the issuing subgraph knows about a document before it is sealed. */
export interface DocumentDraft {
  type: DocumentType;
  /** Unique per issuer: upper-case letters, digits, inner hyphens, e.g. `SB-430100-2026-000123`. */
  serial: string;
  /** A person, or an organisation for {@link ORGANISATION_DOCUMENT_TYPES}. The raw identifier is bound, never written. */
  holder: PersonHolderDraft | OrganisationHolderDraft;
  /** Sealing time; default now. */
  issuedAt?: Date | string;
  /** Start of validity (inclusive); default `issuedAt`. */
  validFrom?: Date | string;
  /** End of validity (exclusive); null when the document does not expire. Required, so that nobody forgets it. */
  validUntil: Date | string | null;
  /** The certified content; a JSON object. It must not contain the holder's ID number. */
  content: Record<string, unknown>;
}

/** A sealed document as it is handed out. */
export interface SealedDocument {
  /** Compact JWS. */
  token: string;
  /** `KSTB1:` + token, for a QR code; at most {@link QR_MAX_BYTES} bytes. */
  qrText: string;
  payload: DocumentPayload;
}

/** The JWS header a verifier expects, in this order. */
export interface DocumentHeader {
  alg: string;
  kid: string;
  typ: typeof DOCUMENT_JWS_TYPE;
  /** Always `DEF`: the payload is raw DEFLATE of its JSON. */
  zip: typeof PAYLOAD_COMPRESSION;
  /** base64url(SHA-256(payload bytes as in the JWS, i.e. compressed)). */
  dig: string;
}

/** base64url(SHA-256(bytes)): the `dig` header member. */
export function payloadDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The identifier and its visible form, checked against the kind of holder the type calls for. */
function holderIdentity(type: DocumentType, holder: DocumentDraft['holder']): { identifier: string; idMasked: string } {
  const wantsOrganisation = ORGANISATION_DOCUMENT_TYPES.has(type);
  if (wantsOrganisation) {
    const code = (holder as OrganisationHolderDraft).creditCode;
    if (typeof code !== 'string') throw new DocumentDraftError('holder.creditCode', `is required: a ${type} is held by an organisation`);
    const check = checkCreditCode(code);
    if (!check.valid) throw new DocumentDraftError('holder.creditCode', `is not a valid unified social credit code: it ${check.reason}`);
    // A credit code is public (printed on the licence itself): shown whole.
    return { identifier: check.value, idMasked: check.value };
  }
  const idNumber = (holder as PersonHolderDraft).idNumber;
  if (typeof idNumber !== 'string') throw new DocumentDraftError('holder.idNumber', `is required: a ${type} is held by a person`);
  const check = checkIdNumber(idNumber);
  // The reason only, never the value: it is a personal identifier.
  if (!check.valid) throw new DocumentDraftError('holder.idNumber', `is not a valid citizen ID number: it ${check.reason}`);
  return { identifier: check.value, idMasked: maskIdNumber(check.value) };
}

/**
 * Checks a draft and builds the payload (format 2), with a fresh salt for
 * the holder binding, which `bindHolder` makes under the authority's key.
 *
 * @throws {DocumentDraftError} naming the bad field.
 */
export async function buildDocumentPayload(
  issuer: DocumentPayload['issuer'],
  draft: DocumentDraft,
  bindHolder: SealSigner['bindHolder'],
  now: Date = new Date(),
): Promise<DocumentPayload> {
  if (!isRecord(draft)) throw new DocumentDraftError('(draft)', 'must be an object');
  if (!isDocumentType(draft.type)) throw new DocumentDraftError('type', `must be one of ${DOCUMENT_TYPES.join(', ')}`);
  if (typeof draft.serial !== 'string' || !DOCUMENT_SERIAL.test(draft.serial)) {
    throw new DocumentDraftError('serial', 'must be 1–64 upper-case letters, digits and inner hyphens, e.g. SB-430100-2026-000123');
  }
  if (!isRecord(draft.holder)) throw new DocumentDraftError('holder', 'must be an object');
  const name = typeof draft.holder.name === 'string' ? draft.holder.name.normalize('NFC').trim() : '';
  if (name === '' || name.length > 200) throw new DocumentDraftError('holder.name', 'must be a non-empty name of at most 200 characters');
  const { identifier, idMasked } = holderIdentity(draft.type, draft.holder);

  const issuedAt = toInstant(draft.issuedAt ?? now);
  if (issuedAt === null) throw new DocumentDraftError('issuedAt', 'must be a Date or an ISO 8601 instant with offset');
  const validFrom = toInstant(draft.validFrom ?? issuedAt);
  if (validFrom === null) throw new DocumentDraftError('validFrom', 'must be a Date or an ISO 8601 instant with offset');
  if (draft.validUntil === undefined)
    throw new DocumentDraftError('validUntil', 'is required: an end of validity, or null for a document that does not expire');
  const validUntil = draft.validUntil === null ? null : toInstant(draft.validUntil);
  if (validUntil === null && draft.validUntil !== null)
    throw new DocumentDraftError('validUntil', 'must be null, a Date or an ISO 8601 instant with offset');
  if (validUntil !== null && validUntil <= validFrom) throw new DocumentDraftError('validUntil', 'must be after validFrom');

  if (!isRecord(draft.content)) throw new DocumentDraftError('content', 'must be a JSON object');
  // What the verifier will see is the JSON form: Dates become strings, undefined members vanish.
  const content = JSON.parse(JSON.stringify(draft.content)) as Record<string, unknown>;
  const contentText = JSON.stringify(content).toUpperCase();
  if (!ORGANISATION_DOCUMENT_TYPES.has(draft.type) && contentText.includes(identifier)) {
    // Minimum necessary (PIPL Art. 6): the holder's ID number is bound, not shown.
    throw new DocumentDraftError('content', "contains the holder's ID number; it belongs in holder.idNumber only, where it is masked and bound");
  }

  const salt = newBindingSalt();
  const payload: DocumentPayload = {
    v: DOCUMENT_FORMAT_VERSION,
    type: draft.type,
    serial: draft.serial,
    issuer: { id: issuer.id, name: issuer.name, province: issuer.province },
    holder: { name, idMasked, binding: await bindHolder(salt, identifier), salt },
    issuedAt,
    validFrom,
    validUntil,
    content,
  };
  // The same check verifiers apply: never seal what a verifier would call malformed.
  const read = readDocumentPayload(payload);
  if ('problem' in read) throw new DocumentDraftError('(payload)', read.problem);
  return payload;
}

/**
 * Seals a document with the authority's current seal key.
 *
 * @returns the compact token, its QR text and the payload as sealed.
 * @throws {DocumentDraftError} `DOCUMENT_DRAFT_INVALID` naming a bad field;
 *   `DOCUMENT_TOO_LARGE` when the QR text would exceed {@link QR_MAX_BYTES}
 *   (a document that cannot be printed as a QR code fails at issue, not at the counter).
 * @throws {SealKeyError} when the signer's key cannot be read.
 */
export async function sealDocument(signer: SealSigner, draft: DocumentDraft, options: { now?: Date } = {}): Promise<SealedDocument> {
  const payload = await buildDocumentPayload(signer.authority, draft, (salt, identifier) => signer.bindHolder(salt, identifier), options.now);
  const bytes = compressPayload(payload);
  const { kid, alg, key } = await signer.currentKey();
  const header: DocumentHeader = { alg, kid, typ: DOCUMENT_JWS_TYPE, zip: PAYLOAD_COMPRESSION, dig: payloadDigest(bytes) };
  const token = await new CompactSign(bytes).setProtectedHeader({ ...header }).sign(key);
  const qrText = toQrText(token);
  const size = Buffer.byteLength(qrText, 'utf8');
  if (size > QR_MAX_BYTES) {
    throw new DocumentDraftError(
      'content',
      `makes a QR text of ${size} bytes, more than the ${QR_MAX_BYTES} a QR code holds at level M; shorten the content`,
      'DOCUMENT_TOO_LARGE',
    );
  }
  return { token, qrText, payload: deepFreeze(payload) };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
