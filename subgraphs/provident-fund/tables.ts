import { ISSUED_DOCUMENTS_TABLE } from '../shared/issued-documents-table.js';

/**
 * Tables of the housing-provident-fund store. Amounts are integer fen.
 * Lookup paths: accounts by ID number and by employer; deposits by account
 * and month (primary key); employers by credit code.
 */
export const PROVIDENT_FUND_TABLES = `
CREATE TABLE IF NOT EXISTS fund_accounts (
  account_number     TEXT PRIMARY KEY,
  id_number          TEXT NOT NULL,
  holder_name        TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('ACTIVE', 'SEALED', 'TRANSFERRED_OUT', 'CLOSED')),
  centre_name        TEXT NOT NULL,
  centre_region      TEXT NOT NULL,
  employer_code      TEXT,
  opened_on          TEXT NOT NULL,
  closed_on          TEXT,
  base_fen           INTEGER NOT NULL,
  rate_percent       INTEGER NOT NULL CHECK (rate_percent BETWEEN 5 AND 12),
  balance_fen        INTEGER NOT NULL,
  last_deposit_month TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fund_accounts_by_person ON fund_accounts (id_number);
CREATE INDEX IF NOT EXISTS fund_accounts_by_employer ON fund_accounts (employer_code, status);

CREATE TABLE IF NOT EXISTS fund_deposits (
  account_number TEXT NOT NULL REFERENCES fund_accounts(account_number),
  month          TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('REGULAR', 'BACK_PAYMENT')),
  personal_fen   INTEGER NOT NULL,
  employer_fen   INTEGER NOT NULL,
  posted_on      TEXT NOT NULL,
  PRIMARY KEY (account_number, month, kind)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS fund_employers (
  credit_code    TEXT PRIMARY KEY,
  account_number TEXT NOT NULL,
  centre_name    TEXT NOT NULL,
  centre_region  TEXT NOT NULL,
  registered_on  TEXT NOT NULL
) WITHOUT ROWID;

${ISSUED_DOCUMENTS_TABLE}
`;
