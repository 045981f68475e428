import { RECORD_COLUMNS } from './columns.js';
import { AuditQueryError } from './errors.js';
import { AUDIT_OUTCOMES, type AuditRecord } from './record.js';
import type { AuditSearch } from './store-contract.js';

/** The most records one search page returns. */
export const MAX_SEARCH_PAGE = 200;

/** Where a page ended: the last record's sort key (time, chain, seq). */
export interface SearchCursor {
  time: string;
  chainId: string;
  seq: number;
}

const TEXT_FILTERS = ['subjectHash', 'callerSubject', 'organisation', 'province', 'matter', 'caseNumber'] as const;

/** An ISO 8601 instant as stored (`toISOString()`); throws `BAD_SEARCH` naming the argument. */
export function normalizeInstant(value: unknown, argument: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    throw new AuditQueryError('BAD_SEARCH', argument, 'must be an ISO 8601 instant such as 2026-11-22T08:30:00.000Z');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AuditQueryError('BAD_SEARCH', argument, `is not a valid instant: ${value}`);
  return new Date(ms).toISOString();
}

/** Checks a search filter; empty strings and nulls mean "no filter". */
export function normalizeAuditSearch(filter: AuditSearch = {}): AuditSearch {
  const normalized: AuditSearch = {};
  for (const field of TEXT_FILTERS) {
    const value = (filter as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new AuditQueryError('BAD_SEARCH', field, 'must be a string');
    normalized[field] = value;
  }
  if (filter.outcome !== undefined && filter.outcome !== null) {
    if (!AUDIT_OUTCOMES.includes(filter.outcome)) throw new AuditQueryError('BAD_SEARCH', 'outcome', `must be one of ${AUDIT_OUTCOMES.join(', ')}`);
    normalized.outcome = filter.outcome;
  }
  if (filter.from) normalized.from = normalizeInstant(filter.from, 'from');
  if (filter.to) normalized.to = normalizeInstant(filter.to, 'to');
  return normalized;
}

/** Checks the page size (1…200) and decodes the cursor. */
export function normalizePage(page: { first: number; after?: string | null }): { first: number; after: SearchCursor | null } {
  const first = page?.first;
  if (!Number.isInteger(first) || first < 1 || first > MAX_SEARCH_PAGE) {
    throw new AuditQueryError('BAD_SEARCH', 'first', `must be a whole number from 1 to ${MAX_SEARCH_PAGE}`);
  }
  return { first, after: page.after ? decodeCursor(page.after) : null };
}

export function encodeCursor(record: AuditRecord): string {
  return Buffer.from(JSON.stringify([record.time, record.chainId, record.seq]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): SearchCursor {
  try {
    const [time, chainId, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof time === 'string' && typeof chainId === 'string' && Number.isInteger(seq) && normalizeInstant(time, 'after') === time) {
      return { time, chainId, seq: seq as number };
    }
  } catch {
    // Reported below, whatever the reason.
  }
  throw new AuditQueryError('BAD_CURSOR', 'after', 'is not a cursor this store handed out');
}

/** Binds a value as the statement's next parameter and returns its placeholder. */
export type Bind = (value: unknown, type?: 'text' | 'time' | 'integer') => string;

/** How a backend writes parameters and finds a subject's records. */
export interface SqlDialect {
  /** `?` for SQLite, `$n` with casts for PostgreSQL. */
  param(index: number, type: 'text' | 'time' | 'integer'): string;
  /**
   * The records that disclosed a subject: a subquery of `(chain_id, seq)`,
   * joined to the records as `r`, and a condition on `r` that confirms each
   * one (for an index whose keys are not unique), or null.
   */
  subjectRecords(subjectHash: string, bind: Bind): { source: string; confirm: string | null };
}

/** The exact test of a SQLite record's disclosed subjects, for indexes that may name records that did not disclose it. */
export function sqliteDisclosedSubject(bind: Bind, subjectHash: string): string {
  // Items are [subgraph, type, subject]; stores written before hold { subgraph, type, subject }.
  return `EXISTS (SELECT 1 FROM json_each(r.disclosed) d WHERE COALESCE(d.value ->> '$[2]', d.value ->> '$.subject') = ${bind(subjectHash)})`;
}

function binder(params: unknown[], dialect: SqlDialect): Bind {
  return (value, type = 'text') => {
    params.push(value);
    return dialect.param(params.length, type);
  };
}

/**
 * The search as one statement. Newest first, ties broken by chain and seq,
 * and the cursor compared as a row value on the same key, so pages never
 * overlap or skip a record even when many share a millisecond.
 */
export function searchStatement(
  filter: AuditSearch,
  after: SearchCursor | null,
  limit: number,
  dialect: SqlDialect,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = binder(params, dialect);
  let from = 'audit_records r';
  const where: string[] = [];
  if (filter.subjectHash) {
    const { source, confirm } = dialect.subjectRecords(filter.subjectHash, p);
    from = `(${source}) s JOIN audit_records r ON r.chain_id = s.chain_id AND r.seq = s.seq`;
    if (confirm) where.push(confirm);
  }
  if (filter.callerSubject) where.push(`r.caller_subject = ${p(filter.callerSubject)}`);
  if (filter.organisation) where.push(`r.caller_organisation = ${p(filter.organisation)}`);
  if (filter.province) where.push(`r.caller_province = ${p(filter.province)}`);
  if (filter.matter) where.push(`r.matter = ${p(filter.matter)}`);
  if (filter.caseNumber) where.push(`r.case_number = ${p(filter.caseNumber)}`);
  if (filter.outcome) where.push(`r.outcome = ${p(filter.outcome)}`);
  if (filter.from) where.push(`r.time >= ${p(filter.from, 'time')}`);
  if (filter.to) where.push(`r.time <= ${p(filter.to, 'time')}`);
  if (after) where.push(`(r.time, r.chain_id, r.seq) < (${p(after.time, 'time')}, ${p(after.chainId)}, ${p(after.seq, 'integer')})`);
  const sql = `SELECT ${RECORD_COLUMNS.map((c) => `r.${c}`).join(', ')} FROM ${from}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY r.time DESC, r.chain_id DESC, r.seq DESC LIMIT ${p(limit, 'integer')}`;
  return { sql, params };
}

/**
 * A subject's disclosures grouped by caller and matter (see
 * `AuditStore.accessReport`). A WITHHELD record names the same subjects as
 * the record it follows, so the subject index finds both: the first counts
 * as an access, the second as one whose answer never reached the caller.
 */
export function accessReportStatement(subjectHash: string, from: string, to: string, dialect: SqlDialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = binder(params, dialect);
  const { source, confirm } = dialect.subjectRecords(subjectHash, p);
  const sql = `SELECT r.caller_subject, r.caller_organisation, r.caller_province, r.matter,
      SUM(CASE WHEN r.kind = 'WITHHELD' THEN 0 ELSE 1 END) AS accesses,
      SUM(CASE WHEN r.kind = 'WITHHELD' THEN 1 ELSE 0 END) AS withheld,
      COALESCE(MIN(CASE WHEN r.kind = 'WITHHELD' THEN NULL ELSE r.time END), MIN(r.time)) AS first_time,
      COALESCE(MAX(CASE WHEN r.kind = 'WITHHELD' THEN NULL ELSE r.time END), MAX(r.time)) AS last_time
    FROM (${source}) s JOIN audit_records r ON r.chain_id = s.chain_id AND r.seq = s.seq
    WHERE ${confirm ? `${confirm} AND ` : ''}r.time >= ${p(from, 'time')} AND r.time <= ${p(to, 'time')}
      AND r.caller_subject IS NOT NULL
    GROUP BY r.caller_subject, r.caller_organisation, r.caller_province, r.matter
    ORDER BY last_time DESC, r.caller_subject, r.caller_organisation, r.matter`;
  return { sql, params };
}
