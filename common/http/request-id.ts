import { randomUUID } from 'node:crypto';

/** The header a caller's own id for a request travels in (and each service's id travels back in). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The longest correlation id kept. */
export const MAX_CORRELATION_ID_LENGTH = 128;

/** Letters, digits and `._:-`: safe in a header, a log line and a URL, and not a place for free text. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]+$/;

/**
 * Fifteen digits in a row: a citizen ID number (15 digits in the first
 * generation, 17 and a check character since 1999) or a bank card. A
 * correlation id is stored and logged as it is, which raw personal
 * identifiers never are.
 */
const DIGIT_RUN = /\d{15}/;

/** The ids of one request: the service's own, and the caller's when it sent one. */
export interface RequestIds {
  /** Made by this service for every request, unique: the id of the audit record and of every log line. */
  requestId: string;
  /** The caller's `x-request-id`, validated, kept beside `requestId` (never in its place); null when none was sent. */
  correlationId: string | null;
}

/** What is wrong with a caller's correlation id. */
export class CorrelationIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorrelationIdError';
  }
}

/** A fresh request id (a random UUID): never taken from the request. */
export function newRequestId(): string {
  return randomUUID();
}

/**
 * A caller's correlation id from its `x-request-id` header: null when there
 * is none; throws `CorrelationIdError` when it is not 1-128 letters, digits,
 * dots, underscores, colons or dashes, or holds 15 or more digits in a row.
 * The header sent twice arrives joined with ", " and is refused too.
 */
export function correlationIdOf(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value.length === 0 || value.length > MAX_CORRELATION_ID_LENGTH || !CORRELATION_ID.test(value)) {
    throw new CorrelationIdError(
      `Header ${REQUEST_ID_HEADER} must be 1-${MAX_CORRELATION_ID_LENGTH} letters, digits, dots, underscores, colons or dashes, sent once.`,
    );
  }
  if (DIGIT_RUN.test(value)) {
    throw new CorrelationIdError(
      `Header ${REQUEST_ID_HEADER} may not hold 15 or more digits in a row: it is stored and logged as it is, and personal identifiers never are.`,
    );
  }
  return value;
}
