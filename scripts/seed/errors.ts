/**
 * Errors of the seeder, with a stable `code` callers can branch on (the CLI
 * maps them to exit codes) instead of matching message text.
 */
export type SeedErrorCode =
  /** An option is missing, of the wrong type or out of range. */
  | 'INVALID_OPTION'
  /** The data folder already holds domain databases and overwriting was not allowed. */
  | 'ALREADY_SEEDED'
  /** Overwriting would discard issued documents (or databases that may keep some), and discarding them was not allowed. */
  | 'ISSUED_DOCUMENTS_PRESENT'
  /** The run was aborted through its signal; nothing was installed. */
  | 'ABORTED';

export class SeedError extends Error {
  readonly code: SeedErrorCode;
  /** For INVALID_OPTION: the option at fault. */
  readonly option?: string;

  constructor(code: SeedErrorCode, message: string, options: { option?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeedError';
    this.code = code;
    this.option = options.option;
  }
}
