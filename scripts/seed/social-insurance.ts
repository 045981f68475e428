import { hashString } from './random.js';
/**
 * Social-insurance rows derived from a career: the insured person with a
 * social security card, one enrolment per insurance type and job (or in the
 * residents' schemes), and contribution periods (缴费段).
 *
 * Enrolment statuses follow what the agencies record:
 * - current job: CONTRIBUTING;
 * - a job left for a job in another province: pension, medical and
 *   unemployment TRANSFERRED_OUT (转移接续, dated a few weeks after the new
 *   enrolment), work injury and maternity TERMINATED (they do not transfer);
 * - a job left for another job in the same province: TERMINATED (减员);
 * - the last job left before retirement age: SUSPENDED (暂停缴费);
 * - retirement: TERMINATED, except employee medical insurance, which stays
 *   open for life without further contributions (退休人员医保). The schema has
 *   no "retired, receiving benefits" status, so it shows as CONTRIBUTING;
 * - death: everything TERMINATED on the day of death.
 *
 * Rates are those in force nationally: pension 8 % personal and 16 %
 * employer (20 % before May 2019), medical 2 % + 6-10 % by province,
 * unemployment 0.5 % + 0.5 %, work injury by industry risk (0.2-1.9 %),
 * maternity 0.8 %, all employer-paid. Amounts are integer fen.
 */
import {
  TODAY,
  LAST_CLOSED_MONTH,
  addYears,
  civilOf,
  firstDayOf,
  isoDate,
  isoMonth,
  monthIndex,
  monthOf,
  yearOf,
  type Day,
  type MonthIndex,
} from './calendar.js';
import { socialInsuranceAgency } from './authorities.js';
import type { Career, Job } from './careers.js';
import type { Serials } from './identifiers.js';
import type { OrganisationRecord } from './organisations.js';
import type { PersonPlan } from './population.js';
import { PROVINCE_BY_CODE, provinceCodeOfCounty } from './places.js';
import type { Random } from './random.js';
import type { Row, RowSink } from './row-sink.js';

type InsuranceType = 'PENSION' | 'MEDICAL' | 'UNEMPLOYMENT' | 'WORK_INJURY' | 'MATERNITY';
type EnrolmentStatus = 'CONTRIBUTING' | 'SUSPENDED' | 'TRANSFERRED_OUT' | 'TERMINATED';

interface Scheme {
  type: InsuranceType;
  /** 险种代码 used in enrolment identifiers. */
  code: string;
  /** First month with itemised records in the employee scheme. */
  since: MonthIndex;
  personalBasisPoints: number;
  employerBasisPoints: (month: MonthIndex, employer: OrganisationRecord) => number;
  /** Whether the balance follows the insured to another province (转移接续). */
  transferable: boolean;
}

const PENSION_RATE_CUT = monthIndex(2019, 5);

/** Employer medical rate by province, basis points (default 800). */
const MEDICAL_EMPLOYER_BASIS_POINTS: Record<string, number> = {
  '110000': 980,
  '310000': 1000,
  '440000': 550,
  '330000': 950,
  '320000': 900,
  '120000': 1000,
  '500000': 800,
  '540000': 800,
};

const EMPLOYEE_SCHEMES: readonly Scheme[] = [
  {
    type: 'PENSION',
    code: '110',
    since: monthIndex(1996, 1),
    personalBasisPoints: 800,
    employerBasisPoints: (m) => (m < PENSION_RATE_CUT ? 2000 : 1600),
    transferable: true,
  },
  {
    type: 'MEDICAL',
    code: '310',
    since: monthIndex(1999, 1),
    personalBasisPoints: 200,
    employerBasisPoints: (_m, e) => MEDICAL_EMPLOYER_BASIS_POINTS[provinceCodeOfCounty(e.county)] ?? 800,
    transferable: true,
  },
  { type: 'UNEMPLOYMENT', code: '210', since: monthIndex(1999, 1), personalBasisPoints: 50, employerBasisPoints: () => 50, transferable: true },
  {
    type: 'WORK_INJURY',
    code: '410',
    since: monthIndex(2004, 1),
    personalBasisPoints: 0,
    employerBasisPoints: (_m, e) => e.workInjuryBasisPoints,
    transferable: false,
  },
  { type: 'MATERNITY', code: '510', since: monthIndex(2005, 1), personalBasisPoints: 0, employerBasisPoints: () => 80, transferable: false },
];

/** Residents' medical premium per month of each year, fen (the annual premium / 12). */
const RESIDENT_MEDICAL_MONTHLY_FEN: Record<number, number> = {
  2019: 2100,
  2020: 2300,
  2021: 2700,
  2022: 2900,
  2023: 3200,
  2024: 3300,
  2025: 3350,
  2026: 3500,
};

/** Card-number letter of the issuing province. */
const CARD_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const PROVINCE_LETTER = new Map([...PROVINCE_BY_CODE.keys()].map((code, i) => [code, CARD_LETTERS[i % CARD_LETTERS.length]]));

/** Employers with insured staff, collected while persons are written, for the employers table. */
export type EmployerRegistry = Set<OrganisationRecord>;

interface Segment {
  from: MonthIndex;
  to: MonthIndex;
  baseFen: number;
  status: 'PAID' | 'IN_ARREARS';
}

function dayOfMonth(day: Day): number {
  return civilOf(day)[2];
}

/** Months paid by a job: from the start month (next month when joining after the 15th) to the last month worked. */
export function jobMonths(job: Job): [MonthIndex, MonthIndex] {
  const from = monthOf(job.start) + (dayOfMonth(job.start) > 15 ? 1 : 0);
  const to = job.end === null ? LAST_CLOSED_MONTH : Math.min(LAST_CLOSED_MONTH, monthOf(job.end) - (dayOfMonth(job.end) < 15 ? 1 : 0));
  return [from, to];
}

/** A job's months cut into up to three base periods at Januaries, plus arrears at the end. */
function segmentsOf(job: Job, from: MonthIndex, to: MonthIndex): Segment[] {
  const months = to - from + 1;
  const pieces = Math.min(3, 1 + Math.floor(months / 60));
  const fromYear = Math.floor(from / 12);
  const toYear = Math.floor(to / 12);
  const cuts: MonthIndex[] = [];
  for (let i = 1; i < pieces; i++) {
    const cut = (fromYear + Math.round((i * (toYear - fromYear)) / pieces)) * 12;
    if (cut > from && cut <= to && !cuts.includes(cut)) cuts.push(cut);
  }
  // An open job's current year gets its own period, so today's base is the job's (and the fund's) base.
  const currentYear = toYear * 12;
  if (job.end === null && currentYear > from && !cuts.includes(currentYear)) cuts.push(currentYear);
  cuts.sort((a, b) => a - b);
  const endYear = yearOf(job.end ?? TODAY);
  const bounds = [from, ...cuts, to + 1];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const year = Math.floor(bounds[i] / 12);
    const baseFen = Math.round((job.baseFen / 100) * 1.07 ** (year - endYear)) * 100;
    segments.push({ from: bounds[i], to: bounds[i + 1] - 1, baseFen, status: 'PAID' });
  }
  const arrears = job.end === null ? job.employer.arrearsMonths : 0;
  const last = segments[segments.length - 1];
  if (arrears > 0 && last.to - last.from + 1 > arrears) {
    segments.push({ ...last, from: last.to - arrears + 1, status: 'IN_ARREARS' });
    last.to -= arrears;
  }
  return segments;
}

interface EnrolmentEnd {
  status: EnrolmentStatus;
  endedOn: Day | null;
}

function jobEnrolmentEnd(rng: Random, scheme: Scheme, job: Job, next: Job | undefined): EnrolmentEnd {
  switch (job.exit) {
    case 'ONGOING':
      return { status: 'CONTRIBUTING', endedOn: null };
    case 'UNEMPLOYED':
      return { status: 'SUSPENDED', endedOn: null };
    case 'DECEASED':
      return { status: 'TERMINATED', endedOn: job.end };
    case 'RETIRED':
      return scheme.type === 'MEDICAL' ? { status: 'CONTRIBUTING', endedOn: null } : { status: 'TERMINATED', endedOn: job.end };
    case 'CHANGED': {
      const moved = next && provinceCodeOfCounty(next.employer.county) !== provinceCodeOfCounty(job.employer.county);
      if (moved && scheme.transferable) {
        return { status: 'TRANSFERRED_OUT', endedOn: Math.max(job.end!, Math.min(next.start + rng.int(20, 150), TODAY - 1)) };
      }
      return { status: 'TERMINATED', endedOn: job.end };
    }
  }
}

/** Writes the social-insurance record of one person; returns whether the person is insured. */
export function writeSocialInsurance(
  sink: RowSink,
  serials: Serials,
  employers: EmployerRegistry,
  rng: Random,
  person: PersonPlan,
  career: Career,
): boolean {
  type Pending = {
    id: string;
    type: InsuranceType;
    category: 'EMPLOYEE' | 'RESIDENT';
    county: string;
    employer: string | null;
    enrolledOn: Day;
    end: EnrolmentEnd;
  };
  const enrolments: Pending[] = [];
  const contributions: Row<'contributions'>[] = [];
  let currentCounty: string | null = null;

  for (const [j, job] of career.jobs.entries()) {
    const [from, to] = jobMonths(job);
    if (to < from) continue;
    const county = job.employer.county;
    const segments = segmentsOf(job, from, to);
    for (const scheme of EMPLOYEE_SCHEMES) {
      const typeFrom = Math.max(from, scheme.since);
      if (typeFrom > to) continue;
      enrolments.push({
        id: serials.enrolmentId(county, scheme.code),
        type: scheme.type,
        category: 'EMPLOYEE',
        county,
        employer: job.employer.creditCode,
        enrolledOn: typeFrom === from ? job.start : firstDayOf(typeFrom),
        end: jobEnrolmentEnd(rng, scheme, job, career.jobs[j + 1]),
      });
      for (const segment of segments) {
        const segmentFrom = Math.max(segment.from, typeFrom);
        if (segmentFrom > segment.to) continue;
        contributions.push({
          id_number: person.idNumber,
          insurance_type: scheme.type,
          region_code: county,
          employer_code: job.employer.creditCode,
          from_month: isoMonth(segmentFrom),
          to_month: isoMonth(segment.to),
          months: segment.to - segmentFrom + 1,
          base_fen: segment.baseFen,
          personal_fen: Math.round((segment.baseFen * scheme.personalBasisPoints) / 10_000),
          employer_fen: Math.round((segment.baseFen * scheme.employerBasisPoints(segmentFrom, job.employer)) / 10_000),
          status: segment.status,
        });
      }
    }
    employers.add(job.employer);
    currentCounty = county;
  }

  const resident = career.resident;
  if (resident) {
    const county = resident.county;
    const lastMonth = Math.min(LAST_CLOSED_MONTH, person.death === null ? LAST_CLOSED_MONTH : monthOf(person.death));
    if (resident.pensionFrom !== null) {
      const sixty = addYears(person.birth, 60);
      const from = monthOf(resident.pensionFrom);
      const to = Math.min(lastMonth, monthOf(sixty) - 1);
      if (to >= from) {
        const end: EnrolmentEnd =
          person.death !== null
            ? { status: 'TERMINATED', endedOn: person.death }
            : sixty <= TODAY
              ? { status: 'TERMINATED', endedOn: sixty }
              : { status: 'CONTRIBUTING', endedOn: null };
        enrolments.push({
          id: serials.enrolmentId(county, '170'),
          type: 'PENSION',
          category: 'RESIDENT',
          county,
          employer: null,
          enrolledOn: resident.pensionFrom,
          end,
        });
        const split = to - from >= 72 && rng.chance(0.4) ? (Math.floor((from + to) / 24) + 1) * 12 : null;
        const grades: [MonthIndex, MonthIndex, number][] =
          split !== null && split > from && split <= to
            ? [
                [from, split - 1, resident.pensionGradeYuan],
                [split, to, resident.pensionGradeYuan * 2],
              ]
            : [[from, to, resident.pensionGradeYuan]];
        for (const [gradeFrom, gradeTo, grade] of grades) {
          contributions.push({
            id_number: person.idNumber,
            insurance_type: 'PENSION',
            region_code: county,
            employer_code: null,
            from_month: isoMonth(gradeFrom),
            to_month: isoMonth(gradeTo),
            months: gradeTo - gradeFrom + 1,
            // The residents' schemes have no wage base: the premium is a chosen annual grade.
            base_fen: 0,
            personal_fen: (grade * 100) / 12,
            employer_fen: 0,
            status: 'PAID',
          });
        }
      }
    }
    if (resident.medicalFrom !== null) {
      const end: EnrolmentEnd = person.death !== null ? { status: 'TERMINATED', endedOn: person.death } : { status: 'CONTRIBUTING', endedOn: null };
      enrolments.push({
        id: serials.enrolmentId(county, '390'),
        type: 'MEDICAL',
        category: 'RESIDENT',
        county,
        employer: null,
        enrolledOn: resident.medicalFrom,
        end,
      });
      // The premium is paid a year ahead, so the current calendar year is covered to December.
      const lastYear = person.death === null ? yearOf(TODAY) : yearOf(person.death);
      for (let year = yearOf(resident.medicalFrom); year <= lastYear; year++) {
        const from = Math.max(monthIndex(year, 1), monthOf(resident.medicalFrom));
        const to = person.death !== null && year === lastYear ? monthOf(person.death) : monthIndex(year, 12);
        if (to < from) continue;
        contributions.push({
          id_number: person.idNumber,
          insurance_type: 'MEDICAL',
          region_code: county,
          employer_code: null,
          from_month: isoMonth(from),
          to_month: isoMonth(to),
          months: to - from + 1,
          base_fen: 0,
          personal_fen: RESIDENT_MEDICAL_MONTHLY_FEN[year] ?? 3500,
          employer_fen: 0,
          status: 'PAID',
        });
      }
    }
    currentCounty = county;
  }

  if (enrolments.length === 0 || currentCounty === null) return false;
  const agency = socialInsuranceAgency(currentCounty);
  sink.write('insured_persons', {
    id_number: person.idNumber,
    name: person.name,
    card_number: serials.cardNumber(PROVINCE_LETTER.get(provinceCodeOfCounty(currentCounty)) ?? 'A'),
    phone: mobilePhoneOf(person.idNumber),
    agency_name: agency.name,
    agency_region: agency.region,
  });
  for (const enrolment of enrolments) {
    let { status, endedOn } = enrolment.end;
    // Death ends whatever was still open.
    if (person.death !== null && (status === 'CONTRIBUTING' || status === 'SUSPENDED')) {
      status = 'TERMINATED';
      endedOn = person.death;
    }
    sink.write('enrolments', {
      id: enrolment.id,
      id_number: person.idNumber,
      insurance_type: enrolment.type,
      category: enrolment.category,
      status,
      region_code: enrolment.county,
      agency_name: socialInsuranceAgency(enrolment.county).name,
      employer_code: enrolment.employer,
      enrolled_on: isoDate(enrolment.enrolledOn),
      ended_on: endedOn === null ? null : isoDate(endedOn),
    });
  }
  for (const row of contributions) sink.write('contributions', row);
  return true;
}

/** Writes the employers table: every organisation with insured staff, in register order. */
export function writeInsuranceEmployers(
  sink: RowSink,
  serials: Serials,
  employers: EmployerRegistry,
  organisations: readonly OrganisationRecord[],
): void {
  for (const organisation of organisations) {
    if (!employers.has(organisation)) continue;
    const agency = socialInsuranceAgency(organisation.county);
    sink.write('employers', {
      credit_code: organisation.creditCode,
      employer_number: serials.insuranceEmployerNumber(agency.region),
      agency_name: agency.name,
      agency_region: agency.region,
      registered_on: isoDate(organisation.employerRegistered),
    });
  }
}

/** Mobile segments of the three carriers (中国移动, 中国联通, 中国电信). */
const MOBILE_PREFIXES = [
  '134',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '157',
  '158',
  '159',
  '182',
  '183',
  '187',
  '188',
  '130',
  '131',
  '132',
  '155',
  '156',
  '185',
  '186',
  '133',
  '153',
  '180',
  '181',
  '189',
  '199',
];

/**
 * The contact phone (联系电话) the agency holds, derived from the ID number
 * alone so that adding it disturbs none of the seeded random streams.
 */
export function mobilePhoneOf(idNumber: string): string {
  const [a, b] = hashString(`phone:${idNumber}`);
  return `${MOBILE_PREFIXES[a % MOBILE_PREFIXES.length]}${String(b % 100_000_000).padStart(8, '0')}`;
}
