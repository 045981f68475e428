import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { signCheckpoint, type CheckpointSigningKey, type SignedCheckpoint } from '../../common/audit/checkpoint.js';
import { sealRecord } from '../../gateway/audit/entry.js';
import { AUDIT_EXPORT_FORMAT, AUDIT_EXPORT_VERSION } from '../../common/audit/export.js';
import { GENESIS_HASH, hashRecord, type AuditRecord } from '../../common/audit/record.js';
import { describeVerification } from '../../common/audit/summary.js';
import { verifyAuditExport } from '../../common/audit/verifier.js';
import { requestEntry } from '../support/audit-store-suite.js';

/**
 * The verifier's rules, on exports built by hand: every way of tampering
 * with a chain, including those that need more than direct SQL (re-hashing
 * a record, renumbering the rest), and damage to the export file itself.
 */

let signing: CheckpointSigningKey;
let intruder: CheckpointSigningKey;
let jwks: { keys: JWK[] };
let intruderJwks: { keys: JWK[] };

beforeAll(async () => {
  const make = async (kid: string) => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return { signing: { key: privateKey, kid }, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' } };
  };
  const gateway = await make('gateway-1');
  const other = await make('intruder-1');
  signing = gateway.signing;
  intruder = other.signing;
  jwks = { keys: [gateway.jwk] };
  intruderJwks = { keys: [other.jwk] };
});

/** Records 1…n of chain `gateway-a`, properly linked. */
function chainOf(n: number, from = 1, prevHash = GENESIS_HASH): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = from; seq < from + n; seq++) {
    const record = sealRecord(requestEntry(seq), 'gateway-a', seq, records.at(-1)?.hash ?? prevHash);
    records.push(record);
  }
  return records;
}

/** A record's contents changed, with its hash recomputed so that it verifies on its own. */
function rehashed(record: AuditRecord, changes: Partial<AuditRecord>): AuditRecord {
  const changed = { ...record, ...changes };
  return { ...changed, hash: hashRecord(changed) };
}

async function checkpointsAt(records: AuditRecord[], seqs: number[], key = signing): Promise<SignedCheckpoint[]> {
  return Promise.all(
    seqs.map((seq) => {
      const record = records.find((r) => r.seq === seq)!;
      return signCheckpoint({ chainId: 'gateway-a', seq, headHash: record.hash, time: '2026-03-01T09:00:00.000Z' }, key);
    }),
  );
}

interface Layout {
  fromSeq?: number;
  toSeq?: number;
  anchor?: SignedCheckpoint | null;
  headerJwks?: { keys: JWK[] };
}

/** The NDJSON lines of an export of these records and checkpoints (see audit-export.ts). */
function exportLines(records: AuditRecord[], checkpoints: SignedCheckpoint[], layout: Layout = {}): string[] {
  return [
    JSON.stringify({
      type: 'header',
      format: AUDIT_EXPORT_FORMAT,
      version: AUDIT_EXPORT_VERSION,
      exportedAt: '2026-03-02T00:00:00.000Z',
      range: { from: null, to: null },
      jwks: layout.headerJwks ?? jwks,
    }),
    JSON.stringify({
      type: 'chain',
      chainId: 'gateway-a',
      fromSeq: layout.fromSeq ?? 1,
      toSeq: layout.toSeq ?? records.at(-1)!.seq,
      anchor: layout.anchor ?? null,
    }),
    ...checkpoints.map((c) => JSON.stringify({ type: 'checkpoint', ...c })),
    ...records.map((r) => JSON.stringify({ type: 'record', ...r })),
    JSON.stringify({ type: 'end', chains: 1, records: records.length, checkpoints: checkpoints.length }),
  ];
}

async function* linesOf(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

const verify = (lines: string[], keys: { keys: JWK[] } = jwks) => verifyAuditExport(linesOf(lines), keys);

describe('audit verifier', () => {
  describe('when the chain is intact', () => {
    it('reports ok with counts per chain', async () => {
      const records = chainOf(12);
      const report = await verify(exportLines(records, await checkpointsAt(records, [4, 8, 12])));
      expect(report).toEqual({
        ok: true,
        problem: null,
        chains: [
          {
            chainId: 'gateway-a',
            records: 12,
            firstSeq: 1,
            lastSeq: 12,
            checkpoints: 3,
            lastCheckpointSeq: 12,
            unanchoredRecords: 0,
            witnessedSize: null,
          },
        ],
      });
      expect(describeVerification(report, 'test')).toBe(
        'Audit trail intact in test: 1 chain, 12 records, 3 checkpoints; every record is anchored by a signed checkpoint. Chains: gateway-a seq 1–12 (3 checkpoints, last at 12).',
      );
    });

    it('continues a chain from a signed anchor (a prune point, or where a range export starts)', async () => {
      const earlier = chainOf(4);
      const records = chainOf(8, 5, earlier[3].hash);
      const [anchor] = await checkpointsAt(earlier, [4]);
      const report = await verify(exportLines(records, await checkpointsAt(records, [8]), { fromSeq: 5, anchor }));
      expect(report).toMatchObject({ ok: true, chains: [{ firstSeq: 5, lastSeq: 12, lastCheckpointSeq: 8, unanchoredRecords: 4 }] });
    });
  });

  describe('when records were tampered with', () => {
    it('reports ALTERED for a record whose contents no longer match its hash', async () => {
      const records = chainOf(12);
      records[4] = { ...records[4], matter: 'TB-OTHER' };
      expect((await verify(exportLines(records, []))).problem).toMatchObject({ kind: 'ALTERED', seq: 5 });
    });

    it('reports ALTERED for a record rewritten with a recomputed hash, found by its successor’s link', async () => {
      const records = chainOf(12);
      records[4] = rehashed(records[4], { outcome: 'DENIED' });
      expect((await verify(exportLines(records, []))).problem).toMatchObject({
        kind: 'ALTERED',
        seq: 5,
        detail: expect.stringContaining('recomputed'),
      });
    });

    it('reports REMOVED for a missing record, and for one removed with the rest renumbered', async () => {
      const records = chainOf(12);
      expect(
        (
          await verify(
            exportLines(
              records.filter((r) => r.seq !== 6),
              [],
            ),
          )
        ).problem,
      ).toMatchObject({ kind: 'REMOVED', seq: 6 });
      const renumbered = records.filter((r) => r.seq !== 6).map((r) => (r.seq > 6 ? { ...r, seq: r.seq - 1 } : r));
      expect((await verify(exportLines(renumbered, []))).problem).toMatchObject({
        kind: 'REMOVED',
        seq: 6,
        detail: expect.stringContaining('renumbered'),
      });
    });

    it('reports INSERTED for a forged record, a copy of another, a duplicate line, and one slipped in with the rest renumbered', async () => {
      const records = chainOf(12);
      const forged = sealRecord(requestEntry(99), 'gateway-a', 13, 'e'.repeat(64));
      expect((await verify(exportLines([...records, forged], []))).problem).toMatchObject({ kind: 'INSERTED', seq: 13 });

      const copy = { ...records[1], seq: 13 };
      expect((await verify(exportLines([...records, copy], []))).problem).toMatchObject({
        kind: 'INSERTED',
        seq: 13,
        detail: expect.stringContaining('copy of record 2'),
      });

      const duplicated = [...records.slice(0, 3), records[2], ...records.slice(3)];
      expect((await verify(exportLines(duplicated, []))).problem).toMatchObject({ kind: 'INSERTED', seq: 3 });

      const slipped = sealRecord(requestEntry(66), 'gateway-a', 6, records[4].hash);
      const shifted = [...records.slice(0, 5), slipped, ...records.slice(5).map((r) => ({ ...r, seq: r.seq + 1 }))];
      expect((await verify(exportLines(shifted, []))).problem).toMatchObject({
        kind: 'INSERTED',
        seq: 6,
        detail: expect.stringContaining('slipped in'),
      });
    });

    it('reports REORDERED for records that swapped places, by seq or by line', async () => {
      const records = chainOf(12);
      const swappedSeqs = records.map((r) => (r.seq === 5 ? { ...r, seq: 9 } : r.seq === 9 ? { ...r, seq: 5 } : r)).sort((a, b) => a.seq - b.seq);
      expect((await verify(exportLines(swappedSeqs, []))).problem).toMatchObject({ kind: 'REORDERED', seq: 5 });
      const swappedLines = [...records];
      [swappedLines[4], swappedLines[6]] = [swappedLines[6], swappedLines[4]];
      expect((await verify(exportLines(swappedLines, []))).problem).toMatchObject({ kind: 'REORDERED', seq: 5 });
    });

    it('reports TRUNCATED when the chain ends before its last checkpoint', async () => {
      const records = chainOf(12);
      const checkpoints = await checkpointsAt(records, [4, 8, 12]);
      expect((await verify(exportLines(records.slice(0, 10), checkpoints, { toSeq: 10 }))).problem).toMatchObject({ kind: 'TRUNCATED', seq: 11 });
    });
  });

  describe('when checkpoints were tampered with', () => {
    it('reports BAD_CHECKPOINT for a checkpoint signed by a key outside the key set', async () => {
      const records = chainOf(12);
      const checkpoints = [...(await checkpointsAt(records, [4])), ...(await checkpointsAt(records, [8], intruder))];
      expect((await verify(exportLines(records, checkpoints))).problem).toMatchObject({
        kind: 'BAD_CHECKPOINT',
        seq: 8,
        detail: expect.stringContaining('not in the gateway key set'),
      });
    });

    it('reports BAD_CHECKPOINT for a checkpoint whose fields differ from what was signed', async () => {
      const records = chainOf(12);
      const [checkpoint] = await checkpointsAt(records, [8]);
      expect((await verify(exportLines(records, [{ ...checkpoint, headHash: records[6].hash }]))).problem).toMatchObject({
        kind: 'BAD_CHECKPOINT',
        seq: 8,
      });
    });

    it('reports BAD_CHECKPOINT when the whole chain was rewritten up to a signed checkpoint', async () => {
      const records = chainOf(12);
      const checkpoints = await checkpointsAt(records, [8]);
      let prevHash = GENESIS_HASH;
      const rewritten = records.map((r) => {
        const record = rehashed({ ...r, prevHash }, r.seq === 3 ? { outcome: 'DENIED', prevHash } : { prevHash });
        prevHash = record.hash;
        return record;
      });
      expect((await verify(exportLines(rewritten, checkpoints))).problem).toMatchObject({
        kind: 'BAD_CHECKPOINT',
        seq: 8,
        detail: expect.stringContaining('rewritten'),
      });
    });

    it('trusts the key set it is given over the one in the export', async () => {
      const records = chainOf(12);
      const forgedKeys = exportLines(records, await checkpointsAt(records, [12], intruder), { headerJwks: intruderJwks });
      expect((await verifyAuditExport(linesOf(forgedKeys))).ok).toBe(true);
      expect((await verify(forgedKeys, jwks)).problem).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 12 });
    });

    it('reports BAD_CHECKPOINT for an anchor that does not verify', async () => {
      const earlier = chainOf(4);
      const records = chainOf(4, 5, earlier[3].hash);
      const [anchor] = await checkpointsAt(earlier, [4], intruder);
      expect((await verify(exportLines(records, [], { fromSeq: 5, anchor }))).problem).toMatchObject({ kind: 'BAD_CHECKPOINT', seq: 4 });
    });
  });

  describe('when the export file is damaged', () => {
    it('reports a line that is not JSON where a record should be as ALTERED', async () => {
      const lines = exportLines(chainOf(12), []);
      lines[2 + 8] = '{"type":"record", this is not json';
      expect((await verify(lines)).problem).toMatchObject({ kind: 'ALTERED', seq: 9 });
    });

    it('reports TRUNCATED when the file is cut short', async () => {
      const lines = exportLines(chainOf(12), []);
      expect((await verify(lines.slice(0, -1))).problem).toMatchObject({ kind: 'TRUNCATED', chainId: 'gateway-a', seq: 13 });
      expect((await verify(lines.slice(0, -3))).problem).toMatchObject({ kind: 'TRUNCATED', seq: 11 });
    });

    it('refuses input that is not an export at all (INVALID_AUDIT_EXPORT)', async () => {
      await expect(verify(['{"hello":"world"}'])).rejects.toMatchObject({ code: 'INVALID_AUDIT_EXPORT', line: 1 });
      await expect(verify([])).rejects.toMatchObject({ code: 'INVALID_AUDIT_EXPORT' });
    });
  });
});
