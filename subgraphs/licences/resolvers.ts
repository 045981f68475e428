import { authority, regionOf } from '../common/places.js';
import { groupLoader, rowLoader } from '../common/loaders.js';
import { DateScalar, yuan } from '../common/scalars.js';
import { requireCreditCode, requireIdNumber, requireKeyCount } from '../common/errors.js';
import type { SubgraphDomain } from '../common/domain.js';
import { createLicenceStore, type LicenceEventRow, type LicenceRow, type LicenceStore, type OrganisationRow } from './store.js';

function createLoaders(store: LicenceStore) {
  return {
    organisation: rowLoader(store.organisations, (r) => r.credit_code),
    licencesOfHolder: groupLoader(store.licencesOfHolders, (r) => r.holder_id),
    licence: rowLoader(store.licencesByIdentifiers, (r) => r.identifier),
    events: groupLoader(store.eventsOfLicences, (r) => r.identifier),
  };
}

interface Context { loaders: ReturnType<typeof createLoaders> }

async function licencesOf(holderId: string, type: string | undefined, ctx: Context): Promise<LicenceRow[]> {
  const all = await ctx.loaders.licencesOfHolder.load(holderId);
  return type ? all.filter((l) => l.type === type) : all;
}

/** The electronic-licence subgraph: licences of persons and organisations; the organisation register. */
export const licencesDomain: SubgraphDomain<Context> = {
  name: 'licences',
  createContext(db) {
    const store = createLicenceStore(db);
    return () => ({ loaders: createLoaders(store) });
  },
  resolvers: {
    Date: DateScalar,
    Query: {
      organisation: (_: unknown, args: { creditCode: string }, ctx: Context) =>
        ctx.loaders.organisation.load(requireCreditCode(args.creditCode)),
      organisations: (_: unknown, args: { creditCodes: string[] }, ctx: Context) => {
        requireKeyCount(args.creditCodes, 'creditCodes');
        const codes = args.creditCodes.map((c, i) => requireCreditCode(c, `creditCodes[${i}]`));
        return ctx.loaders.organisation.loadMany(codes);
      },
      licence: (_: unknown, args: { identifier: string }, ctx: Context) => ctx.loaders.licence.load(args.identifier),
    },
    Person: {
      __resolveReference: (ref: { idNumber: string }) => ({ idNumber: requireIdNumber(ref.idNumber) }),
      licences: (p: { idNumber: string }, args: { type?: string }, ctx: Context) => licencesOf(p.idNumber, args.type, ctx),
    },
    Organisation: {
      __resolveReference: (ref: { creditCode: string }, ctx: Context) =>
        ctx.loaders.organisation.load(requireCreditCode(ref.creditCode)),
      creditCode: (o: OrganisationRow) => o.credit_code,
      entityType: (o: OrganisationRow) => o.entity_type,
      legalRepresentative: (o: OrganisationRow) => o.legal_representative,
      registeredCapital: (o: OrganisationRow) => (o.capital_wan_fen === null ? null : yuan(o.capital_wan_fen)),
      establishedOn: (o: OrganisationRow) => o.established_on,
      region: (o: OrganisationRow) => regionOf(o.region_code),
      businessScope: (o: OrganisationRow) => o.business_scope,
      businessLicence: async (o: OrganisationRow, _: unknown, ctx: Context) =>
        (await licencesOf(o.credit_code, 'BUSINESS_LICENCE', ctx)).find((l) => l.status === 'VALID') ?? null,
      licences: (o: OrganisationRow, args: { type?: string }, ctx: Context) => licencesOf(o.credit_code, args.type, ctx),
    },
    Licence: {
      holderName: (l: LicenceRow) => l.holder_name,
      holder: (l: LicenceRow, _: unknown, ctx: Context) =>
        l.holder_kind === 'PERSON' ? { idNumber: l.holder_id } : ctx.loaders.organisation.load(l.holder_id),
      issuer: (l: LicenceRow) => authority(l.issuer_name, l.issuer_region),
      issuedOn: (l: LicenceRow) => l.issued_on,
      validFrom: (l: LicenceRow) => l.valid_from,
      validUntil: (l: LicenceRow) => l.valid_until,
      attributes: (l: LicenceRow) => JSON.parse(l.attributes) as { name: string; value: string }[],
      history: (l: LicenceRow, _: unknown, ctx: Context) => ctx.loaders.events.load(l.identifier),
    },
    LicenceHolder: {
      __resolveType: (holder: { idNumber?: string }) => (holder.idNumber ? 'Person' : 'Organisation'),
    },
    LicenceEvent: {
      authority: (e: LicenceEventRow) => authority(e.authority_name, e.authority_region),
    },
  },
};
