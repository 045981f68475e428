import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RECEIPT_EXTENSION, receiptOf } from '../../common/audit/receipt.js';
import { type AuditCaller, type AuditEntry, type AuditRecord, auditRecordId, subjectHash } from '../../common/audit/record.js';
import { DISCLOSURE_EXTENSION, readDisclosureReport } from '../../common/disclosure.js';
import { ERRORS } from '../../common/errors.js';
import { createOutageLog } from '../../common/outage-log.js';
import type { Caller } from '../auth/caller.js';
import { classifyOutcome } from '../audit/outcome.js';
import { AuditUnavailableError, type AuditWriter } from '../audit/writer.js';
import type { RequestContext } from '../pipeline/context.js';
import type { GatewayPlugin } from '../pipeline/plugin.js';
import type { HttpAnswer } from '../../common/http/server.js';

export interface AuditTrailOptions {
  /** This replica's chain writer; null only when audit is switched off (AUDIT_MODE=off, benchmarks). */
  writer: AuditWriter | null;
  /** Key of the subject hashes (HMAC): the record names subjects, never their identifiers. */
  subjectKey: Uint8Array;
  /** This replica's id (GATEWAY_REPLICA_ID). */
  replica: string;
  logger: Logger;
  /** Subject hashes remembered across requests. Default 20000. */
  subjectHashCacheSize?: number;
  /** While the audit store is out, at most one log line about it per this many ms (`LOG_OUTAGE_INTERVAL_MS`). Default 30000. */
  outageLogIntervalMs?: number;
}

/** The audit trail plugin, and how many requests are on their way to the writer (its commit siblings). */
export interface AuditTrail extends GatewayPlugin {
  /** Requests begun whose entries have not gone to the writer yet. */
  backlog(): number;
}

/** What a subgraph reported it disclosed: raw keys by type; hashed when the entry is built, never stored raw. */
interface DraftDisclosure {
  subgraph: string;
  type: string;
  keys: readonly string[];
}

/** What the record needs beside the request's context: when it arrived, what was disclosed, which codes it answered. */
interface Draft {
  readonly started: number;
  readonly time: string;
  readonly disclosed: DraftDisclosure[];
  readonly errorCodes: Set<string>;
  /** Counted in the backlog (until its first completion). */
  counted: boolean;
  /** The committed record, once the answer it describes may leave: withheld after all if it does not reach the client. */
  record: AuditRecord | null;
}

export function auditCallerOf(caller: Caller): AuditCaller {
  return { subject: caller.subject, organisation: caller.organisation, province: caller.province, issuer: caller.issuer, tokenId: caller.tokenId };
}

/**
 * Where the receipt goes in a GraphQL answer: the payload is serialised
 * before its record exists, so it carries this placeholder (random per
 * process, so no data can spell it) in `extensions.audit`, replaced in the
 * text once the record is durable.
 */
const RECEIPT_PLACEHOLDER = `\u0000audit-receipt-${randomUUID()}`;
const RECEIPT_MARKER = JSON.stringify(RECEIPT_PLACEHOLDER);
/** An answer without the placeholder (a refusal of the HTTP layer) is parsed to take its receipt when at most this long. */
const MAX_REPARSED_BODY = 64 * 1024;

/** The answer with the record's receipt in its `extensions`; unchanged when it is no JSON object. */
function withReceipt(answer: HttpAnswer, record: AuditRecord): HttpAnswer {
  const receipt = JSON.stringify(receiptOf(record));
  const at = answer.body.lastIndexOf(RECEIPT_MARKER);
  if (at >= 0) return { ...answer, body: answer.body.slice(0, at) + receipt + answer.body.slice(at + RECEIPT_MARKER.length) };
  const type = answer.headers?.['content-type'] ?? '';
  if (!type.includes('json') || answer.body.length > MAX_REPARSED_BODY || !answer.body.startsWith('{')) return answer;
  try {
    const parsed = JSON.parse(answer.body) as { extensions?: Record<string, unknown> };
    parsed.extensions = { ...parsed.extensions, [RECEIPT_EXTENSION]: JSON.parse(receipt) };
    return { ...answer, body: JSON.stringify(parsed) };
  } catch {
    return answer;
  }
}

function codesFromBody(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] };
    return (parsed.errors ?? []).map((e) => e.extensions?.code).filter((c): c is string => typeof c === 'string');
  } catch {
    return [];
  }
}

/**
 * The audit trail: every request — admitted or refused, the HTTP layer's
 * refusals included — becomes one record in this replica's hash chain,
 * made durable before the answer leaves (durable before disclosure). The
 * record names the caller, the matter and case, the operation, what was
 * asked and denied, and each subject each domain disclosed (as an HMAC);
 * when the store cannot take it, the answer is replaced by 503
 * AUDIT_UNAVAILABLE: never unaudited data. When a recorded answer then
 * does not reach its client (gone, or cut at the end of the shutdown grace),
 * a WITHHELD record follows its record: the trail never claims a delivery
 * that did not happen. Also writes the one operational log line per request
 * (no tokens, no identifiers).
 */
export function useAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { writer, subjectKey, replica, logger } = options;
  const hashCacheSize = options.subjectHashCacheSize ?? 20_000;
  const drafts = new WeakMap<RequestContext, Draft>();
  const storeOutage = createOutageLog({
    logger,
    outage: 'audit-store',
    subject: 'the audit store',
    effect: 'answers withheld (503 AUDIT_UNAVAILABLE)',
    intervalMs: options.outageLogIntervalMs,
  });
  // Drafts begun and not yet completed, each counted once (completion may run twice when an answer fails to go out).
  let backlog = 0;
  // HMAC of recently disclosed subjects: a batch of 50 persons disclosed by two domains is 100 HMACs,
  // most of them seen again soon. In memory only, bounded, oldest of the type out first. Keyed by type,
  // then key, so that a lookup builds no string.
  const hashes = new Map<string, Map<string, string>>();
  let cached = 0;
  const hashOf = (type: string, key: string): string => {
    let byKey = hashes.get(type);
    if (!byKey) hashes.set(type, (byKey = new Map()));
    let hash = byKey.get(key);
    if (hash === undefined) {
      hash = subjectHash(subjectKey, type, key);
      if (cached >= hashCacheSize && byKey.size > 0) {
        byKey.delete(byKey.keys().next().value!);
        cached--;
      }
      byKey.set(key, hash);
      cached++;
    }
    return hash;
  };

  const entryOf = (context: RequestContext, draft: Draft, status: number, latencyMs: number): AuditEntry => {
    const codes = draft.errorCodes;
    // Each (domain, subject) once: a person listed twice in one answer was disclosed once.
    const seen = new Map<string, Set<string>>();
    const disclosed: AuditEntry['disclosed'] = [];
    for (const { subgraph, type, keys } of draft.disclosed) {
      let bySubgraph = seen.get(subgraph);
      if (!bySubgraph) seen.set(subgraph, (bySubgraph = new Set()));
      for (const key of keys) {
        const subject = hashOf(type, key);
        if (bySubgraph.has(subject)) continue;
        bySubgraph.add(subject);
        disclosed.push({ subgraph, type, subject });
      }
    }
    const authorization = context.authorization;
    const entry: AuditEntry = {
      kind: 'REQUEST',
      time: draft.time,
      requestId: context.requestId,
      replica,
      caller: context.caller ? auditCallerOf(context.caller) : null,
      matter: context.purpose.matter?.code ?? null,
      caseNumber: context.purpose.caseNumber,
      operation: context.operation,
      requested: authorization ? [...authorization.requestedCoordinates] : [],
      denied: authorization ? [...new Set(authorization.denied.map((d) => d.coordinate))] : [],
      disclosed,
      outcome: classifyOutcome(status, codes, disclosed.length > 0),
      httpStatus: status,
      errorCodes: [...codes],
      latencyMs,
    };
    if (context.correlationId !== null || context.cost !== null) {
      entry.detail = {
        ...(context.correlationId === null ? {} : { clientRequestId: context.correlationId }),
        ...(context.cost === null ? {} : { cost: { estimated: context.cost.estimated, actual: context.cost.actual } }),
      };
    }
    return entry;
  };

  return {
    name: 'audit-trail',
    backlog: () => backlog,
    onRequest(context) {
      drafts.set(context, {
        started: performance.now(),
        time: new Date().toISOString(),
        disclosed: [],
        errorCodes: new Set(),
        counted: true,
        record: null,
      });
      backlog++;
    },
    onSubgraphResponse(subgraph, context, extensions) {
      const report = extensions[DISCLOSURE_EXTENSION];
      if (report === undefined) return;
      const draft = drafts.get(context);
      if (draft) for (const { type, keys } of readDisclosureReport(report)) draft.disclosed.push({ subgraph, type, keys });
    },
    onResponse(answer, context) {
      const draft = drafts.get(context);
      if (!draft) return;
      if (writer) answer.payload.extensions = { ...answer.payload.extensions, [RECEIPT_EXTENSION]: RECEIPT_PLACEHOLDER };
      for (const error of answer.payload.errors ?? []) {
        const code = error.extensions?.code;
        if (typeof code === 'string') draft.errorCodes.add(code);
      }
    },
    async onComplete(context, answer) {
      const draft = drafts.get(context);
      if (!draft) return answer;
      if (draft.counted) {
        draft.counted = false;
        backlog--;
      }
      const latencyMs = Math.round((performance.now() - draft.started) * 1000) / 1000;
      if (answer.rejection) draft.errorCodes.add(answer.rejection.code);
      if (draft.errorCodes.size === 0 && answer.status !== 200) for (const code of codesFromBody(answer.body)) draft.errorCodes.add(code);
      const entry = entryOf(context, draft, answer.status, latencyMs);
      let final = answer;
      if (writer) {
        try {
          draft.record = await writer.append(entry);
          final = withReceipt(answer, draft.record);
          storeOutage.recovered();
        } catch (error) {
          if (!(error instanceof AuditUnavailableError)) throw error;
          // Every answer of an outage is withheld alike: the outage is logged (begun, summarised, ended), not each request,
          // and without a stack trace; each request's own line below says FAILED with status 503.
          storeOutage.affected(error);
          final = {
            status: ERRORS.AUDIT_UNAVAILABLE.status,
            headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': context.requestId, 'retry-after': '5' },
            body: JSON.stringify({ errors: [{ message: ERRORS.AUDIT_UNAVAILABLE.message, extensions: { code: 'AUDIT_UNAVAILABLE' } }] }),
          };
        }
      }
      logger.info(
        {
          requestId: context.requestId,
          ...(context.correlationId === null ? {} : { correlationId: context.correlationId }),
          caller: context.caller ? { sub: context.caller.subject, org: context.caller.organisation, province: context.caller.province } : null,
          matter: entry.matter,
          operation: entry.operation.name ?? entry.operation.type,
          outcome: final.status === answer.status ? entry.outcome : 'FAILED',
          status: final.status,
          // A withheld answer said only this, whatever the one the store could not take said.
          codes: final.status === answer.status ? entry.errorCodes : ['AUDIT_UNAVAILABLE'],
          latencyMs,
        },
        'request',
      );
      return final;
    },
    onUndelivered(context, _answer, reason) {
      // Durable before disclosure, and then not delivered: the record stays as written, and a WITHHELD record follows it.
      const record = drafts.get(context)?.record;
      if (!record || !writer) return;
      writer.withhold(record, { httpStatus: 0, errorCode: reason });
      logger.info({ requestId: context.requestId, record: auditRecordId(record), reason }, 'answer not delivered: recorded as withheld');
    },
  };
}
