import { AuditEntryError } from '../../common/audit/errors.js';
import {
  AUDIT_OUTCOMES,
  AUDIT_RECORD_KINDS,
  auditRecordId,
  freezeDisclosed,
  hashedDisclosedJson,
  hashRecord,
  type AuditCaller,
  type AuditEntry,
  type AuditRecord,
} from '../../common/audit/record.js';

const OPERATION_TYPES = ['query', 'mutation', 'subscription'] as const;
const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Subjects already found to be subject hashes. A string cannot change, so
 * one test per string is enough; the gateway hands over the same hash
 * strings again and again (its cache of recent subjects), and a lookup of a
 * string already hashed by the Set is cheaper than the pattern. Bounded:
 * emptied when full.
 */
const knownHashes = new Set<string>();
const KNOWN_HASHES = 50_000;

function isSubjectHash(subject: string): boolean {
  if (knownHashes.has(subject)) return true;
  if (!HASH_HEX.test(subject)) return false;
  if (knownHashes.size >= KNOWN_HASHES) knownHashes.clear();
  knownHashes.add(subject);
  return true;
}

/**
 * Checks an entry and returns the copy that will be stored and hashed:
 * `time` rewritten as `toISOString()` (milliseconds, `Z`), optional fields
 * made `null`, `detail` passed through JSON, and NUL characters and unpaired
 * surrogates replaced by U+FFFD (see `clean`: one request's odd operation
 * name must not fail the batch it shares with others). The caller's object is
 * not modified and later changes to it do not reach the record.
 *
 * Throws an {@link AuditEntryError} naming the bad field.
 */
export function normalizeAuditEntry(entry: AuditEntry): AuditEntry {
  if (entry === null || typeof entry !== 'object') throw new AuditEntryError('entry', 'must be an object');
  if (!(AUDIT_RECORD_KINDS as readonly unknown[]).includes(entry.kind))
    throw new AuditEntryError('kind', `must be one of ${AUDIT_RECORD_KINDS.join(', ')}`);
  const normalized: AuditEntry = {
    kind: entry.kind,
    time: instant(entry.time),
    requestId: text(entry.requestId, 'requestId'),
    replica: text(entry.replica, 'replica'),
    caller: caller(entry.caller),
    matter: optionalText(entry.matter, 'matter'),
    caseNumber: optionalText(entry.caseNumber, 'caseNumber'),
    operation: operation(entry.operation),
    requested: texts(entry.requested, 'requested'),
    denied: texts(entry.denied, 'denied'),
    disclosed: disclosed(entry.disclosed),
    outcome: outcome(entry.outcome),
    httpStatus: httpStatus(entry.httpStatus),
    errorCodes: texts(entry.errorCodes, 'errorCodes'),
    latencyMs: latency(entry.latencyMs),
  };
  if (entry.detail !== undefined && entry.detail !== null) normalized.detail = detail(entry.detail);
  if (normalized.kind === 'WITHHELD' && (typeof normalized.detail?.withholds !== 'string' || !RECORD_ID.test(normalized.detail.withholds)))
    throw new AuditEntryError('detail.withholds', 'must be the id (<chain>:<seq>) of the record whose answer was withheld');
  return normalized;
}

const RECORD_ID = /^[A-Za-z0-9._:-]{1,128}:[1-9][0-9]{0,15}$/;

/** What the client of a recorded request got instead of the recorded answer: a status (0: nothing) and the catalogue code saying why. */
export interface WithheldAnswer {
  httpStatus: number;
  errorCode: 'AUDIT_UNAVAILABLE' | 'SHUTTING_DOWN' | 'CLIENT_CLOSED_REQUEST';
}

/**
 * The `WITHHELD` entry that follows `record`: the same request, caller,
 * matter, case and operation, the subjects of the answer that did not go
 * out, and what the client got instead. Nothing is disclosed by it.
 */
export function withheldEntry(record: AuditRecord, answer: WithheldAnswer, time: Date = new Date()): AuditEntry {
  const entry: AuditEntry = {
    kind: 'WITHHELD',
    time: time.toISOString(),
    requestId: record.requestId,
    replica: record.replica,
    caller: record.caller,
    matter: record.matter,
    caseNumber: record.caseNumber,
    operation: record.operation,
    requested: [],
    denied: [],
    disclosed: record.disclosed,
    outcome: 'FAILED',
    httpStatus: answer.httpStatus,
    errorCodes: [answer.errorCode],
    latencyMs: 0,
    detail: { withholds: auditRecordId(record) },
  };
  const clientRequestId = record.detail?.clientRequestId;
  if (typeof clientRequestId === 'string') entry.detail!.clientRequestId = clientRequestId;
  return entry;
}

/** Makes an entry the link `seq` of a chain; fields in the order exports write them. */
export function sealRecord(entry: AuditEntry, chainId: string, seq: number, prevHash: string): AuditRecord {
  const unsealed: Omit<AuditRecord, 'hash'> = {
    chainId,
    seq,
    prevHash,
    kind: entry.kind,
    time: entry.time,
    requestId: entry.requestId,
    replica: entry.replica,
    caller: entry.caller,
    matter: entry.matter,
    caseNumber: entry.caseNumber,
    operation: entry.operation,
    requested: entry.requested,
    denied: entry.denied,
    disclosed: entry.disclosed,
    outcome: entry.outcome,
    httpStatus: entry.httpStatus,
    errorCodes: entry.errorCodes,
    latencyMs: entry.latencyMs,
  };
  if (entry.detail !== undefined) unsealed.detail = entry.detail;
  const { chainId: c, seq: s, prevHash: p, ...rest } = unsealed;
  return { chainId: c, seq: s, prevHash: p, hash: hashRecord(unsealed), ...rest };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what a store cannot keep
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Whether a string might hold something UNSTORABLE: a cheaper test that most strings pass. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what a store cannot keep
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/**
 * NUL and unpaired surrogates become U+FFFD: PostgreSQL refuses NUL, and an
 * unpaired surrogate would be stored as U+FFFD anyway (UTF-8 cannot carry
 * it), so the hash must be computed on what the database gives back.
 */
function clean(value: string): string {
  return SUSPECT.test(value) ? value.replace(UNSTORABLE, '\uFFFD') : value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new AuditEntryError(field, 'must be a string');
  return clean(value);
}

function optionalText(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : text(value, field);
}

function texts(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new AuditEntryError(field, 'must be an array of strings');
  return value.map((item, index) => text(item, `${field}[${index}]`));
}

function instant(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
    throw new AuditEntryError('time', 'must be an ISO 8601 date-time, e.g. 2026-11-22T08:30:00.000Z');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AuditEntryError('time', `is not a valid date-time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

function caller(value: unknown): AuditCaller | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') throw new AuditEntryError('caller', 'must be an object or null');
  const c = value as Record<string, unknown>;
  return {
    subject: text(c.subject, 'caller.subject'),
    organisation: text(c.organisation, 'caller.organisation'),
    province: text(c.province, 'caller.province'),
    issuer: text(c.issuer, 'caller.issuer'),
    tokenId: text(c.tokenId, 'caller.tokenId'),
  };
}

function operation(value: unknown): AuditEntry['operation'] {
  if (value === null || value === undefined) return { name: null, type: null, hash: null };
  if (typeof value !== 'object') throw new AuditEntryError('operation', 'must be an object');
  const o = value as Record<string, unknown>;
  const type = o.type ?? null;
  if (type !== null && !(OPERATION_TYPES as readonly unknown[]).includes(type)) {
    throw new AuditEntryError('operation.type', `must be one of ${OPERATION_TYPES.join(', ')} or null`);
  }
  return {
    name: optionalText(o.name, 'operation.name'),
    type: type as AuditEntry['operation']['type'],
    hash: optionalText(o.hash, 'operation.hash'),
  };
}

function disclosed(value: unknown): AuditEntry['disclosed'] {
  if (!Array.isArray(value)) throw new AuditEntryError('disclosed', 'must be an array');
  // Field names such as `disclosed[7].subject` are made only for an error: this runs for every item of every record.
  const field = (index: number, name?: string): string => `disclosed[${index}]${name ? `.${name}` : ''}`;
  const items: AuditEntry['disclosed'] = new Array(value.length);
  let lastSubgraph: string | null = null;
  let cleanSubgraph = '';
  let lastType: string | null = null;
  let cleanType = '';
  for (let index = 0; index < value.length; index++) {
    const item = value[index] as unknown;
    if (item === null || typeof item !== 'object') throw new AuditEntryError(field(index), 'must be an object');
    const { subject, subgraph, type } = item as Record<string, unknown>;
    if (typeof subject !== 'string') throw new AuditEntryError(field(index, 'subject'), 'must be a string');
    // Guard: the log must never become a copy of personal data. Only keyed hashes pass.
    if (!isSubjectHash(subject))
      throw new AuditEntryError(field(index, 'subject'), 'must be a subject hash (64 lowercase hex), never a raw identifier');
    if (typeof subgraph !== 'string') throw new AuditEntryError(field(index, 'subgraph'), 'must be a string');
    if (typeof type !== 'string') throw new AuditEntryError(field(index, 'type'), 'must be a string');
    // A hash is plain ASCII: nothing in it to clean. Domain and type names repeat from item to item.
    if (subgraph !== lastSubgraph) cleanSubgraph = clean((lastSubgraph = subgraph));
    if (type !== lastType) cleanType = clean((lastType = type));
    items[index] = { subgraph: cleanSubgraph, type: cleanType, subject };
  }
  // Frozen with its text: the store writes the same text the hash is computed on (disclosedJson).
  freezeDisclosed(items, hashedDisclosedJson(items));
  return items;
}

function outcome(value: unknown): AuditEntry['outcome'] {
  if (!(AUDIT_OUTCOMES as readonly unknown[]).includes(value)) throw new AuditEntryError('outcome', `must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  return value as AuditEntry['outcome'];
}

function httpStatus(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 999)
    throw new AuditEntryError('httpStatus', 'must be a whole number from 0 to 999');
  return value as number;
}

function latency(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new AuditEntryError('latencyMs', 'must be a finite number ≥ 0');
  // -0 would serialise as 0 but read back as 0 too; normalise so the hash is computed on what is stored.
  return value === 0 ? 0 : value;
}

function detail(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || Array.isArray(value)) throw new AuditEntryError('detail', 'must be a JSON object');
  // Every request's detail is a few plain strings and numbers: copied and cleaned in one walk.
  const plain = plainCopy(value, 0, PLAIN_DEPTH);
  if (plain !== undefined) return plain as Record<string, unknown>;
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(value));
  } catch (error) {
    throw new AuditEntryError('detail', `must be JSON-serialisable: ${(error as Error).message}`);
  }
  // What JSON gives back is plain and acyclic, however deep.
  return plainCopy(copy, 0, Number.POSITIVE_INFINITY) as Record<string, unknown>;
}

/** How deep the one-walk copy goes before it leaves a tree (perhaps a cycle) to JSON. */
const PLAIN_DEPTH = 8;

/**
 * A cleaned copy of a tree of plain objects, arrays, strings, finite numbers,
 * booleans and nulls — what `JSON.parse(JSON.stringify(…))` would give — or
 * undefined at the first thing JSON would change or refuse (undefined, a
 * non-finite number, a class instance, `toJSON`, a cycle), which then takes
 * the JSON path.
 */
function plainCopy(value: unknown, depth: number, maxDepth: number): unknown {
  if (typeof value === 'string') return clean(value);
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'object' || depth > maxDepth) return undefined;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const copy = plainCopy(item, depth + 1, maxDepth);
      if (copy === undefined) return undefined;
      items.push(copy);
    }
    return items;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = plainCopy((value as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (item === undefined) return undefined;
    copy[clean(key)] = item;
  }
  return copy;
}
