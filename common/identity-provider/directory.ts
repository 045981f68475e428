/**
 * Who the three demo identity providers know: the providers themselves,
 * their demo accounts (people, who log in on the provider's page) and their
 * demo clients (systems, with client credentials, and the web consoles).
 * Demo data only: the passwords are printed in the README.
 */
import { UsageError } from '../command-line.js';
import { PROVINCES } from '../regions.js';

/** The names of the demo providers, as the default trust list names their keys. */
export const IDENTITY_PROVIDER_NAMES = Object.freeze(['hunan', 'xizang', 'national'] as const);

/** One of {@link IDENTITY_PROVIDER_NAMES}. */
export type IdentityProviderName = (typeof IDENTITY_PROVIDER_NAMES)[number];

/** Other names a command line accepts for a provider. */
const ALIASES: Readonly<Record<string, IdentityProviderName>> = { tibet: 'xizang' };

/** The provider a command-line word names (`tibet` is `xizang`), or undefined. */
export function identityProviderNamed(word: string): IdentityProviderName | undefined {
  return (IDENTITY_PROVIDER_NAMES as readonly string[]).includes(word) ? (word as IdentityProviderName) : ALIASES[word];
}

/** The one provider named by a command line's positional arguments. @throws {UsageError} otherwise. */
export function providerArgument(positionals: readonly string[]): IdentityProviderName {
  const name = positionals.length === 1 ? identityProviderNamed(positionals[0]) : undefined;
  if (name === undefined) {
    throw new UsageError(`give one provider name, ${IDENTITY_PROVIDER_NAMES.join(', ')} (or tibet), got ${JSON.stringify(positionals.join(' '))}`);
  }
  return name;
}

export interface ProviderProfile {
  /** Shown on the login page. */
  title: string;
  /** Default port (IDP_PORT_<NAME>); the issuer is `http://127.0.0.1:<port>`. */
  port: number;
  /** Province-level codes it speaks for, as its trust list entry must say. */
  provinces: readonly string[];
}

export const PROVIDER_PROFILES: Readonly<Record<IdentityProviderName, ProviderProfile>> = Object.freeze({
  hunan: { title: '湖南省统一身份认证平台（演示）', port: 4101, provinces: ['430000'] },
  xizang: { title: '西藏自治区统一身份认证平台（演示）', port: 4102, provinces: ['540000'] },
  national: { title: '国家政务服务平台统一身份认证系统（演示）', port: 4103, provinces: PROVINCES.map((p) => p.code) },
});

const DATA_READ = ['household:read', 'social-insurance:read', 'provident-fund:read', 'credit:read', 'licence:read'];
const APPROVAL_SCOPES = [...DATA_READ, 'audit:receipt'];
const NOTARY_SCOPES = ['certificate:verify', 'licence:read', 'audit:receipt'];
const AUDITOR_SCOPES = ['audit:read', 'audit:receipt'];

/** A person who logs in on a provider's page. */
export interface DemoAccount {
  provider: IdentityProviderName;
  username: string;
  password: string;
  /** `sub` of their tokens. */
  subject: string;
  /** Shown after login. */
  displayName: string;
  province: string;
  org: string;
  /** The gateway scopes they may be granted. */
  scopes: readonly string[];
  /** A citizen's own ID number (`id_number` claim): what their own access report is about. */
  idNumber?: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = Object.freeze([
  {
    provider: 'hunan',
    username: 'hn-approval',
    password: 'demo-approval',
    subject: 'hn-approval-officer-01',
    displayName: '湖南省政务服务中心 审批员 张敏',
    province: '430000',
    org: '湖南省政务服务和大数据中心',
    scopes: APPROVAL_SCOPES,
  },
  {
    provider: 'xizang',
    username: 'xz-approval',
    password: 'demo-approval',
    subject: 'lasa-approval-officer-01',
    displayName: '拉萨市人社局 审批员 次仁',
    province: '540000',
    org: '拉萨市人力资源和社会保障局',
    scopes: APPROVAL_SCOPES,
  },
  {
    provider: 'xizang',
    username: 'xz-auditor',
    password: 'demo-auditor',
    subject: 'xizang-auditor-01',
    displayName: '西藏自治区审计厅 审计员 卓玛',
    province: '540000',
    org: '西藏自治区审计厅',
    scopes: AUDITOR_SCOPES,
  },
  {
    provider: 'national',
    username: 'qh-notary',
    password: 'demo-notary',
    subject: 'xining-notary-01',
    displayName: '青海省西宁市国信公证处 公证员 马明',
    province: '630000',
    org: '青海省西宁市国信公证处',
    scopes: NOTARY_SCOPES,
  },
  {
    provider: 'national',
    username: 'citizen-zhou',
    password: 'demo-citizen',
    subject: 'citizen-430102198503129119',
    displayName: '周志强',
    province: '540000',
    org: '个人',
    scopes: [],
    idNumber: '430102198503129119',
  },
  {
    provider: 'national',
    username: 'citizen-ma',
    password: 'demo-citizen',
    subject: 'citizen-630102198811029061',
    displayName: '马海燕',
    province: '630000',
    org: '个人',
    scopes: [],
    idNumber: '630102198811029061',
  },
]);

/** A system that gets tokens with client credentials, authenticating with its own key (`private_key_jwt`). */
export interface DemoSystemClient {
  provider: IdentityProviderName;
  clientId: string;
  province: string;
  org: string;
  /** The scopes it may ask for. */
  scopes: readonly string[];
  /** The matters its tokens are bound to (`matters` claim); none: any matter its scopes allow. */
  matters?: readonly string[];
}

export const DEMO_SYSTEM_CLIENTS: readonly DemoSystemClient[] = Object.freeze([
  {
    provider: 'hunan',
    clientId: 'hn-approval-system',
    province: '430000',
    org: '湖南省政务服务和大数据中心',
    scopes: APPROVAL_SCOPES,
  },
  {
    provider: 'xizang',
    clientId: 'lasa-talent-office-01',
    province: '540000',
    org: '拉萨市人力资源和社会保障局',
    scopes: APPROVAL_SCOPES,
    matters: ['TB-HJ-004'],
  },
  {
    provider: 'national',
    clientId: 'qh-notary-system',
    province: '630000',
    org: '青海省西宁市国信公证处',
    scopes: NOTARY_SCOPES,
  },
]);

/** The web console: a public client (PKCE, no secret) on every provider. */
export const CONSOLE_CLIENT_ID = 'kuasheng-console';

/** The console's redirect URIs, on the gateway's origin. */
export function consoleRedirects(gatewayOrigin: string): { redirectUri: string; postLogoutRedirectUri: string } {
  return { redirectUri: `${gatewayOrigin}/console/callback`, postLogoutRedirectUri: `${gatewayOrigin}/console/` };
}
