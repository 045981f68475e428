/**
 * Citizen ID numbers (GB 11643-1999) and unified social credit codes
 * (GB 32100-2015): check characters and validation with a reason a caller can
 * act on. The algorithms are exactly those of ../shared/DOMAIN.md.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK_CHARS = '10X98765432';

/** Characters of a unified social credit code: no I, O, S, V, Z. */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** Outcome of validating an identifier: the normalised value, or why it is invalid. */
export type IdentifierCheck = { valid: true; value: string } | { valid: false; reason: string };

/** ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number. */
export function idNumberCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('idNumberCheckChar expects 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i];
  return ID_CHECK_CHARS[sum % 11];
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Validates a citizen ID number: 18 characters, a real birth date that is not
 * in the future, and the MOD 11-2 check character. A lower-case `x` is
 * accepted and normalised. The area code is deliberately not checked against
 * today's GB/T 2260 list: IDs keep the code of first registration, which may
 * be historical.
 */
export function checkIdNumber(input: string, today: Date = new Date()): IdentifierCheck {
  if (typeof input !== 'string') return { valid: false, reason: 'must be a string' };
  const value = input.trim().toUpperCase();
  if (value.length !== 18) return { valid: false, reason: `must be 18 characters long, got ${value.length}` };
  if (!/^\d{17}[\dX]$/.test(value)) {
    return { valid: false, reason: 'must be 17 digits followed by a digit or X' };
  }
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  if (year < 1850 || !isRealDate(year, month, day)) {
    return { valid: false, reason: `has an impossible birth date ${value.slice(6, 14)}` };
  }
  if (Date.UTC(year, month - 1, day) > today.getTime()) {
    return { valid: false, reason: `has a birth date in the future ${value.slice(6, 14)}` };
  }
  const expected = idNumberCheckChar(value.slice(0, 17));
  if (value[17] !== expected) return { valid: false, reason: 'has a wrong check character' };
  return { valid: true, value };
}

/** GB 32100 check character for the first 17 characters of a credit code. */
export function creditCodeCheckChar(first17: string): string {
  if (first17.length !== 17) throw new TypeError('creditCodeCheckChar expects 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_CHARSET.indexOf(first17[i]);
    if (v < 0) throw new TypeError(`character ${first17[i]} is not allowed in a credit code`);
    sum += v * CREDIT_WEIGHTS[i];
  }
  const c = 31 - (sum % 31);
  return CREDIT_CODE_CHARSET[c === 31 ? 0 : c];
}

/**
 * Validates a unified social credit code: 18 characters from the GB 32100
 * charset (upper case; lower case is normalised) and the check character.
 */
export function checkCreditCode(input: string): IdentifierCheck {
  if (typeof input !== 'string') return { valid: false, reason: 'must be a string' };
  const value = input.trim().toUpperCase();
  if (value.length !== 18) return { valid: false, reason: `must be 18 characters long, got ${value.length}` };
  for (const ch of value) {
    if (!CREDIT_CODE_CHARSET.includes(ch)) {
      return {
        valid: false,
        reason: `contains ${JSON.stringify(ch)}, which is not in the GB 32100 character set (digits and capitals without I, O, S, V, Z)`,
      };
    }
  }
  if (value[17] !== creditCodeCheckChar(value.slice(0, 17))) {
    return { valid: false, reason: 'has a wrong check character' };
  }
  return { valid: true, value };
}

/** A personal identifier that `personalIdentifierIn` finds in free text. */
export type IdentifierKind = 'ID_NUMBER' | 'MOBILE_NUMBER' | 'CREDIT_CODE';

/**
 * Fifteen digits in a row: a first-generation ID number (15 digits), or the
 * first 17 digits of an 18-character one whatever its check character — a
 * mistyped number still points at one person, so what looks like an ID
 * number counts as one. Bank-card numbers are caught alike.
 */
const ID_NUMBER_DIGITS = /\d{15}/;
/** A mainland mobile number, written as one run of digits; also inside a longer run (with 86 in front, say). */
const MOBILE_NUMBER = /1[3-9]\d{9}/;
/** Runs of letters and digits long enough to hold a credit code. */
const LETTER_DIGIT_RUN = /[0-9A-Z]{18,}/g;
/** The shape of a credit code: authority and type, a six-digit area code, organisation code and check, all from its charset. */
const CREDIT_CODE_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

function holdsCreditCode(text: string): boolean {
  for (const [run] of text.matchAll(LETTER_DIGIT_RUN)) {
    for (let start = 0; start + 18 <= run.length; start++) {
      const candidate = run.slice(start, start + 18);
      if (CREDIT_CODE_SHAPE.test(candidate) && checkCreditCode(candidate).valid) return true;
    }
  }
  return false;
}

/**
 * The first personal identifier held in a piece of free text (a case
 * number), or null. Full-width digits and letters count as
 * their ASCII forms (NFKC), letters in either case.
 *
 * - `ID_NUMBER`: 15 or more digits in a row, with or without a right check
 *   character (GB 11643's 18 characters, or the 15-digit first generation).
 *   Refusing anything shaped like one is the safe side: free text has no
 *   need of 15 digits in a row.
 * - `CREDIT_CODE`: 18 letters and digits, anywhere in a longer run, shaped
 *   like a unified social credit code and with its GB 32100 check character
 *   right. The check is required here: 18 letters and digits is also the
 *   shape of many ordinary reference numbers, and all but one in 31 of
 *   those fail it.
 * - `MOBILE_NUMBER`: `1[3-9]` and nine more digits, in one run.
 *
 * It guards against identifiers put in by habit or by mistake; it cannot
 * catch one deliberately split up (`4301-0219-…`).
 */
export function personalIdentifierIn(text: string): IdentifierKind | null {
  const normalised = text.normalize('NFKC').toUpperCase();
  if (ID_NUMBER_DIGITS.test(normalised)) return 'ID_NUMBER';
  if (holdsCreditCode(normalised)) return 'CREDIT_CODE';
  if (MOBILE_NUMBER.test(normalised)) return 'MOBILE_NUMBER';
  return null;
}

/** Facts encoded in a valid ID number. */
export interface IdNumberFacts {
  areaCode: string;
  birthDate: string;
  sex: 'MALE' | 'FEMALE';
}

/** Reads area, birth date and sex out of an ID number already validated. */
export function idNumberFacts(idNumber: string): IdNumberFacts {
  return {
    areaCode: idNumber.slice(0, 6),
    birthDate: `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`,
    sex: Number(idNumber[16]) % 2 === 1 ? 'MALE' : 'FEMALE',
  };
}

/**
 * The printed, masked form of an ID number, `5401**********9217`: area
 * prefix and the last four characters stay (the gateway's masking and the
 * holder line of sealed documents use it alike).
 */
export function maskIdNumber(value: string): string {
  return value.length === 18 ? `${value.slice(0, 4)}${'*'.repeat(10)}${value.slice(14)}` : '*'.repeat(value.length);
}
