/**
 * `npm run bench`: measurements that do not belong in unit tests (the
 * machine is shared and noisy): configurations are run side by side in one
 * run, alternating over several rounds, and medians are reported.
 *
 * Now: durable audit appends per second (SQLite and PostgreSQL), and the
 * latency durable audit adds to a request against the same gateway with
 * audit off. Options: --persons N (default 20000) --rounds R (3)
 * --duration S (5) --connections C (16) --json FILE.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDatabases } from './seed/index.js';
import { ensureGatewayKeys } from '../subgraphs/common/gateway-keys.js';
import { DEMO_PERSONS } from './seed/index.js';
import { writeTestTrustList, testToken } from '../test/support/identity.js';
import { measureAppends, scratchPostgres } from './bench/audit-appends.js';
import { benchDocument, measureVerifications } from './bench/document-verifications.js';
import { median, runLoad, type LoadResult } from './bench/load.js';
import { startService, startSubgraphs, stopAll, subgraphUrls, type Service } from './bench/stack.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive whole number\n`);
    process.exit(2);
  }
  return value;
}

const persons = option('persons', 20_000);
const rounds = option('rounds', 3);
const duration = option('duration', 5);
const connections = option('connections', 16);
const jsonIndex = process.argv.indexOf('--json');
const jsonFile = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined;

const say = (line = '') => process.stdout.write(`${line}\n`);
const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-bench-'));
const services: Service[] = [];

try {
  say(`Seeding ${persons} persons…`);
  await seedDatabases({ dataDir, persons });
  await ensureGatewayKeys(dataDir);
  await writeTestTrustList(dataDir);

  say('Durable audit appends (64 concurrent appenders, 3 s, medians of rounds)…');
  const sqliteRates: number[] = [];
  const postgresRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    sqliteRates.push(await measureAppends({ dataDir: mkdtempSync(join(dataDir, 'appends-')), concurrency: 64, seconds: 3 }));
    const scratch = await scratchPostgres();
    try {
      postgresRates.push(await measureAppends({ dataDir, databaseUrl: scratch.url, concurrency: 64, seconds: 3 }));
    } finally {
      await scratch.drop();
    }
  }

  say('Document verifications (offline, in-process, 2 s, medians of rounds)…');
  const verificationRates: number[] = [];
  for (let r = 0; r < rounds; r++) verificationRates.push(await measureVerifications(dataDir, 2));

  say('Starting six subgraphs and two gateways (audit durable / audit off)…');
  const subgraphs = await startSubgraphs(dataDir);
  services.push(...subgraphs.values());
  const common = { DATA_DIR: dataDir, TRUST_LIST_FILE: join(dataDir, 'trust-list.json'), GATEWAY_PORT: '0', RATE_LIMIT_CLIENT: '1000000', RATE_LIMIT_PROVINCE: '1000000', ...subgraphUrls(subgraphs) };
  const durable = await startService('gateway (audit durable)', 'gateway/main.ts', [], { ...common, GATEWAY_REPLICA_ID: 'bench-durable' });
  const off = await startService('gateway (audit off)', 'gateway/main.ts', [], { ...common, GATEWAY_REPLICA_ID: 'bench-off', AUDIT_MODE: 'off' });
  services.push(durable, off);

  const headers = { authorization: `Bearer ${await testToken(dataDir, { lifetimeSeconds: 3600 })}`, 'x-matter-code': 'TB-HJ-004' };
  const body = JSON.stringify({
    query: 'query Dossier($id: ID!) { person(idNumber: $id) { name registration { address { full } } socialInsurance { contributionMonths } providentFundAccounts { balance } credit { dishonestJudgmentDebtor } licences { title } } }',
    variables: { id: DEMO_PERSONS[0].idNumber },
  });
  const results: Record<string, LoadResult[]> = { durable: [], off: [] };
  // Warm both up, then alternate so drift on this shared machine hits both alike.
  for (const g of [durable, off]) await runLoad({ url: g.url, body, headers, connections, durationSeconds: 2 });
  for (let r = 0; r < rounds; r++) {
    for (const [name, g] of [['durable', durable], ['off', off]] as const) {
      const result = await runLoad({ url: g.url, body, headers, connections, durationSeconds: duration });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      results[name].push(result);
    }
  }
  const summary = (list: LoadResult[]) => ({
    requestsPerSecond: median(list.map((x) => x.requestsPerSecond)),
    p50: median(list.map((x) => x.p50)),
    p99: median(list.map((x) => x.p99)),
  });
  // W3: certificate verification through the gateway (a notary's query; live status from the issuer).
  const { token: documentToken } = await benchDocument(dataDir);
  const notaryHeaders = { authorization: `Bearer ${await testToken(dataDir, { province: '630000', scopes: ['certificate:verify'], lifetimeSeconds: 3600 })}` };
  const verifyBody = JSON.stringify({
    query: 'query W3($doc: String!) { verifyDocument(document: $doc, holderName: "周志强") { verdict code signatureValid issuer { name } holderNameMatches record { ... on ParticipationCertificate { status } } } }',
    variables: { doc: documentToken },
  });
  const w3: LoadResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const result = await runLoad({ url: durable.url, body: verifyBody, headers: notaryHeaders, connections, durationSeconds: duration });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`W3: ${result.non2xx} non-2xx, ${result.errors} errors`);
    w3.push(result);
  }
  const d = summary(results.durable);
  const o = summary(results.off);
  const report = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    settings: { persons, rounds, duration, connections },
    auditAppendsPerSecond: { sqlite: median(sqliteRates), postgres: median(postgresRates), rounds: { sqlite: sqliteRates, postgres: postgresRates } },
    documentVerificationsPerSecond: { offline: median(verificationRates), rounds: verificationRates, viaGateway: summary(w3) },
    auditLatency: { durable: d, off: o, p50Ratio: d.p50 / o.p50, p99Ratio: d.p99 / o.p99, throughputRatio: d.requestsPerSecond / o.requestsPerSecond },
  };
  say();
  say('| measurement | value |');
  say('|---|---|');
  say(`| durable audit appends/s, SQLite (WAL, synchronous=FULL), 64 appenders | ${report.auditAppendsPerSecond.sqlite.toFixed(0)} |`);
  say(`| durable audit appends/s, PostgreSQL, 64 appenders | ${report.auditAppendsPerSecond.postgres.toFixed(0)} |`);
  say(`| document verifications/s, offline library, one core | ${report.documentVerificationsPerSecond.offline.toFixed(0)} |`);
  say(`| W3 document verifications/s through the gateway (audit durable), ${connections} connections | ${report.documentVerificationsPerSecond.viaGateway.requestsPerSecond.toFixed(0)} (p50 ${report.documentVerificationsPerSecond.viaGateway.p50} ms, p99 ${report.documentVerificationsPerSecond.viaGateway.p99} ms) |`);
  say();
  say(`W1 person dossier, ${connections} connections, ${rounds} rounds × ${duration} s, medians:`);
  say();
  say('| gateway | requests/s | p50 ms | p99 ms |');
  say('|---|---|---|---|');
  say(`| audit durable | ${d.requestsPerSecond.toFixed(0)} | ${d.p50} | ${d.p99} |`);
  say(`| audit off | ${o.requestsPerSecond.toFixed(0)} | ${o.p50} | ${o.p99} |`);
  say(`| ratio durable/off | ${report.auditLatency.throughputRatio.toFixed(2)} | ${report.auditLatency.p50Ratio.toFixed(2)} | ${report.auditLatency.p99Ratio.toFixed(2)} |`);
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await stopAll(services);
  rmSync(dataDir, { recursive: true, force: true });
}
