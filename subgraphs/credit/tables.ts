/**
 * Tables of the credit store: one table of public credit records for persons
 * (by ID number) and organisations (by credit code). Lookup paths: by
 * identifier (primary key) and by subject.
 */
export const CREDIT_TABLES = `
CREATE TABLE IF NOT EXISTS credit_records (
  id               TEXT PRIMARY KEY,
  subject_kind     TEXT NOT NULL CHECK (subject_kind IN ('PERSON', 'ORGANISATION')),
  subject_id       TEXT NOT NULL,
  category         TEXT NOT NULL CHECK (category IN ('DISHONEST_JUDGMENT_DEBTOR', 'ADMINISTRATIVE_PENALTY', 'ABNORMAL_OPERATION', 'COMMENDATION')),
  status           TEXT NOT NULL CHECK (status IN ('ACTIVE', 'REPAIRED', 'EXPIRED', 'REVOKED')),
  document_number  TEXT NOT NULL,
  title            TEXT NOT NULL,
  details          TEXT NOT NULL,
  authority_name   TEXT NOT NULL,
  authority_region TEXT NOT NULL,
  decided_on       TEXT NOT NULL,
  published_until  TEXT,
  amount_fen       INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS credit_records_by_subject ON credit_records (subject_id, decided_on);
`;
