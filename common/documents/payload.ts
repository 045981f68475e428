/**
 * The payload's shape, checked field by field when a document is read back.
 * A verifier trusts a payload only after its seal verified, and even then
 * reads it through this check: a seal on a malformed payload (a buggy
 * issuer, a future format) must give a verdict, not a crash further down.
 */
import { DOCUMENT_FORMATS, isDocumentType, type DocumentPayload } from './types.js';
import { instantMillis } from './iso-instant.js';
import { SEAL_AUTHORITY_ID } from './seal-authority.js';

/** Serial numbers: upper-case letters, digits and inner hyphens, e.g. `SB-430100-2026-000123`. */
export const DOCUMENT_SERIAL = /^[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const PAYLOAD_FIELDS = ['v', 'type', 'serial', 'issuer', 'holder', 'issuedAt', 'validFrom', 'validUntil', 'content'];
const ISSUER_FIELDS = ['id', 'name', 'province'];
const HOLDER_FIELDS = ['name', 'idMasked', 'binding', 'salt'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactly(value: Record<string, unknown>, fields: string[]): boolean {
  const keys = Object.keys(value);
  return keys.length === fields.length && fields.every((field) => Object.hasOwn(value, field));
}

function nonEmpty(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= max;
}

/**
 * Checks that a parsed JSON value is a payload of format 2 or 1 (the same
 * fields; only the binding is made another way). Returns the payload
 * or the name of the first field at fault (never its value: it may be
 * personal data).
 */
export function readDocumentPayload(value: unknown): { payload: DocumentPayload } | { problem: string } {
  if (!isRecord(value)) return { problem: 'payload is not a JSON object' };
  if (!(DOCUMENT_FORMATS as readonly unknown[]).includes(value.v)) return { problem: 'payload.v is not 1 or 2 (an unknown format version)' };
  if (!exactly(value, PAYLOAD_FIELDS)) return { problem: `payload must have exactly the fields ${PAYLOAD_FIELDS.join(', ')}` };
  if (!isDocumentType(value.type)) return { problem: 'payload.type is not a known document type' };
  if (typeof value.serial !== 'string' || !DOCUMENT_SERIAL.test(value.serial)) return { problem: 'payload.serial is not a serial number' };
  const issuer = value.issuer;
  if (!isRecord(issuer) || !exactly(issuer, ISSUER_FIELDS)) return { problem: `payload.issuer must have exactly ${ISSUER_FIELDS.join(', ')}` };
  if (typeof issuer.id !== 'string' || !SEAL_AUTHORITY_ID.test(issuer.id)) return { problem: 'payload.issuer.id is not an authority id' };
  if (!nonEmpty(issuer.name, 200)) return { problem: 'payload.issuer.name is empty' };
  if (typeof issuer.province !== 'string' || !/^\d{6}$/.test(issuer.province)) return { problem: 'payload.issuer.province is not a region code' };
  const holder = value.holder;
  if (!isRecord(holder) || !exactly(holder, HOLDER_FIELDS)) return { problem: `payload.holder must have exactly ${HOLDER_FIELDS.join(', ')}` };
  if (!nonEmpty(holder.name, 200)) return { problem: 'payload.holder.name is empty' };
  if (!nonEmpty(holder.idMasked, 64)) return { problem: 'payload.holder.idMasked is empty' };
  // SHA-256 and HMAC-SHA256 are 32 bytes (43 base64url characters), the salt 16 bytes (22).
  if (typeof holder.binding !== 'string' || holder.binding.length !== 43 || !BASE64URL.test(holder.binding))
    return { problem: 'payload.holder.binding is not a base64url SHA-256 digest' };
  if (typeof holder.salt !== 'string' || holder.salt.length !== 22 || !BASE64URL.test(holder.salt))
    return { problem: 'payload.holder.salt is not 16 bytes of base64url' };
  if (instantMillis(value.issuedAt) === null) return { problem: 'payload.issuedAt is not an ISO 8601 instant' };
  const from = instantMillis(value.validFrom);
  if (from === null) return { problem: 'payload.validFrom is not an ISO 8601 instant' };
  if (value.validUntil !== null) {
    const until = instantMillis(value.validUntil);
    if (until === null) return { problem: 'payload.validUntil is neither null nor an ISO 8601 instant' };
    if (until <= from) return { problem: 'payload.validUntil is not after validFrom' };
  }
  if (!isRecord(value.content)) return { problem: 'payload.content is not a JSON object' };
  return { payload: value as unknown as DocumentPayload };
}
