/**
 * `npm run seal-keys -- rotate <authorityId> | trust-list [--data-dir DIR]`
 *
 * rotate: adds a new seal key for the authority (the old public key stays
 * for documents sealed before) and rebuilds the trust list, which must then
 * be distributed to the gateway and to notary offices: until they have it,
 * documents sealed with the new key are UNKNOWN_KEY to them. Issuing
 * subgraphs pick up the new key before their next seal, without restart.
 *
 * trust-list: rebuilds `<data dir>/seals/trust-list.json` from every
 * authority's public keys.
 *
 * Exit status: 0 done, 1 failed (no such authority, unreadable key files),
 * 2 bad arguments. Data dir from --data-dir, DATA_DIR or `data`.
 */
import {
  buildSealTrustList,
  CliUsageError,
  parseSealKeysArguments,
  rotateSealKey,
  SEAL_KEYS_USAGE as USAGE,
  SealKeyError,
  SealTrustListError,
  type SealKeysArguments,
} from '../common/documents/index.js';

async function main(): Promise<number> {
  let cli: SealKeysArguments | 'help';
  try {
    cli = parseSealKeysArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`seal-keys: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (cli.command === 'rotate') {
      const rotation = await rotateSealKey(cli.dataDir, cli.authorityId);
      process.stdout.write(
        `New seal key ${rotation.kid} for ${rotation.authorityId}; retired: ${rotation.retiredKids.join(', ') || 'none'} (their public keys stay for documents sealed before).\n`,
      );
    }
    const { file, trustList } = await buildSealTrustList(cli.dataDir);
    const keys = trustList.authorities.reduce((sum, authority) => sum + authority.jwks.keys.length, 0);
    process.stdout.write(
      `Trust list ${file}: ${trustList.authorities.length} authorities, ${keys} public seal keys. Distribute it to the gateway and to notary offices.\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof SealKeyError || error instanceof SealTrustListError) {
      process.stderr.write(`seal-keys: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main();
