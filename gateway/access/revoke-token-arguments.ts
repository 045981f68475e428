import { parseArgs } from 'node:util';
import { MAX_REASON_LENGTH, MAX_TOKEN_ID_LENGTH } from './revocation-list.js';

/** Usage of `scripts/revoke-token.ts`. */
export const REVOKE_TOKEN_USAGE = 'usage: npx tsx scripts/revoke-token.ts <jti> --expires-at <epoch seconds | ISO 8601> [--reason "..."]';

/** A command-line argument of revoke-token is missing or bad; `argument` names it (`<jti>`, `--expires-at`, `--reason`). */
export class RevokeTokenUsageError extends Error {
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument} ${reason}`);
    this.name = 'RevokeTokenUsageError';
  }
}

/** What revoke-token was asked to do. */
export interface RevokeTokenArguments {
  tokenId: string;
  /** The token's exp, epoch seconds. */
  expiresAt: number;
  reason?: string;
}

function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      'expires-at': { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
}

/**
 * Parses revoke-token's command line (kept apart from the script so that
 * every refusal can be tested without spawning a process). Returns 'help'
 * for `--help`; throws a {@link RevokeTokenUsageError} naming the argument.
 */
export function parseRevokeTokenArguments(argv: readonly string[]): RevokeTokenArguments | 'help' {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    throw new RevokeTokenUsageError('arguments', `are not understood: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0 || positionals[0].trim() === '') {
    throw new RevokeTokenUsageError('<jti>', 'is required (the id of the token to revoke)');
  }
  if (positionals.length > 1) throw new RevokeTokenUsageError('<jti>', `must be one token id, got ${positionals.length} arguments`);
  if (positionals[0].length > MAX_TOKEN_ID_LENGTH) {
    throw new RevokeTokenUsageError('<jti>', `must be at most ${MAX_TOKEN_ID_LENGTH} characters`);
  }
  if (values.reason !== undefined && values.reason.length > MAX_REASON_LENGTH) {
    throw new RevokeTokenUsageError('--reason', `must be at most ${MAX_REASON_LENGTH} characters`);
  }
  return { tokenId: positionals[0], expiresAt: parseExpiresAt(values['expires-at']), reason: values.reason };
}

/** The token's exp in epoch seconds, from epoch seconds or an ISO 8601 date(-time). */
function parseExpiresAt(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') throw new RevokeTokenUsageError('--expires-at', 'is required (the token’s exp)');
  const value = raw.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    // Milliseconds (13 digits) are a common slip; they would keep the entry for millennia.
    if (seconds >= 1e11) throw new RevokeTokenUsageError('--expires-at', `must be epoch seconds, not milliseconds: got '${raw}'`);
    return seconds;
  }
  // ISO 8601 only: Date.parse also accepts forms whose time zone it guesses.
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms / 1000;
  }
  throw new RevokeTokenUsageError('--expires-at', `must be epoch seconds or an ISO 8601 date-time such as 2030-01-31T12:00:00Z, got '${raw}'`);
}
