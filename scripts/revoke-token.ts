/**
 * Revokes a token: every gateway replica refuses it from its next request on.
 *
 *   npm run token:revoke -- <token> [--reason "..."]
 *   npm run token:revoke -- --jti <jti> --expires-at <epoch seconds | ISO 8601> [--reason "..."]
 *
 * Given the token, its jti and exp are read from it (decoded, no key
 * needed); a token already expired (beyond the leeway) is reported as such
 * and nothing is stored. Given a jti, --expires-at is the token's exp, and a
 * time already past is refused. The revocation is kept until exp plus the
 * gateway's leeway, after which the token is refused as expired anyway.
 *
 * Where: as the gateway of the same environment reads it (see
 * `revocationSettings` in gateway/config.ts): Redis when REDIS_URL is set
 * (keys under REDIS_KEY_PREFIX, default `kuasheng:`), else the embedded list
 * <DATA_DIR>/revocations.db (DATA_DIR default `data`), which a running
 * single-replica gateway reads on every request.
 * Exit codes: 0 revoked (or expired), 1 the revocation list is unavailable, 2 bad arguments.
 */
import { join } from 'node:path';
import { exitWithHelp, exitWithUsage } from '../common/command-line.js';
import { ConfigError } from '../common/settings.js';
import {
  AccessOptionError,
  DEFAULT_REVOCATION_LEEWAY_SECONDS,
  RevocationUnavailableError,
  createRevocationList,
  parseRevokeTokenArguments,
  REVOKE_TOKEN_USAGE as USAGE,
  RevokeTokenUsageError,
} from '../gateway/access/index.js';
import { revocationSettings, type RevocationSettings } from '../gateway/config.js';

const COMMAND = { name: 'token:revoke', usage: USAGE, options: {} } as const;

function usageError(message: string): never {
  exitWithUsage(COMMAND, message);
}

let cli: Exclude<ReturnType<typeof parseRevokeTokenArguments>, 'help'>;
try {
  const parsed = parseRevokeTokenArguments(process.argv.slice(2));
  if (parsed === 'help') exitWithHelp(COMMAND);
  cli = parsed;
} catch (error) {
  if (!(error instanceof RevokeTokenUsageError)) throw error;
  usageError(error.message);
}

let where: RevocationSettings;
try {
  where = revocationSettings(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  usageError(error.message);
}

// The gateway keeps revocations for its default leeway (it has no setting for it): so does this.
const leeway = DEFAULT_REVOCATION_LEEWAY_SECONDS;

async function main(): Promise<number> {
  const keptUntil = new Date((cli.expiresAt + leeway) * 1000);
  if (keptUntil.getTime() <= Date.now()) {
    // Only for a token given whole (a past --expires-at is refused above): its exp is what it says.
    process.stdout.write(
      `Token ${cli.tokenId} expired at ${new Date(cli.expiresAt * 1000).toISOString()}: the gateway refuses it anyway, nothing stored.\n`,
    );
    return 0;
  }
  let list: ReturnType<typeof createRevocationList>;
  try {
    list = createRevocationList({ redis: where.redisUrl, dataDir: where.dataDir, keyPrefix: where.redisKeyPrefix, revocationLeewaySeconds: leeway });
  } catch (error) {
    if (!(error instanceof AccessOptionError)) throw error;
    const variable = { redis: 'REDIS_URL', keyPrefix: 'REDIS_KEY_PREFIX', dataDir: 'DATA_DIR' }[error.option] ?? error.option;
    process.stderr.write(`token:revoke: ${variable} is invalid: ${error.message}\n`);
    return 2;
  }

  // Never print REDIS_URL: it may carry a password.
  const store = where.redisUrl ? 'Redis' : join(where.dataDir, 'revocations.db');
  try {
    await list.revoke(cli.tokenId, cli.expiresAt, cli.reason);
  } catch (error) {
    if (error instanceof AccessOptionError) {
      const argument = { tokenId: '<jti>', expiresAt: '--expires-at', reason: '--reason' }[error.option] ?? error.option;
      usageError(`${argument} is invalid: ${error.message}`);
    }
    if (error instanceof RevocationUnavailableError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`token:revoke: the revocation list in ${store} is unavailable${cause}\n`);
      return 1;
    }
    throw error;
  } finally {
    await list.close();
  }
  process.stdout.write(`Revoked token ${cli.tokenId} in ${store} until ${keptUntil.toISOString()} (exp + ${leeway} s).\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`token:revoke: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
