import { authority, regionOf } from '../shared/places.js';
import { groupLoader, rowLoader } from '../shared/loaders.js';
import { DateScalar, YearMonthScalar, yuan } from '../shared/scalars.js';
import { badUserInput, requireCreditCode, requireIdNumber } from '../shared/errors.js';
import {
  documentStatusResolvers,
  issuedDocumentResolvers,
  issueSealedDocument,
  newSerial,
  revokeIssuedDocument,
  openIssuing,
  type IssuingContext,
} from '../shared/issued-documents.js';
import type { SubgraphDomain } from '../shared/domain.js';
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

interface Context extends IssuingContext {
  loaders: ReturnType<typeof createLoaders>;
}

/**
 * Insured periods per province: first and last month and months paid, the
 * insurance types that share them listed together (an employee's five types
 * usually do) — compact enough for a QR code.
 */
function periodsByProvince(contributions: ContributionRow[]) {
  const byKey = new Map<string, { place: string; type: string; from: string; to: string; months: number }>();
  for (const c of contributions) {
    if (c.status !== 'PAID') continue;
    const place = regionOf(c.region_code).provinceName ?? c.region_code.slice(0, 2);
    const key = `${place}|${c.insurance_type}`;
    const period = byKey.get(key);
    if (!period) byKey.set(key, { place, type: c.insurance_type, from: c.from_month, to: c.to_month, months: c.months });
    else {
      if (c.from_month < period.from) period.from = c.from_month;
      if (c.to_month > period.to) period.to = c.to_month;
      period.months += c.months;
    }
  }
  const grouped = new Map<string, { place: string; types: string[]; from: string; to: string; months: number }>();
  for (const p of byKey.values()) {
    const key = `${p.place}|${p.from}|${p.to}|${p.months}`;
    const group = grouped.get(key);
    if (group) group.types.push(p.type);
    else grouped.set(key, { place: p.place, types: [p.type], from: p.from, to: p.to, months: p.months });
  }
  return [...grouped.values()];
}

/** Participation certificates are accepted for 90 days (参保证明 are issued for a current purpose). */
const CERTIFICATE_DAYS = 90;

async function participationCertificate(idNumber: string, ctx: Context) {
  const insured = await ctx.loaders.insured.load(idNumber);
  if (!insured) throw badUserInput('This person has no social-insurance record to certify.', 'idNumber');
  ctx.disclosed.set(`Person:${idNumber}`, { type: 'Person', key: idNumber });
  const [enrolments, contributions] = await Promise.all([ctx.loaders.enrolments.load(idNumber), ctx.loaders.contributions.load(idNumber)]);
  const cumulativeMonths: Record<string, number> = {};
  for (const c of contributions) if (c.status === 'PAID') cumulativeMonths[c.insurance_type] = (cumulativeMonths[c.insurance_type] ?? 0) + c.months;
  const now = new Date();
  return issueSealedDocument({
    store: ctx.issued,
    seals: ctx.seals,
    authority: { id: `${insured.agency_region}-social-insurance`, name: insured.agency_name },
    holderKey: idNumber,
    draft: {
      type: 'SOCIAL_INSURANCE_PARTICIPATION',
      serial: newSerial('SB', insured.agency_region, now),
      holder: { name: insured.name, idNumber },
      issuedAt: now,
      validUntil: new Date(now.getTime() + CERTIFICATE_DAYS * 86_400_000),
      // Summarised per province, as printed certificates are: the whole history would not fit a QR code.
      content: {
        title: '社会保险参保证明',
        socialSecurityCardNumber: insured.card_number,
        agency: insured.agency_name,
        currentlyInsured: [...new Set(enrolments.filter((e) => e.status === 'CONTRIBUTING').map((e) => e.insurance_type))],
        insuredPeriods: periodsByProvince(contributions),
        cumulativeMonths,
        asOf: now.toISOString().slice(0, 10),
      },
    },
  });
}

const organisationRef = (creditCode: string | null) => (creditCode ? { creditCode } : null);

/** The social-insurance subgraph: enrolments and contribution periods of persons; employers. */
export const socialInsuranceDomain: SubgraphDomain<Context> = {
  name: 'social-insurance',
  writable: true,
  createContext(db, environment) {
    const store = createSocialInsuranceStore(db);
    const issuing = openIssuing(db, environment.dataDir);
    return () => ({ loaders: createLoaders(store), ...issuing }) as unknown as Context;
  },
  resolvers: {
    Date: DateScalar,
    YearMonth: YearMonthScalar,
    ...issuedDocumentResolvers,
    ParticipationCertificate: documentStatusResolvers('SOCIAL_INSURANCE_PARTICIPATION'),
    Mutation: {
      issueParticipationCertificate: (_: unknown, args: { idNumber: string }, ctx: Context) =>
        participationCertificate(requireIdNumber(args.idNumber), ctx),
      revokeParticipationCertificate: (_: unknown, args: { serial: string; reason: string }, ctx: Context) =>
        revokeIssuedDocument(ctx.issued, 'SOCIAL_INSURANCE_PARTICIPATION', args.serial, args.reason, ctx.assertion),
    },
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
      insuredHeadcount: async (e: EmployerRow, _: unknown, ctx: Context) => (await ctx.loaders.headcount.load(e.credit_code))?.headcount ?? 0,
    },
  },
};
