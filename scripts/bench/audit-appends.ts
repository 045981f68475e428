import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AuditEntry } from '../../common/audit/record.js';
import { openAuditStore } from '../../common/audit/store.js';
import { createAuditWriter } from '../../gateway/audit/writer.js';
import { loadGatewaySigningKey } from '../../common/gateway-keys.js';

function entry(i: number): AuditEntry {
  return {
    kind: 'REQUEST',
    time: new Date().toISOString(),
    requestId: `bench-${i}`,
    replica: 'bench',
    caller: { subject: 'bench', organisation: 'bench', province: '540000', issuer: 'https://idp', tokenId: randomUUID() },
    matter: 'TB-HJ-004',
    caseNumber: null,
    operation: { name: 'Dossier', type: 'query', hash: 'f'.repeat(64) },
    requested: ['Query.person', 'Person.name', 'Person.credit'],
    denied: [],
    disclosed: [{ subgraph: 'household', type: 'Person', subject: 'a'.repeat(64) }],
    outcome: 'ALLOWED',
    httpStatus: 200,
    errorCodes: [],
    latencyMs: 3.2,
  };
}

/** Durable appends per second with `concurrency` appenders for `seconds`, through the real writer and store. */
export async function measureAppends(options: { dataDir: string; databaseUrl?: string; concurrency: number; seconds: number }): Promise<number> {
  const store = await openAuditStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  const writer = await createAuditWriter({
    store,
    chainId: `bench-${randomUUID().slice(0, 8)}`,
    signing: await loadGatewaySigningKey(options.dataDir),
  });
  let done = 0;
  const until = Date.now() + options.seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (Date.now() < until) {
        await writer.append(entry(done));
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await writer.close();
  await store.close();
  return done / elapsed;
}

/** A scratch PostgreSQL schema for one measurement; dropped by the returned function. */
export async function scratchPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `audit_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    url: `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
