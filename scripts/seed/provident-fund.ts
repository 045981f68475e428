/**
 * Housing-provident-fund rows derived from a career: one personal account per
 * city a person worked in for an employer that deposits, with the monthly
 * deposits of the last one to three years.
 *
 * - Consecutive jobs in one city share an account (the employer changes, the
 *   account stays); a job in another city opens a new account at that city's
 *   centre, and the old one is TRANSFERRED_OUT (异地转移接续: its balance
 *   moves to the new account) or, when the person never asked, SEALED;
 * - the open account is ACTIVE; leaving the last job seals it; retirement or
 *   death closes it (销户提取);
 * - personal and employer deposits are equal: base × rate, the rate (5-12 %)
 *   being the employer's; the base is adjusted every July;
 * - an employer in arrears stops depositing, so last_deposit_month lags;
 * - occasionally a month was missed and paid later (补缴, BACK_PAYMENT).
 */
import { TODAY, LAST_CLOSED_MONTH, dayOf, dayIn, isoDate, isoMonth, monthOf, type Day, type MonthIndex } from './calendar.js';
import { providentFundCentre } from './authorities.js';
import type { Career, Job } from './careers.js';
import type { Serials } from './identifiers.js';
import type { OrganisationRecord } from './organisations.js';
import type { PersonPlan } from './population.js';
import { cityRegionOf } from './places.js';
import { mix32, type Random } from './random.js';
import type { RowSink } from './row-sink.js';
import { jobMonths } from './social-insurance.js';

/** The fund regulations (住房公积金管理条例) date from 1999; itemised accounts from then on. */
const FUND_START = dayOf(1999, 6, 1);

/** Employers with depositing staff, collected while persons are written, for the fund_employers table. */
export type FundEmployerRegistry = Set<OrganisationRecord>;

type AccountStatus = 'ACTIVE' | 'SEALED' | 'TRANSFERRED_OUT' | 'CLOSED';

/** Day of the month an employer remits deposits (stable per employer). */
function payday(employer: OrganisationRecord): number {
  return 5 + (mix32(employer.creditCode.charCodeAt(10) * 131 + employer.creditCode.charCodeAt(14)) % 21);
}

/** Groups consecutive depositing jobs in the same city: each group is one account. */
function accountGroups(jobs: readonly Job[]): Job[][] {
  const groups: Job[][] = [];
  for (const job of jobs) {
    if (!job.providentFund) continue;
    const current = groups[groups.length - 1];
    if (current && cityRegionOf(current[current.length - 1].employer.county) === cityRegionOf(job.employer.county)) current.push(job);
    else groups.push([job]);
  }
  return groups;
}

/** Σ of monthly deposits over `months` months ending at `monthlyFen`, wages growing 7 % a year. */
function accumulated(monthlyFen: number, months: number): number {
  const r = 1.07 ** (-1 / 12);
  return Math.round((monthlyFen * (1 - r ** months)) / (1 - r));
}

export function writeProvidentFund(
  sink: RowSink,
  serials: Serials,
  fundEmployers: FundEmployerRegistry,
  rng: Random,
  person: PersonPlan,
  career: Career,
): void {
  const groups = accountGroups(career.jobs);
  let carriedFen = 0;
  // Opening days first: a transfer is dated after the next account opened.
  const openings = groups.map((jobs) => Math.max(jobs[0].start + rng.int(0, 60), FUND_START));
  for (const [g, jobs] of groups.entries()) {
    const last = jobs[jobs.length - 1];
    const employer = last.employer;
    const openedOn = openings[g];
    const leftOn = last.end ?? TODAY;
    if (openedOn > leftOn - 30) continue;
    const openedMonth = monthOf(openedOn);
    const lastDeposit: MonthIndex = last.end === null ? LAST_CLOSED_MONTH - employer.arrearsMonths : jobMonths(last)[1];
    const deposited = lastDeposit >= openedMonth;

    let status: AccountStatus;
    let closedOn: Day | null = null;
    const isLast = g === groups.length - 1;
    if (!isLast) {
      const fate = last.fundFate ?? (rng.chance(0.7) ? 'TRANSFERRED_OUT' : 'SEALED');
      if (fate === 'TRANSFERRED_OUT') {
        status = 'TRANSFERRED_OUT';
        closedOn = Math.max(leftOn, Math.min(openings[g + 1] + rng.int(30, 200), TODAY - 1));
      } else {
        status = 'SEALED';
        closedOn = leftOn;
      }
    } else if (last.exit === 'ONGOING') {
      status = 'ACTIVE';
    } else if (last.exit === 'RETIRED' || last.exit === 'DECEASED') {
      status = 'CLOSED';
      closedOn = Math.min(leftOn + rng.int(20, 120), TODAY - 1);
    } else {
      status = 'SEALED';
      closedOn = leftOn;
    }
    if (person.death !== null && status !== 'CLOSED' && status !== 'TRANSFERRED_OUT') {
      status = 'CLOSED';
      closedOn = Math.min(Math.max(person.death + rng.int(30, 180), closedOn ?? 0), TODAY - 1);
    }

    const rate = employer.fundRatePercent;
    const monthlyFen = Math.round((last.baseFen * rate) / 100);
    let balanceFen = 0;
    if (deposited) {
      balanceFen = accumulated(2 * monthlyFen, lastDeposit - openedMonth + 1) + carriedFen;
      // Withdrawals for buying or renting a home (购房/租房提取).
      if (rng.chance(0.45)) balanceFen = Math.round(balanceFen * (0.1 + 0.6 * rng.next()));
    }
    carriedFen = 0;
    if (status === 'TRANSFERRED_OUT') {
      carriedFen = balanceFen;
      balanceFen = 0;
    } else if (status === 'CLOSED') {
      balanceFen = 0;
    }

    const centre = providentFundCentre(employer.county);
    const accountNumber = serials.fundAccountNumber(centre.region);
    sink.write('fund_accounts', {
      account_number: accountNumber,
      id_number: person.idNumber,
      holder_name: person.name,
      status,
      centre_name: centre.name,
      centre_region: centre.region,
      employer_code: employer.creditCode,
      opened_on: isoDate(openedOn),
      closed_on: closedOn === null ? null : isoDate(closedOn),
      base_fen: last.baseFen,
      rate_percent: rate,
      balance_fen: balanceFen,
      last_deposit_month: deposited ? isoMonth(lastDeposit) : null,
    });
    for (const job of jobs) fundEmployers.add(job.employer);
    if (deposited) writeDeposits(sink, rng, accountNumber, last, openedMonth, lastDeposit, status === 'ACTIVE');
  }
}

function writeDeposits(
  sink: RowSink,
  rng: Random,
  accountNumber: string,
  job: Job,
  openedMonth: MonthIndex,
  lastDeposit: MonthIndex,
  active: boolean,
): void {
  const rate = job.employer.fundRatePercent;
  const window = active ? rng.int(12, 36) : 12;
  const first = Math.max(openedMonth, lastDeposit - window + 1);
  // Bases are adjusted each July: months before the latest July used last year's base.
  const latestJuly = lastDeposit % 12 >= 6 ? lastDeposit - (lastDeposit % 12) + 6 : lastDeposit - (lastDeposit % 12) - 6;
  const previousBaseFen = Math.round(job.baseFen / 1.06 / 100) * 100;
  const backPaid = active && lastDeposit - first >= 3 && rng.chance(0.05) ? rng.int(first, lastDeposit - 3) : -1;
  const day = payday(job.employer);
  for (let month = first; month <= lastDeposit; month++) {
    const baseFen = month < latestJuly ? previousBaseFen : job.baseFen;
    const amountFen = Math.round((baseFen * rate) / 100);
    const backPayment = month === backPaid;
    const posted = backPayment ? dayIn(month + rng.int(1, 3), day) : dayIn(month, day);
    sink.write('fund_deposits', {
      account_number: accountNumber,
      month: isoMonth(month),
      kind: backPayment ? 'BACK_PAYMENT' : 'REGULAR',
      personal_fen: amountFen,
      employer_fen: amountFen,
      posted_on: isoDate(Math.min(posted, TODAY - 1)),
    });
  }
}

/** Writes the fund_employers table: every organisation with depositing staff, in register order. */
export function writeFundEmployers(
  sink: RowSink,
  serials: Serials,
  fundEmployers: FundEmployerRegistry,
  organisations: readonly OrganisationRecord[],
): void {
  for (const organisation of organisations) {
    if (!fundEmployers.has(organisation)) continue;
    const centre = providentFundCentre(organisation.county);
    sink.write('fund_employers', {
      credit_code: organisation.creditCode,
      account_number: serials.fundEmployerNumber(centre.region),
      centre_name: centre.name,
      centre_region: centre.region,
      registered_on: isoDate(organisation.employerRegistered),
    });
  }
}
