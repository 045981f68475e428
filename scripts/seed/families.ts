/**
 * Family households (家庭户), generated as a whole from one random stream so
 * that their members are coherent: a head with a spouse a few years apart,
 * children born when their mother was 20-40, sometimes a parent of the head;
 * one surname line for Han families (children take the father's),
 * patronymics for Uyghur and Kazakh families, Tibetan names in Tibet.
 *
 * About one family in seven has moved its registration from another province
 * (the head first, once or twice, then spouse, children and parents follow),
 * students who just left for university are MOVED_OUT, and some elderly
 * members have died (CANCELLED: written without a household).
 */
import { TODAY, addYears, ageOn, dayOf, yearOf, type Day } from './calendar.js';
import { householdAuthority, householdAuthorityAt } from './authorities.js';
import { ethnicityFor } from './ethnicities.js';
import { hanName, mongolianName, namingStyleOf, surnameFor, tibetanName, turkicGivenName, turkicName, type Sex } from './names.js';
import { isRuralCounty, provinceCodeOfCounty, residentialStreet } from './places.js';
import {
  DESTINATIONS,
  ORIGINS,
  WORK_MOVE_REASONS,
  birthForAge,
  otherProvince,
  randomCountyOf,
  type HouseholdContext,
  type HouseholdPlan,
  type Move,
  type PersonPlan,
} from './population.js';
import { type Random, weighted } from './random.js';

/** Share of households whose registration came from another province, by destination. */
const MIGRANT_SHARE: Record<string, number> = {
  '110000': 0.42,
  '310000': 0.45,
  '440000': 0.34,
  '330000': 0.28,
  '120000': 0.26,
  '320000': 0.2,
  '350000': 0.16,
  '540000': 0.14,
  '650000': 0.14,
  '660000': 0.5,
  '460000': 0.2,
  '630000': 0.12,
  '640000': 0.1,
  '370000': 0.1,
};
const MIGRANT_SHARE_BY_COUNTY: Record<string, number> = { '653125': 0.02, '653101': 0.05 };

/** Household compositions, weighted to give roughly the census age pyramid and 2.6-3 persons a household. */
const COMPOSITIONS = weighted({
  SINGLE_YOUNG: 5,
  SINGLE_ELDER: 9,
  COUPLE_YOUNG: 6,
  COUPLE_ELDER: 16,
  NUCLEAR: 43,
  THREE_GENERATIONS: 13,
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
      const mother: Draft = {
        sex: 'FEMALE',
        birth: birthForAge(rng, minAge, maxAge),
        relation: '',
        role: 'SPOUSE',
        bornAway: false,
        deceased: false,
      };
      const father = spouseOf(rng, mother);
      const maleHead = rng.chance(0.8);
      const h = maleHead ? { ...father, relation: '户主', role: 'HEAD' as const } : { ...mother, relation: '户主', role: 'HEAD' as const };
      const s = maleHead ? { ...mother, relation: '配偶', role: 'SPOUSE' as const } : { ...father, relation: '配偶', role: 'SPOUSE' as const };
      const kids =
        composition === 'ELDERS_WITH_ADULT_CHILD'
          ? children(rng, addYears(mother.birth, 0), 1, 35).filter((k) => ageOn(k.birth, TODAY) >= 20)
          : children(rng, mother.birth, composition === 'THREE_GENERATIONS' ? Math.min(2, childCount()) : childCount(), 24);
      const members = [h, s, ...kids];
      if (composition === 'THREE_GENERATIONS') {
        const parentSex: Sex = rng.chance(0.6) ? 'FEMALE' : 'MALE';
        const parentBirth = Math.max(addYears(h.birth, -rng.int(22, 34)), addYears(TODAY, -92));
        const parent: Draft = {
          sex: parentSex,
          birth: parentBirth,
          relation: parentSex === 'MALE' ? '父' : '母',
          role: 'PARENT',
          bornAway: false,
          deceased: false,
        };
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

/** A family household in `county` with at most `maxPersons` person rows (members and deceased former members). */
export function familyHousehold(context: HouseholdContext, rng: Random, number: string, county: string, maxPersons: number): HouseholdPlan {
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
      headMoves.push({
        from: originCounty,
        to: midCounty,
        outOn: admitted - rng.int(5, 30),
        inOn: admitted,
        reason: '大中专院校录取',
        outAuthority: outAuth,
        inAuthority: householdAuthority(rng, midCounty),
      });
      if (midCounty !== county) {
        const work = Math.min(admitted + rng.int(4 * 365, 8 * 365), TODAY - 30);
        headMoves.push({
          from: midCounty,
          to: county,
          outOn: work - rng.int(3, 20),
          inOn: work,
          reason: WORK_MOVE_REASONS.pick(rng),
          outAuthority: householdAuthority(rng, midCounty),
          inAuthority: authority,
        });
      } else {
        headMoves[0].inAuthority = authority;
      }
    } else {
      const moveAge = rng.int(21, Math.min(45, headAge));
      const moved = Math.min(addYears(headDraft.birth, moveAge) + rng.int(0, 300), TODAY - 30);
      headMoves.push({
        from: originCounty,
        to: county,
        outOn: moved - rng.int(3, 30),
        inOn: moved,
        reason: WORK_MOVE_REASONS.pick(rng),
        outAuthority: householdAuthority(rng, originCounty),
        inAuthority: authority,
      });
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

  const members = nameAndNumber(context, rng, drafts, ethnicity, originCounty, county);
  let order = 0;
  for (const [i, person] of members.entries()) {
    const d = drafts[i];
    person.county = county;
    if (d.deceased) {
      person.death = deathDay(rng, person.birth, migrant && d.bornAway ? settled + 20 : 0);
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
        const earliest =
          d.role === 'PARENT'
            ? Math.max(settled, addYears(person.birth, 55))
            : Math.max(settled, addYears(person.birth, d.role === 'SPOUSE' ? 20 : 0));
        const latest = Math.min(person.death ?? TODAY, TODAY) - 30;
        const moveIn =
          earliest < latest ? (d.role === 'CHILD' ? settled : rng.int(earliest, Math.min(latest, earliest + 3 * 365))) : Math.max(settled, latest);
        // Moves within a province are not recorded: the member left from where they were born.
        const outOn = Math.max(person.birth, moveIn - rng.int(2, 20));
        person.moves = [
          {
            from: person.birthCounty,
            to: county,
            outOn,
            inOn: moveIn,
            reason,
            outAuthority: householdAuthority(rng, person.birthCounty),
            inAuthority: authority,
          },
        ];
      }
      person.registeredOn = person.moves[person.moves.length - 1].inOn;
    } else if (d.role === 'CHILD') {
      person.registeredOn = Math.min(Math.max(person.birth + rng.int(10, 60), established), TODAY - 1);
    } else if (d.role === 'SPOUSE') {
      const married = Math.max(established, addYears(Math.max(person.birth, headDraft.birth), 22)) + rng.int(0, 3 * 365);
      person.registeredOn = Math.min(married, TODAY - 1);
    } else {
      // The head (or the head's parent) of a household founded before they were born joined it at birth.
      person.registeredOn = Math.max(established, Math.min(person.birth + rng.int(10, 60), TODAY - 1));
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
        person.moves = [
          ...person.moves,
          { from: county, to: uniCounty, outOn: out, inOn: null, reason: '大中专院校录取', outAuthority: authority, inAuthority: null },
        ];
        person.status = 'MOVED_OUT';
      }
    }
  }
  return { number, type: 'FAMILY', county, street: residentialStreet(rng, county), authority, established, members };
}

/** A death day after 2008 (when the cancellation would be in the digital register), at 55 or older, not before `notBefore`. */
function deathDay(rng: Random, birth: Day, notBefore: Day): Day {
  const earliest = Math.max(dayOf(2008, 1, 1), addYears(birth, 55), notBefore);
  return earliest >= TODAY - 10 ? TODAY - 5 : rng.int(earliest, TODAY - 10);
}

/** Gives drafts names and ID numbers in family order; returns persons aligned with `drafts`. */
function nameAndNumber(
  context: HouseholdContext,
  rng: Random,
  drafts: Draft[],
  ethnicity: string,
  originCounty: string,
  county: string,
): PersonPlan[] {
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
      const given = d === husband ? husbandGiven : d.role === 'PARENT' && d.sex === 'MALE' ? headFatherGiven : turkicGivenName(rng, ethnicity, d.sex);
      const father = d.role === 'CHILD' ? childrenFatherGiven : d.role === 'HEAD' ? headFatherGiven : turkicGivenName(rng, ethnicity, 'MALE');
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
    const birthCounty = d.bornAway
      ? d.role === 'HEAD'
        ? originCounty
        : rng.chance(0.7)
          ? originCounty
          : randomCountyOf(rng, provinceCodeOfCounty(originCounty))
      : county;
    const { idNumber, birth } = context.allocate(birthCounty, d.birth, d.sex);
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
