import { ISSUED_DOCUMENTS_TABLE } from '../shared/issued-documents-table.js';

/**
 * Tables of the social-insurance store. Amounts are integer fen (分) so that
 * sums are exact. Lookup paths: insured person and enrolments and
 * contributions by ID number; enrolments by employer for headcounts;
 * employers by credit code.
 */
export const SOCIAL_INSURANCE_TABLES = `
CREATE TABLE IF NOT EXISTS insured_persons (
  id_number      TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  card_number    TEXT NOT NULL,
  phone          TEXT,
  agency_name    TEXT NOT NULL,
  agency_region  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS enrolments (
  id             TEXT PRIMARY KEY,
  id_number      TEXT NOT NULL REFERENCES insured_persons(id_number),
  insurance_type TEXT NOT NULL CHECK (insurance_type IN ('PENSION', 'MEDICAL', 'UNEMPLOYMENT', 'WORK_INJURY', 'MATERNITY')),
  category       TEXT NOT NULL CHECK (category IN ('EMPLOYEE', 'RESIDENT')),
  status         TEXT NOT NULL CHECK (status IN ('CONTRIBUTING', 'SUSPENDED', 'TRANSFERRED_OUT', 'TERMINATED')),
  region_code    TEXT NOT NULL,
  agency_name    TEXT NOT NULL,
  employer_code  TEXT,
  enrolled_on    TEXT NOT NULL,
  ended_on       TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS enrolments_by_person ON enrolments (id_number, enrolled_on);
CREATE INDEX IF NOT EXISTS enrolments_by_employer ON enrolments (employer_code, status, insurance_type);

CREATE TABLE IF NOT EXISTS contributions (
  id              INTEGER PRIMARY KEY,
  id_number       TEXT NOT NULL REFERENCES insured_persons(id_number),
  insurance_type  TEXT NOT NULL,
  region_code     TEXT NOT NULL,
  employer_code   TEXT,
  from_month      TEXT NOT NULL,
  to_month        TEXT NOT NULL,
  months          INTEGER NOT NULL CHECK (months > 0),
  base_fen        INTEGER NOT NULL,
  personal_fen    INTEGER NOT NULL,
  employer_fen    INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('PAID', 'IN_ARREARS'))
);
CREATE INDEX IF NOT EXISTS contributions_by_person ON contributions (id_number, from_month);

CREATE TABLE IF NOT EXISTS employers (
  credit_code     TEXT PRIMARY KEY,
  employer_number TEXT NOT NULL,
  agency_name     TEXT NOT NULL,
  agency_region   TEXT NOT NULL,
  registered_on   TEXT NOT NULL
) WITHOUT ROWID;

${ISSUED_DOCUMENTS_TABLE}
`;
