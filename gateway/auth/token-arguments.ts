/**
 * The command line of `npm run token` (scripts/token.ts), parsed apart from
 * the script so that every refusal is testable without spawning a process.
 */
import { parseCommandLine, UsageError, type ParsedCommandLine } from '../../common/command-line.js';
import { isKnownScope, isMatterCodeSyntax, SCOPES } from './caller.js';
import { isTokenRole, ROLE_PRESETS, TOKEN_ROLES, type TokenRole } from './role-presets.js';
import { DEMO_SYSTEM_CLIENTS, type DemoSystemClient } from '../../common/identity-provider/directory.js';

/** What the command line depends on: the gateway's token settings and the default data folder. */
export interface TokenArgumentContext {
  /** The gateway's longest token lifetime, seconds (`tokenSettings().maxTokenLifetimeSeconds`): --ttl's default and bound. */
  maxLifetimeSeconds: number;
  /** The `aud` the gateway expects (`tokenSettings().tokenAudience`): --audience's default. */
  audience: string;
  /** DATA_DIR or `data`: --data-dir's default. */
  dataDir: string;
}

/** What `npm run token` was asked to mint. */
export interface TokenArguments {
  /** --via-idp --client <id>: ask that demo system's identity provider (client credentials) instead of minting. */
  viaIdp?: DemoSystemClient;
  /** --issuer; undefined: the demo issuer that speaks for the province most narrowly. */
  issuer?: string;
  province: string;
  /** --role: the scopes come from its preset. */
  role?: TokenRole;
  /** --matter (approval only): the token is bound to this matter and gets its scopes. */
  matter?: string;
  /** --scope: the scopes as given (without --role). */
  scopes?: string[];
  /** --matters: the `matters` claim as given. */
  matters?: string[];
  subject?: string;
  org?: string;
  /** exp - iat, seconds. */
  ttl: number;
  audience: string;
  dataDir: string;
}

/** The usage text; the lifetime bound is the gateway's own. */
export function tokenUsage(context: Pick<TokenArgumentContext, 'maxLifetimeSeconds'>): string {
  const roles = TOKEN_ROLES.map((role) => `  ${role.padEnd(9)} ${ROLE_PRESETS[role].scopes.join(' ')}\n            (${ROLE_PRESETS[role].summary})`);
  return [
    'usage: npm run token -- --role <approval|notary|auditor> --province <code> [--matter <code>] [options]',
    '       npm run token -- --scope "<scope> ..." --province <code> [--matters <code,...>] [options]',
    '       npm run token -- --via-idp --client <system> [--scope "<scope> ..."]',
    'options: [--issuer <name>] [--sub <subject>] [--org <department>] [--ttl <seconds>] [--audience <aud>] [--data-dir <dir>]',
    '',
    'Mints a development token signed by a demo identity provider of the trust list (TRUST_LIST_FILE, default',
    'config/trust-list.json; keys in <data dir>/dev-idp/). The token alone goes to stdout, its jti and expiry to stderr.',
    '',
    'roles (scope presets):',
    ...roles,
    '  --matter    binds an approval token to one matter of the catalog (MATTER_CATALOG_FILE): exactly its scopes, matters claim [code]',
    '  --province  6-digit province-level code the caller acts for, e.g. 540000',
    '  --issuer    a demo issuer (hunan, xizang, national in the committed trust list); default: the one that speaks for the province most narrowly',
    `  --ttl       lifetime in seconds, 1 to ${context.maxLifetimeSeconds} (default ${context.maxLifetimeSeconds}): the gateway refuses longer tokens (LIFETIME_TOO_LONG)`,
    '  --audience  default TOKEN_AUDIENCE or kuasheng-gateway; --data-dir default DATA_DIR or data',
    '  --via-idp   gets the token from the running demo identity provider of --client (client credentials, private_key_jwt),',
    `              a demo system: ${DEMO_SYSTEM_CLIENTS.map((c) => c.clientId).join(', ')}; --scope default: all the system may ask for`,
    `scopes: ${Object.keys(SCOPES).join(' ')}`,
  ].join('\n');
}

const OPTIONS = {
  role: { type: 'string' },
  issuer: { type: 'string' },
  province: { type: 'string' },
  scope: { type: 'string' },
  matter: { type: 'string' },
  matters: { type: 'string' },
  sub: { type: 'string' },
  org: { type: 'string' },
  ttl: { type: 'string' },
  audience: { type: 'string' },
  'data-dir': { type: 'string' },
  'via-idp': { type: 'boolean' },
  client: { type: 'string' },
} as const;

/** The spec of `npm run token`'s command line. */
export function tokenCommand(context: Pick<TokenArgumentContext, 'maxLifetimeSeconds'>) {
  return { name: 'token', usage: tokenUsage(context), options: OPTIONS };
}

/** Parses and checks `npm run token`'s arguments; 'help' for --help or -h. @throws {UsageError} naming the bad argument. */
export function parseTokenArguments(argv: readonly string[], context: TokenArgumentContext): TokenArguments | 'help' {
  const parsed = parseCommandLine(tokenCommand(context), argv);
  return parsed === 'help' ? 'help' : interpretTokenArguments(parsed, context);
}

/** Checks the parsed command line of `npm run token`. @throws {UsageError} naming the bad argument. */
export function interpretTokenArguments({ values }: ParsedCommandLine<typeof OPTIONS>, context: TokenArgumentContext): TokenArguments {
  for (const name of ['issuer', 'sub', 'org', 'audience', 'data-dir'] as const) {
    if (values[name] !== undefined && values[name].trim() === '') throw new UsageError(`--${name} must not be empty`);
  }
  if (values['via-idp'] === true) return viaIdentityProvider(values, context);
  if (values.client !== undefined) throw new UsageError('--client names the system of --via-idp: it goes with --via-idp');
  if (values.province === undefined || !/^\d{6}$/.test(values.province)) {
    throw new UsageError(`--province must be a 6-digit province-level code, got ${JSON.stringify(values.province ?? '')}`);
  }
  if (values.role !== undefined && values.scope !== undefined) throw new UsageError('--role and --scope both set the scopes: give one of them');
  if (values.role === undefined && values.scope === undefined) {
    throw new UsageError(`--role (${TOKEN_ROLES.join(', ')}) or --scope is required`);
  }
  let role: TokenRole | undefined;
  let scopes: string[] | undefined;
  if (values.role !== undefined) {
    if (!isTokenRole(values.role)) throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')}, got ${JSON.stringify(values.role)}`);
    role = values.role;
  } else {
    scopes = (values.scope ?? '').split(/[\s,]+/).filter((s) => s !== '');
    if (scopes.length === 0) throw new UsageError('--scope is required: one or more space-separated scopes');
    const unknown = scopes.filter((s) => !isKnownScope(s));
    if (unknown.length > 0) throw new UsageError(`--scope has unknown scope(s) ${unknown.join(', ')}`);
  }
  if (values.matter !== undefined) {
    if (role !== 'approval') throw new UsageError('--matter binds an approval token: it goes with --role approval');
    if (values.matters !== undefined) throw new UsageError('--matter and --matters both set the matters claim: give one of them');
    if (!isMatterCodeSyntax(values.matter))
      throw new UsageError(`--matter must be a matter code such as TB-HJ-004, got ${JSON.stringify(values.matter)}`);
  }
  let matters: string[] | undefined;
  if (values.matters !== undefined) {
    matters = values.matters
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    if (matters.length === 0 || matters.some((m) => !isMatterCodeSyntax(m))) {
      throw new UsageError(`--matters must be comma-separated matter codes, got ${JSON.stringify(values.matters)}`);
    }
  }
  return {
    issuer: values.issuer,
    province: values.province,
    role,
    matter: values.matter,
    scopes,
    matters,
    subject: values.sub,
    org: values.org,
    ttl: lifetime(values.ttl, context.maxLifetimeSeconds),
    audience: values.audience ?? context.audience,
    dataDir: values['data-dir'] ?? context.dataDir,
  };
}

/** --ttl, never longer than the gateway accepts: a token it would refuse is no use to anyone. */
function lifetime(raw: string | undefined, most: number): number {
  if (raw === undefined) return most;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--ttl must be whole seconds from 1 to ${most}, got ${JSON.stringify(raw)}`);
  if (Number(raw) > most) {
    throw new UsageError(
      `--ttl ${raw} is longer than the gateway accepts: tokens may live at most ${most} s (exp - iat); it would refuse this one (401 LIFETIME_TOO_LONG)`,
    );
  }
  return Number(raw);
}

/** --via-idp: the provider decides the claims; only the system and its scopes are asked for. */
function viaIdentityProvider(values: ParsedCommandLine<typeof OPTIONS>['values'], context: TokenArgumentContext): TokenArguments {
  const client = DEMO_SYSTEM_CLIENTS.find((c) => c.clientId === values.client);
  if (client === undefined) {
    throw new UsageError(
      `--via-idp needs --client, one of ${DEMO_SYSTEM_CLIENTS.map((c) => c.clientId).join(', ')}, got ${JSON.stringify(values.client ?? '')}`,
    );
  }
  for (const name of ['role', 'issuer', 'province', 'matter', 'matters', 'sub', 'org', 'ttl', 'audience'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} is decided by the identity provider with --via-idp: leave it out`);
  }
  let scopes = [...client.scopes];
  if (values.scope !== undefined) {
    scopes = values.scope.split(/[\s,]+/).filter((s) => s !== '');
    const unknown = scopes.filter((s) => !isKnownScope(s));
    if (scopes.length === 0 || unknown.length > 0) throw new UsageError(`--scope has unknown scope(s) ${unknown.join(', ')}`);
  }
  return {
    viaIdp: client,
    province: client.province,
    scopes,
    ttl: context.maxLifetimeSeconds,
    audience: context.audience,
    dataDir: values['data-dir'] ?? context.dataDir,
  };
}
