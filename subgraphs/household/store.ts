import type { SqliteDatabase } from '../shared/database.js';
import { jsonList } from '../shared/database.js';

export interface PersonRow {
  id_number: string;
  name: string;
  sex: 'MALE' | 'FEMALE';
  birth_date: string;
  ethnicity: string;
  birth_region: string;
  household_number: string | null;
  member_order: number;
  relation_to_head: string | null;
  registered_on: string | null;
  registration_status: 'ACTIVE' | 'MOVED_OUT' | 'CANCELLED';
}

export interface HouseholdRow {
  number: string;
  type: 'FAMILY' | 'COLLECTIVE';
  region_code: string;
  street: string;
  authority_name: string;
  authority_region: string;
  established_on: string;
}

export interface MigrationRow {
  id: number;
  id_number: string;
  direction: 'MOVE_IN' | 'MOVE_OUT';
  date: string;
  counterpart_region: string;
  reason: string;
  authority_name: string;
  authority_region: string;
}

/** Read access to the household register; every method is one prepared statement. */
export interface HouseholdStore {
  personsByIdNumbers(idNumbers: string[]): PersonRow[];
  householdsByNumbers(numbers: string[]): HouseholdRow[];
  /** Active members of the households, each household's head first. */
  membersOfHouseholds(numbers: string[]): PersonRow[];
  migrationsOfPersons(idNumbers: string[]): MigrationRow[];
}

export function createHouseholdStore(db: SqliteDatabase): HouseholdStore {
  const persons = db.prepare<[string], PersonRow>('SELECT * FROM persons WHERE id_number IN (SELECT value FROM json_each(?))');
  const households = db.prepare<[string], HouseholdRow>('SELECT * FROM households WHERE number IN (SELECT value FROM json_each(?))');
  const members = db.prepare<[string], PersonRow>(
    `SELECT * FROM persons WHERE household_number IN (SELECT value FROM json_each(?))
       AND registration_status = 'ACTIVE' ORDER BY household_number, member_order`,
  );
  const migrations = db.prepare<[string], MigrationRow>(
    'SELECT * FROM migrations WHERE id_number IN (SELECT value FROM json_each(?)) ORDER BY id_number, date, id',
  );
  return {
    personsByIdNumbers: (ids) => persons.all(jsonList(ids)),
    householdsByNumbers: (numbers) => households.all(jsonList(numbers)),
    membersOfHouseholds: (numbers) => members.all(jsonList(numbers)),
    migrationsOfPersons: (ids) => migrations.all(jsonList(ids)),
  };
}
