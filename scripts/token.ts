/**
 * Prints a development bearer token signed by a demo identity provider of
 * the gateway's trust list (keys are created in <data-dir>/dev-idp/ on first use).
 *
 *   npm run token -- --role approval --province 540000 [--matter TB-HJ-004]
 *   npm run token -- --role notary|auditor --province 110000
 *   npm run token -- --scope "household:read credit:read" --province 430000 [--matters TB-HJ-004,...]
 *                    [--issuer hunan] [--sub ...] [--org ...] [--ttl 3600] [--audience kuasheng-gateway] [--data-dir data]
 *   npm run token -- --via-idp --client lasa-talent-office-01 [--scope "household:read"]
 *                    (from the running demo identity provider of that system: client credentials with private_key_jwt)
 *
 * The token alone goes to stdout (so `TOKEN=$(npm run -s token -- …)`
 * works); its jti, expiry and scopes go to stderr. It mints only what the
 * gateway of the same environment accepts: the issuers of its trust list
 * (TRUST_LIST_FILE), its audience (TOKEN_AUDIENCE), the matters of its
 * catalog (MATTER_CATALOG_FILE) and at most its token lifetime.
 * Exit codes: 0 printed, 1 failed, 2 bad arguments.
 */
import { decodeJwt } from 'jose';
import { readCommandLine, UsageError, exitWithUsage } from '../common/command-line.js';
import { dataDirSetting } from '../common/settings.js';
import { SCOPES } from '../gateway/auth/caller.js';
import { ensureDevIdentityProviders, mintDevToken, type DevIdentityProvider, type DevIssuerName } from '../gateway/auth/dev-identity-provider.js';
import { roleScopes } from '../gateway/auth/role-presets.js';
import { interpretTokenArguments, tokenCommand, type TokenArgumentContext } from '../gateway/auth/token-arguments.js';
import { loadMatterCatalog, type Matter } from '../gateway/authorization/matter-catalog.js';
import { tokenSettings } from '../gateway/config.js';
import { ensureClientKey } from '../common/identity-provider/client-keys.js';
import { requestClientCredentialsToken, TokenRequestError, type TokenResponse } from '../common/identity-provider/client-credentials.js';
import { identityProviderPortSetting } from '../common/identity-provider/config.js';
import type { DemoSystemClient } from '../common/identity-provider/directory.js';

const settings = tokenSettings(process.env);
const context: TokenArgumentContext = {
  maxLifetimeSeconds: settings.maxTokenLifetimeSeconds,
  audience: settings.tokenAudience,
  dataDir: dataDirSetting(process.env),
};
const command = tokenCommand(context);
const cli = readCommandLine(command, (parsed) => interpretTokenArguments(parsed, context));

/** The demo issuer that speaks for the province most narrowly: the province's own before the national one. */
function issuerFor(providers: readonly DevIdentityProvider[], province: string): DevIdentityProvider | undefined {
  return providers.filter((p) => p.provinces.includes(province)).sort((a, b) => a.provinces.length - b.provinces.length)[0];
}

/** --via-idp: client credentials at the system's running demo identity provider. */
async function tokenViaIdentityProvider(client: DemoSystemClient, scopes: readonly string[]): Promise<number> {
  const issuer = `http://127.0.0.1:${identityProviderPortSetting(process.env, client.provider)}`;
  let issued: TokenResponse;
  try {
    issued = await requestClientCredentialsToken({
      issuer,
      clientId: client.clientId,
      privateKey: await ensureClientKey(cli.dataDir, client.clientId),
      scopes,
    });
  } catch (error) {
    if (error instanceof TokenRequestError) throw error;
    throw new Error(
      `the identity provider ${issuer} does not answer (${(error as Error).message}): start it with npm start or npm run idp -- ${client.provider}`,
    );
  }
  const { jti, exp } = decodeJwt(issued.access_token);
  process.stdout.write(`${issued.access_token}\n`);
  process.stderr.write(`token: jti ${jti}, expires ${new Date((exp as number) * 1000).toISOString()}, issuer ${issuer}, client ${client.clientId}\n`);
  process.stderr.write(`token: scopes ${issued.scope ?? scopes.join(' ')}${client.matters ? `; matters ${client.matters.join(', ')}` : ''}\n`);
  return 0;
}

async function main(): Promise<number> {
  if (cli.viaIdp !== undefined) return tokenViaIdentityProvider(cli.viaIdp, cli.scopes ?? []);
  let matter: Matter | undefined;
  if (cli.matter !== undefined) {
    matter = loadMatterCatalog(settings.matterCatalogFile, new Set(Object.keys(SCOPES))).get(cli.matter);
    if (matter === undefined) throw new UsageError(`--matter ${cli.matter} is not in the matter catalog ${settings.matterCatalogFile}`);
  }
  const scopes = cli.scopes ?? roleScopes(cli.role!, matter);
  const matters = matter !== undefined ? [matter.code] : cli.matters;

  // Checked here rather than in mintDevToken: a developer asking for a
  // token its issuer may not speak for almost certainly made a typo.
  const providers = await ensureDevIdentityProviders(cli.dataDir, { trustListFile: settings.trustListFile });
  if (providers.length === 0) throw new Error(`the trust list ${settings.trustListFile} has no demo issuer ("demo": true) to sign with`);
  const provider = cli.issuer === undefined ? issuerFor(providers, cli.province) : providers.find((p) => p.name === cli.issuer);
  if (provider === undefined) {
    throw new UsageError(
      cli.issuer === undefined
        ? `--province ${cli.province}: no demo issuer of ${settings.trustListFile} speaks for it`
        : `--issuer must be one of ${providers.map((p) => p.name).join(', ')}, got ${JSON.stringify(cli.issuer)}`,
    );
  }
  if (!provider.provinces.includes(cli.province)) {
    throw new UsageError(`--province ${cli.province} is not one issuer ${provider.name} may speak for (${provider.provinces.join(', ')})`);
  }

  const token = await mintDevToken({
    dataDir: cli.dataDir,
    trustListFile: settings.trustListFile,
    issuer: provider.name as DevIssuerName,
    province: cli.province,
    scopes,
    matters,
    subject: cli.subject ?? (cli.role === undefined ? undefined : `dev-${cli.role}-${cli.province}`),
    org: cli.org,
    lifetimeSeconds: cli.ttl,
    audience: cli.audience,
  });
  const { jti, exp } = decodeJwt(token);
  process.stdout.write(`${token}\n`);
  process.stderr.write(
    [
      `token: jti ${jti}, expires ${new Date((exp as number) * 1000).toISOString()} (in ${cli.ttl} s), issuer ${provider.issuer}`,
      `token: scopes ${scopes.join(' ')}${matters === undefined ? '' : `; matters ${matters.join(', ')}`}`,
      'token: revoke it with npm run token:revoke -- <token>',
    ]
      .map((line) => `${line}\n`)
      .join(''),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError) exitWithUsage(command, error.message);
    process.stderr.write(`token: ${error.message}\n`);
    process.exit(1);
  },
);
