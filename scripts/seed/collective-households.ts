/**
 * Collective households (集体户): the registers universities keep for their
 * students and companies for staff who moved their registration for the job.
 * Members are unrelated adults (集体户成员); students mostly came from other
 * provinces when admitted (大中专院校录取), staff for work (工作调动,
 * 人才引进), and a company's members work for it, which their social
 * insurance shows.
 */
import { TODAY, addYears, dayOf, yearOf, type Day } from './calendar.js';
import { householdAuthority, householdAuthorityAt } from './authorities.js';
import { ethnicityFor } from './ethnicities.js';
import { anyName, type Sex } from './names.js';
import { isRuralCounty, provinceCodeOfCounty, residentialStreet, universityOf } from './places.js';
import {
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
import { type Random, WeightedList } from './random.js';

/** A collective household in `county` with 1-6 members (at most `maxPersons`). */
export function collectiveHousehold(context: HouseholdContext, rng: Random, number: string, county: string, maxPersons: number): HouseholdPlan {
  const province = provinceCodeOfCounty(county);
  const enterprises = context.organisations.enterprisesIn(county);
  const company = enterprises.length > 0 && !isRuralCounty(county) && rng.chance(0.6) ? rng.pick(enterprises) : null;
  const size = Math.min(
    maxPersons,
    new WeightedList([
      [1, 10],
      [2, 15],
      [3, 20],
      [4, 20],
      [5, 15],
      [6, 20],
    ] as const).pick(rng),
  );
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
    const { idNumber, birth: birthDay } = context.allocate(birthCounty, birth, sex);
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
