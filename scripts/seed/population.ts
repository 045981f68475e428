/**
 * The shared vocabulary of the population register: persons and households
 * as the seeder plans them before writing, cross-province moves, and the
 * migration flows (where people come from, where they go).
 *
 * Only moves between provinces are recorded (the cross-province matters are
 * what the project is about); moves inside a province leave no record.
 */
import { PROVINCES } from '../../common/regions.js';
import { TODAY, addYears, type Day } from './calendar.js';
import type { Authority } from './authorities.js';
import type { Sex } from './names.js';
import type { OrganisationDirectory, OrganisationRecord } from './organisations.js';
import { PROVINCE_COUNTIES } from './places.js';
import { type Random, WeightedList, weighted } from './random.js';

export type RegistrationStatus = 'ACTIVE' | 'MOVED_OUT' | 'CANCELLED';

/** One cross-province registration move: out of `from`, into `to`. */
export interface Move {
  from: string;
  to: string;
  outOn: Day;
  /** Null while the person has moved out and not yet moved in (MOVED_OUT). */
  inOn: Day | null;
  reason: string;
  outAuthority: Authority;
  inAuthority: Authority | null;
}

/** What a person does, when the household decides it (collective households). */
export type Occupation = { kind: 'STUDENT' } | { kind: 'EMPLOYEE'; employer: OrganisationRecord };

export interface PersonPlan {
  idNumber: string;
  name: string;
  sex: Sex;
  birth: Day;
  ethnicity: string;
  birthCounty: string;
  /** Null once the registration is cancelled. */
  householdNumber: string | null;
  memberOrder: number;
  relation: string | null;
  registeredOn: Day | null;
  status: RegistrationStatus;
  /** County of the current registration (for the deceased: the last one). */
  county: string;
  death: Day | null;
  /** Cross-province moves, oldest first. */
  moves: Move[];
  occupation?: Occupation;
}

export interface HouseholdPlan {
  number: string;
  type: 'FAMILY' | 'COLLECTIVE';
  county: string;
  street: string;
  authority: Authority;
  established: Day;
  /** Members in register order, head first, followed by deceased former members (written with no household). */
  members: PersonPlan[];
}

/** County of a person's registration on `day` (birth county until the first move-in). */
export function registrationCountyOn(person: Pick<PersonPlan, 'birthCounty' | 'moves'>, day: Day): string {
  let county = person.birthCounty;
  for (const move of person.moves) if (move.inOn !== null && move.inOn <= day) county = move.to;
  return county;
}

/** What household generators need from the run: ID numbers and the organisations register. */
export interface HouseholdContext {
  /** An ID number for a birth; the birth may move a day earlier if that day's sequences are used up. */
  allocate(county: string, birth: Day, sex: Sex): { idNumber: string; birth: Day };
  organisations: OrganisationDirectory;
}

/** Where migrants come from: population × out-migration propensity. */
const OUTFLOW: Record<string, number> = {
  '510000': 2,
  '410000': 2,
  '340000': 2,
  '430000': 1.8,
  '420000': 1.5,
  '360000': 1.7,
  '450000': 1.5,
  '520000': 1.6,
  '500000': 1.6,
  '130000': 1.2,
  '230000': 1.3,
  '220000': 1.2,
  '620000': 1.4,
  '110000': 0.3,
  '310000': 0.3,
  '540000': 0.2,
  '650000': 0.4,
  '660000': 0.2,
};
export const ORIGINS = new WeightedList(PROVINCES.map((p) => [p.code, p.populationMillions * (OUTFLOW[p.code] ?? 0.8)] as const));

/** Universities and work draw people to these provinces (multiplier of population). */
const ATTRACTION: Record<string, number> = { '440000': 3, '330000': 2.5, '320000': 2, '310000': 4, '110000': 4.5, '350000': 1.5, '120000': 1.5 };
/** Where students and workers go: population × attraction. */
export const DESTINATIONS = new WeightedList(PROVINCES.map((p) => [p.code, p.populationMillions * (ATTRACTION[p.code] ?? 1)] as const));

/** A province from `list` other than `not`. */
export function otherProvince(rng: Random, list: WeightedList<string>, not: string): string {
  for (let i = 0; i < 20; i++) {
    const province = list.pick(rng);
    if (province !== not) return province;
  }
  return not === '430000' ? '440000' : '430000';
}

export function randomCountyOf(rng: Random, province: string): string {
  return rng.pick(PROVINCE_COUNTIES.get(province)!);
}

/** Why working-age people move their registration to another province. */
export const WORK_MOVE_REASONS = weighted({ 工作调动: 4, 人才引进: 2, 购房落户: 3 });

/** A birth day for someone who is minAge..maxAge years old today. */
export function birthForAge(rng: Random, minAge: number, maxAge: number): Day {
  // Uniform over the days on which someone would be minAge..maxAge years old today.
  const latest = addYears(TODAY, -minAge) - 1;
  const earliest = addYears(TODAY, -(maxAge + 1)) + 1;
  return rng.int(earliest, latest);
}
