import { authority, regionOf } from '../shared/places.js';
import { rowLoader, groupLoader } from '../shared/loaders.js';
import { DateScalar } from '../shared/scalars.js';
import { requireIdNumber, requireKeyCount } from '../shared/errors.js';
import type { SubgraphDomain } from '../shared/domain.js';
import { createHouseholdStore, type HouseholdRow, type HouseholdStore, type MigrationRow, type PersonRow } from './store.js';

function createLoaders(store: HouseholdStore) {
  return {
    person: rowLoader(store.personsByIdNumbers, (r) => r.id_number),
    household: rowLoader(store.householdsByNumbers, (r) => r.number),
    members: groupLoader(store.membersOfHouseholds, (r) => r.household_number!),
    migrations: groupLoader(store.migrationsOfPersons, (r) => r.id_number),
  };
}

type Loaders = ReturnType<typeof createLoaders>;
interface Context {
  loaders: Loaders;
}

function address(household: HouseholdRow) {
  const region = regionOf(household.region_code);
  return { region, street: household.street, full: `${region.fullName ?? ''}${household.street}` };
}

/** The household-registration subgraph: identity anchor of `Person`. */
export const householdDomain: SubgraphDomain<Context> = {
  name: 'household',
  createContext(db) {
    const store = createHouseholdStore(db);
    return () => ({ loaders: createLoaders(store) });
  },
  resolvers: {
    Date: DateScalar,
    Query: {
      person: (_: unknown, args: { idNumber: string }, ctx: Context) => ctx.loaders.person.load(requireIdNumber(args.idNumber)),
      persons: (_: unknown, args: { idNumbers: string[] }, ctx: Context) => {
        requireKeyCount(args.idNumbers, 'idNumbers');
        const ids = args.idNumbers.map((id, i) => requireIdNumber(id, `idNumbers[${i}]`));
        return ctx.loaders.person.loadMany(ids);
      },
      household: (_: unknown, args: { number: string }, ctx: Context) =>
        /^\d{1,20}$/.test(args.number) ? ctx.loaders.household.load(args.number) : null,
    },
    Person: {
      __resolveReference: (ref: { idNumber: string }, ctx: Context) => ctx.loaders.person.load(requireIdNumber(ref.idNumber)),
      idNumber: (p: PersonRow) => p.id_number,
      birthDate: (p: PersonRow) => p.birth_date,
      birthPlace: (p: PersonRow) => regionOf(p.birth_region),
      registration: async (p: PersonRow, _: unknown, ctx: Context) => {
        if (!p.household_number || p.registration_status === 'CANCELLED') return null;
        const household = await ctx.loaders.household.load(p.household_number);
        if (!household) return null;
        return {
          household,
          relationToHead: p.relation_to_head ?? '',
          address: address(household),
          registeredOn: p.registered_on ?? household.established_on,
          status: p.registration_status,
          authority: authority(household.authority_name, household.authority_region),
        };
      },
      migrations: (p: PersonRow, _: unknown, ctx: Context) => ctx.loaders.migrations.load(p.id_number),
    },
    Household: {
      address: (h: HouseholdRow) => address(h),
      authority: (h: HouseholdRow) => authority(h.authority_name, h.authority_region),
      establishedOn: (h: HouseholdRow) => h.established_on,
      members: async (h: HouseholdRow, _: unknown, ctx: Context) =>
        (await ctx.loaders.members.load(h.number)).map((person) => ({
          person,
          relationToHead: person.relation_to_head ?? '',
          registeredOn: person.registered_on ?? h.established_on,
        })),
    },
    MigrationRecord: {
      counterpartRegion: (m: MigrationRow) => regionOf(m.counterpart_region),
      authority: (m: MigrationRow) => authority(m.authority_name, m.authority_region),
    },
  },
};
