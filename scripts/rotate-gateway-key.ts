/**
 * `npm run keys:rotate-gateway [-- --data-dir DIR]`: adds a new signing key
 * to the gateway's key set (DATA_DIR/keys). Subgraphs accept assertions
 * signed by any key in the set and re-read it when they meet a new key id;
 * the gateway signs with the new key from its next start. Remove the old
 * public key from gateway.jwks.json once no gateway signs with it.
 * Exit codes: 0 rotated, 1 failed, 2 bad arguments.
 */
import { readCommandLine, UsageError } from '../common/command-line.js';
import { dataDirSetting } from '../common/settings.js';
import { rotateGatewayKey } from '../common/gateway-keys.js';

const dataDir = readCommandLine(
  {
    name: 'keys:rotate-gateway',
    usage: [
      'usage: npm run keys:rotate-gateway -- [--data-dir <dir>]',
      "  adds a new signing key to the gateway's key set in <data dir>/keys (data dir from --data-dir, DATA_DIR or data);",
      '  the gateway signs with it from its next start',
    ].join('\n'),
    options: { 'data-dir': { type: 'string' } },
  },
  ({ values }) => {
    const dir = values['data-dir'] ?? dataDirSetting(process.env);
    if (dir.trim() === '') throw new UsageError('--data-dir needs a folder');
    return dir;
  },
);
const kid = await rotateGatewayKey(dataDir);
process.stdout.write(`New gateway signing key ${kid} added to ${dataDir}/keys/gateway.jwks.json; restart the gateway to sign with it.\n`);
