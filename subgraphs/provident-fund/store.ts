import type { SqliteDatabase } from '../shared/database.js';
import { jsonList } from '../shared/database.js';

export interface FundAccountRow {
  account_number: string;
  id_number: string;
  holder_name: string;
  status: string;
  centre_name: string;
  centre_region: string;
  employer_code: string | null;
  opened_on: string;
  closed_on: string | null;
  base_fen: number;
  rate_percent: number;
  balance_fen: number;
  last_deposit_month: string | null;
}

export interface FundDepositRow {
  account_number: string;
  month: string;
  kind: 'REGULAR' | 'BACK_PAYMENT';
  personal_fen: number;
  employer_fen: number;
  posted_on: string;
}

export interface FundEmployerRow {
  credit_code: string;
  account_number: string;
  centre_name: string;
  centre_region: string;
  registered_on: string;
}

/** Read access to provident-fund records; every method is one prepared statement. */
export interface ProvidentFundStore {
  accountsOfPersons(idNumbers: string[]): FundAccountRow[];
  accountsByNumbers(accountNumbers: string[]): FundAccountRow[];
  /** The newest `last` deposits of each account, newest first. */
  recentDeposits(accountNumbers: string[], last: number): FundDepositRow[];
  employers(creditCodes: string[]): FundEmployerRow[];
  depositingHeadcounts(creditCodes: string[]): { employer_code: string; headcount: number }[];
}

export function createProvidentFundStore(db: SqliteDatabase): ProvidentFundStore {
  // The open account first, then the others newest first.
  const accountsOfPersons = db.prepare<[string], FundAccountRow>(
    `SELECT * FROM fund_accounts WHERE id_number IN (SELECT value FROM json_each(?))
      ORDER BY id_number, status <> 'ACTIVE', opened_on DESC`,
  );
  const accountsByNumbers = db.prepare<[string], FundAccountRow>(
    'SELECT * FROM fund_accounts WHERE account_number IN (SELECT value FROM json_each(?))',
  );
  const deposits = db.prepare<[{ accounts: string; last: number }], FundDepositRow>(
    `SELECT account_number, month, kind, personal_fen, employer_fen, posted_on FROM (
       SELECT d.*, row_number() OVER (PARTITION BY account_number ORDER BY month DESC, kind) AS rank
         FROM fund_deposits d WHERE account_number IN (SELECT value FROM json_each(@accounts))
     ) WHERE rank <= @last ORDER BY account_number, month DESC, kind`,
  );
  const employers = db.prepare<[string], FundEmployerRow>('SELECT * FROM fund_employers WHERE credit_code IN (SELECT value FROM json_each(?))');
  const headcounts = db.prepare<[string], { employer_code: string; headcount: number }>(
    `SELECT employer_code, count(*) AS headcount FROM fund_accounts
      WHERE employer_code IN (SELECT value FROM json_each(?)) AND status = 'ACTIVE' GROUP BY employer_code`,
  );
  return {
    accountsOfPersons: (ids) => accountsOfPersons.all(jsonList(ids)),
    accountsByNumbers: (numbers) => accountsByNumbers.all(jsonList(numbers)),
    recentDeposits: (numbers, last) => deposits.all({ accounts: jsonList(numbers), last }),
    employers: (codes) => employers.all(jsonList(codes)),
    depositingHeadcounts: (codes) => headcounts.all(jsonList(codes)),
  };
}
