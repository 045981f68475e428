import type { AuditOutcome } from '../../common/audit/record.js';
import { ERRORS } from '../../common/errors.js';

/** Codes that refuse the caller, and codes that withhold part of an answer: from the catalogue. */
const DENIAL_CODES: ReadonlySet<string> = new Set(Object.entries(ERRORS).flatMap(([code, spec]) => (spec.denies ? [code] : [])));
const PARTIAL_CODES: ReadonlySet<string> = new Set(Object.entries(ERRORS).flatMap(([code, spec]) => (spec.withholds ? [code] : [])));

/** Allowed, partly allowed, denied or failed — from the answer's status, its error codes and whether anything was disclosed. */
export function classifyOutcome(status: number, codes: ReadonlySet<string>, disclosedAnything: boolean): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'DENIED';
  if (status >= 400) return [...codes].some((c) => DENIAL_CODES.has(c)) ? 'DENIED' : 'FAILED';
  if (codes.size === 0) return 'ALLOWED';
  if ([...codes].some((c) => PARTIAL_CODES.has(c))) return disclosedAnything ? 'PARTIAL' : 'DENIED';
  return disclosedAnything ? 'PARTIAL' : 'FAILED';
}
