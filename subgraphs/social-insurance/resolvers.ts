import { authority, regionOf } from '../common/places.js';
import { groupLoader, rowLoader } from '../common/loaders.js';
import { DateScalar, YearMonthScalar, yuan } from '../common/scalars.js';
import { requireCreditCode, requireIdNumber } from '../common/errors.js';
import type { SubgraphDomain } from '../common/domain.js';
import {
  createSocialInsuranceStore,
  type ContributionRow,
  type EmployerRow,
  type EnrolmentRow,
  type InsuredPersonRow,
  type SocialInsuranceStore,
} from './store.js';

function createLoaders(store: SocialInsuranceStore) {
  return {
    insured: rowLoader(store.insuredPersons, (r) => r.id_number),
    enrolments: groupLoader(store.enrolmentsOfPersons, (r) => r.id_number),
    enrolmentById: rowLoader(store.enrolmentsByIds, (r) => r.id),
    contributions: groupLoader(store.contributionsOfPersons, (r) => r.id_number),
    employer: rowLoader(store.employers, (r) => r.credit_code),
    headcount: rowLoader(store.insuredHeadcounts, (r) => r.employer_code),
  };
}

interface Context { loaders: ReturnType<typeof createLoaders> }

const organisationRef = (creditCode: string | null) => (creditCode ? { creditCode } : null);

/** The social-insurance subgraph: enrolments and contribution periods of persons; employers. */
export const socialInsuranceDomain: SubgraphDomain<Context> = {
  name: 'social-insurance',
  createContext(db) {
    const store = createSocialInsuranceStore(db);
    return () => ({ loaders: createLoaders(store) });
  },
  resolvers: {
    Date: DateScalar,
    YearMonth: YearMonthScalar,
    Query: {
      insuranceEnrolment: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.enrolmentById.load(args.id),
    },
    Person: {
      __resolveReference: async (ref: { idNumber: string }, ctx: Context) => {
        const idNumber = requireIdNumber(ref.idNumber);
        return { idNumber, insured: await ctx.loaders.insured.load(idNumber) };
      },
      socialInsurance: (p: { insured: InsuredPersonRow | null }) => p.insured,
    },
    Organisation: {
      __resolveReference: async (ref: { creditCode: string }, ctx: Context) => {
        const creditCode = requireCreditCode(ref.creditCode);
        return { creditCode, employer: await ctx.loaders.employer.load(creditCode) };
      },
      socialInsuranceEmployer: (o: { employer: EmployerRow | null }) => o.employer,
    },
    SocialInsuranceRecord: {
      cardNumber: (r: InsuredPersonRow) => r.card_number,
      phone: (r: InsuredPersonRow) => r.phone,
      currentAgency: (r: InsuredPersonRow) => authority(r.agency_name, r.agency_region),
      enrolments: async (r: InsuredPersonRow, args: { insuranceType?: string; status?: string }, ctx: Context) =>
        (await ctx.loaders.enrolments.load(r.id_number)).filter(
          (e) => (!args.insuranceType || e.insurance_type === args.insuranceType) && (!args.status || e.status === args.status),
        ),
      contributions: async (r: InsuredPersonRow, args: { insuranceType?: string; from?: string; to?: string }, ctx: Context) =>
        (await ctx.loaders.contributions.load(r.id_number)).filter(
          (c) =>
            (!args.insuranceType || c.insurance_type === args.insuranceType) &&
            (!args.from || c.to_month >= args.from) &&
            (!args.to || c.from_month <= args.to),
        ),
      contributionMonths: async (r: InsuredPersonRow, args: { insuranceType: string }, ctx: Context) =>
        (await ctx.loaders.contributions.load(r.id_number))
          .filter((c) => c.insurance_type === args.insuranceType && c.status === 'PAID')
          .reduce((sum, c) => sum + c.months, 0),
    },
    InsuranceEnrolment: {
      insuranceType: (e: EnrolmentRow) => e.insurance_type,
      region: (e: EnrolmentRow) => regionOf(e.region_code),
      agency: (e: EnrolmentRow) => authority(e.agency_name, e.region_code),
      employer: (e: EnrolmentRow) => organisationRef(e.employer_code),
      enrolledOn: (e: EnrolmentRow) => e.enrolled_on,
      endedOn: (e: EnrolmentRow) => e.ended_on,
    },
    ContributionPeriod: {
      insuranceType: (c: ContributionRow) => c.insurance_type,
      region: (c: ContributionRow) => regionOf(c.region_code),
      employer: (c: ContributionRow) => organisationRef(c.employer_code),
      from: (c: ContributionRow) => c.from_month,
      to: (c: ContributionRow) => c.to_month,
      monthlyBase: (c: ContributionRow) => yuan(c.base_fen),
      personalMonthly: (c: ContributionRow) => yuan(c.personal_fen),
      employerMonthly: (c: ContributionRow) => yuan(c.employer_fen),
    },
    InsuranceEmployer: {
      employerNumber: (e: EmployerRow) => e.employer_number,
      agency: (e: EmployerRow) => authority(e.agency_name, e.agency_region),
      registeredOn: (e: EmployerRow) => e.registered_on,
      insuredHeadcount: async (e: EmployerRow, _: unknown, ctx: Context) =>
        (await ctx.loaders.headcount.load(e.credit_code))?.headcount ?? 0,
    },
  },
};
