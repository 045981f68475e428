/**
 * Reading what a notary pastes or scans: a token or a QR text, possibly
 * wrapped over several lines, possibly cut short. Decides only what can be
 * decided without keys: not ours (DOCUMENT_MALFORMED), cut off
 * (DOCUMENT_TRUNCATED), our type with a header that is not ours
 * (HEADER_INVALID). Everything else is left to the verifier.
 */
import { QR_TEXT_PREFIX } from './qr.js';
import { DOCUMENT_JWS_TYPE, SEAL_ALGORITHMS, type SealAlgorithm } from './types.js';
import { PAYLOAD_COMPRESSION } from './payload-compression.js';

/** Far above the largest QR text (2331 bytes) even with line breaks; refuses pasted files before any work. */
export const MAX_DOCUMENT_INPUT_CHARS = 16_384;

/** Both EdDSA (Ed25519) and ES256 signatures are 64 bytes: 86 base64url characters. */
const SIGNATURE_CHARS = 86;
const SIGNATURE_BYTES = 64;
const HEADER_FIELDS = new Set(['alg', 'kid', 'typ', 'zip', 'dig']);

/** A token split and decoded, header checked. */
export interface ParsedDocumentToken {
  /** The compact JWS, without prefix or white space. */
  compact: string;
  header: { alg: SealAlgorithm; kid: string; typ: string; zip: string; dig: string };
  payloadBytes: Uint8Array;
}

/** Why input is not a readable token. */
export interface UnreadableDocumentToken {
  code: 'DOCUMENT_MALFORMED' | 'DOCUMENT_TRUNCATED' | 'HEADER_INVALID' | 'CONTENT_ALTERED';
  problem: string;
}

/** Decodes base64url only when it is exactly what an encoder would produce. */
function decodeCanonical(segment: string): Buffer | null {
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

/** Decodes as much of a possibly cut base64url string as forms whole bytes. */
function decodePrefix(segment: string): string {
  return Buffer.from(segment.slice(0, segment.length - (segment.length % 4 === 1 ? 1 : 0)), 'base64url').toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits and decodes a token or QR text. White space anywhere (line breaks
 * of a wrapped paste, the full-width space of a Chinese input method) and
 * zero-width characters are ignored; the `KSTB1:` prefix is optional and
 * case-insensitive.
 */
export function parseDocumentToken(input: unknown): ParsedDocumentToken | UnreadableDocumentToken {
  const malformed = (problem: string): UnreadableDocumentToken => ({ code: 'DOCUMENT_MALFORMED', problem });
  const truncated = (problem: string): UnreadableDocumentToken => ({ code: 'DOCUMENT_TRUNCATED', problem });
  if (typeof input !== 'string') return malformed('input is not text');
  if (input.length > MAX_DOCUMENT_INPUT_CHARS) return malformed(`input is longer than ${MAX_DOCUMENT_INPUT_CHARS} characters`);
  let text = input.replace(/[\s\u200B-\u200D\u2060\uFEFF]+/gu, '');
  if (text === '') return malformed('input is empty');
  const head = text.slice(0, QR_TEXT_PREFIX.length).toUpperCase();
  const prefixed = head === QR_TEXT_PREFIX;
  if (prefixed) text = text.slice(QR_TEXT_PREFIX.length);
  else if (QR_TEXT_PREFIX.startsWith(text.toUpperCase())) return truncated('only the beginning of the QR prefix is present');
  else if (/^KSTB\d+:/i.test(text)) return malformed('QR text of another format version');
  if (text === '') return truncated('nothing follows the QR prefix');
  if (!/^[A-Za-z0-9_.-]+$/.test(text)) return malformed('contains characters that are not base64url');

  const parts = text.split('.');
  if (parts.length > 3) return malformed('has more than three parts');
  if (parts.length < 3) {
    // Our prefix, or the start of a JSON header (`{"` is `eyJ` in base64url): a document cut short.
    const cut = prefixed || 'eyJ'.startsWith(parts[0]) || decodePrefix(parts[0]).startsWith('{"');
    return cut ? truncated(`ends after ${parts.length} of 3 parts`) : malformed('is not a compact JWS');
  }

  const headerBytes = decodeCanonical(parts[0]);
  let header: unknown;
  try {
    header = headerBytes === null ? null : JSON.parse(headerBytes.toString('utf8'));
  } catch {
    header = null;
  }
  if (!isRecord(header)) return malformed('header is not base64url JSON');
  if (header.typ !== DOCUMENT_JWS_TYPE) return malformed(`header typ is not ${DOCUMENT_JWS_TYPE}`);
  for (const member of Object.keys(header))
    if (!HEADER_FIELDS.has(member)) return { code: 'HEADER_INVALID', problem: `header has an unexpected member "${member.slice(0, 32)}"` };
  if (!(SEAL_ALGORITHMS as readonly unknown[]).includes(header.alg))
    return { code: 'HEADER_INVALID', problem: `header alg is not one of ${SEAL_ALGORITHMS.join(', ')}` };
  if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 128)
    return { code: 'HEADER_INVALID', problem: 'header kid is missing' };
  if (header.zip !== PAYLOAD_COMPRESSION) return { code: 'HEADER_INVALID', problem: `header zip is not ${PAYLOAD_COMPRESSION}` };
  if (typeof header.dig !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(header.dig))
    return { code: 'HEADER_INVALID', problem: 'header dig is not a base64url SHA-256 digest' };

  if (parts[2].length < SIGNATURE_CHARS) return truncated(`signature has ${parts[2].length} of ${SIGNATURE_CHARS} characters`);
  const signature = decodeCanonical(parts[2]);
  if (parts[2].length > SIGNATURE_CHARS || signature?.length !== SIGNATURE_BYTES) return malformed('signature is not 64 bytes of base64url');
  // Issuers write canonical base64url; anything else in the payload part was edited by hand.
  const payloadBytes = decodeCanonical(parts[1]);
  if (payloadBytes === null) return { code: 'CONTENT_ALTERED', problem: 'payload part is not canonical base64url' };
  return {
    compact: text,
    header: { alg: header.alg as SealAlgorithm, kid: header.kid, typ: header.typ, zip: header.zip, dig: header.dig },
    payloadBytes,
  };
}
