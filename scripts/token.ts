/**
 * Prints a development bearer token signed by a demo identity provider of
 * config/trust-list.json (keys are created in <data-dir>/dev-idp/ on first use).
 *
 *   npm run token -- --issuer hunan --province 430000 --scope "household:read credit:read"
 *                    [--matters 110100000001,...] [--sub ...] [--org ...] [--ttl 3600]
 *                    [--audience kuasheng-gateway] [--data-dir data]
 *
 * Defaults: data dir DATA_DIR or ./data, ttl 3600 s, audience kuasheng-gateway.
 * The gateway refuses tokens living longer than its maxLifetimeSeconds (3600 by default).
 * Exit codes: 0 printed, 1 failed, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { isKnownScope, isMatterCodeSyntax, SCOPES } from '../gateway/auth/caller.js';
import { dataDirSetting } from '../common/settings.js';
import { DEV_AUDIENCE, ensureDevIdentityProviders, mintDevToken, type DevIssuerName } from '../gateway/auth/dev-identity-provider.js';

const USAGE = `usage: npm run token -- --issuer <hunan|xizang|national> --province <code> --scope "<scope> ..."
       [--matters <code,...>] [--sub <subject>] [--org <department>] [--ttl <seconds>]
       [--audience <aud>] [--data-dir <dir>]
scopes: ${Object.keys(SCOPES).join(' ')}`;

class UsageError extends Error {}

interface CliOptions {
  issuer: DevIssuerName;
  province: string;
  scopes: string[];
  matters?: string[];
  subject?: string;
  org?: string;
  ttl: number;
  audience: string;
  dataDir: string;
}

function parseCli(argv: string[]): CliOptions | 'help' {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the parseArgs call assigned to it below
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        issuer: { type: 'string' },
        province: { type: 'string' },
        scope: { type: 'string' },
        matters: { type: 'string' },
        sub: { type: 'string' },
        org: { type: 'string' },
        ttl: { type: 'string' },
        audience: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.issuer === undefined) throw new UsageError('--issuer is required (hunan, xizang or national)');
  if (values.province === undefined || !/^\d{6}$/.test(values.province)) {
    throw new UsageError(`--province must be a 6-digit province-level code, got ${JSON.stringify(values.province ?? '')}`);
  }
  const scopes = (values.scope ?? '').split(/[\s,]+/).filter((s) => s !== '');
  if (scopes.length === 0) throw new UsageError('--scope is required: one or more space-separated scopes');
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length > 0) throw new UsageError(`--scope has unknown scope(s) ${unknown.join(', ')}`);
  let matters: string[] | undefined;
  if (values.matters !== undefined) {
    matters = values.matters
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    const bad = matters.find((m) => !isMatterCodeSyntax(m));
    if (matters.length === 0 || bad !== undefined)
      throw new UsageError(`--matters must be comma-separated matter codes, got ${JSON.stringify(values.matters)}`);
  }
  const ttlText = values.ttl ?? '3600';
  if (!/^\d+$/.test(ttlText) || Number(ttlText) < 1 || Number(ttlText) > 86_400) {
    throw new UsageError(`--ttl must be whole seconds between 1 and 86400, got ${JSON.stringify(ttlText)}`);
  }
  for (const name of ['sub', 'org', 'audience', 'data-dir'] as const) {
    if (values[name] !== undefined && values[name].trim() === '') throw new UsageError(`--${name} must not be empty`);
  }
  return {
    issuer: values.issuer as DevIssuerName,
    province: values.province,
    scopes,
    matters,
    subject: values.sub,
    org: values.org,
    ttl: Number(ttlText),
    audience: values.audience ?? DEV_AUDIENCE,
    dataDir: values['data-dir'] ?? dataDirSetting(process.env),
  };
}

async function main(): Promise<number> {
  let cli: CliOptions;
  try {
    const parsed = parseCli(process.argv.slice(2));
    if (parsed === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    cli = parsed;
    // Checked here rather than in mintDevToken: a developer asking for a
    // token its issuer may not speak for almost certainly made a typo.
    const providers = await ensureDevIdentityProviders(cli.dataDir);
    const provider = providers.find((p) => p.name === cli.issuer);
    if (provider === undefined)
      throw new UsageError(`--issuer must be one of ${providers.map((p) => p.name).join(', ')}, got ${JSON.stringify(cli.issuer)}`);
    if (!provider.provinces.includes(cli.province)) {
      throw new UsageError(`--province ${cli.province} is not one issuer ${cli.issuer} may speak for (${provider.provinces.join(', ')})`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const token = await mintDevToken({
    dataDir: cli.dataDir,
    issuer: cli.issuer,
    province: cli.province,
    scopes: cli.scopes,
    matters: cli.matters,
    subject: cli.subject,
    org: cli.org,
    lifetimeSeconds: cli.ttl,
    audience: cli.audience,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`token: ${error.message}\n`);
    process.exit(1);
  },
);
