import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/server.js';
import { createRevocationList } from '../../gateway/access/index.js';
import { tokenSettings } from '../../gateway/config.js';
import { DEMO_PERSONS } from '../../scripts/seed/index.js';
import { testToken } from '../support/identity.js';
import {
  gatewayEnvironment,
  postGraphQL,
  removeData,
  seedTemporaryData,
  startTestFederation,
  type GraphQLResponse,
  type TestFederation,
} from '../support/federation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = 'redis://127.0.0.1:6379';
const PERSON = DEMO_PERSONS[0];
const DOSSIER = 'query($id: ID!) { person(idNumber: $id) { name socialInsurance { contributionMonths } credit { dishonestJudgmentDebtor } } }';
const NAME_ONLY = 'query($id: ID!) { person(idNumber: $id) { name } }';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of this checkout as `npm run` does (tsx), in the environment of the gateway it is meant for. */
function runScript(script: 'token' | 'revoke-token', args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const { REDIS_URL: _r, REDIS_KEY_PREFIX: _p, DATA_DIR: _d, TRUST_LIST_FILE: _t, TOKEN_AUDIENCE: _a, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dataDir: string;
let federation: TestFederation;
/** What the gateway under test reads: the CLIs get the same. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await seedTemporaryData(150);
  federation = await startTestFederation({ dataDir });
  env = gatewayEnvironment(federation);
});

afterAll(async () => {
  await federation?.stop();
  if (dataDir) removeData(dataDir);
});

/** `npm run -s token -- …`: the token from stdout, which must hold nothing else. */
async function mint(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ token: string; stderr: string }> {
  const run = await runScript('token', args, { ...env, ...extraEnv });
  expect(run.code, run.stderr).toBe(0);
  // The token alone, so that TOKEN=$(npm run -s token -- …) holds nothing else.
  expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return { token: run.stdout.trim(), stderr: run.stderr };
}

const as = (token: string, matter?: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'x-matter-code': matter ?? '' });

function refusalOf(response: GraphQLResponse): { status: number; code?: string; reason?: string } {
  const extensions = response.body.errors?.[0]?.extensions;
  return { status: response.status, code: extensions?.code, reason: extensions?.reason };
}

describe('npm run token', () => {
  describe('when given a role', () => {
    it('mints an approval token bound to a matter that fetches a dossier, and prints its jti and expiry on stderr', async () => {
      const { token, stderr } = await mint(['--role', 'approval', '--province', '540000', '--matter', 'TB-HJ-004']);
      const claims = decodeJwt(token);
      expect(claims.matters).toEqual(['TB-HJ-004']);
      expect(stderr).toContain(`jti ${claims.jti}`);
      expect(stderr).toContain(`expires ${new Date((claims.exp as number) * 1000).toISOString()}`);

      const { status, body } = await federation.query(DOSSIER, { id: PERSON.idNumber }, as(token, 'TB-HJ-004'));
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.person.name).toBe(PERSON.name);
      expect(body.data!.person.socialInsurance.contributionMonths).toBeGreaterThan(0);
      // Bound to its matter: another one is refused.
      expect(refusalOf(await federation.query(NAME_ONLY, { id: PERSON.idNumber }, as(token, 'TB-HJ-003')))).toMatchObject({
        status: 403,
        code: 'MATTER_NOT_ALLOWED',
      });
    });

    it('mints a notary token that verifies a document without a matter', async () => {
      const issuer = await testToken(dataDir, { scopes: ['household:read', 'social-insurance:read', 'certificate:issue'] });
      const issued = await federation.query(
        'mutation($id: ID!) { issueParticipationCertificate(idNumber: $id) { token } }',
        { id: PERSON.idNumber },
        as(issuer, 'TB-SB-005'),
      );
      expect(issued.body.errors).toBeUndefined();
      const { token } = await mint(['--role', 'notary', '--province', '110000']);

      const { status, body } = await federation.query(
        'query($doc: String!) { verifyDocument(document: $doc) { verdict code } }',
        { doc: issued.body.data!.issueParticipationCertificate.token },
        as(token),
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.verifyDocument).toEqual({ verdict: 'VALID', code: 'OK' });
    });

    it('mints an auditor token that reads the audit records', async () => {
      expect((await federation.query(NAME_ONLY, { id: PERSON.idNumber })).status).toBe(200); // one record at least
      const { token } = await mint(['--role', 'auditor', '--province', '110000']);
      const { status, body } = await federation.query('{ auditRecords(first: 5) { records { id matter outcome } } }', {}, as(token));
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.auditRecords.records.length).toBeGreaterThan(0);
    });
  });

  describe('when asked for a lifetime', () => {
    const longest = tokenSettings({}).maxTokenLifetimeSeconds;

    it('refuses (exit 2, nothing on stdout) a lifetime the gateway would refuse with LIFETIME_TOO_LONG', async () => {
      const run = await runScript('token', ['--role', 'approval', '--province', '540000', '--ttl', String(longest * 2)], env);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('--ttl');
      expect(run.stderr).toContain('LIFETIME_TOO_LONG');
    });

    it('mints the longest lifetime the gateway accepts, by default', async () => {
      const { token } = await mint(['--role', 'approval', '--province', '540000']);
      const { exp, iat } = decodeJwt(token);
      expect((exp as number) - (iat as number)).toBe(longest);
      expect((await federation.query(NAME_ONLY, { id: PERSON.idNumber }, as(token, 'TB-HJ-004'))).status).toBe(200);
    });
  });
});

describe('npm run token:revoke', () => {
  /** Mints with the real CLI, checks the gateway accepts the token, revokes it with the real CLI and asks again at once. */
  async function mintRevokeAndAsk(gatewayUrl: string, cliEnv: NodeJS.ProcessEnv): Promise<{ revoke: Run; after: GraphQLResponse }> {
    const { token } = await mint(['--role', 'approval', '--province', '540000', '--matter', 'TB-HJ-004'], cliEnv);
    const before = await postGraphQL(gatewayUrl, NAME_ONLY, { id: PERSON.idNumber }, as(token, 'TB-HJ-004'));
    expect(before.status).toBe(200);
    expect(before.body.data!.person.name).toBe(PERSON.name);
    const revoke = await runScript('revoke-token', [token, '--reason', 'test: device lost'], { ...env, ...cliEnv });
    const after = await postGraphQL(gatewayUrl, NAME_ONLY, { id: PERSON.idNumber }, as(token, 'TB-HJ-004'));
    return { revoke, after };
  }

  describe('with the embedded revocation list (no Redis)', () => {
    it('revokes a token given whole: the running gateway refuses it on the next request', async () => {
      const { revoke, after } = await mintRevokeAndAsk(federation.gatewayUrl, {});
      expect(revoke.stderr).toBe('');
      expect(revoke.code).toBe(0);
      expect(revoke.stdout).toContain('revocations.db');
      expect(refusalOf(after)).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    });
  });

  describe('with Redis (REDIS_URL set, as for several replicas)', () => {
    const prefix = `kuasheng-test-cli-${randomUUID()}:`;
    const redisEnv = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
    let replica: RunningGateway;

    beforeAll(async () => {
      replica = await federation.startGateway(redisEnv);
    });

    afterAll(async () => {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    it('revokes a token given whole: the gateway on Redis refuses it on the next request', async () => {
      const { revoke, after } = await mintRevokeAndAsk(replica.url, redisEnv);
      expect(revoke.stderr).toBe('');
      expect(revoke.code).toBe(0);
      expect(revoke.stdout).toContain('in Redis');
      expect(refusalOf(after)).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    });

    it('refuses (exit 2) a --expires-at in the past and stores nothing: the token stays accepted', async () => {
      const { token } = await mint(['--role', 'approval', '--province', '540000'], redisEnv);
      const { jti } = decodeJwt(token);
      const run = await runScript('revoke-token', ['--jti', jti!, '--expires-at', new Date(Date.now() - 60_000).toISOString()], {
        ...env,
        ...redisEnv,
      });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('--expires-at');
      expect(run.stderr).toContain('in the past');
      expect((await postGraphQL(replica.url, NAME_ONLY, { id: PERSON.idNumber }, as(token, 'TB-HJ-004'))).status).toBe(200);
    });

    it('reports a token that has already expired and stores nothing (exit 0)', async () => {
      // Revoking reads the claims without the key: any signer will do for an expired token.
      const { privateKey } = await generateKeyPair('EdDSA');
      const jti = randomUUID();
      const expired = await new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA' })
        .setJti(jti)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(privateKey);
      const run = await runScript('revoke-token', [expired], { ...env, ...redisEnv });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('expired');
      const list = createRevocationList({ redis: REDIS_URL, keyPrefix: prefix });
      try {
        expect(await list.isRevoked(jti)).toBe(false);
      } finally {
        await list.close();
      }
    });
  });

  it('refuses (exit 2, with its usage) a string that is not a JWT carrying jti and exp', async () => {
    const header = Buffer.from('{"alg":"EdDSA"}').toString('base64url');
    const withoutJti = `${header}.${Buffer.from('{"exp":4102444800}').toString('base64url')}.c2ln`;
    const run = await runScript('revoke-token', [withoutJti], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('<token> has no jti claim');
    expect(run.stderr).toContain('usage: npm run token:revoke');
  });
});
