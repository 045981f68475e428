import { authority } from '../shared/places.js';
import { groupLoader, rowLoader } from '../shared/loaders.js';
import { DateScalar, yuan } from '../shared/scalars.js';
import { requireCreditCode, requireIdNumber } from '../shared/errors.js';
import type { SubgraphDomain } from '../shared/domain.js';
import { createCreditStore, type CreditRecordRow, type CreditStore } from './store.js';

function createLoaders(store: CreditStore) {
  return {
    records: groupLoader(store.recordsOfSubjects, (r) => r.subject_id),
    record: rowLoader(store.recordsByIds, (r) => r.id),
  };
}

interface Context {
  loaders: ReturnType<typeof createLoaders>;
}

/** A subject's records, loaded once per request and shared by the profile's fields. */
type Profile = CreditRecordRow[];

const isActiveNegative = (r: CreditRecordRow) => r.status === 'ACTIVE' && r.category !== 'COMMENDATION';

/** The credit subgraph: public credit records of persons and organisations. */
export const creditDomain: SubgraphDomain<Context> = {
  name: 'credit',
  createContext(db) {
    const store = createCreditStore(db);
    return () => ({ loaders: createLoaders(store) });
  },
  resolvers: {
    Date: DateScalar,
    Query: {
      creditRecord: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.record.load(args.id),
    },
    Person: {
      __resolveReference: async (ref: { idNumber: string }, ctx: Context) => {
        const idNumber = requireIdNumber(ref.idNumber);
        return { idNumber, credit: await ctx.loaders.records.load(idNumber) };
      },
    },
    Organisation: {
      __resolveReference: async (ref: { creditCode: string }, ctx: Context) => {
        const creditCode = requireCreditCode(ref.creditCode);
        return { creditCode, credit: await ctx.loaders.records.load(creditCode) };
      },
    },
    CreditProfile: {
      dishonestJudgmentDebtor: (p: Profile) => p.some((r) => r.category === 'DISHONEST_JUDGMENT_DEBTOR' && r.status === 'ACTIVE'),
      abnormalOperation: (p: Profile) => p.some((r) => r.category === 'ABNORMAL_OPERATION' && r.status === 'ACTIVE'),
      activeNegativeRecords: (p: Profile) => p.filter(isActiveNegative).length,
      records: (p: Profile, args: { category?: string; status?: string }) =>
        p.filter((r) => (!args.category || r.category === args.category) && (!args.status || r.status === args.status)),
    },
    CreditRecord: {
      documentNumber: (r: CreditRecordRow) => r.document_number,
      authority: (r: CreditRecordRow) => authority(r.authority_name, r.authority_region),
      decidedOn: (r: CreditRecordRow) => r.decided_on,
      publishedUntil: (r: CreditRecordRow) => r.published_until,
      amount: (r: CreditRecordRow) => (r.amount_fen === null ? null : yuan(r.amount_fen)),
    },
  },
};
