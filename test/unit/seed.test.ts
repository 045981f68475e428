import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS, databaseFileOf, type DomainSubgraphName as SubgraphName } from '../../subgraphs/catalog.js';
import { openDatabase, type SqliteDatabase } from '../../subgraphs/shared/database.js';
import { checkCreditCode, checkIdNumber } from '../../common/identifiers.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS, REFERENCE_DATE, SeedError, isSeeded, seedDatabases } from '../../scripts/seed/index.js';
import { DOMAIN_SCHEMA_VERSION } from '../../subgraphs/shared/domain-database.js';
import { createIssuedDocumentStore } from '../../subgraphs/shared/issued-documents.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
/** The seeder's "today": ID numbers are checked against it, not against the clock. */
const SEED_TODAY = new Date(`${REFERENCE_DATE}T00:00:00Z`);

const folders: string[] = [];
function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'seed-test-'));
  folders.push(folder);
  return folder;
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function withDatabase<T>(dataDir: string, name: SubgraphName, read: (db: SqliteDatabase) => T): T {
  const db = openDatabase(databaseFileOf(dataDir, name), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function column(dataDir: string, name: SubgraphName, sql: string): string[] {
  return withDatabase(dataDir, name, (db) => db.prepare(sql).pluck().all() as string[]);
}

/** SHA-256 of every table's rows in primary-key order, per table (of every database but those left out). */
function tableDigests(dataDir: string, except: readonly SubgraphName[] = []): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const subgraph of SUBGRAPHS.filter((s) => !except.includes(s.name))) {
    withDatabase(dataDir, subgraph.name, (db) => {
      const tables = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all() as string[];
      for (const table of tables) {
        const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[];
        const key = columns
          .filter((c) => c.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => c.name);
        const rows = db
          .prepare(`SELECT * FROM ${table} ORDER BY ${key.length > 0 ? key.join(', ') : 'rowid'}`)
          .raw()
          .all();
        digests[`${subgraph.name}.${table}`] = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
      }
    });
  }
  return digests;
}

/**
 * Records two participation certificates in the social-insurance database,
 * as its subgraph does when it issues them, and revokes the first.
 */
function issueDocuments(dataDir: string): void {
  const db = openDatabase(databaseFileOf(dataDir, 'social-insurance'));
  try {
    const store = createIssuedDocumentStore(db);
    for (const [serial, holder] of [
      ['SB-540100-2026-0000AA01', DEMO_PERSONS[0].idNumber],
      ['SB-540100-2026-0000AA02', DEMO_PERSONS[1].idNumber],
    ]) {
      store.record({
        serial,
        type: 'SOCIAL_INSURANCE_PARTICIPATION',
        authority_id: '540100-social-insurance',
        authority_province: '540000',
        holder_key: holder,
        issued_at: '2026-12-01T08:00:00.000Z',
        valid_until: '2027-03-01T08:00:00.000Z',
        token: `sealed-${serial}`,
      });
    }
    expect(store.revoke('SB-540100-2026-0000AA01', 'issued in error', '2026-12-02T08:00:00.000Z')).toBe(true);
  } finally {
    db.close();
  }
}

function issuedDocuments(dataDir: string): number {
  return Number(column(dataDir, 'social-insurance', 'SELECT count(*) FROM issued_documents')[0]);
}

function leftovers(dataDir: string): string[] {
  return readdirSync(dataDir).filter((file) => !/^[a-z-]+\.db(-wal|-shm)?$/.test(file));
}

describe('seedDatabases', () => {
  describe('when seeding 300 persons', () => {
    let first: string;
    let second: string;
    let summary: Awaited<ReturnType<typeof seedDatabases>>;

    beforeAll(async () => {
      first = temporaryFolder();
      second = temporaryFolder();
      summary = await seedDatabases({ dataDir: first, persons: 300, seed: 'spec' });
      await seedDatabases({ dataDir: second, persons: 300, seed: 'spec' });
    });

    it('writes exactly the requested persons and the default organisations', () => {
      expect(summary.persons).toBe(300);
      expect(summary.organisations).toBe(50);
      expect(column(first, 'household', 'SELECT count(*) FROM persons')[0]).toBe(300);
      expect(column(first, 'licences', 'SELECT count(*) FROM organisations')[0]).toBe(50);
      expect(summary.rows.persons).toBe(300);
      expect(summary.rows.contributions).toBeGreaterThan(0);
    });

    it('writes the same rows, byte for byte, for the same seed and counts', () => {
      expect(tableDigests(second)).toEqual(tableDigests(first));
    });

    it('writes different rows for another seed', async () => {
      const other = temporaryFolder();
      await seedDatabases({ dataDir: other, persons: 300, seed: 'another' });
      expect(tableDigests(other)['household.persons']).not.toBe(tableDigests(first)['household.persons']);
    });

    it('gives every person in every database a valid citizen ID number', () => {
      const ids = [
        ...column(first, 'household', 'SELECT id_number FROM persons UNION SELECT id_number FROM migrations'),
        ...column(
          first,
          'social-insurance',
          'SELECT id_number FROM insured_persons UNION SELECT id_number FROM enrolments UNION SELECT id_number FROM contributions',
        ),
        ...column(first, 'provident-fund', 'SELECT id_number FROM fund_accounts'),
        ...column(first, 'credit', "SELECT subject_id FROM credit_records WHERE subject_kind = 'PERSON'"),
        ...column(
          first,
          'licences',
          "SELECT holder_id FROM licences WHERE holder_kind = 'PERSON' UNION SELECT number FROM licences WHERE type = 'DRIVING_LICENCE'",
        ),
      ];
      expect(ids.length).toBeGreaterThan(300);
      expect(ids.filter((id) => !checkIdNumber(id, SEED_TODAY).valid)).toEqual([]);
    });

    it("encodes each person's birth date and sex in the ID number", () => {
      const mismatches = withDatabase(first, 'household', (db) =>
        db
          .prepare(
            `SELECT id_number FROM persons
             WHERE substr(id_number, 7, 8) != replace(birth_date, '-', '')
                OR (CAST(substr(id_number, 17, 1) AS INTEGER) % 2 = 1) != (sex = 'MALE')
                OR substr(id_number, 1, 6) != birth_region`,
          )
          .pluck()
          .all(),
      );
      expect(mismatches).toEqual([]);
    });

    it('gives every organisation in every database a valid credit code', () => {
      const codes = [
        ...column(
          first,
          'licences',
          "SELECT credit_code FROM organisations UNION SELECT holder_id FROM licences WHERE holder_kind = 'ORGANISATION' UNION SELECT number FROM licences WHERE type = 'BUSINESS_LICENCE'",
        ),
        ...column(
          first,
          'social-insurance',
          'SELECT credit_code FROM employers UNION SELECT employer_code FROM enrolments WHERE employer_code IS NOT NULL UNION SELECT employer_code FROM contributions WHERE employer_code IS NOT NULL',
        ),
        ...column(
          first,
          'provident-fund',
          'SELECT credit_code FROM fund_employers UNION SELECT employer_code FROM fund_accounts WHERE employer_code IS NOT NULL',
        ),
        ...column(first, 'credit', "SELECT subject_id FROM credit_records WHERE subject_kind = 'ORGANISATION'"),
      ];
      expect(codes.length).toBeGreaterThan(50);
      expect(codes.filter((code) => !checkCreditCode(code).valid)).toEqual([]);
    });

    it('contains every demo person and organisation, whatever the count', () => {
      const persons = new Map(
        withDatabase(first, 'household', (db) => db.prepare('SELECT id_number, name FROM persons').raw().all() as [string, string][]),
      );
      for (const demo of DEMO_PERSONS) expect(persons.get(demo.idNumber), demo.idNumber).toBe(demo.name);
      const organisations = new Map(
        withDatabase(first, 'licences', (db) => db.prepare('SELECT credit_code, name FROM organisations').raw().all() as [string, string][]),
      );
      for (const demo of DEMO_ORGANISATIONS) expect(organisations.get(demo.creditCode), demo.creditCode).toBe(demo.name);
      expect(DEMO_PERSONS.length).toBeGreaterThanOrEqual(6);
      expect(DEMO_ORGANISATIONS.length).toBeGreaterThanOrEqual(3);
      expect(DEMO_PERSONS[0].idNumber.startsWith('43010219850312')).toBe(true);
    });

    it('links every insured person, fund account, licence and credit record to a registered person', () => {
      const registered = new Set(column(first, 'household', 'SELECT id_number FROM persons'));
      const holders = [
        ...column(
          first,
          'social-insurance',
          'SELECT id_number FROM insured_persons UNION SELECT id_number FROM enrolments UNION SELECT id_number FROM contributions',
        ),
        ...column(first, 'provident-fund', 'SELECT id_number FROM fund_accounts'),
        ...column(first, 'licences', "SELECT holder_id FROM licences WHERE holder_kind = 'PERSON'"),
        ...column(first, 'credit', "SELECT subject_id FROM credit_records WHERE subject_kind = 'PERSON'"),
      ];
      expect(holders.filter((id) => !registered.has(id))).toEqual([]);
    });

    it('links every employer, organisation licence and organisation credit record to a registered organisation', () => {
      const registered = new Set(column(first, 'licences', 'SELECT credit_code FROM organisations'));
      const referenced = [
        ...column(
          first,
          'social-insurance',
          'SELECT credit_code FROM employers UNION SELECT employer_code FROM enrolments WHERE employer_code IS NOT NULL UNION SELECT employer_code FROM contributions WHERE employer_code IS NOT NULL',
        ),
        ...column(
          first,
          'provident-fund',
          'SELECT credit_code FROM fund_employers UNION SELECT employer_code FROM fund_accounts WHERE employer_code IS NOT NULL',
        ),
        ...column(first, 'credit', "SELECT subject_id FROM credit_records WHERE subject_kind = 'ORGANISATION'"),
        ...column(first, 'licences', "SELECT holder_id FROM licences WHERE holder_kind = 'ORGANISATION'"),
      ];
      expect(referenced.filter((code) => !registered.has(code))).toEqual([]);
      // Every organisation employing insured staff is registered as an employer.
      const employers = new Set(column(first, 'social-insurance', 'SELECT credit_code FROM employers'));
      expect(
        column(first, 'social-insurance', 'SELECT DISTINCT employer_code FROM enrolments WHERE employer_code IS NOT NULL').filter(
          (code) => !employers.has(code),
        ),
      ).toEqual([]);
    });

    it('gives every organisation exactly one business licence numbered with its credit code', () => {
      const mismatches = column(
        first,
        'licences',
        "SELECT o.credit_code FROM organisations o LEFT JOIN licences l ON l.holder_id = o.credit_code AND l.type = 'BUSINESS_LICENCE' GROUP BY o.credit_code HAVING count(l.identifier) != 1 OR max(l.number) != o.credit_code",
      );
      expect(mismatches).toEqual([]);
    });

    it('keeps the foreign keys of the table contract', () => {
      for (const subgraph of SUBGRAPHS) {
        expect(
          withDatabase(first, subgraph.name, (db) => db.pragma('foreign_key_check')),
          subgraph.name,
        ).toEqual([]);
      }
    });

    it('registers the deceased without a household and the living with one', () => {
      const [cancelledWithHousehold, livingWithout] = withDatabase(first, 'household', (db) => [
        db.prepare("SELECT count(*) FROM persons WHERE registration_status = 'CANCELLED' AND household_number IS NOT NULL").pluck().get(),
        db.prepare("SELECT count(*) FROM persons WHERE registration_status != 'CANCELLED' AND household_number IS NULL").pluck().get(),
      ]);
      expect(cancelledWithHousehold).toBe(0);
      expect(livingWithout).toBe(0);
    });

    it('installs the databases in WAL mode with their indexes and nothing else in the folder', () => {
      for (const subgraph of SUBGRAPHS) {
        expect(
          withDatabase(first, subgraph.name, (db) => db.pragma('journal_mode', { simple: true })),
          subgraph.name,
        ).toBe('wal');
      }
      const indexes = column(first, 'social-insurance', "SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%'");
      expect(indexes).toEqual(expect.arrayContaining(['enrolments_by_person', 'enrolments_by_employer', 'contributions_by_person']));
      expect(leftovers(first)).toEqual([]);
    });

    it('records the schema version of its tables in every database', () => {
      for (const subgraph of SUBGRAPHS) {
        expect(
          withDatabase(first, subgraph.name, (db) => db.pragma('user_version', { simple: true })),
          subgraph.name,
        ).toBe(DOMAIN_SCHEMA_VERSION);
      }
    });

    it('is reported as seeded, and an empty folder is not', () => {
      expect(isSeeded(first)).toBe(true);
      expect(isSeeded(temporaryFolder())).toBe(false);
    });
  });

  describe('when the folder is already seeded', () => {
    let folder: string;
    let before: Record<string, string>;

    beforeAll(async () => {
      folder = temporaryFolder();
      await seedDatabases({ dataDir: folder, persons: 300 });
      before = tableDigests(folder);
    });

    it('refuses to replace the databases without overwrite, leaving them untouched', async () => {
      await expect(seedDatabases({ dataDir: folder, persons: 200 })).rejects.toMatchObject({ code: 'ALREADY_SEEDED' });
      expect(tableDigests(folder)).toEqual(before);
    });

    it('leaves the databases untouched when a run fails half-way', async () => {
      const failing = seedDatabases({
        dataDir: folder,
        persons: 300,
        seed: 'interrupted',
        overwrite: true,
        onProgress: (done) => {
          if (done > 100) throw new Error('disk full');
        },
      });
      await expect(failing).rejects.toThrow('disk full');
      expect(tableDigests(folder)).toEqual(before);
      expect(leftovers(folder)).toEqual([]);
    });

    it('leaves the databases untouched when a run is aborted', async () => {
      const controller = new AbortController();
      const aborted = seedDatabases({
        dataDir: folder,
        persons: 300,
        overwrite: true,
        signal: controller.signal,
        onProgress: (done, total) => {
          if (done === total) controller.abort();
        },
      });
      await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
      expect(tableDigests(folder)).toEqual(before);
      expect(leftovers(folder)).toEqual([]);
    });

    it('replaces all five databases with overwrite', async () => {
      const summary = await seedDatabases({ dataDir: folder, persons: 200, seed: 'replacement', overwrite: true });
      expect(summary.persons).toBe(200);
      expect(column(folder, 'household', 'SELECT count(*) FROM persons')[0]).toBe(200);
      expect(isSeeded(folder)).toBe(true);
      expect(leftovers(folder)).toEqual([]);
    });
  });

  describe('when the folder keeps issued documents', () => {
    let folder: string;
    let before: Record<string, string>;

    beforeAll(async () => {
      folder = temporaryFolder();
      await seedDatabases({ dataDir: folder, persons: 120 });
      issueDocuments(folder);
      before = tableDigests(folder);
    });

    it('refuses to replace them with overwrite alone, naming the file and the documents, and changes nothing', async () => {
      const error = await seedDatabases({ dataDir: folder, persons: 120, overwrite: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ISSUED_DOCUMENTS_PRESENT' });
      expect((error as Error).message).toContain(`${databaseFileOf(folder, 'social-insurance')} keeps 2 issued documents (1 revoked)`);
      expect(tableDigests(folder)).toEqual(before);
    });

    it('rejects discardIssuedDocuments without overwrite', async () => {
      await expect(seedDatabases({ dataDir: folder, persons: 120, discardIssuedDocuments: true })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option: 'discardIssuedDocuments',
      });
      expect(tableDigests(folder)).toEqual(before);
    });

    it('replaces them with overwrite and discardIssuedDocuments', async () => {
      await seedDatabases({ dataDir: folder, persons: 100, overwrite: true, discardIssuedDocuments: true });
      expect(issuedDocuments(folder)).toBe(0);
      expect(column(folder, 'household', 'SELECT count(*) FROM persons')[0]).toBe(100);
    });
  });

  describe('when a domain database is damaged and the others are there', () => {
    it('refuses to seed without overwrite, where it used to seed all five afresh, and changes none of the others', async () => {
      const folder = temporaryFolder();
      await seedDatabases({ dataDir: folder, persons: 120 });
      issueDocuments(folder);
      truncateSync(databaseFileOf(folder, 'household'), 0);
      const others = tableDigests(folder, ['household']);
      await expect(seedDatabases({ dataDir: folder, persons: 120 })).rejects.toMatchObject({ code: 'ALREADY_SEEDED' });
      expect(tableDigests(folder, ['household'])).toEqual(others);
      expect(issuedDocuments(folder)).toBe(2);
    });

    it('refuses to replace an issuing database it cannot read (it may keep documents) unless they may be discarded', async () => {
      const folder = temporaryFolder();
      await seedDatabases({ dataDir: folder, persons: 120 });
      writeFileSync(databaseFileOf(folder, 'licences'), 'not a database'.repeat(100));
      const error = await seedDatabases({ dataDir: folder, persons: 120, overwrite: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ISSUED_DOCUMENTS_PRESENT' });
      expect((error as Error).message).toContain(`${databaseFileOf(folder, 'licences')} is not a SQLite database`);
      await seedDatabases({ dataDir: folder, persons: 120, overwrite: true, discardIssuedDocuments: true });
      expect(isSeeded(folder)).toBe(true);
    });
  });

  describe('when options are invalid', () => {
    it('rejects a count that is not a positive integer, naming the option', async () => {
      const error = await seedDatabases({ dataDir: temporaryFolder(), persons: 2.5 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeedError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'persons' });
    });
  });
});

describe('npm run seed', () => {
  const runCli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', ...args], {
      cwd: REPOSITORY,
      encoding: 'utf8',
      env: { ...process.env, SEED_PERSONS: '' },
    });

  it('exits with 2 and names the argument when a value is bad', () => {
    const result = runCli('--persons', 'many', '--data-dir', temporaryFolder());
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--persons');
  });

  it('refuses to overwrite seeded databases without --force, and replaces them with it', () => {
    const folder = temporaryFolder();
    expect(runCli('--persons', '120', '--data-dir', folder).status).toBe(0);
    const refused = runCli('--persons', '120', '--data-dir', folder);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('--force');
    const forced = runCli('--persons', '150', '--data-dir', folder, '--force');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(/persons\s+150/);
  }, 60_000);

  it('refuses --force over issued documents (exit 3, nothing changed), and replaces them with --discard-issued-documents', async () => {
    const folder = temporaryFolder();
    await seedDatabases({ dataDir: folder, persons: 120 });
    issueDocuments(folder);
    const before = tableDigests(folder);
    const refused = runCli('--persons', '120', '--data-dir', folder, '--force');
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain(databaseFileOf(folder, 'social-insurance'));
    expect(refused.stderr).toContain('--discard-issued-documents');
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    expect(tableDigests(folder)).toEqual(before);

    expect(runCli('--data-dir', folder, '--discard-issued-documents').status).toBe(2);
    expect(tableDigests(folder)).toEqual(before);

    const discarded = runCli('--persons', '120', '--data-dir', folder, '--force', '--discard-issued-documents');
    expect(discarded.status, discarded.stderr).toBe(0);
    expect(issuedDocuments(folder)).toBe(0);
  }, 60_000);
});
