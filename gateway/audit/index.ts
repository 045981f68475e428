/**
 * The audit trail's storage layer: records sealed into one hash chain per
 * gateway replica, committed durably in groups, anchored by signed
 * checkpoints, searchable by person without storing identifiers, verifiable
 * in place or offline from an export. See README.md in this folder.
 */
export * from '../../common/audit/record.js';
export { normalizeAuditEntry, sealRecord } from './entry.js';
export * from '../../common/audit/errors.js';
export * from '../../common/audit/checkpoint.js';
export * from '../../common/audit/store.js';
export * from './writer.js';
export * from '../../common/audit/verifier.js';
export { AUDIT_EXPORT_FORMAT, AUDIT_EXPORT_VERSION } from '../../common/audit/export.js';
export * from './retention.js';
export { MAX_SEARCH_PAGE } from '../../common/audit/search.js';
export { describeProblem, describeVerification } from '../../common/audit/summary.js';
