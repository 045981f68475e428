/**
 * Documents of format 1, as issuers sealed them before holder bindings were
 * keyed: the same payload with `v: 1` and binding SHA-256(salt ‖ ':' ‖ ID
 * number). The library seals only format 2 now; tests make format-1
 * documents here, with a real seal key, to check that those handed out
 * still verify.
 */
import { CompactSign } from 'jose';
import { payloadDigest, type SealedDocument } from '../../common/documents/document.js';
import { holderBinding } from '../../common/documents/holder-binding.js';
import { compressPayload, decompressPayload, PAYLOAD_COMPRESSION } from '../../common/documents/payload-compression.js';
import type { SealSigner } from '../../common/documents/seal-keys.js';
import { parseDocumentToken } from '../../common/documents/token.js';
import { DOCUMENT_JWS_TYPE, type DocumentPayload } from '../../common/documents/types.js';

/** The payload of a sealed token, read without verifying it (the test made it). */
export function payloadOf(token: string): DocumentPayload {
  const parsed = parseDocumentToken(token);
  if ('code' in parsed) throw new Error(`not a document: ${parsed.code}`);
  return decompressPayload(parsed.payloadBytes) as DocumentPayload;
}

/** Seals `payload` as given (any format), with the signer's current key. */
export async function sealPayload(signer: SealSigner, payload: DocumentPayload): Promise<string> {
  const bytes = compressPayload(payload);
  const { kid, alg, key } = await signer.currentKey();
  return new CompactSign(bytes)
    .setProtectedHeader({ alg, kid, typ: DOCUMENT_JWS_TYPE, zip: PAYLOAD_COMPRESSION, dig: payloadDigest(bytes) })
    .sign(key);
}

/** A format-1 copy of a sealed document under another serial: v 1, the unkeyed binding of `idNumber`. */
export async function asFormat1(signer: SealSigner, document: Pick<SealedDocument, 'token'>, idNumber: string, serial: string): Promise<string> {
  const payload = structuredClone(payloadOf(document.token)) as DocumentPayload;
  const legacy = {
    ...payload,
    v: 1,
    serial,
    holder: { ...payload.holder, binding: holderBinding(payload.holder.salt, idNumber) },
  } as DocumentPayload;
  return sealPayload(signer, legacy);
}
