/**
 * Sealed electronic documents (电子证照, 电子证明): seal keys per issuing
 * authority, the seal trust list, sealing a document as a compact JWS and a
 * QR code, and verifying one offline. See README.md in this folder.
 */
export * from './types.js';
export * from './errors.js';
export { checkSealAuthorityId, normalizeSealAuthority, provinceNameOf, type SealAuthority, type SealAuthorityInput } from './seal-authority.js';
export * from './seal-keys.js';
export * from './seal-trust-list.js';
export { holderBinding, holderNamesMatch, normaliseHolderIdentifier, normaliseHolderName } from './holder-binding.js';
export * from './document.js';
export { QR_MAX_BYTES, QR_TEXT_PREFIX, qrVersionOf, renderQr, toQrText, type QrImageFormat, type RenderQrOptions } from './qr.js';
export { MAX_DOCUMENT_INPUT_CHARS } from './token.js';
export * from './verification-codes.js';
export * from './verify.js';
export { describeDocumentVerification, LIVE_STATUS_NOT_CHECKED } from './verification-report.js';
export * from './verify-cli-arguments.js';
