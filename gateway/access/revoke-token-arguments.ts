import { decodeJwt, decodeProtectedHeader } from 'jose';
import { parseCommandLine, UsageError } from '../../common/command-line.js';
import { MAX_REASON_LENGTH, MAX_TOKEN_ID_LENGTH } from './revocation-list.js';

/** Usage of `npm run token:revoke` (scripts/revoke-token.ts). */
export const REVOKE_TOKEN_USAGE = [
  'usage: npm run token:revoke -- <token> [--reason "..."]',
  '       npm run token:revoke -- --jti <jti> --expires-at <epoch seconds | ISO 8601> [--reason "..."]',
  '  <token>       the token itself (a JWT): its jti and exp are read from it, no key needed',
  '  --jti         the token id, when the token itself is not at hand (also accepted without --jti: <jti> --expires-at …)',
  "  --expires-at  the token's exp; a time already past is refused: pass the token itself if it is still accepted",
  'Writes where the gateway of the same environment reads: Redis when REDIS_URL is set (REDIS_KEY_PREFIX), else',
  '<DATA_DIR>/revocations.db. The token is refused from the next request on.',
].join('\n');

/** A command-line argument of revoke-token is missing or bad; `argument` names it (`<token>`, `<jti>`, `--expires-at`, `--reason`). */
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
  /** Where jti and exp come from: the token itself, or --jti (or <jti>) with --expires-at. */
  source: 'token' | 'arguments';
}

const COMMAND = {
  name: 'token:revoke',
  usage: REVOKE_TOKEN_USAGE,
  options: { jti: { type: 'string' }, 'expires-at': { type: 'string' }, reason: { type: 'string' } },
  allowPositionals: true,
} as const;

/** Three base64url segments: what a compact JWS looks like, and no token id does. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface ParseRevokeTokenOptions {
  /** Clock, epoch milliseconds: an --expires-at at or before it is refused. Default `Date.now`. */
  now?: () => number;
}

/**
 * Parses revoke-token's command line (kept apart from the script so that
 * every refusal can be tested without spawning a process). Returns 'help'
 * for `--help`/`-h`; throws a {@link RevokeTokenUsageError} naming the argument.
 *
 * A token given whole is only decoded, never verified: revoking needs its
 * jti and exp, not proof that it is genuine (a forged token is refused
 * anyway). An --expires-at in the past is refused rather than answered
 * "expired, nothing stored": a token that is still accepted has a later exp,
 * and a mistyped date must not leave it working.
 */
export function parseRevokeTokenArguments(argv: readonly string[], options: ParseRevokeTokenOptions = {}): RevokeTokenArguments | 'help' {
  let parsed: ReturnType<typeof parseCommandLine<typeof COMMAND.options, true>>;
  try {
    parsed = parseCommandLine(COMMAND, argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new RevokeTokenUsageError('arguments', `are not understood: ${error.message}`);
  }
  if (parsed === 'help') return 'help';
  const { values, positionals } = parsed;
  if (values.reason !== undefined && values.reason.length > MAX_REASON_LENGTH) {
    throw new RevokeTokenUsageError('--reason', `must be at most ${MAX_REASON_LENGTH} characters`);
  }
  if (positionals.length > 1) throw new RevokeTokenUsageError('<jti>', `must be one token or token id, got ${positionals.length} arguments`);
  if (values.jti !== undefined && positionals.length > 0) {
    throw new RevokeTokenUsageError('--jti', 'and a positional argument both name the token: give one of them');
  }
  const given = (values.jti ?? positionals[0] ?? '').trim().replace(/^Bearer +/i, '');
  if (given === '') throw new RevokeTokenUsageError('<jti>', 'is required: the token to revoke, or its id (jti) with --expires-at');

  if (values.jti === undefined && COMPACT_JWS.test(given)) {
    if (values['expires-at'] !== undefined) {
      throw new RevokeTokenUsageError('--expires-at', 'is read from the token itself: leave it out, or give --jti instead of the token');
    }
    return { ...claimsOf(given), reason: values.reason, source: 'token' };
  }

  const tokenId = checkTokenId(given, values.jti === undefined ? '<jti>' : '--jti');
  const expiresAt = parseExpiresAt(values['expires-at']);
  const now = (options.now ?? Date.now)();
  if (expiresAt * 1000 <= now) {
    throw new RevokeTokenUsageError(
      '--expires-at',
      `is in the past (${new Date(expiresAt * 1000).toISOString()}): if the token is still accepted, its exp is later; pass the token itself to read it`,
    );
  }
  return { tokenId, expiresAt, reason: values.reason, source: 'arguments' };
}

function checkTokenId(tokenId: string, argument: string): string {
  if (tokenId.length > MAX_TOKEN_ID_LENGTH) throw new RevokeTokenUsageError(argument, `must be at most ${MAX_TOKEN_ID_LENGTH} characters`);
  return tokenId;
}

/** jti and exp of a compact JWT, decoded without its key. */
function claimsOf(token: string): { tokenId: string; expiresAt: number } {
  let payload: ReturnType<typeof decodeJwt>;
  try {
    decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch (error) {
    throw new RevokeTokenUsageError('<token>', `is not a JWT: ${(error as Error).message}`);
  }
  const { jti, exp } = payload;
  if (typeof jti !== 'string' || jti === '') throw new RevokeTokenUsageError('<token>', 'has no jti claim: it cannot be revoked by id');
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0 || exp >= 1e11) {
    throw new RevokeTokenUsageError('<token>', 'has no exp claim in epoch seconds');
  }
  return { tokenId: checkTokenId(jti, '<token>'), expiresAt: exp };
}

/** The token's exp in epoch seconds, from epoch seconds or an ISO 8601 date(-time). */
function parseExpiresAt(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') {
    throw new RevokeTokenUsageError(
      '--expires-at',
      'is required with a token id (the token’s exp); or pass the token itself, whose exp is read from it',
    );
  }
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
