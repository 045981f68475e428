/**
 * `npm run keys:rotate-gateway [-- --data-dir DIR]`: adds a new signing key
 * to the gateway's key set (DATA_DIR/keys). Subgraphs accept assertions
 * signed by any key in the set and re-read it when they meet a new key id;
 * the gateway signs with the new key from its next start. Remove the old
 * public key from gateway.jwks.json once no gateway signs with it.
 */
import { dataDirSetting } from '../common/settings.js';
import { rotateGatewayKey } from '../common/gateway-keys.js';

const index = process.argv.indexOf('--data-dir');
const dataDir = index > 0 ? process.argv[index + 1] : dataDirSetting(process.env);
if (!dataDir) {
  process.stderr.write('--data-dir needs a folder\n');
  process.exit(2);
}
const kid = await rotateGatewayKey(dataDir);
process.stdout.write(`New gateway signing key ${kid} added to ${dataDir}/keys/gateway.jwks.json; restart the gateway to sign with it.\n`);
