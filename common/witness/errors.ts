/**
 * The witness's refusals, one catalogue: each has a stable code and the
 * HTTP status C2SP tlog-witness gives it. Answers are plain text (the
 * protocol's), the message in one line; a 409 for an old size that is not
 * the witness's carries its size instead (`text/x.tlog.size`).
 */
export const WITNESS_REFUSALS = {
  /** The body is not an add-checkpoint request: old size line, at most 63 proof lines, an empty line, a checkpoint note. */
  MALFORMED_REQUEST: 400,
  /** The old size is larger than the checkpoint's. */
  OLD_SIZE_TOO_LARGE: 400,
  /** No trusted key of the checkpoint's origin signed it (or a trusted key's signature is wrong). */
  UNTRUSTED_SIGNATURE: 403,
  /** The origin is not one of the logs this witness is configured for. */
  UNKNOWN_ORIGIN: 404,
  /** Not a path of the witness (`/add-checkpoint`, `/checkpoints`, `/checkpoint?origin=`), or no checkpoint cosigned for that origin. */
  NOT_FOUND: 404,
  /** A method the path does not take. */
  METHOD_NOT_ALLOWED: 405,
  /** The old size is not the size of the latest checkpoint cosigned for the origin: the body says that size. */
  OLD_SIZE_MISMATCH: 409,
  /** The checkpoint has the size of the latest cosigned one but another root: the log forked, or was rewritten. */
  ROOT_MISMATCH: 409,
  /** The body is larger than the witness reads. */
  REQUEST_TOO_LARGE: 413,
  /** The consistency proof does not prove the checkpoint an extension of the latest cosigned one. */
  INCONSISTENT: 422,
  /** Anything else: logged with its cause, answered without it. */
  INTERNAL_ERROR: 500,
} as const;

export type WitnessRefusalCode = keyof typeof WITNESS_REFUSALS;

/** A refusal of a witness request: its code, the status the protocol gives it, and a message for the client. */
export class WitnessRefusal extends Error {
  readonly status: number;
  constructor(
    readonly code: WitnessRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'WitnessRefusal';
    this.status = WITNESS_REFUSALS[code];
  }
}
