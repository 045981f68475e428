import type DataLoader from 'dataloader';
import { authority } from '../shared/places.js';
import { groupLoader, rowLoader } from '../shared/loaders.js';
import { DateScalar, YearMonthScalar, yuan } from '../shared/scalars.js';
import { badUserInput, requireCreditCode, requireIdNumber } from '../shared/errors.js';
import type { SubgraphDomain } from '../shared/domain.js';
import {
  documentStatusResolvers,
  issuedDocumentResolvers,
  issueSealedDocument,
  newSerial,
  revokeIssuedDocument,
  openIssuing,
  type IssuingContext,
} from '../shared/issued-documents.js';
import { createProvidentFundStore, type FundAccountRow, type FundDepositRow, type FundEmployerRow, type ProvidentFundStore } from './store.js';

const MAX_DEPOSIT_MONTHS = 120;

function createLoaders(store: ProvidentFundStore) {
  // One deposits loader per distinct `last` argument, so each batch stays one statement.
  const depositLoaders = new Map<number, DataLoader<string, FundDepositRow[]>>();
  return {
    accounts: groupLoader(store.accountsOfPersons, (r) => r.id_number),
    account: rowLoader(store.accountsByNumbers, (r) => r.account_number),
    deposits(last: number): DataLoader<string, FundDepositRow[]> {
      let loader = depositLoaders.get(last);
      if (!loader) {
        loader = groupLoader(
          (numbers) => store.recentDeposits(numbers, last),
          (r) => r.account_number,
        );
        depositLoaders.set(last, loader);
      }
      return loader;
    },
    employer: rowLoader(store.employers, (r) => r.credit_code),
    headcount: rowLoader(store.depositingHeadcounts, (r) => r.employer_code),
  };
}

interface Context extends IssuingContext {
  loaders: ReturnType<typeof createLoaders>;
}

/** Deposit certificates are accepted for 90 days (e.g. for a mortgage application). */
const CERTIFICATE_DAYS = 90;

async function depositCertificate(idNumber: string, ctx: Context) {
  const accounts = await ctx.loaders.accounts.load(idNumber);
  if (accounts.length === 0) throw badUserInput('This person has no provident-fund account to certify.', 'idNumber');
  ctx.disclosed.set(`Person:${idNumber}`, { type: 'Person', key: idNumber });
  // The open account's centre seals; with none open, the latest account's.
  const sealing = accounts[0];
  const recent = await ctx.loaders.deposits(12).load(sealing.account_number);
  const now = new Date();
  return issueSealedDocument({
    store: ctx.issued,
    seals: ctx.seals,
    authority: { id: `${sealing.centre_region}-provident-fund`, name: sealing.centre_name },
    holderKey: idNumber,
    draft: {
      type: 'PROVIDENT_FUND_DEPOSIT',
      serial: newSerial('GJJ', sealing.centre_region, now),
      holder: { name: sealing.holder_name, idNumber },
      issuedAt: now,
      validUntil: new Date(now.getTime() + CERTIFICATE_DAYS * 86_400_000),
      content: {
        title: '住房公积金缴存证明',
        accounts: accounts.map((a) => ({
          accountNumber: a.account_number,
          centre: a.centre_name,
          status: a.status,
          openedOn: a.opened_on,
          closedOn: a.closed_on,
          monthlyBase: yuan(a.base_fen),
          depositRatePercent: a.rate_percent,
          balance: yuan(a.balance_fen),
          lastDepositMonth: a.last_deposit_month,
        })),
        last12Months: {
          months: recent.length,
          total: yuan(recent.reduce((sum, d) => sum + d.personal_fen + d.employer_fen, 0)),
        },
        asOf: now.toISOString().slice(0, 10),
      },
    },
  });
}

/** The housing-provident-fund subgraph: personal accounts and deposits; depositing employers. */
export const providentFundDomain: SubgraphDomain<Context> = {
  name: 'provident-fund',
  writable: true,
  createContext(db, environment) {
    const store = createProvidentFundStore(db);
    const issuing = openIssuing(db, environment.dataDir);
    return () => ({ loaders: createLoaders(store), ...issuing }) as unknown as Context;
  },
  resolvers: {
    Date: DateScalar,
    YearMonth: YearMonthScalar,
    ...issuedDocumentResolvers,
    DepositCertificate: documentStatusResolvers('PROVIDENT_FUND_DEPOSIT'),
    Mutation: {
      issueDepositCertificate: (_: unknown, args: { idNumber: string }, ctx: Context) => depositCertificate(requireIdNumber(args.idNumber), ctx),
      revokeDepositCertificate: (_: unknown, args: { serial: string; reason: string }, ctx: Context) =>
        revokeIssuedDocument(ctx.issued, 'PROVIDENT_FUND_DEPOSIT', args.serial, args.reason, ctx.assertion),
    },
    Query: {
      providentFundAccount: (_: unknown, args: { accountNumber: string }, ctx: Context) => ctx.loaders.account.load(args.accountNumber),
    },
    Person: {
      __resolveReference: (ref: { idNumber: string }) => ({ idNumber: requireIdNumber(ref.idNumber) }),
      providentFundAccounts: (p: { idNumber: string }, _: unknown, ctx: Context) => ctx.loaders.accounts.load(p.idNumber),
    },
    Organisation: {
      __resolveReference: async (ref: { creditCode: string }, ctx: Context) => {
        const creditCode = requireCreditCode(ref.creditCode);
        return { creditCode, employer: await ctx.loaders.employer.load(creditCode) };
      },
      providentFundEmployer: (o: { employer: FundEmployerRow | null }) => o.employer,
    },
    ProvidentFundAccount: {
      accountNumber: (a: FundAccountRow) => a.account_number,
      centre: (a: FundAccountRow) => authority(a.centre_name, a.centre_region),
      employer: (a: FundAccountRow) => (a.employer_code ? { creditCode: a.employer_code } : null),
      openedOn: (a: FundAccountRow) => a.opened_on,
      closedOn: (a: FundAccountRow) => a.closed_on,
      monthlyBase: (a: FundAccountRow) => yuan(a.base_fen),
      depositRatePercent: (a: FundAccountRow) => a.rate_percent,
      balance: (a: FundAccountRow) => yuan(a.balance_fen),
      lastDepositMonth: (a: FundAccountRow) => a.last_deposit_month,
      deposits: (a: FundAccountRow, args: { last: number }, ctx: Context) => {
        if (!Number.isInteger(args.last) || args.last < 0 || args.last > MAX_DEPOSIT_MONTHS) {
          throw badUserInput(`Argument last must be between 0 and ${MAX_DEPOSIT_MONTHS}.`, 'last');
        }
        return ctx.loaders.deposits(args.last).load(a.account_number);
      },
    },
    FundDeposit: {
      personalAmount: (d: FundDepositRow) => yuan(d.personal_fen),
      employerAmount: (d: FundDepositRow) => yuan(d.employer_fen),
      amount: (d: FundDepositRow) => yuan(d.personal_fen + d.employer_fen),
      postedOn: (d: FundDepositRow) => d.posted_on,
    },
    FundEmployer: {
      accountNumber: (e: FundEmployerRow) => e.account_number,
      centre: (e: FundEmployerRow) => authority(e.centre_name, e.centre_region),
      registeredOn: (e: FundEmployerRow) => e.registered_on,
      depositingHeadcount: async (e: FundEmployerRow, _: unknown, ctx: Context) => (await ctx.loaders.headcount.load(e.credit_code))?.headcount ?? 0,
    },
  },
};
