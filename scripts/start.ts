/**
 * `npm start`: runs the whole federation locally on embedded defaults.
 * Checks the data folder first (scripts/start/data-folder.ts): seeds it only
 * when it holds no database, and refuses (exit 1, naming each file and what
 * to do) a folder with a database missing, empty, damaged or of an unknown
 * schema version. Then starts the five subgraphs, the audit-review subgraph,
 * the three demo OpenID Connect identity providers (Hunan, Tibet, national),
 * a demo audit witness (standing for another province, Hunan: it cosigns
 * the gateway's audit checkpoints; not started when AUDIT_WITNESSES names
 * witnesses already) and the gateway as separate processes, and prints the URLs and an example
 * query. A service that exits unexpectedly is restarted (after 1 s, doubling
 * up to 30 s for restarts in a row) while the others go on; one that does
 * not stay up after five restarts in a row stops the federation (exit 1).
 *
 * Ctrl-C (SIGINT, which a terminal sends to every process of the group) and
 * SIGTERM stop everything in order and exit 0: the gateway first, letting
 * the requests in flight finish (SHUTDOWN_GRACE_MS), then the subgraphs
 * and the witness it was calling. The services leave a SIGINT to this supervisor.
 */
import { fileURLToPath } from 'node:url';
import { SERVICES, type SubgraphName } from '../subgraphs/catalog.js';
import { loadGatewayConfig, subgraphUrlVariable } from '../gateway/config.js';
import { loadSubgraphConfig, subgraphPortVariable } from '../subgraphs/config.js';
import { ConfigError, integerSetting } from '../common/settings.js';
import { readCommandLine } from '../common/command-line.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS, seedDatabases } from './seed/index.js';
import { checkDataFolder, DataFolderError } from './start/data-folder.js';
import { ensureGatewayKeys } from '../common/gateway-keys.js';
import { ensureDevIdentityProviders, mintDevToken } from '../gateway/auth/dev-identity-provider.js';
import { createSupervisor, type Supervisor } from './start/supervisor.js';
import { loadWitnessConfig } from '../common/witness/config.js';
import { ensureWitnessKey } from '../common/witness/key.js';
import { formatWitnessList } from '../common/witness/endpoints.js';
import { identityProviderPortVariable } from '../common/identity-provider/config.js';
import { IDENTITY_PROVIDER_NAMES } from '../common/identity-provider/directory.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Before anything starts: `npm start -- --help` prints this and does nothing else.
readCommandLine({
  name: 'start',
  usage: [
    'usage: npm start',
    '  runs the whole federation locally: seeds <DATA_DIR> on first start (SEED_PERSONS persons, default 10000), creates',
    '  its keys, starts the six subgraphs, a demo audit witness (WITNESS_PORT, default 4090; unless AUDIT_WITNESSES is set),',
    '  the three demo identity providers (IDP_PORT_HUNAN, IDP_PORT_XIZANG, IDP_PORT_NATIONAL, defaults 4101-4103)',
    '  and the gateway (GATEWAY_PORT, default 4000) and restarts a service that exits',
    '  (RESTART_BACKOFF_MS, RESTART_LIMIT). Ctrl-C stops everything. Settings: the environment variables in the README.',
  ].join('\n'),
  options: {},
});

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const portOf = (url: string) => new URL(url).port;

let supervisor: Supervisor | null = null;
let stopping: Promise<never> | null = null;
/** Stops every service, then exits with `exitCode`; a second call (a second Ctrl-C, a start-up failure it caused) waits for the first. */
function stopAll(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    await supervisor?.stopAll();
    process.exit(exitCode);
  })();
  return stopping;
}

/** Ctrl-C and SIGTERM: a clean stop, exit 0. A repeated signal while stopping only says what is being waited for. */
function onStopSignal(): void {
  if (stopping) {
    process.stderr.write('Still stopping: the gateway lets the requests in flight finish (at most SHUTDOWN_GRACE_MS).\n');
    return;
  }
  void stopAll(0);
}

async function main(): Promise<void> {
  // Validate every setting before anything starts: the children read the same variables.
  const gatewayConfig = loadGatewayConfig();
  const subgraphConfigs = SERVICES.map((s) => loadSubgraphConfig(s.name));
  const witnessConfig = loadWitnessConfig();
  // Witnesses named by the operator are the gateway's; the demo witness stands in only when none is.
  const demoWitness = gatewayConfig.auditWitnesses.length === 0;
  const dataDir = subgraphConfigs[0].dataDir;
  const seedPersons = integerSetting(process.env, 'SEED_PERSONS', 10_000, 1, 10_000_000);
  const restarts = createSupervisor({
    root: ROOT,
    say: (line) => process.stderr.write(`${line}\n`),
    backoffMs: integerSetting(process.env, 'RESTART_BACKOFF_MS', 1_000, 10, 60_000),
    maxRestarts: integerSetting(process.env, 'RESTART_LIMIT', 5, 0, 1_000),
    onGiveUp: () => process.exit(1),
    // A service's whole stop is bounded by SHUTDOWN_GRACE_MS (requests in flight, the cut, the audit writer last); it is
    // killed only if it has not exited well after that (the process's own exit, a loaded machine).
    killAfterMs: gatewayConfig.shutdownGraceMs + 5_000,
  });
  supervisor = restarts;

  // Stored state is never replaced behind the user's back: only a folder without any database is seeded.
  const folder = checkDataFolder(dataDir, { auditFiles: !gatewayConfig.auditDatabaseUrl, revocationFile: !gatewayConfig.redisUrl });
  if (folder.kind === 'empty') {
    say(`Seeding ${seedPersons} persons into ${dataDir}/ (it holds no database yet)…`);
    const summary = await seedDatabases({ dataDir, persons: seedPersons });
    say(`Seeded in ${summary.seconds.toFixed(1)} s.`);
  }
  for (const migration of folder.kind === 'ready' ? folder.migrations : []) {
    say(`Migrated ${migration.file} from schema version ${migration.from} to ${migration.to}: ${migration.applied.join('; ')}.`);
  }

  // Keys: the gateway's own (assertions to subgraphs, audit checkpoints), the local demo identity providers', the demo witness's.
  await ensureGatewayKeys(dataDir);
  await ensureDevIdentityProviders(dataDir);
  const witnessKey = demoWitness ? ensureWitnessKey(witnessConfig.dataDir, witnessConfig.name) : null;

  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);

  const subgraphEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  // Each restart binds the port the service first bound (which matters when a port setting is 0): the gateway finds it there.
  // The demo witness trusts the gateway's key set (<DATA_DIR>/keys/gateway.jwks.json) and keeps its state in <DATA_DIR>/witness/.
  // It starts first: the gateway sends it checkpoints, and the audit-review subgraph checks the store against what it cosigned.
  const witness = witnessKey
    ? await restarts.start({
        name: 'witness',
        entry: 'scripts/witness.ts',
        args: [],
        env: subgraphEnv,
        pin: (url) => ({ WITNESS_PORT: portOf(url) }),
      })
    : null;
  const witnesses: NodeJS.ProcessEnv =
    witness && witnessKey ? { AUDIT_WITNESSES: formatWitnessList([{ name: witnessConfig.name, url: witness.url, vkey: witnessKey.vkey }]) } : {};
  // The three demo OpenID Connect providers: their tokens are for the gateway, which fetches their JWKS.
  const identityProviders = await Promise.all(
    IDENTITY_PROVIDER_NAMES.map((name) =>
      restarts.start({
        name: `idp-${name}`,
        entry: 'scripts/identity-provider.ts',
        args: [name],
        env: subgraphEnv,
        pin: (url) => ({ [identityProviderPortVariable(name)]: portOf(url) }),
      }),
    ),
  );
  const started = await Promise.all(
    subgraphConfigs.map((c) =>
      restarts.start({
        name: c.name,
        entry: 'subgraphs/main.ts',
        args: [c.name],
        env: c.name === 'audit' ? { ...subgraphEnv, ...witnesses } : subgraphEnv,
        pin: (url) => ({ [subgraphPortVariable(c.name)]: portOf(url) }),
      }),
    ),
  );
  const services = started.filter((s) => s !== null);

  const gatewayEnv: NodeJS.ProcessEnv = { ...process.env, ...witnesses };
  for (const s of services) gatewayEnv[subgraphUrlVariable(s.name as SubgraphName)] = s.url;
  const gateway = await restarts.start({
    name: 'gateway',
    entry: 'gateway/main.ts',
    args: [],
    env: gatewayEnv,
    pin: (url) => ({ GATEWAY_PORT: portOf(url) }),
    // Stopped before the subgraphs and the witness: its requests in flight (and its last checkpoint) still reach them.
    calls: [...services.map((s) => s.name), ...(witness ? [witness.name] : []), ...identityProviders.map((p) => p.name)],
  });

  const person = DEMO_PERSONS[0];
  const organisation = DEMO_ORGANISATIONS[0];
  // A demo officer of Tibet (540000), vouched for by the national demo IdP, handling 人才引进落户.
  const token = await mintDevToken({
    dataDir,
    issuer: 'national',
    province: '540000',
    scopes: ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read'],
    subject: 'lasa-talent-office-01',
    org: '拉萨市人力资源和社会保障局',
    lifetimeSeconds: 3600,
  });
  say();
  say(`The federation is running on the databases in ${dataDir}/. Ctrl-C stops it.`);
  say();
  for (const s of [...services, ...(witness ? [witness] : []), ...identityProviders, gateway])
    say(`  ${s.name.padEnd(18)} ${s.url.padEnd(32)} (pid ${s.pid})`);
  say();
  say(`Try the dossier of ${person.name} (${person.story}), as a Lhasa officer handling 人才引进落户 (matter TB-HJ-004);`);
  say('the token below is valid for an hour (npm run token mints more):');
  say();
  const query = `query Dossier($id: ID!) { person(idNumber: $id) { idNumber name sex birthDate registration { address { full } } socialInsurance { enrolments { insuranceType status region { fullName } } contributionMonths } providentFundAccounts { accountNumber status balance } credit { dishonestJudgmentDebtor records { category title } } licences { title status } } }`;
  say(`  curl -s ${gateway.url} -H 'content-type: application/json' -H 'x-matter-code: TB-HJ-004' \\`);
  say(`    -H 'authorization: Bearer ${token}' \\`);
  say(`    -d '${JSON.stringify({ query, variables: { id: person.idNumber } })}'`);
  say();
  say(
    `and, with the same headers, the profile of ${organisation.name}: query { organisation(creditCode: "${organisation.creditCode}") { name businessLicence { number status } credit { abnormalOperation records { title } } } }`,
  );
  say();
  say('Tokens also come from the demo OpenID Connect providers above (accounts and clients in the README), e.g. for a system:');
  say('  npm run token -- --via-idp --client lasa-talent-office-01 --scope "household:read credit:read"');
}

main().catch((error: Error) => {
  // Stopping already (Ctrl-C while the services were starting): their failing to start is that stop, not an error.
  if (stopping) return;
  process.stderr.write(
    error instanceof ConfigError || error instanceof DataFolderError ? `${error.message}\n` : `Start-up failed: ${error.message}\n`,
  );
  void stopAll(1);
});
