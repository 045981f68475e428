/**
 * `npm run bench:integrity`: how long `auditIntegrity` takes on a large
 * audit store — the first answer (everything read, as after a restart of
 * the audit subgraph), incremental answers after more records were
 * appended, and a full re-verification — on SQLite and PostgreSQL. The
 * store is built in a temporary folder (and a scratch PostgreSQL schema),
 * both removed afterwards. Also part of `npm run bench` (its micro-benchmarks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integerOption, readCommandLine } from '../common/command-line.js';
import { scratchPostgres } from './bench/audit-appends.js';
import { measureIntegrity, type IntegrityMeasurement } from './bench/audit-integrity.js';

const USAGE = [
  'usage: npm run bench:integrity -- [--records N] [--new N] [--rounds R] [--no-postgres]',
  '  --records N    records in the store before the first answer (default 100000)',
  '  --new N        records appended before each incremental answer (default 1000)',
  '  --rounds R     incremental answers measured (default 5; the median is reported)',
  '  --no-postgres  SQLite only (PostgreSQL needs postgres://postgres@127.0.0.1:5432/test)',
].join('\n');

const options = readCommandLine(
  {
    name: 'bench:integrity',
    usage: USAGE,
    options: {
      records: { type: 'string' },
      new: { type: 'string' },
      rounds: { type: 'string' },
      'no-postgres': { type: 'boolean', default: false },
    },
  },
  ({ values }) => ({
    records: integerOption(values.records, 'records', 100_000),
    newRecords: integerOption(values.new, 'new', 1000),
    rounds: integerOption(values.rounds, 'rounds', 5),
    postgres: !values['no-postgres'],
  }),
);

const say = (line = '') => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${Math.round(value).toLocaleString('en')} ms`;
const describe = (store: string, m: IntegrityMeasurement) =>
  `| ${store} | ${m.records.toLocaleString('en')} | ${ms(m.firstMs)} | ${ms(m.incrementalMs)} (${m.recordsReadPerIncremental.toLocaleString('en')} records read; rounds ${m.incrementalRounds.map(Math.round).join(', ')}) | ${ms(m.fullMs)} |`;

const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-bench-integrity-'));
try {
  say(`auditIntegrity on ${options.records.toLocaleString('en')} records, then ${options.rounds} × ${options.newRecords.toLocaleString('en')} more…`);
  const rows: string[] = [];
  rows.push(describe('SQLite', await measureIntegrity({ dataDir: mkdtempSync(join(dataDir, 'sqlite-')), ...options })));
  if (options.postgres) {
    const scratch = await scratchPostgres();
    try {
      rows.push(describe('PostgreSQL', await measureIntegrity({ dataDir, databaseUrl: scratch.url, ...options })));
    } finally {
      await scratch.drop();
    }
  }
  say('| store | records | first answer (all read) | incremental answer, median | full (full: true) |');
  say('| --- | ---: | ---: | ---: | ---: |');
  for (const row of rows) say(row);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
