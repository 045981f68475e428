import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const folders: string[] = [];

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A process that writes three records, lets the index thread catch up and searches by person: both threads have to start. */
function script(dataDir: string): string {
  const module = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);
  return `
    const { openAuditStore } = await import(${module('common/audit/store.ts')});
    const { createAuditWriter } = await import(${module('gateway/audit/writer.ts')});
    const { loadGatewaySigningKey } = await import(${module('common/gateway-keys.ts')});
    const dataDir = ${JSON.stringify(dataDir)};
    const store = await openAuditStore({ dataDir });
    const writer = await createAuditWriter({ store, chainId: 'threads', signing: await loadGatewaySigningKey(dataDir) });
    const subject = 'ab'.repeat(32);
    for (let i = 0; i < 3; i++) {
      await writer.append({
        kind: 'REQUEST', time: new Date().toISOString(), requestId: 'r' + i, replica: 'threads',
        caller: { subject: 's', organisation: 'o', province: '540000', issuer: 'https://idp', tokenId: 't' },
        matter: 'TB-HJ-004', caseNumber: null, operation: { name: 'Q', type: 'query', hash: 'f'.repeat(64) },
        requested: ['Query.person'], denied: [], disclosed: [{ subgraph: 'household', type: 'Person', subject }],
        outcome: 'ALLOWED', httpStatus: 200, errorCodes: [], latencyMs: 1,
      });
    }
    await store.settleIndex();
    const found = await store.search({ subjectHash: subject }, { first: 10 });
    await writer.close();
    await store.close();
    process.stdout.write(JSON.stringify({ found: found.records.map((r) => r.seq) })); // newest first
  `;
}

// Under vitest the threads already start from their TypeScript files (every SQLite test does); these are the other two ways the code runs.
describe('the SQLite store’s worker threads (TypeScript, tsx registered inside each)', () => {
  it.each([
    { way: 'under tsx (node --import tsx, as npm start and the scripts run)', flags: ['--import', 'tsx'], prelude: '' },
    { way: 'under plain node, with tsx registered by the program', flags: [], prelude: "import { register } from 'tsx/esm/api'; register();" },
  ])('start and answer $way', async ({ flags, prelude }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-audit-threads-'));
    folders.push(dataDir);
    const { stdout } = await run(process.execPath, [...flags, '--input-type=module', '-e', prelude + script(dataDir)], {
      cwd: ROOT,
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual({ found: [3, 2, 1] });
  });
});
