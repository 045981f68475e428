import { readFileSync } from 'node:fs';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { JWK } from 'jose';
import { ensureAuditKey, loadAuditKey, subjectHash, type AuditRecord } from '../../common/audit/record.js';
import { openAuditStore, type AuditSearch, type AuditStore } from '../../common/audit/store.js';
import { exportAudit } from '../../common/audit/verifier.js';
import { createIntegrityMonitor, type IntegrityMonitor } from './integrity.js';
import { readWitnessedHeads } from '../../common/witness/witnessed-heads.js';
import { checkpointTree } from '../../common/audit/checkpoint.js';
import { CompactRange, inclusionProof, prefixedRangeHasher, recordLeafHash } from '../../common/audit/merkle.js';
import { auditLogOrigin } from '../../common/audit/note.js';
import { ERRORS } from '../../common/errors.js';
import { badUserInput, requireCreditCode, requireIdNumber } from '../shared/errors.js';
import type { DisclosureLog } from '../../common/disclosure.js';
import type { OpenableDomain } from '../shared/domain.js';

/** The most records one page or one export through the API may carry. */
const MAX_PAGE = 200;
const MAX_EXPORT = 10_000;

interface AuditReviewContext {
  store: AuditStore;
  key: Uint8Array;
  jwks: () => { keys: JWK[] };
  integrity: IntegrityMonitor;
  disclosed: DisclosureLog;
}

function parseInstant(value: unknown): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new GraphQLError('DateTime must be an ISO 8601 instant, e.g. 2026-11-22T08:30:00.000Z.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return new Date(value).toISOString();
}

const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => value,
  parseValue: parseInstant,
  parseLiteral: (ast) => parseInstant(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** Hashes the subject an auditor names, exactly as the gateway hashed it when recording; notes it as disclosed. */
function subjectOf(
  input: { idNumber?: string | null; creditCode?: string | null } | null | undefined,
  ctx: AuditReviewContext,
  argument: string,
): string | undefined {
  if (!input) return undefined;
  if (input.idNumber && input.creditCode) throw badUserInput(`${argument} takes an ID number or a credit code, not both.`, argument);
  if (input.idNumber) {
    const idNumber = requireIdNumber(input.idNumber, `${argument}.idNumber`);
    ctx.disclosed.set(`Person:${idNumber}`, { type: 'Person', key: idNumber });
    return subjectHash(ctx.key, 'Person', idNumber);
  }
  if (input.creditCode) {
    const creditCode = requireCreditCode(input.creditCode, `${argument}.creditCode`);
    ctx.disclosed.set(`Organisation:${creditCode}`, { type: 'Organisation', key: creditCode });
    return subjectHash(ctx.key, 'Organisation', creditCode);
  }
  throw badUserInput(`${argument} needs an ID number or a credit code.`, argument);
}

/** A cost the gateway noted in the record's detail (`detail.cost`), when it is a whole number. */
function costOf(record: AuditRecord, which: 'estimated' | 'actual'): number | null {
  const value = (record.detail?.cost as Record<string, unknown> | undefined)?.[which];
  return Number.isSafeInteger(value) ? (value as number) : null;
}

function recordId(record: AuditRecord): string {
  return `${record.chainId}:${record.seq}`;
}

/**
 * The audit-review subgraph: auditors search and read the gateway's audit
 * store, check its integrity and export ranges for offline verification.
 * It reads the store the gateway writes (the SQLite file or PostgreSQL).
 */
export const auditReviewDomain: OpenableDomain = {
  async open(resources) {
    const store = await openAuditStore({ databaseUrl: resources.auditDatabaseUrl, dataDir: resources.dataDir });
    const key = resources.auditKeyFile ? await loadAuditKey(resources.auditKeyFile) : await ensureAuditKey(resources.dataDir);
    // Read per use: a rotated gateway key must verify without a restart.
    const jwks = () => JSON.parse(readFileSync(resources.gatewayJwksFile, 'utf8')) as { keys: JWK[] };
    // What was verified stays verified: kept per process, across requests (see integrity.ts).
    const witnesses = resources.auditWitnesses ?? [];
    const integrity = createIntegrityMonitor({
      store,
      jwks,
      // Each run first reads what the witnesses cosigned: the store must hold those trees, however it was rewritten.
      witnessed: witnesses.length > 0 ? () => readWitnessedHeads(witnesses, jwks()) : undefined,
    });
    return {
      createContext: (): Omit<AuditReviewContext, 'disclosed'> => ({ store, key, jwks, integrity }),
      async close() {
        await integrity.close();
        await store.close();
      },
    };
  },
  resolvers: {
    DateTime: DateTimeScalar,
    Query: {
      async auditRecords(
        _: unknown,
        args: { filter?: Record<string, unknown> | null; first: number; after?: string | null },
        ctx: AuditReviewContext,
      ) {
        if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_PAGE)
          throw badUserInput(`Argument first must be between 1 and ${MAX_PAGE}.`, 'first');
        const filter = args.filter ?? {};
        const search: AuditSearch = {
          subjectHash: subjectOf(filter.subject as never, ctx, 'filter.subject'),
          callerSubject: (filter.callerSubject as string) ?? undefined,
          organisation: (filter.organisation as string) ?? undefined,
          province: (filter.province as string) ?? undefined,
          matter: (filter.matter as string) ?? undefined,
          caseNumber: (filter.caseNumber as string) ?? undefined,
          outcome: (filter.outcome as AuditSearch['outcome']) ?? undefined,
          from: (filter.from as string) ?? undefined,
          to: (filter.to as string) ?? undefined,
        };
        try {
          return await ctx.store.search(search, { first: args.first, after: args.after ?? null });
        } catch (error) {
          if ((error as { code?: string }).code === 'BAD_CURSOR') throw badUserInput('Argument after is not a cursor this API gave out.', 'after');
          throw error;
        }
      },
      async auditRecord(_: unknown, args: { id: string }, ctx: AuditReviewContext) {
        const match = /^(.+):(\d{1,15})$/.exec(args.id);
        if (!match) throw badUserInput('Argument id must look like <chain>:<sequence>.', 'id');
        return ctx.store.get(match[1], Number(match[2]));
      },
      async auditReceiptProof(_: unknown, args: { record: string }, ctx: AuditReviewContext) {
        const match = /^(.+):(\d{1,15})$/.exec(args.record);
        if (!match) throw badUserInput('Argument record must look like <chain>:<sequence>, as in the receipt.', 'record');
        const [chainId, seq] = [match[1], Number(match[2])];
        const record = await ctx.store.get(chainId, seq);
        if (!record) throw new GraphQLError('No audit record has this id.', { extensions: { code: 'NOT_FOUND', argument: 'record' } });
        const cosigned = await ctx.store.latestCosigned(chainId);
        if (!cosigned || cosigned.checkpoint.seq < seq || !cosigned.checkpoint.note) {
          throw new GraphQLError(ERRORS.RECEIPT_NOT_YET_WITNESSED.message, {
            extensions: { code: 'RECEIPT_NOT_YET_WITNESSED', retryAfterSeconds: 10 },
          });
        }
        const { checkpoint, cosignatures } = cosigned;
        // The tree up to the last checkpoint before the record (its compact range), then the record hashes from there to the checkpoint.
        const before = await ctx.store.lastCheckpoint(chainId, seq);
        const prefix = (before && checkpointTree(before)) ?? CompactRange.empty();
        const leaves = (await ctx.store.readLeafHashes(chainId, prefix.size + 1, checkpoint.seq)).map(recordLeafHash);
        if (leaves.length !== checkpoint.seq - prefix.size) {
          throw new GraphQLError(ERRORS.AUDIT_INTEGRITY_PROBLEM.message, { extensions: { code: 'AUDIT_INTEGRITY_PROBLEM' } });
        }
        const proof = inclusionProof(seq - 1, checkpoint.seq, prefixedRangeHasher(prefix, leaves));
        return {
          record: args.record,
          origin: auditLogOrigin(chainId),
          leafIndex: seq - 1,
          recordHash: record.hash,
          treeSize: checkpoint.seq,
          inclusionProof: proof.map((node) => node.toString('base64')),
          checkpoint: `${checkpoint.note}${cosignatures.map((c) => `${c.line}\n`).join('')}`,
          witnesses: cosignatures.map((c) => c.witness),
        };
      },
      async auditIntegrity(_: unknown, args: { full?: boolean | null }, ctx: AuditReviewContext) {
        return ctx.integrity.check({ full: args.full ?? false });
      },
      async auditExport(_: unknown, args: { from: string; to: string }, ctx: AuditReviewContext) {
        if (args.from > args.to) throw badUserInput('Argument from must not be after to.', 'from');
        const lines: string[] = [];
        let records = 0;
        for await (const line of exportAudit(ctx.store, { from: args.from, to: args.to, jwks: ctx.jwks() })) {
          if (line.startsWith('{"type":"record"')) records++;
          if (records > MAX_EXPORT) throw badUserInput(`More than ${MAX_EXPORT} records in range: narrow it, or use npm run audit:export.`, 'to');
          lines.push(line);
        }
        return { records, ndjson: `${lines.join('\n')}\n` };
      },
      async accessReport(
        _: unknown,
        args: { subject: { idNumber?: string; creditCode?: string }; from: string; to: string },
        ctx: AuditReviewContext,
      ) {
        if (args.from > args.to) throw badUserInput('Argument from must not be after to.', 'from');
        const hash = subjectOf(args.subject, ctx, 'subject')!;
        const entries = await ctx.store.accessReport(hash, args.from, args.to);
        return {
          subjectHash: hash,
          from: args.from,
          to: args.to,
          totalAccesses: entries.reduce((n, e) => n + e.accesses, 0),
          totalWithheld: entries.reduce((n, e) => n + e.withheld, 0),
          entries,
        };
      },
    },
    AuditRecord: {
      id: recordId,
      withholds: (r: AuditRecord) => (r.kind === 'WITHHELD' && typeof r.detail?.withholds === 'string' ? r.detail.withholds : null),
      clientRequestId: (r: AuditRecord) => (typeof r.detail?.clientRequestId === 'string' ? r.detail.clientRequestId : null),
      estimatedCost: (r: AuditRecord) => costOf(r, 'estimated'),
      actualCost: (r: AuditRecord) => costOf(r, 'actual'),
      operationName: (r: AuditRecord) => r.operation.name,
      operationType: (r: AuditRecord) => r.operation.type,
      operationHash: (r: AuditRecord) => r.operation.hash,
      disclosed: (r: AuditRecord) => r.disclosed.map((d) => ({ subgraph: d.subgraph, type: d.type, subjectHash: d.subject })),
      previousHash: (r: AuditRecord) => r.prevHash,
    },
    AuditChainStatus: {
      firstSequence: (c: { firstSeq: number | null }) => c.firstSeq,
      lastSequence: (c: { lastSeq: number | null }) => c.lastSeq,
      lastCheckpointSequence: (c: { lastCheckpointSeq: number | null }) => c.lastCheckpointSeq,
      checkedFromSequence: (c: { checkedFromSeq: number }) => c.checkedFromSeq,
      verifiedSequence: (c: { verifiedSeq: number | null }) => c.verifiedSeq,
    },
    AuditProblem: {
      sequence: (p: { seq: number }) => p.seq,
    },
  },
};
