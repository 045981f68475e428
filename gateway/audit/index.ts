/**
 * The audit trail's storage layer: records sealed into one hash chain per
 * gateway replica, committed durably in groups, anchored by signed
 * checkpoints, searchable by person without storing identifiers, verifiable
 * in place or offline from an export. See README.md in this folder.
 */
export * from './audit-record.js';
export { normalizeAuditEntry, sealRecord } from './audit-entry.js';
export * from './audit-errors.js';
export * from './audit-checkpoint.js';
export * from './audit-store.js';
export * from './audit-writer.js';
export * from './audit-verifier.js';
export { AUDIT_EXPORT_FORMAT, AUDIT_EXPORT_VERSION } from './audit-export.js';
export * from './audit-retention.js';
export { MAX_SEARCH_PAGE } from './audit-search.js';
export { describeProblem, describeVerification } from './audit-summary.js';
