/**
 * Tampering with the audit store, as someone who can write to it (and
 * recompute plain SHA-256 hashes) but holds neither the gateway's key nor
 * the witness's: every case is found by the verifier with the witness's
 * cosigned checkpoint in hand. The chain is written by the real writer,
 * whose checkpoints a real witness (another province) cosigns over HTTP.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_COLUMNS, recordToRow, rowToRecord, type RecordRow } from '../../common/audit/columns.js';
import { AUDIT_LOG_ORIGIN_PREFIX } from '../../common/audit/note.js';
import { hashRecord, type AuditRecord } from '../../common/audit/record.js';
import { openAuditStore } from '../../common/audit/store.js';
import { verifyAuditStore, type VerificationReport } from '../../common/audit/verifier.js';
import { ensureGatewayKeys, gatewayKeyFiles, loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { createLogger } from '../../common/logger.js';
import { createWitnessClient } from '../../common/witness/client.js';
import { startWitnessServer, type RunningWitness } from '../../common/witness/server.js';
import { readWitnessedHeads } from '../../common/witness/witnessed-heads.js';
import { createAuditWriter } from '../../gateway/audit/writer.js';
import { requestEntry } from '../support/audit-store-suite.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHAIN = 'gateway-tampered';
const RECORDS = 44;
/** The writer of this test checkpoints every 8 records (at 8, 16, …, 40) and on close (44); the verifier is told so. */
const EVERY = 8;
const WITNESS = 'witness.test.kuasheng.gov.cn';

const folder = mkdtempSync(join(tmpdir(), 'kuasheng-tampering-'));
const pristine = join(folder, 'pristine');
const logger = createLogger({ name: 'test', level: 'silent' });
let witness: RunningWitness;
let jwks: { keys: import('jose').JWK[] };
let copies = 0;

beforeAll(async () => {
  await ensureGatewayKeys(pristine);
  jwks = JSON.parse((await import('node:fs')).readFileSync(gatewayKeyFiles(pristine).jwks, 'utf8'));
  witness = await startWitnessServer({
    name: WITNESS,
    dataDir: join(folder, 'witness'),
    logJwksFile: gatewayKeyFiles(pristine).jwks,
    originPrefix: AUDIT_LOG_ORIGIN_PREFIX,
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  const store = await openAuditStore({ dataDir: pristine });
  const writer = await createAuditWriter({
    store,
    chainId: CHAIN,
    signing: await loadGatewaySigningKey(pristine),
    checkpointEveryRecords: EVERY,
    witnessing: createWitnessClient({ witnesses: [{ name: WITNESS, url: witness.url, vkey: witness.vkey }], logger }),
  });
  for (let i = 1; i <= RECORDS; i++) await writer.append(requestEntry(i));
  await writer.close();
  await store.settleIndex();
  await store.close();
}, 60_000);

afterAll(async () => {
  await witness?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** A copy of the pristine data folder, changed by `tamper` on its audit.db (and, if it likes, the folder). */
function tampered(tamper: (db: Database.Database, dataDir: string) => void): string {
  const dataDir = join(folder, `copy-${++copies}`);
  cpSync(pristine, dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'audit.db'));
  try {
    db.transaction(() => tamper(db, dataDir))();
  } finally {
    db.close();
  }
  return dataDir;
}

function records(db: Database.Database): AuditRecord[] {
  return (db.prepare('SELECT * FROM audit_records WHERE chain_id = ? ORDER BY seq').all(CHAIN) as RecordRow[]).map(rowToRecord);
}

/** Replaces the chain from `fromSeq` on with `replacement`, renumbered, re-linked and re-hashed: what SHA-256 lets anyone do. */
function rewriteFrom(db: Database.Database, fromSeq: number, replacement: AuditRecord[]): void {
  let prevHash = fromSeq === 1 ? '0'.repeat(64) : (records(db).find((r) => r.seq === fromSeq - 1) as AuditRecord).hash;
  db.prepare('DELETE FROM audit_records WHERE chain_id = ? AND seq >= ?').run(CHAIN, fromSeq);
  const insert = db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`);
  replacement.forEach((original, i) => {
    const { hash: _old, ...rest } = { ...original, seq: fromSeq + i, prevHash };
    const record = { ...rest, hash: hashRecord(rest) } as AuditRecord;
    insert.run(...recordToRow(record));
    prevHash = record.hash;
  });
}

const deleteIndex = (dataDir: string) => {
  for (const file of readdirSync(dataDir)) if (file.startsWith('audit.subjects.db')) rmSync(join(dataDir, file));
};

/** Verifies the copy: with the witness's cosigned checkpoints, and (for comparison) without. */
async function verify(dataDir: string): Promise<{ withWitness: VerificationReport; storeAlone: VerificationReport }> {
  const store = await openAuditStore({ dataDir });
  try {
    const reading = await readWitnessedHeads([{ name: WITNESS, url: witness.url, vkey: witness.vkey }], jwks);
    expect(reading.problems).toEqual([]);
    expect(reading.heads.get(CHAIN)?.[0]?.size).toBe(RECORDS);
    return {
      withWitness: await verifyAuditStore(store, jwks, { witnessed: reading.heads, maxRecordsBetweenCheckpoints: EVERY }),
      storeAlone: await verifyAuditStore(store, jwks, { maxRecordsBetweenCheckpoints: EVERY }),
    };
  } finally {
    await store.close();
  }
}

describe('tampering with the audit store, found with the witness’s cosigned checkpoint', () => {
  it('finds nothing wrong with the store as written, which the witness cosigned up to its last record', async () => {
    const { withWitness } = await verify(tampered(() => {}));
    expect(withWitness).toMatchObject({ ok: true, problem: null });
    expect(withWitness.chains[0]).toMatchObject({ records: RECORDS, lastCheckpointSeq: RECORDS, witnessedSize: RECORDS });
  });

  // Each: the tampering, the kind found and where. `storeAlone`: what the store's own checkpoints show (null: nothing) —
  // the cases with null were passed as intact before witnesses.
  const cases: [string, (db: Database.Database, dataDir: string) => void, string, number, string | null][] = [
    ['a field altered', (db) => db.prepare("UPDATE audit_records SET outcome = 'DENIED' WHERE seq = 10").run(), 'ALTERED', 10, 'ALTERED'],
    [
      'a record altered and re-hashed',
      (db) => {
        const record = records(db)[9];
        const { hash: _hash, ...rest } = { ...record, outcome: 'DENIED' as const };
        db.prepare('UPDATE audit_records SET outcome = ?, hash = ? WHERE seq = 10').run('DENIED', hashRecord(rest));
      },
      'ALTERED',
      10,
      'ALTERED',
    ],
    ['a record deleted', (db) => db.prepare('DELETE FROM audit_records WHERE seq = 10').run(), 'REMOVED', 10, 'REMOVED'],
    [
      'a record deleted and the chain re-linked, with the checkpoints after it and the index',
      (db, dataDir) => {
        rewriteFrom(db, 10, records(db).slice(10));
        db.prepare('DELETE FROM audit_checkpoints WHERE seq >= 10').run();
        deleteIndex(dataDir);
      },
      'TRUNCATED',
      44,
      'CHECKPOINT_MISSING',
    ],
    [
      'a record inserted',
      (db) => {
        const copy = records(db)[1];
        db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`).run(
          ...recordToRow({ ...copy, seq: 45 }),
        );
      },
      'INSERTED',
      45,
      'INSERTED',
    ],
    [
      'two records swapped',
      (db) => {
        db.prepare('UPDATE audit_records SET seq = -1 WHERE seq = 5').run();
        db.prepare('UPDATE audit_records SET seq = 5 WHERE seq = 7').run();
        db.prepare('UPDATE audit_records SET seq = 7 WHERE seq = -1').run();
      },
      'REORDERED',
      5,
      'REORDERED',
    ],
    [
      'the tail truncated with its checkpoint and the index',
      (db, dataDir) => {
        db.prepare('DELETE FROM audit_records WHERE seq > 40').run();
        db.prepare('DELETE FROM audit_checkpoints WHERE seq > 40').run();
        deleteIndex(dataDir);
      },
      'TRUNCATED',
      41,
      null,
    ],
    [
      'the tail rewritten, its checkpoint deleted',
      (db) => {
        rewriteFrom(
          db,
          41,
          records(db)
            .slice(40)
            .map((r) => ({ ...r, outcome: 'DENIED' as const })),
        );
        db.prepare('DELETE FROM audit_checkpoints WHERE seq > 40').run();
      },
      'WITNESS_MISMATCH',
      44,
      null,
    ],
    [
      'the whole chain rewritten, every checkpoint deleted',
      (db) => {
        rewriteFrom(
          db,
          1,
          records(db).map((r) => ({ ...r, caseNumber: 'REWRITTEN' })),
        );
        db.prepare('DELETE FROM audit_checkpoints').run();
      },
      'WITNESS_MISMATCH',
      44,
      'CHECKPOINT_MISSING',
    ],
    [
      'one checkpoint deleted (in the middle)',
      (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq = 16').run(),
      'CHECKPOINT_MISSING',
      17,
      'CHECKPOINT_MISSING',
    ],
    ['the last checkpoint deleted', (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq = 44').run(), 'CHECKPOINT_MISSING', 44, null],
    [
      'some checkpoints deleted',
      (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq IN (24, 32, 44)').run(),
      'CHECKPOINT_MISSING',
      25,
      'CHECKPOINT_MISSING',
    ],
    ['every checkpoint deleted', (db) => db.prepare('DELETE FROM audit_checkpoints').run(), 'CHECKPOINT_MISSING', 44, 'CHECKPOINT_MISSING'],
    [
      'the index deleted with the records of one person',
      (db, dataDir) => {
        db.prepare('DELETE FROM audit_records WHERE seq >= 42').run();
        db.prepare('DELETE FROM audit_checkpoints WHERE seq = 44').run();
        deleteIndex(dataDir);
      },
      'TRUNCATED',
      42,
      null,
    ],
  ];

  it.each(cases)('finds %s', async (_what, tamper, kind, seq, storeAlone) => {
    const dataDir = tampered(tamper);
    const { withWitness, storeAlone: alone } = await verify(dataDir);
    expect(withWitness.ok).toBe(false);
    expect(withWitness.problem).toMatchObject({ kind, chainId: CHAIN, seq });
    expect(alone.problem?.kind ?? null).toBe(storeAlone);
  });

  it('npm run audit:verify --witness: exit 0 on the store as written, 1 on a chain rewritten whole', async () => {
    const cli = (dataDir: string) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'scripts/audit-verify.ts',
            '--file',
            join(dataDir, 'audit.db'),
            '--jwks',
            gatewayKeyFiles(pristine).jwks,
            '--witness',
            `${witness.url} ${witness.vkey}`,
          ],
          { cwd: ROOT, env: { ...process.env, AUDIT_DATABASE_URL: '', AUDIT_WITNESSES: '' } },
        );
        let stdout = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.on('close', (code) => resolve({ code, stdout }));
      });
    const intact = await cli(tampered(() => {}));
    expect(intact.stdout).toContain(`a witness cosigned ${RECORDS}`);
    expect(intact.code).toBe(0);
    const rewritten = await cli(
      tampered((db) => {
        rewriteFrom(
          db,
          1,
          records(db).map((r) => ({ ...r, matter: 'TB-OTHER' })),
        );
        db.prepare('DELETE FROM audit_checkpoints').run();
      }),
    );
    expect(rewritten.stdout).toContain('WITNESS_MISMATCH');
    expect(rewritten.code).toBe(1);
    expect(existsSync(join(folder, 'witness', 'witness.db'))).toBe(true);
  }, 30_000);
});
