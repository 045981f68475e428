/**
 * The payload travels as raw DEFLATE (RFC 1951) of its minified JSON, with
 * `zip: "DEF"` in the protected header — as SMART Health Cards do for the
 * same reason: a QR code holds at most 2331 bytes at level M, and Chinese
 * text costs 3 bytes of UTF-8 and then 4 characters of base64url. A
 * certificate listing five insurance types in two places shrinks from
 * about 3000 to about 900 characters and fits; uncompressed, it does not.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** `zip` header value of every document. */
export const PAYLOAD_COMPRESSION = 'DEF';

/**
 * Upper bound of an inflated payload. Sealed payloads are a few KiB; the
 * bound stops a small forged payload from inflating into a memory bomb,
 * since a verifier inflates before it knows who sealed the document.
 */
export const MAX_PAYLOAD_JSON_BYTES = 65_536;

/** The payload's bytes inside the JWS: raw DEFLATE of its JSON. */
export function compressPayload(payload: unknown): Uint8Array {
  return deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'), { level: 9 });
}

/** The payload's JSON value, or undefined when the bytes do not inflate (within the bound) to JSON. */
export function decompressPayload(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(inflateRawSync(bytes, { maxOutputLength: MAX_PAYLOAD_JSON_BYTES }).toString('utf8'));
  } catch {
    return undefined;
  }
}
