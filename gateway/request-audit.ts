import type { Logger } from 'pino';
import type { HttpAnswer, RequestIds } from '../common/http/server.js';
import type { AuditEntry, AuditOutcome } from '../common/audit/record.js';
import { AuditDraft } from './audit/draft.js';
import { subjectHash } from '../common/audit/record.js';
import { AuditUnavailableError, type AuditWriter } from './audit/writer.js';
import { ERRORS } from '../common/errors.js';

export { AuditDraft, auditCallerOf } from './audit/draft.js';

/** A new request's draft (tests; the request audit's `begin` counts it too). */
export function beginAuditDraft(ids: RequestIds): AuditDraft {
  return new AuditDraft(ids);
}

/** Codes that refuse the caller, and codes that withhold part of an answer: from the catalogue. */
const DENIAL_CODES: ReadonlySet<string> = new Set(Object.entries(ERRORS).flatMap(([code, spec]) => (spec.denies ? [code] : [])));
const PARTIAL_CODES: ReadonlySet<string> = new Set(Object.entries(ERRORS).flatMap(([code, spec]) => (spec.withholds ? [code] : [])));

/** Allowed, partly allowed, denied or failed — from the answer and what the draft saw. */
export function classifyOutcome(status: number, codes: ReadonlySet<string>, disclosedAnything: boolean): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'DENIED';
  if (status >= 400) return [...codes].some((c) => DENIAL_CODES.has(c)) ? 'DENIED' : 'FAILED';
  if (codes.size === 0) return 'ALLOWED';
  if ([...codes].some((c) => PARTIAL_CODES.has(c))) return disclosedAnything ? 'PARTIAL' : 'DENIED';
  return disclosedAnything ? 'PARTIAL' : 'FAILED';
}

function codesFromBody(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] };
    return (parsed.errors ?? []).map((e) => e.extensions?.code).filter((c): c is string => typeof c === 'string');
  } catch {
    return [];
  }
}

/** Subject hashes remembered across requests. */
const SUBJECT_HASH_CACHE_SIZE = 20_000;

export interface RequestAuditOptions {
  /** Null only when audit is switched off (AUDIT_MODE=off, benchmarks). */
  writer: AuditWriter | null;
  subjectKey: Uint8Array;
  replica: string;
  logger: Logger;
}

/** The first and last steps of every request, as the HTTP layer calls them (`begin`, `complete`). */
export interface RequestAudit {
  /** Starts a request's draft (also for a request the HTTP parser refused). */
  begin(ids: RequestIds): AuditDraft;
  /**
   * The last step of every request: its audit entry is appended and made
   * durable before the answer leaves (durable before disclosure). When the
   * audit store cannot take it, the answer is replaced by 503
   * AUDIT_UNAVAILABLE: never unaudited data. Also writes the one operational
   * log line per request (no tokens, no identifiers).
   */
  complete(draft: AuditDraft, answer: HttpAnswer): Promise<HttpAnswer>;
  /** Requests begun whose entries have not gone to the writer yet: the writer's commit siblings. */
  backlog(): number;
}

export function createRequestAudit(options: RequestAuditOptions): RequestAudit {
  // Drafts begun and not yet completed, each counted once (complete may run twice when an answer fails).
  let backlog = 0;
  const counted = new WeakSet<AuditDraft>();
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
      hash = subjectHash(options.subjectKey, type, key);
      if (cached >= SUBJECT_HASH_CACHE_SIZE && byKey.size > 0) {
        byKey.delete(byKey.keys().next().value!);
        cached--;
      }
      byKey.set(key, hash);
      cached++;
    }
    return hash;
  };
  const begin = (ids: RequestIds): AuditDraft => {
    const draft = beginAuditDraft(ids);
    counted.add(draft);
    backlog++;
    return draft;
  };
  const complete = async (draft: AuditDraft, answer: HttpAnswer): Promise<HttpAnswer> => {
    if (counted.delete(draft)) backlog--;
    const latencyMs = Math.round((performance.now() - draft.started) * 1000) / 1000;
    if (answer.rejection) draft.noteErrorCode(answer.rejection.code);
    if (draft.errorCodes.size === 0 && answer.status !== 200) for (const code of codesFromBody(answer.body)) draft.noteErrorCode(code);
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
    const outcome = classifyOutcome(answer.status, codes, disclosed.length > 0);
    const entry: AuditEntry = {
      kind: 'REQUEST',
      time: draft.time,
      requestId: draft.requestId,
      replica: options.replica,
      caller: draft.caller,
      matter: draft.purpose?.matter?.code ?? null,
      caseNumber: draft.purpose?.caseNumber ?? null,
      operation: draft.operation,
      requested: [...draft.requested],
      denied: [...draft.denied],
      disclosed,
      outcome,
      httpStatus: answer.status,
      errorCodes: [...codes],
      latencyMs,
    };
    if (draft.correlationId !== null) entry.detail = { clientRequestId: draft.correlationId };
    let final = answer;
    if (options.writer) {
      try {
        await options.writer.append(entry);
      } catch (error) {
        if (!(error instanceof AuditUnavailableError)) throw error;
        options.logger.error({ err: error, requestId: draft.requestId }, 'audit store unavailable: answer withheld');
        final = {
          status: ERRORS.AUDIT_UNAVAILABLE.status,
          headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': draft.requestId, 'retry-after': '5' },
          body: JSON.stringify({ errors: [{ message: ERRORS.AUDIT_UNAVAILABLE.message, extensions: { code: 'AUDIT_UNAVAILABLE' } }] }),
        };
      }
    }
    options.logger.info(
      {
        requestId: draft.requestId,
        ...(draft.correlationId === null ? {} : { correlationId: draft.correlationId }),
        caller: draft.caller ? { sub: draft.caller.subject, org: draft.caller.organisation, province: draft.caller.province } : null,
        matter: entry.matter,
        operation: draft.operation.name ?? draft.operation.type,
        outcome: final === answer ? outcome : 'FAILED',
        status: final.status,
        codes: entry.errorCodes,
        latencyMs,
      },
      'request',
    );
    return final;
  };
  return { begin, complete, backlog: () => backlog };
}
