import { afterEach, describe, expect, it } from 'vitest';
import { SUBGRAPHS, type DomainSubgraphName, type SubgraphName } from '../../subgraphs/catalog.js';
import { openDatabase, type SqliteDatabase } from '../../subgraphs/shared/database.js';
import { createSubgraphApolloServer, sqliteContextFactory } from '../../subgraphs/server.js';
import { createProvidentFundStore } from '../../subgraphs/provident-fund/store.js';
import { createHouseholdStore } from '../../subgraphs/household/store.js';
import { createLogger } from '../../common/logger.js';

const quietLogger = () => createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const HEAD = '11010519491231002X';
const SPOUSE = '110105195003150019';
const ORG = '91350100M000100Y43';

const opened: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function database(name: SubgraphName, rows: string): SqliteDatabase {
  const db = openDatabase(':memory:');
  db.exec(SUBGRAPHS.find((s) => s.name === name)!.tables);
  db.exec(rows);
  opened.push(db);
  return db;
}

async function execute(name: SubgraphName, db: SqliteDatabase, query: string, variables: Record<string, unknown> = {}) {
  const { server, createContext } = createSubgraphApolloServer(name, sqliteContextFactory(name as DomainSubgraphName, db), quietLogger());
  await server.start();
  try {
    const assertion = {
      caller: { subject: 'test', organisation: 'test', province: '110000', issuer: 'https://idp.test', tokenId: 't' },
      scopes: ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read'],
      matter: 'TB-HJ-004',
      caseNumber: null,
      requestId: 'test-request',
    };
    const response = await server.executeOperation({ query, variables }, { contextValue: createContext(assertion) });
    if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
    return response.body.singleResult;
  } finally {
    await server.stop();
  }
}

const HOUSEHOLD_ROWS = `
  INSERT INTO households VALUES ('110105000001', 'FAMILY', '110105', '朝阳路1号', '北京市公安局朝阳分局', '110105', '1975-01-01');
  INSERT INTO persons VALUES ('${HEAD}', '王秀英', 'FEMALE', '1949-12-31', '汉族', '110105', '110105000001', 0, '户主', '1975-01-01', 'ACTIVE');
  INSERT INTO persons VALUES ('${SPOUSE}', '李建国', 'MALE', '1950-03-15', '汉族', '430102', '110105000001', 1, '配偶', '1976-05-01', 'ACTIVE');
  INSERT INTO migrations VALUES (1, '${SPOUSE}', 'MOVE_IN', '1976-05-01', '430102', '投靠配偶', '北京市公安局朝阳分局', '110105');
`;

describe('household subgraph', () => {
  it('fixture uses a valid spouse ID number', async () => {
    const { idNumberCheckChar } = await import('../../common/identifiers.js');
    expect(SPOUSE.at(-1)).toBe(idNumberCheckChar(SPOUSE.slice(0, 17)));
  });

  it('resolves a person with registration, address names from GB/T 2260, members and migrations', async () => {
    const db = database('household', HOUSEHOLD_ROWS);
    const result = await execute(
      'household',
      db,
      `query($id: ID!) { person(idNumber: $id) { name sex birthDate birthPlace { fullName provinceName }
         registration { relationToHead address { full } authority { name region { name } } household { members { relationToHead person { name } } } }
         migrations { direction counterpartRegion { fullName } reason } } }`,
      { id: SPOUSE },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.person).toEqual({
      name: '李建国',
      sex: 'MALE',
      birthDate: '1950-03-15',
      birthPlace: { fullName: '湖南省长沙市芙蓉区', provinceName: '湖南省' },
      registration: {
        relationToHead: '配偶',
        address: { full: '北京市朝阳区朝阳路1号' },
        authority: { name: '北京市公安局朝阳分局', region: { name: '朝阳区' } },
        household: {
          members: [
            { relationToHead: '户主', person: { name: '王秀英' } },
            { relationToHead: '配偶', person: { name: '李建国' } },
          ],
        },
      },
      migrations: [{ direction: 'MOVE_IN', counterpartRegion: { fullName: '湖南省长沙市芙蓉区' }, reason: '投靠配偶' }],
    });
  });

  it('looks persons up in one statement for any number of keys', () => {
    const statements: string[] = [];
    const db = openDatabase(':memory:', { onStatement: (sql) => statements.push(sql) });
    opened.push(db);
    db.exec(SUBGRAPHS[0].tables);
    db.exec(HOUSEHOLD_ROWS);
    statements.length = 0;
    const rows = createHouseholdStore(db).personsByIdNumbers([HEAD, SPOUSE, '11010519491231002X']);
    expect(rows.map((r) => r.id_number).sort()).toEqual([HEAD, SPOUSE].sort());
    expect(statements).toHaveLength(1);
  });

  it('uses the primary key and indexes for every lookup path', () => {
    const db = database('household', HOUSEHOLD_ROWS);
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all('[]')
        .map((r: any) => r.detail)
        .join(' | ');
    expect(plan('SELECT * FROM persons WHERE id_number IN (SELECT value FROM json_each(?))')).toMatch(/USING PRIMARY KEY/);
    expect(plan("SELECT * FROM persons WHERE household_number IN (SELECT value FROM json_each(?)) AND registration_status = 'ACTIVE'")).toMatch(
      /persons_by_household/,
    );
    expect(plan('SELECT * FROM migrations WHERE id_number IN (SELECT value FROM json_each(?))')).toMatch(/migrations_by_person/);
  });
});

describe('social-insurance subgraph', () => {
  const rows = `
    INSERT INTO insured_persons VALUES ('${HEAD}', '王秀英', 'A00000001', '13812345678', '北京市社会保险事业管理中心', '110105');
    INSERT INTO enrolments VALUES ('E1', '${HEAD}', 'PENSION', 'EMPLOYEE', 'TRANSFERRED_OUT', '430102', '长沙市社会保险服务中心', '${ORG}', '1990-01-01', '1999-12-31');
    INSERT INTO enrolments VALUES ('E2', '${HEAD}', 'PENSION', 'EMPLOYEE', 'CONTRIBUTING', '110105', '北京市社会保险事业管理中心', '${ORG}', '2000-01-01', NULL);
    INSERT INTO contributions VALUES (1, '${HEAD}', 'PENSION', '430102', '${ORG}', '1990-01', '1999-12', 120, 300000, 24000, 48000, 'PAID');
    INSERT INTO contributions VALUES (2, '${HEAD}', 'PENSION', '110105', '${ORG}', '2000-01', '2000-06', 6, 500000, 40000, 80000, 'IN_ARREARS');
    INSERT INTO contributions VALUES (3, '${HEAD}', 'MEDICAL', '110105', '${ORG}', '2000-01', '2000-12', 12, 500000, 10000, 40000, 'PAID');
    INSERT INTO employers VALUES ('${ORG}', 'E0001', '北京市社会保险事业管理中心', '110105', '1995-01-01');
  `;

  it('counts only paid months of one insurance type across provinces, and filters contributions by month', async () => {
    const db = database('social-insurance', rows);
    const result = await execute(
      'social-insurance',
      db,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Person { socialInsurance {
         contributionMonths medical: contributionMonths(insuranceType: MEDICAL)
         enrolments(status: CONTRIBUTING) { id region { provinceName } }
         contributions(from: "2000-03", insuranceType: PENSION) { from to monthlyBase personalMonthly status } } } } }`,
      { reps: [{ __typename: 'Person', idNumber: HEAD }] },
    );
    expect(result.errors).toBeUndefined();
    expect((result.data!._entities as any[])[0].socialInsurance).toEqual({
      contributionMonths: 120,
      medical: 12,
      enrolments: [{ id: 'E2', region: { provinceName: '北京市' } }],
      contributions: [{ from: '2000-01', to: '2000-06', monthlyBase: '5000.00', personalMonthly: '400.00', status: 'IN_ARREARS' }],
    });
  });

  it('answers a never-insured person with null and counts an employer’s contributing headcount', async () => {
    const db = database('social-insurance', rows);
    const result = await execute(
      'social-insurance',
      db,
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
         ... on Person { socialInsurance { cardNumber } }
         ... on Organisation { socialInsuranceEmployer { employerNumber insuredHeadcount } } } }`,
      {
        reps: [
          { __typename: 'Person', idNumber: SPOUSE },
          { __typename: 'Organisation', creditCode: ORG },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual([
      { socialInsurance: null },
      { socialInsuranceEmployer: { employerNumber: 'E0001', insuredHeadcount: 1 } },
    ]);
  });

  it('rejects an entity reference with a bad ID number as BAD_USER_INPUT', async () => {
    const db = database('social-insurance', rows);
    const result = await execute(
      'social-insurance',
      db,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Person { socialInsurance { cardNumber } } } }`,
      {
        reps: [{ __typename: 'Person', idNumber: '110105194912310021' }],
      },
    );
    expect(result.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('provident-fund subgraph', () => {
  const deposits = Array.from({ length: 15 }, (_, i) => {
    const month = `2025-${String((i % 12) + 1).padStart(2, '0')}`;
    const year = i < 12 ? '2025' : '2026';
    return `('F1', '${year}${month.slice(4)}', 'REGULAR', 60000, 60000, '${year}${month.slice(4)}-15')`;
  });
  const rows = `
    INSERT INTO fund_accounts VALUES ('F1', '${HEAD}', '王秀英', 'ACTIVE', '北京住房公积金管理中心', '110105', '${ORG}', '2010-01-01', NULL, 500000, 12, 12345678, '2026-03');
    INSERT INTO fund_accounts VALUES ('F0', '${HEAD}', '王秀英', 'TRANSFERRED_OUT', '长沙住房公积金管理中心', '430102', NULL, '2000-01-01', '2009-12-31', 300000, 8, 0, '2009-12');
    INSERT INTO fund_deposits VALUES ${deposits.join(', ')};
  `;

  it('lists the open account first and its newest deposits first, as many as asked', async () => {
    const db = database('provident-fund', rows);
    const result = await execute(
      'provident-fund',
      db,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Person { providentFundAccounts {
         accountNumber status balance deposits(last: 3) { month amount } } } } }`,
      { reps: [{ __typename: 'Person', idNumber: HEAD }] },
    );
    expect(result.errors).toBeUndefined();
    const [open, old] = (result.data!._entities as any[])[0].providentFundAccounts;
    expect(open).toEqual({
      accountNumber: 'F1',
      status: 'ACTIVE',
      balance: '123456.78',
      deposits: [
        { month: '2026-03', amount: '1200.00' },
        { month: '2026-02', amount: '1200.00' },
        { month: '2026-01', amount: '1200.00' },
      ],
    });
    expect(old).toMatchObject({ accountNumber: 'F0', status: 'TRANSFERRED_OUT', deposits: [] });
  });

  it('fetches the newest deposits of many accounts in one statement', () => {
    const statements: string[] = [];
    const db = openDatabase(':memory:', { onStatement: (sql) => statements.push(sql) });
    opened.push(db);
    db.exec(SUBGRAPHS.find((s) => s.name === 'provident-fund')!.tables);
    db.exec(rows);
    statements.length = 0;
    const found = createProvidentFundStore(db).recentDeposits(['F1', 'F0', 'F9'], 2);
    expect(found.map((d) => d.month)).toEqual(['2026-03', '2026-02']);
    expect(statements).toHaveLength(1);
  });

  it('rejects deposits(last:) outside 0..120 with BAD_USER_INPUT', async () => {
    const db = database('provident-fund', rows);
    const result = await execute(
      'provident-fund',
      db,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Person { providentFundAccounts { deposits(last: 1000) { month } } } } }`,
      {
        reps: [{ __typename: 'Person', idNumber: HEAD }],
      },
    );
    expect(result.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
  });
});
