/**
 * `npm start`: runs the whole federation locally on embedded defaults.
 * Seeds the SQLite databases when they are empty, starts the five subgraphs
 * and the gateway as separate processes, prints the URLs and an example
 * query, and stops everything cleanly on Ctrl-C. A child that dies takes the
 * others down with it (exit 1), so nothing is left half-running.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVICES, type SubgraphName } from '../subgraphs/catalog.js';
import { loadGatewayConfig, subgraphUrlVariable } from '../gateway/config.js';
import { loadSubgraphConfig } from '../subgraphs/config.js';
import { ConfigError, integerSetting } from '../subgraphs/common/settings.js';
import { DEMO_ORGANISATIONS, DEMO_PERSONS, isSeeded, seedDatabases } from './seed/index.js';
import { ensureGatewayKeys } from '../subgraphs/common/gateway-keys.js';
import { ensureDevIdentityProviders, mintDevToken } from '../gateway/auth/dev-identity-provider.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

interface Service {
  name: string;
  child: ChildProcess;
  url?: string;
}

const services: Service[] = [];
let stopping = false;

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function spawnService(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<Service> {
  return new Promise((resolve, reject) => {
    const child = fork(`${ROOT}${entry}`, args, {
      cwd: ROOT,
      env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const service: Service = { name, child };
    services.push(service);
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.on('message', (message: { ready?: string }) => {
      if (message.ready) {
        clearTimeout(timer);
        service.url = message.ready;
        resolve(service);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!stopping) {
        process.stderr.write(`${name} exited (${signal ?? `code ${code}`}); stopping the federation.\n`);
        void stopAll(1);
      }
      reject(new Error(`${name} exited before it was ready`));
    });
  });
}

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(
      services.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
  process.exit(exitCode);
}

async function main(): Promise<void> {
  // Validate every setting before anything starts: the children read the same variables.
  loadGatewayConfig();
  const subgraphConfigs = SERVICES.map((s) => loadSubgraphConfig(s.name));
  const dataDir = subgraphConfigs[0].dataDir;
  const seedPersons = integerSetting(process.env, 'SEED_PERSONS', 10_000, 1, 10_000_000);

  if (!isSeeded(dataDir)) {
    say(`Seeding ${seedPersons} persons into ${dataDir}/ (first start only)…`);
    const summary = await seedDatabases({ dataDir, persons: seedPersons });
    say(`Seeded in ${summary.seconds.toFixed(1)} s.`);
  }

  // Keys: the gateway's own (assertions to subgraphs) and the local demo identity providers'.
  await ensureGatewayKeys(dataDir);
  await ensureDevIdentityProviders(dataDir);

  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  const subgraphEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  const started = await Promise.all(subgraphConfigs.map((c) => spawnService(c.name, 'subgraphs/main.ts', [c.name], subgraphEnv)));

  const gatewayEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const s of started) gatewayEnv[subgraphUrlVariable(s.name as SubgraphName)] = s.url;
  const gateway = await spawnService('gateway', 'gateway/main.ts', [], gatewayEnv);

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
  for (const s of started) say(`  ${s.name.padEnd(18)} ${s.url}`);
  say(`  ${'gateway'.padEnd(18)} ${gateway.url}`);
  say();
  say(`Try the dossier of ${person.name} (${person.story}), as a Lhasa officer handling 人才引进落户 (matter TB-HJ-004);`);
  say('the token below is valid for an hour (npm run token mints more):');
  say();
  const query = `query Dossier($id: ID!) { person(idNumber: $id) { idNumber name sex birthDate registration { address { full } } socialInsurance { enrolments { insuranceType status region { fullName } } contributionMonths } providentFundAccounts { accountNumber status balance } credit { dishonestJudgmentDebtor records { category title } } licences { title status } } }`;
  say(`  curl -s ${gateway.url} -H 'content-type: application/json' -H 'x-matter-code: TB-HJ-004' \\`);
  say(`    -H 'authorization: Bearer ${token}' \\`);
  say(`    -d '${JSON.stringify({ query, variables: { id: person.idNumber } })}'`);
  say();
  say(`and, with the same headers, the profile of ${organisation.name}: query { organisation(creditCode: "${organisation.creditCode}") { name businessLicence { number status } credit { abnormalOperation records { title } } } }`);
}

main().catch((error: Error) => {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Start-up failed: ${error.message}\n`);
  void stopAll(1);
});
