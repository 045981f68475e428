/**
 * Errors of the audit layer. Each carries a stable `code` that callers
 * branch on; messages are for operators and logs. The gateway maps
 * `AUDIT_UNAVAILABLE` to its own 503 and never shows the cause to clients.
 */

/**
 * The audit store cannot take (or give back) records right now: the
 * database is unreachable, the SQLite file cannot be opened or written, the
 * writer thread died. `append` rejects with it and the gateway must withhold
 * the answer (durable before disclosure). The cause is kept for the log.
 */
export class AuditUnavailableError extends Error {
  readonly code = 'AUDIT_UNAVAILABLE' as const;

  constructor(message = 'The audit store is unavailable.', options?: { cause?: unknown }) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`${message}${cause}`, options);
    this.name = 'AuditUnavailableError';
  }
}

/**
 * A batch was refused because a record with the same `(chainId, seq)` is
 * already stored: another writer is appending to this chain (two replicas
 * configured with the same replica id), or a batch thought lost was in fact
 * committed. Nothing of the batch was written. The writer re-reads the head
 * before its next batch, so the chain stays consistent either way.
 */
export class AuditChainConflictError extends Error {
  readonly code = 'AUDIT_CHAIN_CONFLICT' as const;

  constructor(
    readonly chainId: string,
    options?: { cause?: unknown },
  ) {
    super(`Another record already holds a sequence number of chain ${chainId}: is a second writer using this chain id?`, options);
    this.name = 'AuditChainConflictError';
  }
}

/**
 * An audit option is invalid. Thrown by the `normalize…` functions at
 * start-up, so a misconfiguration stops the gateway before its first request.
 */
export class AuditOptionError extends TypeError {
  readonly code = 'INVALID_AUDIT_OPTION' as const;

  /** The offending option, as a dotted path, e.g. `signing.kid`. */
  readonly option: string;

  constructor(option: string, reason: string) {
    super(`Invalid audit option: ${option} ${reason}`);
    this.name = 'AuditOptionError';
    this.option = option;
  }
}

/**
 * An audit entry handed to `append` is malformed (a programming error in the
 * caller, e.g. a missing field). Only that append is refused; the entries
 * queued with it are unaffected.
 */
export class AuditEntryError extends TypeError {
  readonly code = 'INVALID_AUDIT_ENTRY' as const;

  /** The offending field, as a dotted path, e.g. `caller.subject`. */
  readonly field: string;

  constructor(field: string, reason: string) {
    super(`Invalid audit entry: ${field} ${reason}`);
    this.name = 'AuditEntryError';
    this.field = field;
  }
}

/**
 * A search or report argument is invalid: `BAD_CURSOR` for a cursor this
 * store did not hand out, `BAD_SEARCH` for anything else (page size, a date
 * that is not ISO 8601, an unknown outcome). The review API answers 400.
 */
export class AuditQueryError extends Error {
  constructor(
    readonly code: 'BAD_CURSOR' | 'BAD_SEARCH',
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument} ${reason}`);
    this.name = 'AuditQueryError';
  }
}

/** The audit HMAC key file is missing, unreadable or not 32 bytes. */
export class AuditKeyError extends Error {
  readonly code = 'INVALID_AUDIT_KEY' as const;

  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Audit key ${file} ${reason}`, options);
    this.name = 'AuditKeyError';
  }
}

/**
 * An NDJSON export cannot be read as an export at all (no header, a line
 * outside any chain that is not JSON, an unknown version). Tampering inside
 * a chain is not an error but a finding of the verification report.
 */
export class AuditExportFormatError extends Error {
  readonly code = 'INVALID_AUDIT_EXPORT' as const;

  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`Audit export line ${line}: ${reason}`);
    this.name = 'AuditExportFormatError';
  }
}
