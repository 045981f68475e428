import type { AuditCaller, AuditEntry } from '../../common/audit/record.js';
import { readDisclosureReport } from '../../common/disclosure.js';
import type { RequestIds } from '../../common/http/server.js';
import type { Caller } from '../auth/caller.js';
import type { Purpose } from '../authorization/purpose-binding.js';

/** What a subgraph reported it disclosed: raw keys by type; hashed when the entry is built, never stored raw. */
export interface DraftDisclosure {
  subgraph: string;
  type: string;
  keys: readonly string[];
}

export function auditCallerOf(caller: Caller): AuditCaller {
  return { subject: caller.subject, organisation: caller.organisation, province: caller.province, issuer: caller.issuer, tokenId: caller.tokenId };
}

/**
 * The audit draft of one request, filled in as the request goes — and only
 * through these methods: admission notes the caller and purpose, the engine
 * the operation and what the scopes allowed, the subgraph fetch stage what
 * each subgraph disclosed, the answer its error codes. The request audit
 * (`request-audit.ts`) reads it once, to build the record. Created per
 * request; never shared.
 */
export class AuditDraft {
  /** The gateway's own id of the request: unique, never the caller's. */
  readonly requestId: string;
  /** The caller's `x-request-id`, validated; kept in the record's `detail.clientRequestId`. */
  readonly correlationId: string | null;
  /** performance.now() when the request arrived. */
  readonly started = performance.now();
  readonly time = new Date().toISOString();
  #caller: AuditCaller | null = null;
  #purpose: Purpose | null = null;
  #operation: AuditEntry['operation'] = { name: null, type: null, hash: null };
  #requested: readonly string[] = [];
  #denied: readonly string[] = [];
  readonly #disclosed: DraftDisclosure[] = [];
  readonly #errorCodes = new Set<string>();

  constructor({ requestId, correlationId }: RequestIds) {
    this.requestId = requestId;
    this.correlationId = correlationId;
  }

  get caller(): AuditCaller | null {
    return this.#caller;
  }
  get purpose(): Purpose | null {
    return this.#purpose;
  }
  get operation(): AuditEntry['operation'] {
    return this.#operation;
  }
  get requested(): readonly string[] {
    return this.#requested;
  }
  get denied(): readonly string[] {
    return this.#denied;
  }
  get disclosed(): readonly DraftDisclosure[] {
    return this.#disclosed;
  }
  get errorCodes(): ReadonlySet<string> {
    return this.#errorCodes;
  }

  /** The verified caller (authentication). */
  noteCaller(caller: Caller): void {
    this.#caller = auditCallerOf(caller);
  }

  /** The declared matter and case (purpose binding). */
  notePurpose(purpose: Purpose): void {
    this.#purpose = purpose;
  }

  /** The operation resolved from the document. */
  noteOperation(operation: AuditEntry['operation']): void {
    this.#operation = operation;
  }

  /** What the operation asked for, and which coordinates the scopes withheld. */
  noteAuthorization(requested: Iterable<string>, denied: Iterable<string>): void {
    this.#requested = [...requested];
    this.#denied = [...new Set(denied)];
  }

  /** A subgraph's disclosure report (the `disclosed` response extension), read as it came. */
  noteDisclosure(subgraph: string, report: unknown): void {
    for (const { type, keys } of readDisclosureReport(report)) this.#disclosed.push({ subgraph, type, keys });
  }

  /** An error code the answer carries. */
  noteErrorCode(code: string): void {
    this.#errorCodes.add(code);
  }
}
