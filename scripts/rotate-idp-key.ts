/**
 * `npm run idp:rotate -- <hunan|xizang|national>`: gives a demo identity
 * provider a new signing key. The new key signs once the provider restarts;
 * the previous one stays published so the tokens it signed stay valid until
 * they expire (a gateway refetches the JWKS when it sees the new kid).
 */
import { readCommandLine } from '../common/command-line.js';
import { providerArgument } from '../common/identity-provider/directory.js';
import { rotateSigningKey } from '../common/identity-provider/signing-keys.js';
import { dataDirSetting } from '../common/settings.js';

const name = readCommandLine(
  {
    name: 'idp:rotate',
    usage:
      'usage: npm run idp:rotate -- <hunan|xizang|national>\n  adds a new signing key to <DATA_DIR>/dev-idp/<name>/signing-keys.json; restart the provider to sign with it.',
    options: {},
    allowPositionals: true,
  },
  ({ positionals }) => providerArgument(positionals),
);

rotateSigningKey(dataDirSetting(process.env), name).then(
  (kid) => {
    process.stdout.write(`idp:rotate: ${name} signs with key ${kid} once restarted; the previous key stays published.\n`);
  },
  (error: Error) => {
    process.stderr.write(`idp:rotate: ${error.message}\n`);
    process.exit(1);
  },
);
