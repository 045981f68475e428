/**
 * ISO 8601 instants as documents and trust lists carry them: a full date and
 * time with an explicit offset, so that "valid until" never depends on the
 * verifier's time zone.
 */

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an ISO 8601 instant with offset, or null when `value` is not one. */
export function instantMillis(value: unknown): number | null {
  if (typeof value !== 'string' || !INSTANT.test(value)) return null;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? null : millis;
}

/**
 * Normalises a Date or an ISO 8601 instant string to `toISOString()` form
 * (UTC, milliseconds), or returns null when it is neither.
 */
export function toInstant(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const millis = instantMillis(value);
  return millis === null ? null : new Date(millis).toISOString();
}
