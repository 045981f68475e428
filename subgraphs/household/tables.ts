/**
 * Tables of the household-registration store. Every lookup path has an
 * index: persons by ID number (primary key), members by household, migrations
 * by person.
 */
export const HOUSEHOLD_TABLES = `
CREATE TABLE IF NOT EXISTS households (
  number           TEXT PRIMARY KEY,
  type             TEXT NOT NULL CHECK (type IN ('FAMILY', 'COLLECTIVE')),
  region_code      TEXT NOT NULL,
  street           TEXT NOT NULL,
  authority_name   TEXT NOT NULL,
  authority_region TEXT NOT NULL,
  established_on   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS persons (
  id_number           TEXT PRIMARY KEY,
  name                TEXT NOT NULL,
  sex                 TEXT NOT NULL CHECK (sex IN ('MALE', 'FEMALE')),
  birth_date          TEXT NOT NULL,
  ethnicity           TEXT NOT NULL,
  birth_region        TEXT NOT NULL,
  household_number    TEXT REFERENCES households(number),
  member_order        INTEGER NOT NULL DEFAULT 0,
  relation_to_head    TEXT,
  registered_on       TEXT,
  registration_status TEXT NOT NULL CHECK (registration_status IN ('ACTIVE', 'MOVED_OUT', 'CANCELLED'))
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS persons_by_household ON persons (household_number, member_order);

CREATE TABLE IF NOT EXISTS migrations (
  id                 INTEGER PRIMARY KEY,
  id_number          TEXT NOT NULL REFERENCES persons(id_number),
  direction          TEXT NOT NULL CHECK (direction IN ('MOVE_IN', 'MOVE_OUT')),
  date               TEXT NOT NULL,
  counterpart_region TEXT NOT NULL,
  reason             TEXT NOT NULL,
  authority_name     TEXT NOT NULL,
  authority_region   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS migrations_by_person ON migrations (id_number, date);
`;
