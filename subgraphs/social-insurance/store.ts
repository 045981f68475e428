import type { SqliteDatabase } from '../shared/database.js';
import { jsonList } from '../shared/database.js';

export interface InsuredPersonRow {
  id_number: string;
  name: string;
  card_number: string;
  phone: string | null;
  agency_name: string;
  agency_region: string;
}

export interface EnrolmentRow {
  id: string;
  id_number: string;
  insurance_type: string;
  category: string;
  status: string;
  region_code: string;
  agency_name: string;
  employer_code: string | null;
  enrolled_on: string;
  ended_on: string | null;
}

export interface ContributionRow {
  id: number;
  id_number: string;
  insurance_type: string;
  region_code: string;
  employer_code: string | null;
  from_month: string;
  to_month: string;
  months: number;
  base_fen: number;
  personal_fen: number;
  employer_fen: number;
  status: 'PAID' | 'IN_ARREARS';
}

export interface EmployerRow {
  credit_code: string;
  employer_number: string;
  agency_name: string;
  agency_region: string;
  registered_on: string;
}

/** Read access to social-insurance records; every method is one prepared statement. */
export interface SocialInsuranceStore {
  insuredPersons(idNumbers: string[]): InsuredPersonRow[];
  enrolmentsOfPersons(idNumbers: string[]): EnrolmentRow[];
  enrolmentsByIds(ids: string[]): EnrolmentRow[];
  contributionsOfPersons(idNumbers: string[]): ContributionRow[];
  employers(creditCodes: string[]): EmployerRow[];
  insuredHeadcounts(creditCodes: string[]): { employer_code: string; headcount: number }[];
}

export function createSocialInsuranceStore(db: SqliteDatabase): SocialInsuranceStore {
  const insured = db.prepare<[string], InsuredPersonRow>('SELECT * FROM insured_persons WHERE id_number IN (SELECT value FROM json_each(?))');
  const enrolmentsOfPersons = db.prepare<[string], EnrolmentRow>(
    'SELECT * FROM enrolments WHERE id_number IN (SELECT value FROM json_each(?)) ORDER BY id_number, enrolled_on DESC, insurance_type',
  );
  const enrolmentsByIds = db.prepare<[string], EnrolmentRow>('SELECT * FROM enrolments WHERE id IN (SELECT value FROM json_each(?))');
  const contributions = db.prepare<[string], ContributionRow>(
    'SELECT * FROM contributions WHERE id_number IN (SELECT value FROM json_each(?)) ORDER BY id_number, from_month, insurance_type',
  );
  const employers = db.prepare<[string], EmployerRow>('SELECT * FROM employers WHERE credit_code IN (SELECT value FROM json_each(?))');
  const headcounts = db.prepare<[string], { employer_code: string; headcount: number }>(
    `SELECT employer_code, count(*) AS headcount FROM enrolments
      WHERE employer_code IN (SELECT value FROM json_each(?)) AND status = 'CONTRIBUTING' AND insurance_type = 'PENSION'
      GROUP BY employer_code`,
  );
  return {
    insuredPersons: (ids) => insured.all(jsonList(ids)),
    enrolmentsOfPersons: (ids) => enrolmentsOfPersons.all(jsonList(ids)),
    enrolmentsByIds: (ids) => enrolmentsByIds.all(jsonList(ids)),
    contributionsOfPersons: (ids) => contributions.all(jsonList(ids)),
    employers: (codes) => employers.all(jsonList(codes)),
    insuredHeadcounts: (codes) => headcounts.all(jsonList(codes)),
  };
}
