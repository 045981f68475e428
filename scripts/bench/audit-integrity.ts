import { readFileSync } from 'node:fs';
import type { AuditEntry } from '../../common/audit/record.js';
import { openAuditStore } from '../../common/audit/store.js';
import { ensureGatewayKeys, loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { createAuditWriter, type AuditWriter } from '../../gateway/audit/writer.js';
import { createIntegrityMonitor } from '../../subgraphs/audit/integrity.js';
import { median } from './load.js';

/** What `measureIntegrity` found: milliseconds per `auditIntegrity` answer, as the audit-review subgraph computes it. */
export interface IntegrityMeasurement {
  records: number;
  /** The first answer after a start: everything read (as after a restart of the audit subgraph). */
  firstMs: number;
  /** Incremental answers after `newRecords` more were appended, median of the rounds, and what each read. */
  incrementalMs: number;
  incrementalRounds: number[];
  recordsReadPerIncremental: number;
  /** `auditIntegrity(full: true)`: every record again. */
  fullMs: number;
}

/** A request of the bench's W1 kind: five domains disclosed one person, so the index has five rows per record to check. */
function entry(i: number): AuditEntry {
  const subject = (i % 100_000).toString(16).padStart(64, '0');
  return {
    kind: 'REQUEST',
    time: new Date().toISOString(),
    requestId: `bench-integrity-${i}`,
    replica: 'bench',
    caller: { subject: 'bench', organisation: 'bench', province: '540000', issuer: 'https://idp', tokenId: `jti-${i}` },
    matter: 'TB-HJ-004',
    caseNumber: null,
    operation: { name: 'Dossier', type: 'query', hash: 'f'.repeat(64) },
    requested: ['Query.person', 'Person.name', 'Person.credit'],
    denied: [],
    disclosed: ['household', 'social-insurance', 'provident-fund', 'credit', 'licences'].map((subgraph) => ({ subgraph, type: 'Person', subject })),
    outcome: 'ALLOWED',
    httpStatus: 200,
    errorCodes: [],
    latencyMs: 3.2,
  };
}

async function appendMany(writer: AuditWriter, from: number, count: number): Promise<void> {
  let next = from;
  const end = from + count;
  // 64 appenders: group commit makes this as fast as the bench's append measurement.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < end) await writer.append(entry(next++));
    }),
  );
}

/**
 * `auditIntegrity` on a store of `records` records (one chain, checkpoints
 * every 1,000 records as the gateway writes them): the first answer (all
 * read), then `rounds` incremental answers each after `newRecords` more
 * were appended, then a full one — through the audit-review subgraph's
 * monitor, on the real store, without HTTP.
 */
export async function measureIntegrity(options: {
  dataDir: string;
  databaseUrl?: string;
  records: number;
  newRecords: number;
  rounds: number;
}): Promise<IntegrityMeasurement> {
  const files = await ensureGatewayKeys(options.dataDir);
  const store = await openAuditStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  const writer = await createAuditWriter({ store, chainId: 'bench-integrity', signing: await loadGatewaySigningKey(options.dataDir) });
  const jwks = JSON.parse(readFileSync(files.jwks, 'utf8'));
  // The answer waits for its run however long it takes: the run's time is what is measured.
  const monitor = createIntegrityMonitor({ store, jwks: () => jwks, waitMs: 3_600_000 });
  try {
    await appendMany(writer, 1, options.records);
    await store.settleIndex();
    const timed = async (full: boolean) => {
      const started = performance.now();
      const answer = await monitor.check({ full });
      const ms = performance.now() - started;
      if (!answer.intact || !answer.verification.complete) throw new Error(`the bench store did not verify: ${JSON.stringify(answer.problem)}`);
      return { ms, read: answer.verification.recordsChecked };
    };
    const first = await timed(false);
    const incrementalRounds: number[] = [];
    const reads: number[] = [];
    let appended = options.records;
    for (let r = 0; r < options.rounds; r++) {
      await appendMany(writer, appended + 1, options.newRecords);
      appended += options.newRecords;
      await store.settleIndex();
      const round = await timed(false);
      incrementalRounds.push(round.ms);
      reads.push(round.read);
    }
    const full = await timed(true);
    return {
      records: appended,
      firstMs: first.ms,
      incrementalMs: median(incrementalRounds),
      incrementalRounds,
      recordsReadPerIncremental: median(reads),
      fullMs: full.ms,
    };
  } finally {
    await monitor.close();
    await writer.close();
    await store.close();
  }
}
