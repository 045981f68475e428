/**
 * Writes a household plan into the household-registration tables:
 * the household, its members (and deceased former members, whose
 * registration is cancelled and who belong to no household any more), and
 * each member's cross-province moves as a MOVE_OUT at the old place and a
 * MOVE_IN at the new one.
 */
import { isoDate } from './calendar.js';
import type { HouseholdPlan } from './population.js';
import type { RowSink } from './row-sink.js';

export function writeHousehold(sink: RowSink, household: HouseholdPlan): void {
  sink.write('households', {
    number: household.number,
    type: household.type,
    region_code: household.county,
    street: household.street,
    authority_name: household.authority.name,
    authority_region: household.authority.region,
    established_on: isoDate(household.established),
  });
  for (const person of household.members) {
    sink.write('persons', {
      id_number: person.idNumber,
      name: person.name,
      sex: person.sex,
      birth_date: isoDate(person.birth),
      ethnicity: person.ethnicity,
      birth_region: person.birthCounty,
      household_number: person.householdNumber,
      member_order: person.memberOrder,
      relation_to_head: person.relation,
      registered_on: person.registeredOn === null ? null : isoDate(person.registeredOn),
      registration_status: person.status,
    });
    for (const move of person.moves) {
      sink.write('migrations', {
        id_number: person.idNumber,
        direction: 'MOVE_OUT',
        date: isoDate(move.outOn),
        counterpart_region: move.to,
        reason: move.reason,
        authority_name: move.outAuthority.name,
        authority_region: move.outAuthority.region,
      });
      if (move.inOn !== null && move.inAuthority) {
        sink.write('migrations', {
          id_number: person.idNumber,
          direction: 'MOVE_IN',
          date: isoDate(move.inOn),
          counterpart_region: move.from,
          reason: move.reason,
          authority_name: move.inAuthority.name,
          authority_region: move.inAuthority.region,
        });
      }
    }
  }
}
