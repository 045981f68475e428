/**
 * Allocation of the identifiers the seeder hands out: citizen ID numbers,
 * unified social credit codes, and the numbering schemes of each domain
 * (household numbers, card numbers, account numbers, licence identifiers…).
 *
 * Every allocator is deterministic (it depends only on the order of calls)
 * and collision-free by construction, so uniqueness never needs a lookup
 * table of issued values. Generated records and the fixed demo records use
 * disjoint ranges, documented on each function, so the demo records can be
 * written first without ever colliding with generated ones.
 */
import { creditCodeCheckChar, idNumberCheckChar } from '../../common/identifiers.js';
import { compactDate, dayOf, type Day } from './calendar.js';
import { mix32 } from './random.js';
import type { Sex } from './names.js';

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/**
 * Maps 0..modulus-1 onto itself in a scrambled order. The multiplier must be
 * coprime with the modulus (a bijection) and small enough that
 * index × multiplier stays below 2^53 (exact in a double).
 */
function scatter(index: number, modulus: number, multiplier: number, offset: number): number {
  if (index >= modulus) throw new RangeError(`identifier space of ${modulus} exhausted`);
  return (index * multiplier + offset) % modulus;
}

const FIRST_BIRTH_DAY = dayOf(1900, 1, 1);
const LAST_BIRTH_DAY = dayOf(2027, 1, 1);
/** Order codes per (area, birth date, sex): 449 each, so sequences stay below 900. */
const SLOTS = 449;
/** Coprime with SLOTS: successive persons of one cell get scattered, distinct sequences. */
const SLOT_STEP = 37;

/**
 * Hands out citizen ID numbers (GB 11643): area + birth date + sequence + check.
 *
 * Generated persons get sequences 001-898 (odd for men, even for women);
 * 900-999 are left to the demo persons. Each (area, birth date, sex) cell has
 * a counter in a typed array: 48 counties × 46 000 days × 2 sexes, about 9 MB,
 * however many persons are seeded.
 */
export class IdNumberAllocator {
  private readonly countyIndex: ReadonlyMap<string, number>;
  private readonly used: Uint16Array;
  private readonly days = LAST_BIRTH_DAY - FIRST_BIRTH_DAY;

  constructor(counties: readonly string[]) {
    this.countyIndex = new Map(counties.map((code, i) => [code, i]));
    this.used = new Uint16Array(counties.length * this.days * 2);
  }

  /** The next ID number of a person born in `county` on `birth`; null when that day's sequences are used up. */
  allocate(county: string, birth: Day, sex: Sex): string | null {
    const ci = this.countyIndex.get(county);
    if (ci === undefined) throw new RangeError(`county ${county} is not in the allocator`);
    if (birth < FIRST_BIRTH_DAY || birth >= LAST_BIRTH_DAY) throw new RangeError(`birth day ${birth} out of range`);
    const cell = (ci * this.days + (birth - FIRST_BIRTH_DAY)) * 2 + (sex === 'MALE' ? 1 : 0);
    const n = this.used[cell];
    if (n >= SLOTS) return null;
    this.used[cell] = n + 1;
    const slot = ((mix32(cell) % SLOTS) + n * SLOT_STEP) % SLOTS;
    return idNumber(county, birth, sex === 'MALE' ? slot * 2 + 1 : slot * 2 + 2);
  }
}

/** An ID number from its parts (the demo records use sequences 900-999). */
export function idNumber(county: string, birth: Day, sequence: number): string {
  const first17 = `${county}${compactDate(birth)}${pad(sequence, 3)}`;
  return first17 + idNumberCheckChar(first17);
}

const ORGANISATION_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/** GB 11714 check character of an organisation code: weights 3 7 9 10 5 8 4 2, c = 11 − (Σ mod 11), 10 → X, 11 → 0. */
export function organisationCodeCheckChar(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = first8.charCodeAt(i);
    const value = ch <= 57 ? ch - 48 : ch - 55; // digits 0-9, capitals A=10 … Z=35
    sum += value * ORGANISATION_CODE_WEIGHTS[i];
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** Market-entity kinds and their GB 32100 organisation-type digit under registering authority 9. */
export const ENTITY_TYPE_DIGIT = { ENTERPRISE: '1', INDIVIDUAL_BUSINESS: '2', COOPERATIVE: '3' } as const;
export type EntityKind = keyof typeof ENTITY_TYPE_DIGIT;

/** A unified social credit code: 9 + type + area + organisation code (8 digits + GB 11714 check) + GB 32100 check. */
export function creditCode(kind: EntityKind, county: string, organisationDigits: string): string {
  const organisationCode = organisationDigits + organisationCodeCheckChar(organisationDigits);
  const first17 = `9${ENTITY_TYPE_DIGIT[kind]}${county}${organisationCode}`;
  return first17 + creditCodeCheckChar(first17);
}

/**
 * Organisation codes of generated organisations: 8 digits in 10000000-89999999,
 * scattered. Demo organisations use 9xxxxxxx.
 */
export function generatedOrganisationDigits(index: number): string {
  return String(10_000_000 + scatter(index, 80_000_000, 7_654_321, 37_260_419));
}

/**
 * Household number (户号) of the `serial`-th generated household of a
 * province: the province's two digits and a 7-digit serial, e.g. 430012345.
 * Demo households use 90xxxxxxx (no province code starts with 9).
 */
export function generatedHouseholdNumber(provinceCode: string, serial: number): string {
  if (serial >= 10_000_000) throw new RangeError(`household numbers of province ${provinceCode} exhausted`);
  return `${provinceCode.slice(0, 2)}${pad(serial + 1, 7)}`;
}

/** ISO 7064 MOD 11-2 check character over a string of digits (the ID-number check, for any length). */
export function mod11Check(digits: string): string {
  let p = 0;
  for (let i = 0; i < digits.length; i++) p = ((p + digits.charCodeAt(i) - 48) * 2) % 11;
  const c = (12 - p) % 11;
  return c === 10 ? 'X' : String(c);
}

/** Licence type codes inside electronic licence identifiers. */
export const LICENCE_TYPE_CODE = {
  BUSINESS_LICENCE: '001',
  DRIVING_LICENCE: '002',
  PROFESSIONAL_QUALIFICATION: '003',
} as const;

/**
 * Counters of one seeding run. Every number handed out is unique within its
 * kind because its serial is. Numbers that are primary keys (enrolment ids,
 * account numbers, licence identifiers, credit record ids) keep their serial
 * in order after a short prefix, as agencies number their records, which also
 * lets SQLite append to a few B-tree leaves instead of inserting at random
 * (three times faster at a million persons). Numbers that are not keys
 * (card numbers, certificate numbers) are scrambled so that neighbouring
 * records look unrelated, as real ones do.
 */
export class Serials {
  private licence = 0;
  private card = 0;
  private enrolment = 0;
  private fundAccount = 0;
  private fundEmployer = 0;
  private insuranceEmployer = 0;
  private creditRecord = 0;
  private qualification = 0;
  private drivingFile = 0;
  private caseNumber = 0;

  /**
   * Electronic licence identifier (电子证照标识), modelled on GB/T 36904:
   * `1.2.156.3005.2.<type>.<issuer region>.<serial>.<check>`, where
   * 1.2.156.3005.2 is the OID arc of the national licence catalogue, type is
   * 001 business licence / 002 driving licence / 003 professional
   * qualification, the issuer region is the issuing body's GB/T 2260 code,
   * serial is 10 digits, and check is ISO 7064 MOD 11-2 over
   * type + region + serial.
   */
  licenceIdentifier(type: keyof typeof LICENCE_TYPE_CODE, issuerRegion: string): string {
    const serial = pad(1_000_000_000 + this.licence++, 10);
    const typeCode = LICENCE_TYPE_CODE[type];
    return `1.2.156.3005.2.${typeCode}.${issuerRegion}.${serial}.${mod11Check(typeCode + issuerRegion + serial)}`;
  }

  /** Social security card number (社会保障卡卡号): a letter for the issuing province and 8 digits, e.g. T12345678. */
  cardNumber(provinceLetter: string): string {
    return provinceLetter + pad(scatter(this.card++, 100_000_000, 48_271_113, 58_209_749), 8);
  }

  /** Enrolment identifier: insured county, 险种 code (110 pension, 310 medical, …), 9-digit serial. */
  enrolmentId(county: string, schemeCode: string): string {
    return `${county}${schemeCode}${pad(100_000_000 + this.enrolment++, 9)}`;
  }

  /** Personal fund account number: the centre's city code (4 digits) and an 8-digit serial. */
  fundAccountNumber(centreRegion: string): string {
    return `${centreRegion.slice(0, 4)}${pad(10_000_000 + this.fundAccount++, 8)}`;
  }

  /** Employer account at a fund centre (单位账号): city code and a 6-digit serial. */
  fundEmployerNumber(centreRegion: string): string {
    return `${centreRegion.slice(0, 4)}${pad(scatter(this.fundEmployer++, 1_000_000, 100_003, 577_215), 6)}`;
  }

  /** Employer number at a social-insurance agency (单位编号): agency city code and a 6-digit serial. */
  insuranceEmployerNumber(agencyRegion: string): string {
    return `${agencyRegion.slice(0, 4)}${pad(scatter(this.insuranceEmployer++, 1_000_000, 300_007, 316_227), 6)}`;
  }

  /** Credit record identifier: CR, decision year, 8-digit serial. */
  creditRecordId(year: number): string {
    return `CR${year}${pad(this.creditRecord++ + 1, 8)}`;
  }

  /** Certificate number of a professional qualification: year, level, province, 9-digit serial. */
  qualificationNumber(year: number, levelDigit: number, provinceCode: string): string {
    return `${pad(year % 100, 2)}${levelDigit}${provinceCode.slice(0, 2)}00${pad(scatter(this.qualification++, 1_000_000_000, 1_234_567, 299_792_458), 9)}`;
  }

  /** Driving-licence file number (档案编号): province prefix and 10 digits. */
  drivingFileNumber(provinceCode: string): string {
    return `${provinceCode.slice(0, 2)}${pad(scatter(this.drivingFile++, 10_000_000_000, 3_333_331, 1_602_176_634), 10)}`;
  }

  /** A case or decision serial (the N in 执N号); small and plausible rather than unique. */
  caseSerial(): number {
    return 1 + (mix32(this.caseNumber++) % 3_000);
  }
}
