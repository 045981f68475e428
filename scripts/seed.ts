/**
 * Seeds the five subgraph databases with synthetic data.
 *
 *   npm run seed -- [--persons N] [--organisations N] [--seed S] [--data-dir DIR] [--force [--discard-issued-documents]]
 *
 * Defaults: SEED_PERSONS or 10 000 persons, max(50, persons / 10)
 * organisations, seed 'kuasheng', DATA_DIR or ./data. Writes the five
 * domain databases only (never the audit trail, the token revocation list
 * or any key). Refuses to replace a domain database without --force, and
 * documents issued from them (with their revocations) without
 * --discard-issued-documents as well. Exit codes: 0 done, 1 failed, 2 bad
 * arguments, 3 refused (something would be replaced), 130 interrupted.
 */
import { SingleBar } from 'cli-progress';
import { readCommandLine, UsageError, type ParsedCommandLine } from '../common/command-line.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS, SeedError, seedDatabases, type SeedSummary } from './seed/index.js';

const COMMAND = {
  name: 'seed',
  usage: 'usage: npm run seed -- [--persons N] [--organisations N] [--seed S] [--data-dir DIR] [--force [--discard-issued-documents]]',
  options: {
    persons: { type: 'string' },
    organisations: { type: 'string' },
    seed: { type: 'string' },
    'data-dir': { type: 'string' },
    force: { type: 'boolean', default: false },
    'discard-issued-documents': { type: 'boolean', default: false },
  },
} as const;

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim().replace(/_/g, '');
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`${name} must be a positive integer, got '${value}'`);
  }
  return Number(trimmed);
}

interface CliOptions {
  persons?: number;
  organisations?: number;
  seed?: string;
  dataDir: string;
  force: boolean;
  discardIssuedDocuments: boolean;
}

function interpret({ values }: ParsedCommandLine<typeof COMMAND.options>): CliOptions {
  if (values.seed !== undefined && values.seed.trim() === '') throw new UsageError('--seed must not be empty');
  if (values['data-dir'] !== undefined && values['data-dir'].trim() === '') throw new UsageError('--data-dir must not be empty');
  if (values['discard-issued-documents'] && !values.force) throw new UsageError('--discard-issued-documents goes only with --force');
  return {
    persons: positiveInteger(values.persons, '--persons') ?? positiveInteger(process.env.SEED_PERSONS || undefined, 'SEED_PERSONS'),
    organisations: positiveInteger(values.organisations, '--organisations'),
    seed: values.seed,
    dataDir: values['data-dir'] ?? (process.env.DATA_DIR || './data'),
    force: values.force,
    discardIssuedDocuments: values['discard-issued-documents'],
  };
}

/** A bar on a terminal; otherwise a line every 10 %, which reads well in CI logs. */
function progressReporter(): { update: (done: number, total: number) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'seeding [{bar}] {percentage}% | {value}/{total} persons | {duration_formatted}',
      hideCursor: true,
    });
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let nextTenth = 0;
  return {
    update(done, total) {
      const tenth = Math.floor((done / total) * 10);
      if (tenth >= nextTenth) {
        process.stderr.write(`seeding: ${tenth * 10}% (${done}/${total} persons)\n`);
        nextTenth = tenth + 1;
      }
    },
    stop: () => {},
  };
}

function printSummary(summary: SeedSummary, dataDir: string): void {
  const width = Math.max(...Object.keys(summary.rows).map((table) => table.length));
  const lines = [
    `Seeded ${dataDir}: ${summary.persons} persons, ${summary.organisations} organisations in ${summary.seconds.toFixed(1)} s`,
    ...Object.entries(summary.rows).map(([table, rows]) => `  ${table.padEnd(width)}  ${String(rows).padStart(10)}`),
    `Demo records: ${DEMO_PERSONS.length} persons (e.g. ${DEMO_PERSONS[0].idNumber} ${DEMO_PERSONS[0].name}), ${DEMO_ORGANISATIONS.length} organisations`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  const cli = readCommandLine(COMMAND, interpret);
  const abort = new AbortController();
  const interrupt = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = progressReporter();
  try {
    const summary = await seedDatabases({
      dataDir: cli.dataDir,
      persons: cli.persons,
      organisations: cli.organisations,
      seed: cli.seed,
      overwrite: cli.force,
      discardIssuedDocuments: cli.discardIssuedDocuments,
      signal: abort.signal,
      onProgress: progress.update,
    });
    progress.stop();
    printSummary(summary, cli.dataDir);
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof SeedError) {
      process.stderr.write(`seed: ${error.message}\n`);
      if (error.code === 'ALREADY_SEEDED' || error.code === 'ISSUED_DOCUMENTS_PRESENT') return 3;
      if (error.code === 'ABORTED') return 130;
      if (error.code === 'INVALID_OPTION') return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`seed: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
