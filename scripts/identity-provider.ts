/**
 * `npm run idp -- <hunan|xizang|national>` (`tibet` is `xizang`): runs one
 * demo provincial identity provider, a real OpenID Connect provider, on
 * IDP_PORT_<NAME> (4101, 4102, 4103), issuer `http://127.0.0.1:<port>`. Its
 * signing keys are in <DATA_DIR>/dev-idp/<name>/, its systems' keys in
 * <DATA_DIR>/dev-idp/clients/; its access tokens carry TOKEN_AUDIENCE and
 * are for the gateway on GATEWAY_PORT, where the console's redirect URIs are.
 *
 * Reports `{ ready: url }` to a parent process over IPC when there is one
 * (`npm start` runs it), and stops cleanly on SIGTERM/SIGINT.
 */
import { readCommandLine } from '../common/command-line.js';
import { identityProviderPortSetting } from '../common/identity-provider/config.js';
import { providerArgument } from '../common/identity-provider/directory.js';
import { createLogger } from '../common/logger.js';
import { ConfigError, dataDirSetting, logLevelSetting } from '../common/settings.js';
import { stopOnSignals } from '../common/stop-signals.js';
import { loadGatewayConfig } from '../gateway/config.js';

const command = {
  name: 'idp',
  usage: [
    'usage: npm run idp -- <hunan|xizang|national>',
    '  runs a demo identity provider (OpenID Connect) on IDP_PORT_<NAME> (defaults 4101, 4102, 4103); keys in <DATA_DIR>/dev-idp/.',
  ].join('\n'),
  options: {},
  allowPositionals: true,
} as const;
const name = readCommandLine(command, ({ positionals }) => providerArgument(positionals));

let logger = createLogger({ name: 'idp' });

async function main(): Promise<void> {
  logger = createLogger({ name: `idp-${name}`, level: logLevelSetting(process.env) });
  const gateway = loadGatewayConfig();
  // Imported only now: oidc-provider warns on import (about Node 20, which it runs on), and --help should print nothing else.
  const { startIdentityProvider } = await import('../common/identity-provider/provider.js');
  const running = await startIdentityProvider({
    name,
    dataDir: dataDirSetting(process.env),
    port: identityProviderPortSetting(process.env, name),
    audience: gateway.tokenAudience,
    gatewayOrigin: `http://127.0.0.1:${gateway.port}`,
    logger,
  });
  stopOnSignals(() => running.stop(), logger);
  logger.info({ issuer: running.issuer, jwksUrl: running.jwksUrl }, 'identity provider ready');
  // Ready only once a stop signal is handled: a supervisor may send one at once.
  process.send?.({ ready: running.issuer, name: `idp-${name}` });
}

main().catch((error: Error) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else logger.fatal({ err: error }, `identity provider failed to start: ${error.message}`);
  process.exit(1);
});
