/**
 * Receipts end to end: a real witness (standing for another province)
 * cosigns the gateway's checkpoints; every answer carries its record's
 * receipt; `auditReceiptProof` gives the inclusion proof against the
 * cosigned checkpoint, and `npm run audit:verify -- --receipt … --proof …`
 * checks it offline, trusting only the gateway's public keys and the
 * witness's.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_LOG_ORIGIN_PREFIX, COSIGNATURE_V1, formatVerifierKey, noteSignerKey } from '../../common/audit/note.js';
import type { ReceiptProof } from '../../common/audit/receipt.js';
import { createLogger } from '../../common/logger.js';
import { startWitnessServer, type RunningWitness } from '../../common/witness/server.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { removeData, seedTemporaryData, startTestFederation, type TestFederation } from '../support/federation.js';
import { testToken } from '../support/identity.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WITNESS = 'witness.hunan.kuasheng.gov.cn';
const DOSSIER = 'query($id: ID!) { person(idNumber: $id) { name household { address } } }';
const PROOF = `query($record: ID!) { auditReceiptProof(record: $record) {
  record origin leafIndex recordHash treeSize inclusionProof checkpoint witnesses } }`;

let dataDir: string;
let scratch: string;
let witness: RunningWitness;
let federation: TestFederation;
let prover: Record<string, string>;

beforeAll(async () => {
  dataDir = await seedTemporaryData(50);
  scratch = mkdtempSync(join(tmpdir(), 'kuasheng-receipts-'));
  witness = await startWitnessServer({
    name: WITNESS,
    dataDir: join(scratch, 'witness'),
    logJwksFile: join(dataDir, 'keys', 'gateway.jwks.json'),
    originPrefix: AUDIT_LOG_ORIGIN_PREFIX,
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ name: 'test', level: 'silent' }),
  });
  federation = await startTestFederation({
    dataDir,
    env: { AUDIT_WITNESSES: `${witness.url} ${witness.vkey}`, GATEWAY_REPLICA_ID: 'gateway-receipts' },
  });
  prover = {
    authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:receipt'], subject: 'lhasa-approval-system' })}`,
    'x-matter-code': '',
  };
}, 60_000);

afterAll(async () => {
  await federation?.stop();
  await witness?.stop();
  removeData(dataDir);
  rmSync(scratch, { recursive: true, force: true });
});

/** Asks for the proof until a cosigned checkpoint covers the record (the writer checkpoints every 10 s). */
async function proofOf(record: string): Promise<ReceiptProof> {
  const deadline = Date.now() + 25_000;
  for (;;) {
    const { body } = await federation.query(PROOF, { record }, prover);
    const code = body.errors?.[0]?.extensions?.code;
    if (code !== 'RECEIPT_NOT_YET_WITNESSED' || Date.now() > deadline) {
      expect(body.errors).toBeUndefined();
      return body.data!.auditReceiptProof as ReceiptProof;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function verifyCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, AUDIT_DATABASE_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('audit receipts', () => {
  it('prove, offline and against the witness’s cosignature, that an access was recorded', async () => {
    const answer = await federation.query(DOSSIER, { id: DEMO_PERSONS[0].idNumber });
    expect(answer.status).toBe(200);
    const receipt = answer.receipt!;
    expect(receipt.record).toMatch(/^gateway-receipts:\d+$/);

    const proof = await proofOf(receipt.record);
    expect(proof).toMatchObject({ record: receipt.record, recordHash: receipt.recordHash, leafIndex: receipt.leafIndex, witnesses: [WITNESS] });
    expect(proof.treeSize).toBeGreaterThan(receipt.leafIndex);
    // The proof holds hashes and a checkpoint: nothing of the record, no identifier.
    expect(JSON.stringify(proof)).not.toContain(DEMO_PERSONS[0].idNumber);

    const files = { receipt: join(scratch, 'receipt.json'), proof: join(scratch, 'proof.json'), answer: join(scratch, 'answer.json') };
    writeFileSync(files.receipt, JSON.stringify(receipt));
    writeFileSync(files.proof, JSON.stringify(proof));
    const jwks = join(dataDir, 'keys', 'gateway.jwks.json');
    const proven = await verifyCli('--receipt', files.receipt, '--proof', files.proof, '--witness-key', witness.vkey, '--jwks', jwks);
    expect(proven.stdout).toContain(`Audit receipt proven: record ${receipt.record}`);
    expect(proven.stdout).toContain(WITNESS);
    expect(proven.code).toBe(0);

    // A receipt for another record (its hash changed) is not proven by this proof.
    writeFileSync(files.receipt, JSON.stringify({ ...receipt, recordHash: 'f'.repeat(64) }));
    const other = await verifyCli('--receipt', files.receipt, '--proof', files.proof, '--witness-key', witness.vkey, '--jwks', jwks);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('NOT proven');

    // The proof's path doctored: it no longer leads to the cosigned root.
    writeFileSync(files.receipt, JSON.stringify(receipt));
    const doctored = { ...proof, inclusionProof: proof.inclusionProof.map((node, i) => (i === 0 ? Buffer.alloc(32, 7).toString('base64') : node)) };
    writeFileSync(files.proof, JSON.stringify(proof.inclusionProof.length > 0 ? doctored : { ...proof, treeSize: proof.treeSize + 1 }));
    const broken = await verifyCli('--receipt', files.receipt, '--proof', files.proof, '--witness-key', witness.vkey, '--jwks', jwks);
    expect(broken.code).toBe(1);

    // Trusting another witness only: the gateway's own signature is not enough.
    writeFileSync(files.proof, JSON.stringify(proof));
    const stranger = formatVerifierKey(noteSignerKey('witness.other.kuasheng.gov.cn', COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
    const untrusted = await verifyCli('--receipt', files.receipt, '--proof', files.proof, '--witness-key', stranger, '--jwks', jwks);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain('0 of the trusted witnesses cosigned');

    // The whole answer as the client saved it is a receipt file too.
    writeFileSync(files.answer, JSON.stringify({ ...answer.body, extensions: { audit: receipt } }));
    expect((await verifyCli('--receipt', files.answer, '--proof', files.proof, '--witness-key', witness.vkey, '--jwks', jwks)).code).toBe(0);
  }, 60_000);

  it('lets auditIntegrity check the store against what the witness cosigned', async () => {
    const auditor = { authorization: `Bearer ${await testToken(dataDir, { scopes: ['audit:read'], subject: 'auditor-1' })}`, 'x-matter-code': '' };
    const { body } = await federation.query(
      '{ auditIntegrity(full: true) { intact chains { chainId witnessedSize } verification { complete witnessProblems } } }',
      {},
      auditor,
    );
    expect(body.errors).toBeUndefined();
    const integrity = body.data!.auditIntegrity;
    expect(integrity.intact).toBe(true);
    expect(integrity.verification.witnessProblems).toEqual([]);
    expect(integrity.chains.find((c: { chainId: string }) => c.chainId === 'gateway-receipts').witnessedSize).toBeGreaterThan(0);
  });
});
