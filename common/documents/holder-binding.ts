/**
 * Binding a document to its holder without writing the holder's identifier
 * into it (PIPL Art. 6 and 51). The document shows only the masked form and
 * carries a fresh random salt and a binding of salt and identifier:
 *
 * - **format 2** (every document sealed now): HMAC-SHA256 under the issuing
 *   authority's secret holder-binding key. Without that key the binding
 *   tells nothing about the number, so the masked digits cannot be guessed
 *   from the document; only the issuing domain can test a candidate, which
 *   it does during online verification (one audited request per guess).
 * - **format 1** (documents handed out before): SHA-256(salt ‖ ':' ‖
 *   identifier), which anyone can test. The masked form leaves about 10^5
 *   candidates, so whoever holds such a document can recover the number in
 *   a second: these still verify, and are reported as exposing it.
 *
 * Names are compared after normalisation, because the same name reaches a
 * notary typed on different keyboards: full-width letters, stray spaces, and
 * the many look-alike middle dots of transliterated names (阿依古丽·买买提).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkCreditCode, checkIdNumber } from '../identifiers.js';

/** Size of a binding salt, bytes. */
export const BINDING_SALT_BYTES = 16;

/** A fresh salt: 16 random bytes, base64url. */
export function newBindingSalt(): string {
  return randomBytes(BINDING_SALT_BYTES).toString('base64url');
}

/**
 * The identifier in the form that is bound: NFKC (full-width digits become
 * ASCII), without white space, upper case (a lower-case `x` check character
 * is the same ID number).
 */
export function normaliseHolderIdentifier(value: string): string {
  const compact = value.normalize('NFKC').replace(/\s+/gu, '').toUpperCase();
  const asId = checkIdNumber(compact);
  if (asId.valid) return asId.value;
  const asCode = checkCreditCode(compact);
  return asCode.valid ? asCode.value : compact;
}

/** Size of an authority's holder-binding key, bytes. */
export const HOLDER_BINDING_KEY_BYTES = 32;

/** Domain separation of the format-2 binding: the key binds holders and nothing else. */
const KEYED_BINDING_LABEL = 'kstb-holder-binding-v2';

/** Format 1: base64url(SHA-256(UTF-8(salt + ':' + identifier))), the salt as its base64url text. Testable by anyone. */
export function holderBinding(salt: string, identifier: string): string {
  return createHash('sha256')
    .update(`${salt}:${normaliseHolderIdentifier(identifier)}`, 'utf8')
    .digest('base64url');
}

/** Format 2: base64url(HMAC-SHA256(key, UTF-8('kstb-holder-binding-v2:' + salt + ':' + identifier))). */
export function keyedHolderBinding(key: Uint8Array, salt: string, identifier: string): string {
  if (!(key instanceof Uint8Array) || key.length !== HOLDER_BINDING_KEY_BYTES)
    throw new TypeError(`a holder-binding key is ${HOLDER_BINDING_KEY_BYTES} bytes`);
  return createHmac('sha256', key)
    .update(`${KEYED_BINDING_LABEL}:${salt}:${normaliseHolderIdentifier(identifier)}`, 'utf8')
    .digest('base64url');
}

function sameDigest(a: string, b: string): boolean {
  const expected = Buffer.from(a, 'base64url');
  const actual = Buffer.from(b, 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Format 1: whether `candidate` is the identifier the binding was made from; constant-time over the digests. */
export function bindingMatches(binding: string, salt: string, candidate: string): boolean {
  return sameDigest(binding, holderBinding(salt, candidate));
}

/** Format 2: the same, for the holder of the authority's key (the issuing domain). */
export function keyedBindingMatches(key: Uint8Array, binding: string, salt: string, candidate: string): boolean {
  return sameDigest(binding, keyedHolderBinding(key, salt, candidate));
}

/**
 * Middle dots and their look-alikes, as typed for the separator of
 * transliterated names: · U+00B7, · U+0387, • U+2022, ‧ U+2027, ∙ U+2219,
 * ⋅ U+22C5, ・ U+30FB, ･ U+FF65 (NFKC turns it into U+30FB), ⸱ U+2E31.
 */
const MIDDLE_DOTS = /[\u00B7\u0387\u2022\u2027\u2219\u22C5\u2E31\u30FB\uFF65]/gu;

/**
 * A name in comparable form: NFKC, every middle-dot variant as U+00B7 with
 * no space around it, runs of white space as one space, trimmed, and Latin
 * letters in lower case (permanent-residence cards print names of
 * foreigners in capitals, clerks type them either way).
 */
export function normaliseHolderName(value: string): string {
  return value
    .normalize('NFKC')
    .replace(MIDDLE_DOTS, '\u00B7')
    .replace(/\s+/gu, ' ')
    .replace(/ ?\u00B7 ?/gu, '\u00B7')
    .trim()
    .toLowerCase();
}

/** Whether two names are the same after {@link normaliseHolderName}. */
export function holderNamesMatch(a: string, b: string): boolean {
  return normaliseHolderName(a) === normaliseHolderName(b);
}
