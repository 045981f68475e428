/**
 * Revokes a token id (jti): every gateway replica refuses the token from its
 * next request on.
 *
 *   npx tsx scripts/revoke-token.ts <jti> --expires-at <epoch seconds | ISO 8601> [--reason "..."]
 *
 * --expires-at is the token's `exp`: the revocation is kept until then (plus
 * the leeway), after which the token is refused as expired anyway.
 *
 * Where: Redis when REDIS_URL is set (keys under REDIS_KEY_PREFIX, default
 * `kuasheng:`), else the embedded list in DATA_DIR (default `data`), which a
 * running single-replica gateway reads. REVOCATION_LEEWAY_SECONDS (default
 * 300) must match the gateway's. Exit codes: 0 revoked, 1 the revocation list
 * is unavailable, 2 bad arguments.
 */
import { join } from 'node:path';
import {
  AccessOptionError,
  DEFAULT_DATA_DIR,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REVOCATION_LEEWAY_SECONDS,
  RevocationUnavailableError,
  createRevocationList,
} from '../gateway/access/index.js';
import {
  parseRevokeTokenArguments,
  REVOKE_TOKEN_USAGE as USAGE,
  RevokeTokenUsageError,
  type RevokeTokenArguments,
} from '../gateway/access/revoke-token-arguments.js';
import { ConfigError, integerSetting } from '../common/settings.js';

async function main(): Promise<number> {
  let cli: RevokeTokenArguments | 'help';
  let leeway: number;
  try {
    cli = parseRevokeTokenArguments(process.argv.slice(2));
    leeway = integerSetting(process.env, 'REVOCATION_LEEWAY_SECONDS', DEFAULT_REVOCATION_LEEWAY_SECONDS, 0, 86_400);
  } catch (error) {
    if (!(error instanceof RevokeTokenUsageError || error instanceof ConfigError)) throw error;
    process.stderr.write(`revoke-token: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const redis = process.env.REDIS_URL || undefined;
  const dataDir = process.env.DATA_DIR || DEFAULT_DATA_DIR;
  let list: ReturnType<typeof createRevocationList>;
  try {
    list = createRevocationList({
      redis,
      dataDir,
      keyPrefix: process.env.REDIS_KEY_PREFIX ?? DEFAULT_KEY_PREFIX,
      revocationLeewaySeconds: leeway,
    });
  } catch (error) {
    if (!(error instanceof AccessOptionError)) throw error;
    const variable = { redis: 'REDIS_URL', keyPrefix: 'REDIS_KEY_PREFIX', dataDir: 'DATA_DIR' }[error.option] ?? error.option;
    process.stderr.write(`revoke-token: ${variable} is invalid: ${error.message}\n`);
    return 2;
  }

  // Never print REDIS_URL: it may carry a password.
  const where = redis ? 'Redis' : join(dataDir, 'revocations.db');
  try {
    await list.revoke(cli.tokenId, cli.expiresAt, cli.reason);
  } catch (error) {
    if (error instanceof AccessOptionError) {
      const argument = { tokenId: '<jti>', expiresAt: '--expires-at', reason: '--reason' }[error.option] ?? error.option;
      process.stderr.write(`revoke-token: ${argument} is invalid: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof RevocationUnavailableError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      process.stderr.write(`revoke-token: the revocation list in ${where} is unavailable${cause}\n`);
      return 1;
    }
    throw error;
  } finally {
    await list.close();
  }

  const keptUntil = new Date((cli.expiresAt + leeway) * 1000);
  if (keptUntil.getTime() <= Date.now()) {
    process.stdout.write(`Token ${cli.tokenId} expired at ${new Date(cli.expiresAt * 1000).toISOString()}: it is refused anyway, nothing stored.\n`);
  } else {
    process.stdout.write(`Revoked token ${cli.tokenId} in ${where} until ${keptUntil.toISOString()} (exp + ${leeway} s).\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`revoke-token: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
