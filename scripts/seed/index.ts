/**
 * The synthetic-data seeder: fills the five subgraph databases with coherent,
 * reproducible records of persons and organisations across all provinces.
 *
 * Order of a run:
 * 1. organisations (demo ones first), with business licences and credit
 *    records — kept in memory, persons pick their employers among them;
 * 2. demo households, then generated households one by one: register
 *    entries, migrations, social insurance, provident fund, licences and
 *    credit of each member, written as the household is generated (memory
 *    stays flat however many persons are seeded);
 * 3. the employer registrations of organisations that turned out to employ
 *    insured or depositing staff;
 * 4. indexes, WAL mode, and the atomic swap of all five files.
 *
 * Determinism: every random draw comes from streams derived from the seed
 * (one per organisation, one per household), every identifier from a
 * counter, every date from the fixed reference date 2026-11-01.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SUBGRAPHS, databaseFileOf } from '../../subgraphs/catalog.js';
import { openDatabase } from '../../subgraphs/shared/database.js';
import { PROVINCES } from '../../common/regions.js';
import { planCareer } from './careers.js';
import { planOrganisationCredit, planPersonCredit, subjectOf, writeCreditRecords } from './credit.js';
import { discardSeedDatabases, finishSeedDatabases, installSeedDatabases, openSeedDatabases, type SeedDatabases } from './database-files.js';
import {
  BIG_EMPLOYER_CREDIT_CODE,
  BIG_EMPLOYER_SHARE,
  DEMO_ORGANISATION_ROWS,
  DEMO_PERSON_ROWS,
  demoHouseholds,
  demoOrganisationCredit,
  demoOrganisations,
  type PersonRecords,
} from './demo.js';
import { SeedError } from './errors.js';
import { describeIssuedDocuments, existingDomainDatabases, issuedDocumentsIn } from './existing-data.js';
import { writeHousehold } from './household-register.js';
import { IdNumberAllocator, Serials } from './identifiers.js';
import { planDrivingLicence, planQualification, writeDrivingLicence, writeOrganisation, writeQualification } from './licences.js';
import { normalizeSeedOptions, type NormalizedSeedOptions, type SeedOptions } from './options.js';
import { OrganisationDirectory, generateOrganisation } from './organisations.js';
import { HouseholdGenerator } from './people.js';
import type { PersonPlan } from './population.js';
import { ALL_COUNTIES } from './places.js';
import { writeFundEmployers, writeProvidentFund, type FundEmployerRegistry } from './provident-fund.js';
import { Random, hashString } from './random.js';
import { RowSink } from './row-sink.js';
import { writeInsuranceEmployers, writeSocialInsurance, type EmployerRegistry } from './social-insurance.js';

export { DEMO_ORGANISATIONS, DEMO_PERSONS } from './demo.js';
export { SeedError, type SeedErrorCode } from './errors.js';
export type { SeedOptions } from './options.js';
export { REFERENCE_DATE } from './calendar.js';

export interface SeedSummary {
  /** Person rows written (demo persons and deceased former members included). */
  persons: number;
  organisations: number;
  /** Rows per table, by table name. */
  rows: Record<string, number>;
  seconds: number;
}

/** Persons written between commits, progress reports and abort checks. */
const BATCH_PERSONS = 20_000;

/**
 * True when all five database files exist in `dataDir` and the household
 * register has persons: the folder has been seeded. (Whether a run may
 * replace what is there is `seedDatabases`' decision: see `overwrite`.)
 */
export function isSeeded(dataDir: string): boolean {
  if (!SUBGRAPHS.every((subgraph) => existsSync(databaseFileOf(dataDir, subgraph.name)))) return false;
  let db: ReturnType<typeof openDatabase> | undefined;
  try {
    db = openDatabase(databaseFileOf(dataDir, 'household'), { readonly: true });
    return db.prepare('SELECT 1 FROM persons LIMIT 1').get() !== undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** Everything a run shares while writing. */
interface SeedRun {
  options: NormalizedSeedOptions;
  databases: SeedDatabases;
  sink: RowSink;
  serials: Serials;
  organisations: OrganisationDirectory;
  insuranceEmployers: EmployerRegistry;
  fundEmployers: FundEmployerRegistry;
}

function transaction(databases: SeedDatabases, statement: 'BEGIN' | 'COMMIT'): void {
  for (const { db } of Object.values(databases)) db.exec(statement);
}

function checkAborted(options: NormalizedSeedOptions): void {
  if (options.signal?.aborted)
    throw new SeedError('ABORTED', 'seeding aborted; the existing databases are untouched', { cause: options.signal.reason });
}

function writeOrganisations(run: SeedRun): void {
  const { sink, serials, organisations, options } = run;
  for (const organisation of demoOrganisations()) {
    organisations.add(organisation);
    writeOrganisation(sink, serials, organisation);
    writeCreditRecords(sink, serials, subjectOf(organisation), demoOrganisationCredit(serials, organisation));
  }
  const key = hashString(`${options.seed}/organisations`);
  const names = new Set(organisations.all.map((organisation) => organisation.name));
  const generated = Math.max(0, options.organisations - DEMO_ORGANISATION_ROWS);
  for (let i = 0; i < generated; i++) {
    const rng = Random.derive(key, i);
    // The first ones give every province an active employer, however few organisations are asked for.
    const forced = i < PROVINCES.length ? { province: PROVINCES[i].code, activeEnterprise: true } : {};
    const organisation = generateOrganisation(rng, i, names, forced);
    organisations.add(organisation);
    writeOrganisation(sink, serials, organisation);
    writeCreditRecords(sink, serials, subjectOf(organisation), planOrganisationCredit(rng, serials, organisation));
  }
  organisations.assignShare(BIG_EMPLOYER_CREDIT_CODE, BIG_EMPLOYER_SHARE);
}

function writePerson(run: SeedRun, rng: Random, person: PersonPlan, records: PersonRecords): void {
  const { sink, serials } = run;
  writeSocialInsurance(sink, serials, run.insuranceEmployers, rng, person, records.career);
  writeProvidentFund(sink, serials, run.fundEmployers, rng, person, records.career);
  if (records.driving) writeDrivingLicence(sink, serials, rng, person, records.driving);
  if (records.qualification) writeQualification(sink, serials, person, records.qualification);
  writeCreditRecords(sink, serials, { kind: 'PERSON', id: person.idNumber }, records.credit);
}

async function writePersons(run: SeedRun): Promise<number> {
  const { options, organisations, serials } = run;
  const demoRng = Random.derive(hashString(`${options.seed}/demo-persons`), 0);
  for (const { household, records } of demoHouseholds(organisations, serials, demoRng)) {
    writeHousehold(run.sink, household);
    household.members.forEach((person, i) => {
      writePerson(run, demoRng, person, records[i]);
    });
  }

  const total = Math.max(options.persons, DEMO_PERSON_ROWS);
  const generator = new HouseholdGenerator(new IdNumberAllocator(ALL_COUNTIES), organisations);
  const key = hashString(`${options.seed}/households`);
  const reportEvery = Math.max(1, Math.floor(total / 100));
  let done = DEMO_PERSON_ROWS;
  let reported = done;
  let nextBatch = done + BATCH_PERSONS;
  options.onProgress(done, total);
  for (let index = 0; done < total; index++) {
    const rng = Random.derive(key, index);
    const household = generator.generate(rng, total - done);
    writeHousehold(run.sink, household);
    for (const person of household.members) {
      writePerson(run, rng, person, {
        career: planCareer(rng, person, organisations),
        driving: planDrivingLicence(rng, person),
        qualification: planQualification(rng, person),
        credit: planPersonCredit(rng, serials, person),
      });
    }
    done += household.members.length;
    if (done - reported >= reportEvery || done === total) {
      options.onProgress(done, total);
      reported = done;
    }
    if (done >= nextBatch && done < total) {
      nextBatch = done + BATCH_PERSONS;
      transaction(run.databases, 'COMMIT');
      await nextTurn();
      checkAborted(options);
      transaction(run.databases, 'BEGIN');
    }
  }
  if (reported < total) options.onProgress(total, total);
  return total;
}

/**
 * Refuses a run that would replace what it may not: any domain database
 * without `overwrite`, and issued documents (or a database that may keep
 * some) without `discardIssuedDocuments` as well.
 */
function checkReplaceable(options: NormalizedSeedOptions): void {
  const existing = existingDomainDatabases(options.dataDir);
  if (existing.length === 0) return;
  if (!options.overwrite) {
    throw new SeedError(
      'ALREADY_SEEDED',
      `${options.dataDir} already holds ${existing.map((file) => basename(file)).join(', ')}; pass overwrite (--force) to replace the five domain databases with demo data`,
    );
  }
  if (options.discardIssuedDocuments) return;
  const issued = issuedDocumentsIn(options.dataDir);
  if (issued.length > 0) {
    throw new SeedError(
      'ISSUED_DOCUMENTS_PRESENT',
      `${describeIssuedDocuments(issued)}. Seeding replaces these files: the records of the documents issued there and their revocations would be lost ` +
        '(a revoked document would no longer show as revoked). Back the folder up; to discard them, pass discardIssuedDocuments (--discard-issued-documents) as well',
    );
  }
}

/**
 * Seeds the five subgraph databases of `options.dataDir`.
 *
 * The databases are written under temporary names and installed together
 * only once all five are complete; a failed or aborted run leaves the
 * existing files as they were. Refuses (SeedError ALREADY_SEEDED) to replace
 * any domain database unless `overwrite` is set, and (ISSUED_DOCUMENTS_PRESENT)
 * to replace issued documents unless `discardIssuedDocuments` is set too.
 * Nothing else in the folder is touched: the audit trail, the revocation
 * list of tokens, seal and gateway keys.
 */
export async function seedDatabases(options: SeedOptions): Promise<SeedSummary> {
  const normalized = normalizeSeedOptions(options);
  checkReplaceable(normalized);
  checkAborted(normalized);
  const started = performance.now();
  const databases = openSeedDatabases(normalized.dataDir);
  try {
    const run: SeedRun = {
      options: normalized,
      databases,
      sink: new RowSink(databases),
      serials: new Serials(),
      organisations: new OrganisationDirectory(),
      insuranceEmployers: new Set(),
      fundEmployers: new Set(),
    };
    transaction(databases, 'BEGIN');
    writeOrganisations(run);
    const persons = await writePersons(run);
    writeInsuranceEmployers(run.sink, run.serials, run.insuranceEmployers, run.organisations.all);
    writeFundEmployers(run.sink, run.serials, run.fundEmployers, run.organisations.all);
    transaction(databases, 'COMMIT');
    checkAborted(normalized);
    finishSeedDatabases(databases);
    // Last chance to abort (e.g. Ctrl-C during the final sort): nothing is installed yet.
    await nextTurn();
    checkAborted(normalized);
    installSeedDatabases(databases);
    return {
      persons,
      organisations: run.organisations.all.length,
      rows: { ...run.sink.rows },
      seconds: Math.round((performance.now() - started) / 10) / 100,
    };
  } catch (error) {
    discardSeedDatabases(databases);
    throw error;
  }
}
