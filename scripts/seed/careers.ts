/**
 * Working lives: which employers a person worked for, where, when and at
 * what wage. Social insurance (enrolments, contribution periods) and the
 * provident fund (accounts, deposits) are both derived from the same career,
 * so the two domains agree on employers, places and dates.
 *
 * Rules of thumb behind the numbers:
 * - urban adults are mostly employees (职工), farmers and the self-employed
 *   are in the residents' schemes (城乡居民), a few are uninsured;
 * - digital contribution records start in 1996 (earlier years count as
 *   视同缴费 and are not itemised);
 * - about one employee in five has worked in two to four provinces
 *   (those whose registration moved, and one in four of the others,
 *   typically migrants to the coast);
 * - retirement at 60 for men, 50 or 55 for women (the 2025 reform raises
 *   these gradually; nobody seeded is affected before the reference date);
 * - wages follow the province's average wage and grow about 7 % a year.
 */
import { TODAY, addYears, ageOn, dayOf, yearOf, type Day } from './calendar.js';
import type { OrganisationDirectory, OrganisationRecord } from './organisations.js';
import { DESTINATIONS, registrationCountyOn, type PersonPlan } from './population.js';
import { isRuralCounty, provinceCodeOfCounty } from './places.js';
import type { Random } from './random.js';

/** How a job ended. */
export type JobExit = 'ONGOING' | 'CHANGED' | 'UNEMPLOYED' | 'RETIRED' | 'DECEASED';

export interface Job {
  employer: OrganisationRecord;
  start: Day;
  /** Last day of employment; null while ongoing. */
  end: Day | null;
  exit: JobExit;
  /** Monthly contribution base (缴费基数) in fen at the end of the job (today for an ongoing job). */
  baseFen: number;
  /** Whether the employer deposits provident fund for this person. */
  providentFund: boolean;
  /**
   * What became of this city's fund account when the person moved to a job in
   * another city: transferred to the new centre, or left sealed. Chosen at
   * random when absent; the demo records fix it.
   */
  fundFate?: 'TRANSFERRED_OUT' | 'SEALED';
}

/** Enrolment in the residents' schemes (城乡居民养老/医疗保险), at the registration county. */
export interface ResidentScheme {
  county: string;
  /** First day of the residents' pension; null when not enrolled (minors, the very old, students). */
  pensionFrom: Day | null;
  /** Annual contribution grade (缴费档次) in yuan, divisible by 12. */
  pensionGradeYuan: number;
  /** First day of the residents' medical insurance; null when not enrolled. */
  medicalFrom: Day | null;
}

export interface Career {
  jobs: Job[];
  resident: ResidentScheme | null;
}

export const NO_CAREER: Career = { jobs: [], resident: null };

/** Average monthly wage in yuan, 2026 level, by province: the centre of contribution bases. */
const AVERAGE_WAGE: Record<string, number> = {
  '110000': 13000,
  '120000': 9000,
  '130000': 7000,
  '140000': 7000,
  '150000': 7800,
  '210000': 7500,
  '220000': 7000,
  '230000': 6800,
  '310000': 13500,
  '320000': 9500,
  '330000': 9800,
  '340000': 7800,
  '350000': 8300,
  '360000': 7000,
  '370000': 8000,
  '410000': 6800,
  '420000': 8000,
  '430000': 7300,
  '440000': 10000,
  '450000': 7200,
  '460000': 8300,
  '500000': 8500,
  '510000': 8200,
  '520000': 7800,
  '530000': 8000,
  '540000': 11500,
  '610000': 7800,
  '620000': 7300,
  '630000': 9000,
  '640000': 8500,
  '650000': 8400,
  '660000': 8000,
};

const WAGE_GROWTH = 1.07;
/** First day of itemised contribution records. */
export const RECORDS_START = dayOf(1996, 1, 1);

export function averageWageYuan(province: string, year: number): number {
  return (AVERAGE_WAGE[province] ?? 8000) * WAGE_GROWTH ** (year - 2026);
}

/**
 * The monthly base for someone in `province` in `year`, given their relative
 * pay: clamped to 60 %-300 % of the average wage, as the base rules require,
 * and rounded to whole yuan.
 */
export function baseFenFor(province: string, year: number, relativePay: number): number {
  const average = averageWageYuan(province, year);
  const yuan = Math.round(Math.min(3, Math.max(0.6, relativePay)) * average);
  return yuan * 100;
}

/** Retirement day: 60 for men; 50 (workers) or 55 (staff) for women. */
export function retirementDay(person: Pick<PersonPlan, 'sex' | 'birth'>, rng: Random): Day {
  return addYears(person.birth, person.sex === 'MALE' ? 60 : rng.chance(0.4) ? 50 : 55);
}

function residentScheme(person: PersonPlan, rng: Random, medicalOnly: boolean): ResidentScheme {
  // The residents' pension covered everybody from 2012; those already 60 then draw it without paying.
  const pensionStart = Math.max(dayOf(2012, 1, 1), addYears(person.birth, 18));
  const pensionFrom = !medicalOnly && pensionStart < addYears(person.birth, 60) && pensionStart < TODAY ? pensionStart + rng.int(0, 700) : null;
  // The merged residents' medical insurance dates from 2019.
  const medicalFrom = Math.max(dayOf(2019, 1, 1), person.birth + rng.int(10, 90));
  return {
    county: person.county,
    pensionFrom: pensionFrom !== null && pensionFrom < Math.min(TODAY, person.death ?? TODAY) - 30 ? pensionFrom : null,
    pensionGradeYuan: rng.pick([300, 300, 600, 600, 1200, 2400, 3600]),
    medicalFrom: medicalFrom < Math.min(TODAY, person.death ?? TODAY) - 30 ? medicalFrom : null,
  };
}

/** Plans the working life of a generated person. */
export function planCareer(rng: Random, person: PersonPlan, organisations: OrganisationDirectory): Career {
  const end = Math.min(person.death ?? TODAY, TODAY);
  const age = ageOn(person.birth, end);
  if (person.occupation?.kind === 'STUDENT') return { jobs: [], resident: residentScheme(person, rng, true) };
  if (age < 18) return rng.chance(0.6) ? { jobs: [], resident: residentScheme(person, rng, true) } : NO_CAREER;

  const employeeShare = person.occupation?.kind === 'EMPLOYEE' ? 1 : isRuralCounty(person.county) ? 0.22 : 0.62;
  if (rng.chance(employeeShare)) {
    const jobs = planJobs(rng, person, organisations);
    if (jobs.length > 0) return { jobs, resident: null };
  }
  return rng.chance(0.9) ? { jobs: [], resident: residentScheme(person, rng, false) } : NO_CAREER;
}

interface Stint {
  province: string;
  from: Day;
  to: Day;
}

function planJobs(rng: Random, person: PersonPlan, organisations: OrganisationDirectory): Job[] {
  const retirement = retirementDay(person, rng);
  const start = Math.max(addYears(person.birth, rng.int(18, 24)) + rng.int(0, 364), RECORDS_START + rng.int(0, 365));
  let finish = Math.min(retirement, person.death ?? TODAY, TODAY);
  let lastExit: JobExit = finish === TODAY ? 'ONGOING' : finish === retirement ? 'RETIRED' : 'DECEASED';
  if (finish - start < 240) return [];
  if (lastExit === 'ONGOING' && rng.chance(0.05)) {
    finish = TODAY - rng.int(30, 700);
    lastExit = 'UNEMPLOYED';
    if (finish - start < 240) return [];
  }

  const stints = planStints(rng, person, start, finish);
  const relativePay = Math.exp(0.35 * rng.normal());
  const jobs: Job[] = [];
  for (const [s, stint] of stints.entries()) {
    const jobCount = stint.to - stint.from > 4 * 365 && rng.chance(0.3) ? 2 : 1;
    let from = stint.from;
    for (let j = 0; j < jobCount; j++) {
      const lastOfStint = j === jobCount - 1;
      const to = lastOfStint ? stint.to : from + Math.floor((stint.to - from) * (0.3 + 0.4 * rng.next()));
      const employer = pickEmployer(rng, organisations, person, stint.province, to);
      if (employer) {
        const jobStart = Math.max(from, employer.employerRegistered + rng.int(1, 60));
        if (to - jobStart >= 90) {
          const lastJob = s === stints.length - 1 && lastOfStint;
          const exit: JobExit = lastJob ? lastExit : 'CHANGED';
          const endYear = yearOf(exit === 'ONGOING' ? TODAY : to);
          jobs.push({
            employer,
            start: jobStart,
            end: exit === 'ONGOING' ? null : to,
            exit,
            baseFen: baseFenFor(stint.province, endYear, relativePay * employer.payFactor),
            providentFund: employer.fundRatePercent > 0 && rng.chance(0.88),
          });
        }
      }
      from = to + rng.int(0, 90);
    }
  }
  // A job that was followed by a gap and nothing else is a job left, not changed.
  const last = jobs[jobs.length - 1];
  if (last && last.exit === 'CHANGED') last.exit = 'UNEMPLOYED';
  return jobs;
}

/** The employer of a collective household's member when it is in the stint's province, else one by size. */
function pickEmployer(rng: Random, organisations: OrganisationDirectory, person: PersonPlan, province: string, to: Day): OrganisationRecord | null {
  const own = person.occupation?.kind === 'EMPLOYEE' ? person.occupation.employer : null;
  if (own && provinceCodeOfCounty(own.county) === province && own.employerRegistered < to - 120) return own;
  for (let attempt = 0; attempt < 5; attempt++) {
    const employer = organisations.pickEmployer(rng, province);
    if (!employer) return null;
    if (employer.employerRegistered < to - 120) return employer;
  }
  return null;
}

/**
 * Periods of work by province. Registration moves split the career at the
 * move; besides, about one employee in four has worked in one to three other
 * provinces first, and some still work away from home today (外出务工).
 */
function planStints(rng: Random, person: PersonPlan, start: Day, finish: Day): Stint[] {
  const stints: Stint[] = [];
  const moveDays = person.moves.filter((m) => m.inOn !== null && m.inOn > start + 180 && m.inOn < finish - 180).map((m) => m.inOn!);
  if (moveDays.length > 0) {
    let from = start;
    for (const day of [...moveDays, finish]) {
      stints.push({ province: provinceCodeOfCounty(registrationCountyOn(person, from)), from, to: day - (day === finish ? 0 : rng.int(10, 60)) });
      from = day;
    }
    return stints.filter((s) => s.to - s.from > 120);
  }
  const home = provinceCodeOfCounty(registrationCountyOn(person, finish));
  if (finish - start < 3 * 365 || !rng.chance(0.24)) return [{ province: home, from: start, to: finish }];

  const r = rng.next();
  const count = Math.min(r < 0.6 ? 2 : r < 0.9 ? 3 : 4, Math.floor((finish - start) / 365));
  const cuts = Array.from({ length: count - 1 }, () => rng.int(start + 365, finish - 365)).sort((a, b) => a - b);
  const bounds = [start, ...cuts, finish];
  const provinces: string[] = [];
  for (let i = 0; i < count; i++) {
    const lastStint = i === count - 1;
    let province = lastStint && rng.chance(0.6) ? home : DESTINATIONS.pick(rng);
    for (let tries = 0; tries < 10 && provinces.length > 0 && province === provinces[provinces.length - 1]; tries++) {
      province = DESTINATIONS.pick(rng);
    }
    provinces.push(province);
  }
  for (let i = 0; i < count; i++) {
    stints.push({ province: provinces[i], from: bounds[i], to: i === count - 1 ? bounds[i + 1] : bounds[i + 1] - rng.int(10, 60) });
  }
  return stints.filter((s) => s.to - s.from > 120);
}
