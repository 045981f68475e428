import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../common/audit/store.js';
import { verifyAuditStore } from '../../common/audit/verifier.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayEnvironment, postGraphQL, removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHAIN = 'gateway-crash-test';
const QUERY = 'query Crash($id: ID!) { person(idNumber: $id) { name credit { dishonestJudgmentDebtor } licences { title } } }';

let dataDir: string;
let federation: TestFederation;

beforeAll(async () => {
  dataDir = await seedTemporaryData(150);
  federation = await startTestFederation({ dataDir });
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

describe('when the gateway is killed with kill -9 under load', () => {
  it('every response a client received has its durable audit record, and the chain stays verifiable', async () => {
    const child = fork(`${ROOT}gateway/main.ts`, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...gatewayEnvironment(federation, { GATEWAY_REPLICA_ID: CHAIN, LOG_LEVEL: 'error' }) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { ready?: string }) => (m.ready ? resolve(m.ready) : reject(new Error('no url'))));
      child.once('exit', () => reject(new Error('gateway exited before it was ready')));
    });

    const acknowledged: string[] = [];
    let killed = false;
    const client = async () => {
      while (!killed) {
        try {
          const response = await postGraphQL(
            url,
            QUERY,
            { id: DEMO_PERSONS[acknowledged.length % DEMO_PERSONS.length].idNumber },
            federation.defaultHeaders,
          );
          if (response.status === 200 && response.body.data?.person) acknowledged.push(response.headers.get('x-request-id')!);
        } catch {
          // The connection died with the gateway: this request was never acknowledged.
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    const deadline = Date.now() + 15_000;
    while (acknowledged.length < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(clients);
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    expect(acknowledged.length).toBeGreaterThanOrEqual(150);

    const store = await openAuditStore({ dataDir });
    try {
      const recorded = new Set<string>();
      for await (const record of store.readChain(CHAIN)) recorded.add(record.requestId);
      const missing = acknowledged.filter((id) => !recorded.has(id));
      expect(missing).toEqual([]);
      const jwks = JSON.parse(readFileSync(join(dataDir, 'keys', 'gateway.jwks.json'), 'utf8'));
      const report = await verifyAuditStore(store, jwks);
      expect(report.problem).toBeNull();
      expect(report.ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
