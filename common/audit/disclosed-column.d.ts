/** Types of `audit-disclosed-column.js` (plain JavaScript so that the index thread can load it). */
import type { AuditRecord } from './record.js';

/** The `disclosed` list of a record from its column's value; a value that is not such a list is returned as found. */
export declare function decodeDisclosed(value: unknown): AuditRecord['disclosed'];
/** The distinct subjects of a stored `disclosed` list. */
export declare function disclosedSubjects(value: unknown): Set<string>;
