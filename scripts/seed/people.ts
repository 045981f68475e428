/**
 * Households (户) and their members: the population register everything
 * else hangs off.
 *
 * A household is generated as a whole, from one random stream, so that its
 * members are coherent: a head with a spouse a few years apart, children born
 * when their mother was 20-40, sometimes a parent of the head; one surname
 * line for Han families (children take the father's), patronymics for Uyghur
 * families, Tibetan names in Tibet. About one family in seven has moved its
 * registration across provinces (迁移), with a MOVE_OUT at the old place and
 * a MOVE_IN at the new one; students who just left for university are
 * MOVED_OUT; some elderly members have died (CANCELLED). About one household
 * in 25 is a collective household (集体户) of a university or a company.
 *
 * Only moves between provinces are recorded (the cross-province matters are
 * what the project is about); moves inside a province leave no record.
 */
import { PROVINCES } from '../../subgraphs/common/regions.js';
import { TODAY, addYears, ageOn, dayOf, yearOf, type Day } from './calendar.js';
import { householdAuthorityAt, householdAuthority, type Authority } from './authorities.js';
import { ethnicityFor } from './ethnicities.js';
import { IdNumberAllocator, generatedHouseholdNumber } from './identifiers.js';
import {
  anyName,
  hanName,
  mongolianName,
  namingStyleOf,
  surnameFor,
  tibetanName,
  turkicGivenName,
  turkicName,
  type Sex,
} from './names.js';
import type { OrganisationDirectory, OrganisationRecord } from './organisations.js';
import {
  PROVINCE_COUNTIES,
  PROVINCES_BY_POPULATION,
  isRuralCounty,
  provinceCodeOfCounty,
  residentialStreet,
  universityOf,
} from './places.js';
import { Random, WeightedList, weighted } from './random.js';

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

/** Share of households whose registration came from another province, by destination. */
const MIGRANT_SHARE: Record<string, number> = {
  '110000': 0.42, '310000': 0.45, '440000': 0.34, '330000': 0.28, '120000': 0.26, '320000': 0.2, '350000': 0.16,
  '540000': 0.14, '650000': 0.14, '660000': 0.5, '460000': 0.2, '630000': 0.12, '640000': 0.1, '370000': 0.1,
};
const MIGRANT_SHARE_BY_COUNTY: Record<string, number> = { '653125': 0.02, '653101': 0.05 };

/** Where migrants come from: population × out-migration propensity. */
const OUTFLOW: Record<string, number> = {
  '510000': 2, '410000': 2, '340000': 2, '430000': 1.8, '420000': 1.5, '360000': 1.7, '450000': 1.5, '520000': 1.6,
  '500000': 1.6, '130000': 1.2, '230000': 1.3, '220000': 1.2, '620000': 1.4, '110000': 0.3, '310000': 0.3,
  '540000': 0.2, '650000': 0.4, '660000': 0.2,
};
const ORIGINS = new WeightedList(PROVINCES.map((p) => [p.code, p.populationMillions * (OUTFLOW[p.code] ?? 0.8)] as const));

/** Universities and work draw people to these provinces (multiplier of population). */
const ATTRACTION: Record<string, number> = { '440000': 3, '330000': 2.5, '320000': 2, '310000': 4, '110000': 4.5, '350000': 1.5, '120000': 1.5 };
/** Where students and workers go: population × attraction. */
export const DESTINATIONS = new WeightedList(PROVINCES.map((p) => [p.code, p.populationMillions * (ATTRACTION[p.code] ?? 1)] as const));

function otherProvince(rng: Random, list: WeightedList<string>, not: string): string {
  for (let i = 0; i < 20; i++) {
    const province = list.pick(rng);
    if (province !== not) return province;
  }
  return not === '430000' ? '440000' : '430000';
}

export function randomCountyOf(rng: Random, province: string): string {
  return rng.pick(PROVINCE_COUNTIES.get(province)!);
}

const COMPOSITIONS = weighted({
  SINGLE_YOUNG: 7,
  SINGLE_ELDER: 8,
  COUPLE_YOUNG: 8,
  COUPLE_ELDER: 12,
  NUCLEAR: 45,
  THREE_GENERATIONS: 12,
  SINGLE_PARENT: 5,
  ELDERS_WITH_ADULT_CHILD: 3,
});

/** A member before names and ID numbers are settled. */
interface Draft {
  sex: Sex;
  birth: Day;
  relation: string;
  role: 'HEAD' | 'SPOUSE' | 'CHILD' | 'PARENT' | 'MEMBER';
  /** Born where the family came from (migrant families) or here. */
  bornAway: boolean;
  deceased: boolean;
}

function birthForAge(rng: Random, minAge: number, maxAge: number): Day {
  // Uniform over the days on which someone would be minAge..maxAge years old today.
  const latest = addYears(TODAY, -minAge) - 1;
  const earliest = addYears(TODAY, -(maxAge + 1)) + 1;
  return rng.int(earliest, latest);
}

function childSex(rng: Random): Sex {
  return rng.chance(0.52) ? 'MALE' : 'FEMALE';
}

/** Children of a mother born on `motherBirth`: born at her age 20-40, at most `maxAge` old today, a year or more apart. */
function children(rng: Random, motherBirth: Day, count: number, maxAge: number): Draft[] {
  const result: Draft[] = [];
  const motherAge = ageOn(motherBirth, TODAY);
  const earliest = Math.max(addYears(motherBirth, 20), addYears(TODAY, -maxAge));
  const latest = Math.min(addYears(motherBirth, Math.min(40, motherAge)), TODAY - 30);
  if (latest <= earliest) return result;
  let from = earliest;
  for (let i = 0; i < count && from < latest; i++) {
    const birth = rng.int(from, Math.min(latest, from + 6 * 365));
    const sex = childSex(rng);
    result.push({ sex, birth, relation: sex === 'MALE' ? '子' : '女', role: 'CHILD', bornAway: false, deceased: false });
    from = birth + 365 + rng.int(0, 3 * 365);
  }
  return result;
}

/** Spouse of someone born on `birth`: the other sex, a few years apart (husbands usually older). */
function spouseOf(rng: Random, partner: Draft): Draft {
  const sex: Sex = partner.sex === 'MALE' ? 'FEMALE' : 'MALE';
  const gapYears = sex === 'FEMALE' ? rng.int(-1, 5) : -rng.int(-1, 5);
  const birth = Math.max(Math.min(addYears(partner.birth, gapYears) + rng.int(-180, 180), addYears(TODAY, -20)), addYears(TODAY, -92));
  return { sex, birth, relation: '配偶', role: 'SPOUSE', bornAway: false, deceased: false };
}

function familyDrafts(rng: Random, composition: string, rural: boolean): Draft[] {
  const head = (sex: Sex, birth: Day): Draft => ({ sex, birth, relation: '户主', role: 'HEAD', bornAway: false, deceased: false });
  const childCount = (): number => {
    const r = rng.next();
    if (rural) return r < 0.35 ? 1 : r < 0.8 ? 2 : 3;
    return r < 0.52 ? 1 : r < 0.9 ? 2 : 3;
  };
  switch (composition) {
    case 'SINGLE_YOUNG':
      return [head(rng.chance(0.55) ? 'MALE' : 'FEMALE', birthForAge(rng, 20, 35))];
    case 'SINGLE_ELDER': {
      const h = head(rng.chance(0.4) ? 'MALE' : 'FEMALE', birthForAge(rng, 62, 90));
      const members = [h];
      if (rng.chance(0.5)) members.push({ ...spouseOf(rng, h), deceased: true });
      return members;
    }
    case 'COUPLE_YOUNG':
    case 'COUPLE_ELDER': {
      const young = composition === 'COUPLE_YOUNG';
      const h = head(rng.chance(0.8) ? 'MALE' : 'FEMALE', young ? birthForAge(rng, 23, 35) : birthForAge(rng, 55, 86));
      return [h, spouseOf(rng, h)];
    }
    case 'NUCLEAR':
    case 'THREE_GENERATIONS':
    case 'ELDERS_WITH_ADULT_CHILD': {
      const [minAge, maxAge] = composition === 'NUCLEAR' ? [23, 58] : composition === 'THREE_GENERATIONS' ? [28, 50] : [50, 62];
      const mother: Draft = { sex: 'FEMALE', birth: birthForAge(rng, minAge, maxAge), relation: '', role: 'SPOUSE', bornAway: false, deceased: false };
      const father = spouseOf(rng, mother);
      const maleHead = rng.chance(0.8);
      const h = maleHead ? { ...father, relation: '户主', role: 'HEAD' as const } : { ...mother, relation: '户主', role: 'HEAD' as const };
      const s = maleHead ? { ...mother, relation: '配偶', role: 'SPOUSE' as const } : { ...father, relation: '配偶', role: 'SPOUSE' as const };
      const kids = composition === 'ELDERS_WITH_ADULT_CHILD'
        ? children(rng, addYears(mother.birth, 0), 1, 35).filter((k) => ageOn(k.birth, TODAY) >= 20)
        : children(rng, mother.birth, composition === 'THREE_GENERATIONS' ? Math.min(2, childCount()) : childCount(), 28);
      const members = [h, s, ...kids];
      if (composition === 'THREE_GENERATIONS') {
        const parentSex: Sex = rng.chance(0.6) ? 'FEMALE' : 'MALE';
        const parentBirth = Math.max(addYears(h.birth, -rng.int(22, 34)), addYears(TODAY, -92));
        const parent: Draft = { sex: parentSex, birth: parentBirth, relation: parentSex === 'MALE' ? '父' : '母', role: 'PARENT', bornAway: false, deceased: false };
        members.push(parent);
        const other = { ...spouseOf(rng, parent), role: 'PARENT' as const };
        other.relation = other.sex === 'MALE' ? '父' : '母';
        if (members.length < 6 && rng.chance(0.4)) members.push(other);
        else if (ageOn(parentBirth, TODAY) > 60 && rng.chance(0.4)) members.push({ ...other, deceased: true });
      }
      return members;
    }
    case 'SINGLE_PARENT': {
      const sex: Sex = rng.chance(0.75) ? 'FEMALE' : 'MALE';
      const h = head(sex, birthForAge(rng, 28, 55));
      const motherBirth = sex === 'FEMALE' ? h.birth : addYears(h.birth, rng.int(0, 4));
      return [h, ...children(rng, motherBirth, rng.chance(0.7) ? 1 : 2, 25)];
    }
    default:
      throw new Error(`unknown composition ${composition}`);
  }
}

const WORK_MOVE_REASONS = weighted({ 工作调动: 4, 人才引进: 2, 购房落户: 3 });

/** Generates households in a fixed order; each draws from its own random stream. */
export class HouseholdGenerator {
  constructor(
    private readonly ids: IdNumberAllocator,
    private readonly organisations: OrganisationDirectory,
  ) {}

  /**
   * Household number `index` (0-based among generated households), with at
   * most `maxPersons` person rows (members plus deceased former members).
   */
  generate(rng: Random, index: number, maxPersons: number): HouseholdPlan {
    const province = PROVINCES_BY_POPULATION.pick(rng);
    const county = randomCountyOf(rng, province);
    const number = generatedHouseholdNumber(index);
    if (rng.chance(0.04)) return this.collective(rng, number, county, maxPersons);
    return this.family(rng, number, county, maxPersons);
  }

  private family(rng: Random, number: string, county: string, maxPersons: number): HouseholdPlan {
    const province = provinceCodeOfCounty(county);
    const composition = COMPOSITIONS.pick(rng);
    const drafts = familyDrafts(rng, composition, isRuralCounty(county)).slice(0, maxPersons);
    const headDraft = drafts[0];
    const station = rng.int(0, 7);
    const authority = householdAuthorityAt(county, station);

    const migrant = rng.chance(MIGRANT_SHARE_BY_COUNTY[county] ?? MIGRANT_SHARE[province] ?? 0.11) && ageOn(headDraft.birth, TODAY) >= 22;
    const originProvince = migrant ? otherProvince(rng, ORIGINS, province) : province;
    const originCounty = migrant ? randomCountyOf(rng, originProvince) : county;
    const ethnicity = ethnicityFor(rng, originCounty);

    // The head's own move(s); others follow the head.
    const headMoves: Move[] = [];
    let settled = 0 as Day; // day the family registered here (migrants)
    if (migrant) {
      const headAge = ageOn(headDraft.birth, TODAY);
      const viaUniversity = headAge >= 24 && rng.chance(0.3);
      if (viaUniversity) {
        const midProvince = otherProvince(rng, DESTINATIONS, originProvince);
        const midCounty = midProvince === province ? county : randomCountyOf(rng, midProvince);
        const admitted = Math.min(dayOf(yearOf(addYears(headDraft.birth, 18)), 9, 1) + rng.int(0, 10), TODAY - 400);
        const outAuth = householdAuthority(rng, originCounty);
        headMoves.push({ from: originCounty, to: midCounty, outOn: admitted - rng.int(5, 30), inOn: admitted, reason: '大中专院校录取', outAuthority: outAuth, inAuthority: householdAuthority(rng, midCounty) });
        if (midCounty !== county) {
          const work = Math.min(admitted + rng.int(4 * 365, 8 * 365), TODAY - 30);
          headMoves.push({ from: midCounty, to: county, outOn: work - rng.int(3, 20), inOn: work, reason: WORK_MOVE_REASONS.pick(rng), outAuthority: householdAuthority(rng, midCounty), inAuthority: authority });
        } else {
          headMoves[0].inAuthority = authority;
        }
      } else {
        const moveAge = rng.int(21, Math.min(45, headAge));
        const moved = Math.min(addYears(headDraft.birth, moveAge) + rng.int(0, 300), TODAY - 30);
        headMoves.push({ from: originCounty, to: county, outOn: moved - rng.int(3, 30), inOn: moved, reason: WORK_MOVE_REASONS.pick(rng), outAuthority: householdAuthority(rng, originCounty), inAuthority: authority });
      }
      settled = headMoves[headMoves.length - 1].inOn!;
    }

    const oldest = drafts.reduce((min, d) => Math.min(min, d.birth), headDraft.birth);
    const formedAt = migrant ? settled : Math.max(dayOf(1958, 1, 9), addYears(oldest, rng.int(20, 30)) + rng.int(0, 364));
    const established = Math.min(formedAt, TODAY - rng.int(1, 120));

    // Who moved with the family: members born before the family settled here, and a spouse from home.
    const spouseFromHome = rng.chance(0.5);
    for (const d of drafts) {
      if (!migrant) continue;
      if (d.role === 'HEAD' || d.role === 'PARENT') d.bornAway = true;
      else if (d.role === 'SPOUSE') d.bornAway = spouseFromHome;
      else d.bornAway = d.birth < settled;
    }

    const members = this.nameAndNumber(rng, drafts, ethnicity, originCounty, county);
    let order = 0;
    for (const [i, person] of members.entries()) {
      const d = drafts[i];
      person.county = county;
      if (d.deceased) {
        person.death = this.deathDay(rng, person.birth, migrant && d.bornAway ? settled + 20 : 0);
        person.status = 'CANCELLED';
        person.householdNumber = null;
        person.relation = null;
        person.memberOrder = 0;
      } else {
        person.householdNumber = number;
        person.relation = d.relation;
        person.memberOrder = order++;
      }
      if (migrant && d.bornAway) {
        if (d.role === 'HEAD') {
          person.moves = headMoves;
        } else {
          const reason = d.role === 'SPOUSE' ? '投靠配偶' : d.role === 'PARENT' ? '投靠子女' : '随父母迁移';
          const earliest = d.role === 'PARENT' ? Math.max(settled, addYears(person.birth, 55)) : Math.max(settled, addYears(person.birth, d.role === 'SPOUSE' ? 20 : 0));
          const latest = Math.min(person.death ?? TODAY, TODAY) - 30;
          const moveIn = earliest < latest ? (d.role === 'CHILD' ? settled : rng.int(earliest, Math.min(latest, earliest + 3 * 365))) : Math.max(settled, latest);
          person.moves = [{ from: originCounty, to: county, outOn: moveIn - rng.int(2, 20), inOn: moveIn, reason, outAuthority: householdAuthority(rng, person.birthCounty), inAuthority: authority }];
        }
        person.registeredOn = person.moves[person.moves.length - 1].inOn;
      } else if (d.role === 'CHILD') {
        person.registeredOn = Math.min(Math.max(person.birth + rng.int(10, 60), established), TODAY - 1);
      } else if (d.role === 'SPOUSE') {
        const married = Math.max(established, addYears(Math.max(person.birth, headDraft.birth), 22)) + rng.int(0, 3 * 365);
        person.registeredOn = Math.min(married, TODAY - 1);
      } else {
        person.registeredOn = established;
      }
      if (d.deceased && person.registeredOn !== null && person.death !== null) {
        person.registeredOn = Math.min(person.registeredOn, person.death - 1);
      }
      // Freshmen of this year have moved their registration to their university (迁出, not yet 迁入).
      const age = ageOn(person.birth, TODAY);
      if (d.role === 'CHILD' && age >= 18 && age <= 19 && rng.chance(0.4)) {
        const uniProvince = rng.chance(0.4) ? provinceCodeOfCounty(county) : otherProvince(rng, DESTINATIONS, provinceCodeOfCounty(county));
        const uniCounty = randomCountyOf(rng, uniProvince);
        if (uniCounty !== county && provinceCodeOfCounty(uniCounty) !== provinceCodeOfCounty(county)) {
          const out = dayOf(2026, 8, 15) + rng.int(0, 25);
          person.moves = [...person.moves, { from: county, to: uniCounty, outOn: out, inOn: null, reason: '大中专院校录取', outAuthority: authority, inAuthority: null }];
          person.status = 'MOVED_OUT';
        }
      }
    }
    return { number, type: 'FAMILY', county, street: residentialStreet(rng, county), authority, established, members };
  }

  /** A death day after 2008 (when the cancellation would be in the digital register), at 55 or older, not before `notBefore`. */
  private deathDay(rng: Random, birth: Day, notBefore: Day): Day {
    const earliest = Math.max(dayOf(2008, 1, 1), addYears(birth, 55), notBefore);
    return earliest >= TODAY - 10 ? TODAY - 5 : rng.int(earliest, TODAY - 10);
  }

  /** Gives drafts names and ID numbers in family order; returns persons aligned with `drafts`. */
  private nameAndNumber(rng: Random, drafts: Draft[], ethnicity: string, originCounty: string, county: string): PersonPlan[] {
    const style = namingStyleOf(ethnicity);
    const husband = drafts.find((d) => (d.role === 'HEAD' || d.role === 'SPOUSE') && d.sex === 'MALE');
    const head = drafts[0];
    const lineSurname = surnameFor(rng, ethnicity);
    // Turkic names: given · father's given. The head's father and the children's father are fixed first.
    const husbandGiven = turkicGivenName(rng, ethnicity, 'MALE');
    const headFatherGiven = turkicGivenName(rng, ethnicity, 'MALE');
    const childrenFatherGiven = husband ? husbandGiven : turkicGivenName(rng, ethnicity, 'MALE');
    const headSurname = head.sex === 'MALE' || !husband ? lineSurname : surnameFor(rng, ethnicity);

    return drafts.map((d) => {
      const birthYear = yearOf(d.birth);
      let name: string;
      if (style === 'TIBETAN') name = tibetanName(rng, d.sex);
      else if (style === 'TURKIC') {
        const given = d === husband ? husbandGiven
          : d.role === 'PARENT' && d.sex === 'MALE' ? headFatherGiven
          : turkicGivenName(rng, ethnicity, d.sex);
        const father = d.role === 'CHILD' ? childrenFatherGiven
          : d.role === 'HEAD' ? headFatherGiven
          : turkicGivenName(rng, ethnicity, 'MALE');
        name = turkicName(given, father);
      } else if (style === 'MONGOLIAN' && rng.chance(0.5)) {
        name = mongolianName(rng, d.sex);
      } else {
        let surname: string;
        if (d.role === 'HEAD') surname = headSurname;
        else if (d.role === 'CHILD') surname = rng.chance(0.9) ? (husband ? lineSurname : headSurname) : surnameFor(rng, ethnicity);
        else if (d.role === 'PARENT' && d.sex === 'MALE') surname = headSurname;
        else if (d.role === 'SPOUSE' && d.sex === 'MALE') surname = lineSurname;
        else surname = surnameFor(rng, ethnicity);
        name = hanName(rng, surname, d.sex, birthYear);
      }
      const birthCounty = d.bornAway ? (d.role === 'HEAD' ? originCounty : rng.chance(0.7) ? originCounty : randomCountyOf(rng, provinceCodeOfCounty(originCounty))) : county;
      const { idNumber, birth } = this.allocate(birthCounty, d.birth, d.sex);
      return {
        idNumber,
        name,
        sex: d.sex,
        birth,
        ethnicity,
        birthCounty,
        householdNumber: null,
        memberOrder: 0,
        relation: null,
        registeredOn: null,
        status: 'ACTIVE',
        county,
        death: null,
        moves: [],
      };
    });
  }

  /** An ID number for the birth; moves the birth a day earlier in the (never seen) case that day's sequences are used up. */
  private allocate(county: string, birth: Day, sex: Sex): { idNumber: string; birth: Day } {
    for (let day = birth; ; day--) {
      const idNumber = this.ids.allocate(county, day, sex);
      if (idNumber) return { idNumber, birth: day };
    }
  }

  private collective(rng: Random, number: string, county: string, maxPersons: number): HouseholdPlan {
    const province = provinceCodeOfCounty(county);
    const enterprises = this.organisations.enterprisesIn(county);
    const company = enterprises.length > 0 && !isRuralCounty(county) && rng.chance(0.6) ? rng.pick(enterprises) : null;
    const size = Math.min(maxPersons, new WeightedList([[1, 10], [2, 15], [3, 20], [4, 20], [5, 15], [6, 20]] as const).pick(rng));
    const authority = householdAuthorityAt(county, rng.int(0, 7));
    const university = universityOf(county);
    const street = company
      ? `${company.street}${company.name.replace(/(股份有限公司|有限公司)$/, '')}集体户`
      : `${residentialStreet(rng, county).replace(/号.*$/, '号')}${university}学生集体户`;
    const established = company
      ? Math.min(company.established + rng.int(30, 400), TODAY - 60)
      : dayOf(rng.int(1995, 2015), rng.int(1, 12), rng.int(1, 28));

    const members: PersonPlan[] = [];
    for (let i = 0; i < size; i++) {
      const sex: Sex = rng.chance(company ? 0.6 : 0.5) ? 'MALE' : 'FEMALE';
      const birth = company ? birthForAge(rng, 20, 40) : birthForAge(rng, 18, 23);
      const fromAway = rng.chance(company ? 0.5 : 0.7);
      const originProvince = fromAway ? otherProvince(rng, ORIGINS, province) : province;
      const birthCounty = fromAway || rng.chance(0.5) ? randomCountyOf(rng, originProvince) : county;
      const ethnicity = ethnicityFor(rng, birthCounty);
      const { idNumber, birth: birthDay } = this.allocate(birthCounty, birth, sex);
      let registeredOn: Day;
      const moves: Move[] = [];
      if (company) {
        registeredOn = rng.int(Math.max(established, addYears(birthDay, 20)), TODAY - 20);
      } else {
        registeredOn = Math.max(established, Math.min(dayOf(yearOf(addYears(birthDay, 18)), 9, 1) + rng.int(0, 10), TODAY - 20));
      }
      if (fromAway) {
        moves.push({
          from: birthCounty,
          to: county,
          outOn: registeredOn - rng.int(3, 25),
          inOn: registeredOn,
          reason: company ? WORK_MOVE_REASONS.pick(rng) : '大中专院校录取',
          outAuthority: householdAuthority(rng, birthCounty),
          inAuthority: authority,
        });
      }
      members.push({
        idNumber,
        name: anyName(rng, ethnicity, sex, yearOf(birthDay)),
        sex,
        birth: birthDay,
        ethnicity,
        birthCounty,
        householdNumber: number,
        memberOrder: i,
        relation: '集体户成员',
        registeredOn,
        status: 'ACTIVE',
        county,
        death: null,
        moves,
        occupation: company ? { kind: 'EMPLOYEE', employer: company } : { kind: 'STUDENT' },
      });
    }
    return { number, type: 'COLLECTIVE', county, street, authority, established, members };
  }
}
