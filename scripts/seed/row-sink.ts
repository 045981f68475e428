/**
 * Typed inserts into the tables of the five subgraphs (the table contract of
 * subgraphs/<name>/tables.ts), with a count of rows per table.
 *
 * The column lists below are checked against the real tables when the sink
 * opens: if the contract changes, seeding fails at once naming the table and
 * column, instead of writing rows the subgraphs cannot read.
 */
import type { DomainSubgraphName as SubgraphName } from '../../subgraphs/catalog.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../../subgraphs/shared/database.js';
import { isStaged, type SeedDatabases } from './database-files.js';

/** Columns the seeder writes, per table (INTEGER PRIMARY KEY ids are left to SQLite). */
const TABLES = {
  households: { db: 'household', columns: ['number', 'type', 'region_code', 'street', 'authority_name', 'authority_region', 'established_on'] },
  persons: {
    db: 'household',
    columns: [
      'id_number',
      'name',
      'sex',
      'birth_date',
      'ethnicity',
      'birth_region',
      'household_number',
      'member_order',
      'relation_to_head',
      'registered_on',
      'registration_status',
    ],
  },
  migrations: { db: 'household', columns: ['id_number', 'direction', 'date', 'counterpart_region', 'reason', 'authority_name', 'authority_region'] },
  insured_persons: { db: 'social-insurance', columns: ['id_number', 'name', 'card_number', 'phone', 'agency_name', 'agency_region'] },
  enrolments: {
    db: 'social-insurance',
    columns: ['id', 'id_number', 'insurance_type', 'category', 'status', 'region_code', 'agency_name', 'employer_code', 'enrolled_on', 'ended_on'],
  },
  contributions: {
    db: 'social-insurance',
    columns: [
      'id_number',
      'insurance_type',
      'region_code',
      'employer_code',
      'from_month',
      'to_month',
      'months',
      'base_fen',
      'personal_fen',
      'employer_fen',
      'status',
    ],
  },
  employers: { db: 'social-insurance', columns: ['credit_code', 'employer_number', 'agency_name', 'agency_region', 'registered_on'] },
  fund_accounts: {
    db: 'provident-fund',
    columns: [
      'account_number',
      'id_number',
      'holder_name',
      'status',
      'centre_name',
      'centre_region',
      'employer_code',
      'opened_on',
      'closed_on',
      'base_fen',
      'rate_percent',
      'balance_fen',
      'last_deposit_month',
    ],
  },
  fund_deposits: { db: 'provident-fund', columns: ['account_number', 'month', 'kind', 'personal_fen', 'employer_fen', 'posted_on'] },
  fund_employers: { db: 'provident-fund', columns: ['credit_code', 'account_number', 'centre_name', 'centre_region', 'registered_on'] },
  credit_records: {
    db: 'credit',
    columns: [
      'id',
      'subject_kind',
      'subject_id',
      'category',
      'status',
      'document_number',
      'title',
      'details',
      'authority_name',
      'authority_region',
      'decided_on',
      'published_until',
      'amount_fen',
    ],
  },
  organisations: {
    db: 'licences',
    columns: [
      'credit_code',
      'name',
      'entity_type',
      'legal_representative',
      'capital_wan_fen',
      'established_on',
      'address',
      'region_code',
      'business_scope',
      'status',
    ],
  },
  licences: {
    db: 'licences',
    columns: [
      'identifier',
      'type',
      'title',
      'number',
      'status',
      'holder_kind',
      'holder_id',
      'holder_name',
      'issuer_name',
      'issuer_region',
      'issued_on',
      'valid_from',
      'valid_until',
      'attributes',
    ],
  },
  licence_events: { db: 'licences', columns: ['identifier', 'seq', 'kind', 'date', 'note', 'authority_name', 'authority_region'] },
} as const satisfies Record<string, { db: SubgraphName; columns: readonly string[] }>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** A row of `table`: every written column, by name. */
export type Row<T extends TableName> = { [K in (typeof TABLES)[T]['columns'][number]]: string | number | null };

interface TableInfoRow {
  name: string;
  notnull: number;
  dflt_value: unknown;
  pk: number;
  type: string;
}

function checkContract(db: SqliteDatabase, table: TableName, columns: readonly string[]): void {
  const actual = db.prepare(`PRAGMA main.table_info(${table})`).all() as TableInfoRow[];
  if (actual.length === 0) throw new Error(`table contract changed: table ${table} does not exist`);
  const names = new Set(actual.map((column) => column.name));
  for (const column of columns) {
    if (!names.has(column)) throw new Error(`table contract changed: ${table}.${column} does not exist`);
  }
  for (const column of actual) {
    const automatic = column.pk === 1 && column.type.toUpperCase() === 'INTEGER';
    if (column.notnull && column.dflt_value === null && !automatic && !columns.includes(column.name)) {
      throw new Error(`table contract changed: the seeder does not fill ${table}.${column.name}, which is NOT NULL`);
    }
  }
}

interface PreparedInsert {
  columns: readonly string[];
  /** Reused for every row: better-sqlite3 copies the values when binding. */
  values: (string | number | null)[];
  /** Parameters given as one array, which better-sqlite3 binds in order. */
  statement: Statement<unknown[]>;
}

/**
 * Prepared inserts for every table of a run, counting the rows written.
 * Rows are given by column name (checked by the compiler) and bound by
 * position: positional binding is about a third faster than named binding,
 * which matters at tens of millions of rows.
 */
export class RowSink {
  readonly rows: Record<TableName, number>;
  private readonly inserts: Record<TableName, PreparedInsert>;

  constructor(databases: SeedDatabases) {
    this.rows = Object.fromEntries(TABLE_NAMES.map((table) => [table, 0])) as Record<TableName, number>;
    this.inserts = Object.fromEntries(
      TABLE_NAMES.map((table) => {
        const { db: name, columns } = TABLES[table];
        const db = databases[name].db;
        checkContract(db, table, columns);
        const target = isStaged(databases[name], table) ? `staging.${table}` : `main.${table}`;
        const sql = `INSERT INTO ${target} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
        const insert: PreparedInsert = { columns, values: new Array(columns.length).fill(null), statement: db.prepare<unknown[]>(sql) };
        return [table, insert];
      }),
    ) as unknown as Record<TableName, PreparedInsert>;
  }

  write<T extends TableName>(table: T, row: Row<T>): void {
    const insert = this.inserts[table];
    const { columns, values } = insert;
    const record = row as Record<string, string | number | null>;
    for (let i = 0; i < columns.length; i++) values[i] = record[columns[i]];
    insert.statement.run(values);
    this.rows[table]++;
  }
}
