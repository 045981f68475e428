import type { Logger } from 'pino';
import type { AuditEntry } from '../../common/audit/record.js';
import type { OperationAuthorization } from '../authorization/operation-guard.js';
import type { Caller } from '../auth/caller.js';
import type { Purpose } from '../authorization/purpose-binding.js';

/** The operation a request resolved to: name, type and the hash of its query text. */
export type OperationSummary = AuditEntry['operation'];

/**
 * One request's context, created when the request arrives (also for one the
 * HTTP parser refused) and filled in by the plugins as it goes: who asked
 * (authentication), under which matter (purpose binding), which operation
 * (the engine), what the scopes allow of it (scopes), whether identifiers are
 * masked (masking). Plugins read what earlier stages wrote; each field has
 * one writer. Never shared between requests.
 */
export interface RequestContext {
  /** The gateway's own id of the request: unique, never the caller's. */
  readonly requestId: string;
  /** The caller's `x-request-id`, validated; null when none was sent. */
  readonly correlationId: string | null;
  /** The request's logger (the request-id plugin binds the ids to it). */
  logger: Logger;
  /** The verified caller; null until authentication, and for a request refused before it. */
  caller: Caller | null;
  /** The declared matter and the effective scopes; none (no scope at all) until purpose binding. */
  purpose: Purpose;
  /** The operation resolved from the document (parse/validate stage). */
  operation: OperationSummary;
  /** What the effective scopes allow of the operation (the scopes plugin); null until then. */
  authorization: OperationAuthorization | null;
  /** Whether personal identifiers are masked in the answer: true unless a plugin lifts it (masking). */
  maskIdentifiers: boolean;
  /** The operation's cost (demand control): estimated before it runs, actual once answered; null without demand control. */
  cost: { estimated: number; actual: number | null } | null;
}

/** A request past admission: its caller is known. */
export interface GatewayContext extends RequestContext {
  caller: Caller;
}

/** The purpose of a request no plugin has bound: no matter, no scope. */
export const NO_PURPOSE: Purpose = Object.freeze({ matter: null, caseNumber: null, effectiveScopes: new Set<string>() });

/** The operation of a request that has not resolved one. */
export const NO_OPERATION: OperationSummary = Object.freeze({ name: null, type: null, hash: null });
