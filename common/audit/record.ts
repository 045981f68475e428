import { createHash, createHmac } from 'node:crypto';

export { ensureAuditKey, loadAuditKey, auditKeyFile, AUDIT_KEY_BYTES } from './key.js';

/** How a request ended, as far as disclosure goes. */
export type AuditOutcome = 'ALLOWED' | 'PARTIAL' | 'DENIED' | 'FAILED';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED'];

/** The verified caller of a request: a system of a provincial authority. */
export interface AuditCaller {
  subject: string;
  organisation: string;
  province: string;
  issuer: string;
  tokenId: string;
}

/** One record a subgraph returned. `subject` is the keyed hash (see {@link subjectHash}), never the raw identifier. */
export interface DisclosedSubject {
  subgraph: string;
  type: 'Person' | 'Organisation' | string;
  subject: string;
}

/**
 * What a record is: the record of one request (`REQUEST`), of a retention
 * run (`PRUNE`), or the record that an answer already recorded did not reach
 * its client as recorded (`WITHHELD`; see {@link AuditEntry.kind}).
 */
export type AuditRecordKind = 'REQUEST' | 'PRUNE' | 'WITHHELD';

export const AUDIT_RECORD_KINDS: readonly AuditRecordKind[] = ['REQUEST', 'PRUNE', 'WITHHELD'];

/** What the gateway hands over per request (or, kind `PRUNE`, per retention run; kind `WITHHELD`, per answer that did not go out as recorded). */
export interface AuditEntry {
  /**
   * `WITHHELD` follows a `REQUEST` record of the same chain whose answer
   * the client did not get as recorded (the store's commit came too late, or
   * the connection was gone): `detail.withholds` is that record's id,
   * `httpStatus` what the client got instead (503, or 0 for nothing),
   * `errorCodes` why (`AUDIT_UNAVAILABLE`, `SHUTTING_DOWN`,
   * `CLIENT_CLOSED_REQUEST`), and `disclosed` the subjects of the answer that
   * was withheld, so that a search by person finds it. Records are never
   * rewritten: the truth about delivery is a further link of the chain.
   */
  kind: AuditRecordKind;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-11-22T08:30:00.000Z`. */
  time: string;
  requestId: string;
  replica: string;
  /** Null when the request was not authenticated. */
  caller: AuditCaller | null;
  matter: string | null;
  caseNumber: string | null;
  operation: { name: string | null; type: 'query' | 'mutation' | 'subscription' | null; hash: string | null };
  /** Schema coordinates requested, e.g. `Person.credit`. */
  requested: string[];
  /** Coordinates removed by scope enforcement. */
  denied: string[];
  /** The records actually returned, per subgraph. */
  disclosed: DisclosedSubject[];
  outcome: AuditOutcome;
  httpStatus: number;
  errorCodes: string[];
  latencyMs: number;
  /** Free-form JSON, e.g. for PRUNE the ranges pruned. */
  detail?: Record<string, unknown>;
}

/** An entry as stored: a link of its writer's hash chain. */
export interface AuditRecord extends AuditEntry {
  chainId: string;
  /** 1, 2, 3 … without gaps within a chain. */
  seq: number;
  /** The previous record's hash; {@link GENESIS_HASH} for seq 1. */
  prevHash: string;
  /** {@link hashRecord} of this record. */
  hash: string;
}

/** A record's id, `<chain>:<seq>`: what auditors and `WITHHELD` records refer to it by. */
export function auditRecordId(record: Pick<AuditRecord, 'chainId' | 'seq'>): string {
  return `${record.chainId}:${record.seq}`;
}

/** prevHash of the first record of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Version tag that opens every canonical serialisation. Changing the
 * serialisation below means a new tag, and verifiers that know both: records
 * already written must keep verifying. Please leave it intact.
 */
export const AUDIT_RECORD_FORMAT = 'kuasheng-audit-record/1';

/**
 * The exact text that {@link hashRecord} hashes: a JSON array (no spaces) of
 *
 * ```
 * [format, chainId, seq, prevHash, kind, time, requestId, replica,
 *  caller as [subject, organisation, province, issuer, tokenId] or null,
 *  matter, caseNumber, [operation.name, operation.type, operation.hash],
 *  requested, denied, disclosed as [[subgraph, type, subject], …],
 *  outcome, httpStatus, errorCodes, latencyMs,
 *  detail with object keys sorted recursively, or null when absent]
 * ```
 *
 * Every kind uses these positions: a `WITHHELD` record names the record it
 * follows in `detail.withholds`, so the form serves it unchanged and the
 * chains written before it keep verifying.
 *
 * Positions, not key names, fix the order, so the text does not depend on
 * how a database returns JSON objects (PostgreSQL's jsonb reorders keys).
 * Strings and numbers are as `JSON.stringify` writes them; both stores give
 * back the same strings and IEEE doubles, so the hash survives round trips.
 */
export function canonicalRecord(record: Omit<AuditRecord, 'hash'>): string {
  const [head, disclosed, tail] = canonicalParts(record);
  return head + disclosed + tail;
}

/**
 * {@link canonicalRecord} in three pieces: what comes before the `disclosed`
 * list, the list, and what comes after. The list is most of a record (a
 * 50-person batch check discloses 100 items) and plain ASCII; hashed on its
 * own, it is not copied into one string with the rest, which is two-byte as
 * soon as a name in it is Chinese.
 */
function canonicalParts(record: Omit<AuditRecord, 'hash'>): [string, string, string] {
  const caller = record.caller ?? null;
  const operation = record.operation ?? { name: null, type: null, hash: null };
  const head = JSON.stringify([
    AUDIT_RECORD_FORMAT,
    record.chainId,
    record.seq,
    record.prevHash,
    record.kind,
    record.time,
    record.requestId,
    record.replica,
    caller === null ? null : [caller.subject, caller.organisation, caller.province, caller.issuer, caller.tokenId],
    record.matter ?? null,
    record.caseNumber ?? null,
    [operation.name ?? null, operation.type ?? null, operation.hash ?? null],
    record.requested,
    record.denied,
  ]);
  const tail = JSON.stringify([
    record.outcome,
    record.httpStatus,
    record.errorCodes,
    record.latencyMs,
    record.detail === undefined || record.detail === null ? null : sortKeys(record.detail),
  ]);
  // `[…head]` and `[…tail]` joined around the list: the same text as one JSON.stringify of the whole array.
  return [`${head.slice(0, -1)},`, disclosedJson(record.disclosed), `,${tail.slice(1)}`];
}

/**
 * The text of each frozen `disclosed` list, once made: a record's list is
 * written out twice, for its hash and for its row, and it is most of the
 * record. Only lists frozen by {@link freezeDisclosed} are remembered (they
 * cannot change afterwards); for them the entry is null until the text is made.
 */
const disclosedTexts = new WeakMap<readonly unknown[], string | null>();

/**
 * Freezes a `disclosed` list and its items (normalizeAuditEntry does, for the
 * copy it makes), so that {@link disclosedJson} may remember its text;
 * `text`, when given, is that text already made (it must be exactly what
 * `disclosedJson` would make).
 */
export function freezeDisclosed(list: DisclosedSubject[], text: string | null = null): void {
  for (const item of list) Object.freeze(item);
  Object.freeze(list);
  disclosedTexts.set(list, text);
}

/** JSON string literals of domain and type names, which repeat from item to item and record to record. */
const nameLiterals = new Map<string, string>();
const NAME_LITERALS = 1024;

/**
 * The text of {@link disclosedJson} for items whose subjects are known to be
 * subject hashes (lowercase hex, nothing to escape): built by concatenation,
 * without an array per item for `JSON.stringify` to walk. The same text,
 * character for character.
 */
export function hashedDisclosedJson(items: readonly DisclosedSubject[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    const { subgraph, type, subject } = items[i];
    text += `${i === 0 ? '[' : ',['}${nameLiteral(subgraph)},${nameLiteral(type)},"${subject}"]`;
  }
  return `${text}]`;
}

function nameLiteral(name: string): string {
  let literal = nameLiterals.get(name);
  if (literal === undefined) {
    literal = JSON.stringify(name);
    if (nameLiterals.size < NAME_LITERALS) nameLiterals.set(name, literal);
  }
  return literal;
}

/**
 * The `disclosed` list as {@link canonicalRecord} writes it,
 * `[[subgraph, type, subject], …]`. The stores keep the list in this form
 * too (audit-columns.ts).
 */
export function disclosedJson(disclosed: unknown): string {
  // Not an array only when a row was changed by hand: hashed as found, so the mismatch shows.
  if (!Array.isArray(disclosed)) return JSON.stringify(disclosed) ?? 'null';
  const known = disclosedTexts.get(disclosed);
  if (typeof known === 'string') return known;
  const text = JSON.stringify(
    disclosed.map((d: DisclosedSubject | null) => (d !== null && typeof d === 'object' ? [d.subgraph, d.type, d.subject] : d)),
  );
  if (known === null) disclosedTexts.set(disclosed, text);
  return text;
}

/** The record's hash: SHA-256 hex of {@link canonicalRecord}. Any `hash` property on the argument is ignored. */
export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  const [head, disclosed, tail] = canonicalParts(record);
  return createHash('sha256').update(head, 'utf8').update(disclosed, 'utf8').update(tail, 'utf8').digest('hex');
}

/** Whether a stored record still hashes to its own `hash` (its contents, seq, chain and link unchanged). */
export function recordHashMatches(record: AuditRecord): boolean {
  return hashRecord(record) === record.hash;
}

/**
 * The keyed hash under which a disclosed subject is stored and searched:
 * HMAC-SHA256 hex of `${type}:${identifier}` (e.g. `Person:110101199003071234`).
 * Without the key, the log cannot be turned back into identifiers by
 * hashing every possible ID number; with it, an auditor finds a person.
 */
export function subjectHash(key: Uint8Array, type: string, identifier: string): string {
  return createHmac('sha256', key).update(`${type}:${identifier}`, 'utf8').digest('hex');
}

/** A JSON value with every object's keys in `Array.prototype.sort` order (UTF-16 code units). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeys(item);
    }
    return sorted;
  }
  return value;
}
