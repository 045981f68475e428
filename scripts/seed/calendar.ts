/**
 * Dates for the synthetic data, as integer day numbers (days since
 * 1970-01-01) and month indexes (year × 12 + month − 1): cheap to add and
 * compare in the hot loop, turned into ISO strings only when a row is written.
 *
 * The seeder never reads the clock: "today" is the fixed REFERENCE_DATE, so a
 * seed gives the same statuses and validity periods whenever it runs.
 */

/** A calendar date as days since 1970-01-01 (UTC). */
export type Day = number;
/** A calendar month as year × 12 + (month − 1). */
export type MonthIndex = number;

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
export function dayOf(year: number, month: number, day: number): Day {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month (1-12), day] of a day number (civil_from_days). */
export function civilOf(dayNumber: Day): [number, number, number] {
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** ISO 8601 date, e.g. 2026-11-01. */
export function isoDate(dayNumber: Day): string {
  const [y, m, d] = civilOf(dayNumber);
  return `${y}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}`;
}

/** Compact date YYYYMMDD, as in an ID number. */
export function compactDate(dayNumber: Day): string {
  const [y, m, d] = civilOf(dayNumber);
  return `${y}${TWO_DIGITS[m]}${TWO_DIGITS[d]}`;
}

/** Parses YYYY-MM-DD (trusted input: demo records). */
export function parseDate(iso: string): Day {
  return dayOf(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10)));
}

export function yearOf(dayNumber: Day): number {
  return civilOf(dayNumber)[0];
}

export function monthOf(dayNumber: Day): MonthIndex {
  const [y, m] = civilOf(dayNumber);
  return y * 12 + m - 1;
}

export function monthIndex(year: number, month: number): MonthIndex {
  return year * 12 + month - 1;
}

/** ISO 8601 month, e.g. 2026-10. */
export function isoMonth(month: MonthIndex): string {
  return `${Math.floor(month / 12)}-${TWO_DIGITS[(month % 12) + 1]}`;
}

export function firstDayOf(month: MonthIndex): Day {
  return dayOf(Math.floor(month / 12), (month % 12) + 1, 1);
}

/** The day in `month` with day-of-month `dayOfMonth` (clamped to 28 so that it always exists). */
export function dayIn(month: MonthIndex, dayOfMonth: number): Day {
  return firstDayOf(month) + Math.min(dayOfMonth, 28) - 1;
}

/** The same calendar day `years` later; 29 February becomes 28 February in common years. */
export function addYears(dayNumber: Day, years: number): Day {
  const [y, m, d] = civilOf(dayNumber);
  return dayOf(y + years, m, m === 2 && d === 29 ? 28 : d);
}

/** Completed years of age on `on` for someone born on `birth`. */
export function ageOn(birth: Day, on: Day): number {
  const [by, bm, bd] = civilOf(birth);
  const [y, m, d] = civilOf(on);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** "Today" for every status and validity computed by the seeder. */
export const REFERENCE_DATE = '2026-11-01';
export const TODAY: Day = parseDate(REFERENCE_DATE);
/** The last month whose contributions and deposits can already be posted. */
export const LAST_CLOSED_MONTH: MonthIndex = monthOf(TODAY) - 1;
