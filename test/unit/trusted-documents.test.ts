import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustList, TrustListError } from '../../common/trust-list.js';
import {
  buildManifest,
  documentHash,
  ManifestError,
  normalizeDocumentId,
  parseManifest,
  type TrustedDocumentManifest,
} from '../../common/trusted-documents/manifest.js';
import { readManifests } from '../../gateway/trusted-documents/registry.js';
import { DEFAULT_TRUSTED_DOCUMENTS_DIR } from '../../gateway/config.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const CLIENT = { issuer: 'https://idp.xizang.test.kuasheng.local', subject: 'lasa-talent-office-01' };
const BODY = 'query Name($id: ID!) { person(idNumber: $id) { name } }';

async function script(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/trusted-documents.ts', ...args], { cwd: REPOSITORY });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const manifest = (operations: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, clients: [CLIENT], operations, ...extra });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kuasheng-trusted-documents-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trusted-documents manifests', () => {
  it('accept Apollo’s manifest format with the clients it belongs to', () => {
    const parsed = parseManifest(manifest([{ id: documentHash(BODY), name: 'Name', type: 'query', body: BODY }]), 'x.json');
    expect(parsed.clients).toEqual([CLIENT]);
    expect(parsed.operations).toEqual([{ id: documentHash(BODY), name: 'Name', type: 'query', body: BODY }]);
  });

  describe('when a manifest is wrong', () => {
    it.each<[string, string, RegExp]>([
      ['bad JSON', '{"format":', /x\.json: \(file\) is not valid JSON/],
      [
        'an id that is not the SHA-256 of its body',
        manifest([{ id: 'a'.repeat(64), name: 'Name', type: 'query', body: BODY }]),
        /operations\[0\] \(Name\)\.id is not the SHA-256 of its body/,
      ],
      [
        'a body that does not parse',
        manifest([{ id: documentHash('query Name {'), name: 'Name', type: 'query', body: 'query Name {' }]),
        /operations\[0\] \(Name\)\.body does not parse/,
      ],
      [
        'a name that is not the operation’s',
        manifest([{ id: documentHash(BODY), name: 'Other', type: 'query', body: BODY }]),
        /operations\[0\] \(Other\)\.name does not name/,
      ],
      [
        'a type that is not the operation’s',
        manifest([{ id: documentHash(BODY), name: 'Name', type: 'mutation', body: BODY }]),
        /\(Name\)\.type is not the body's operation type/,
      ],
      ['no clients', manifest([], { clients: [] }), /clients must be a non-empty array/],
      ['an unknown member', manifest([], { owner: 'x' }), /owner is not a manifest field/],
    ])('refuses %s, naming the file and the operation', (_, text, message) => {
      expect(() => parseManifest(text, 'x.json')).toThrow(ManifestError);
      expect(() => parseManifest(text, 'x.json')).toThrow(message);
    });
  });

  it('read document ids in both forms: sha256:<hex> and plain hex, any case', () => {
    const id = documentHash(BODY);
    expect(normalizeDocumentId(`sha256:${id}`)).toBe(id);
    expect(normalizeDocumentId(id.toUpperCase())).toBe(id);
    expect(normalizeDocumentId('md5:abc')).toBeNull();
  });

  it('are read from a folder, by client; a folder that does not exist holds none', () => {
    const folder = mkdtempSync(join(dir, 'folder-'));
    writeFileSync(join(folder, 'a.json'), manifest([{ id: documentHash(BODY), name: 'Name', type: 'query', body: BODY }]));
    writeFileSync(join(folder, 'notes.txt'), 'not a manifest');
    const { documents, manifests } = readManifests(folder);
    expect(manifests).toBe(1);
    expect(documents.get(`${CLIENT.issuer}\u0000${CLIENT.subject}`)?.get(documentHash(BODY))?.name).toBe('Name');
    expect(readManifests(join(folder, 'missing')).manifests).toBe(0);
  });

  it('committed in the configuration folder all verify', () => {
    expect(readManifests(DEFAULT_TRUSTED_DOCUMENTS_DIR).operations).toBeGreaterThan(0);
  });
});

describe('buildManifest', () => {
  it('registers each named operation with the fragments it uses, its id the hash of its body', () => {
    const text = 'query A { person(idNumber: "1") { ...P } }\nquery B { __typename }\nfragment P on Person { name }\n';
    const built = buildManifest([CLIENT], [{ file: 'q.graphql', text }]);
    expect(built.operations.map((o) => o.name)).toEqual(['A', 'B']);
    expect(built.operations[0].body).toBe('query A { person(idNumber: "1") { ...P } }\n\nfragment P on Person { name }');
    expect(built.operations[1].body).toBe('query B { __typename }');
    for (const operation of built.operations) expect(operation.id).toBe(documentHash(operation.body));
  });

  it('refuses an operation without a name', () => {
    expect(() => buildManifest([CLIENT], [{ file: 'q.graphql', text: '{ __typename }' }])).toThrow(/q\.graphql: operation 1 has no name/);
  });
});

describe('the trust list’s per-client settings', () => {
  const issuer = (clients: unknown) => ({
    issuer: 'https://idp.example.gov.cn',
    name: 'x',
    provinces: ['540000'],
    jwksUrl: 'https://idp.example.gov.cn/jwks',
    algorithms: ['ES256'],
    clients,
  });

  it('reads trustedDocuments per token subject (allow by default)', async () => {
    const file = join(dir, 'trust-list-clients.json');
    writeFileSync(file, JSON.stringify({ issuers: [issuer({ 'office-a': { trustedDocuments: 'require' }, 'office-b': {} })] }));
    const list = await loadTrustList(file);
    expect(list.issuers[0].clients.get('office-a')).toEqual({ trustedDocuments: 'require' });
    expect(list.issuers[0].clients.get('office-b')).toEqual({ trustedDocuments: 'allow' });
  });

  it('refuses a setting that is neither allow nor require, naming the field', async () => {
    const file = join(dir, 'trust-list-bad-client.json');
    writeFileSync(file, JSON.stringify({ issuers: [issuer({ 'office-a': { trustedDocuments: 'always' } })] }));
    const error = await loadTrustList(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrustListError);
    expect((error as TrustListError).field).toBe('issuers[0].clients.office-a.trustedDocuments');
  });
});

describe('npm run trusted-documents', () => {
  it('prints its usage for --help and does nothing else', async () => {
    const { status, stdout } = await script(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^usage: npm run trusted-documents -- build/);
  });

  it('builds a manifest whose ids verify', async () => {
    const source = join(dir, 'dossier.graphql');
    writeFileSync(source, `${BODY}\nquery Credit($id: ID!) { person(idNumber: $id) { credit { dishonestJudgmentDebtor } } }\n`);
    const out = join(dir, 'built.json');
    const { status } = await script(['build', '--issuer', CLIENT.issuer, '--subject', CLIENT.subject, '--out', out, source]);
    expect(status).toBe(0);
    const built = parseManifest(readFileSync(out, 'utf8'), out) as TrustedDocumentManifest;
    expect(built.clients).toEqual([CLIENT]);
    expect(built.operations.map((o) => [o.name, o.id])).toEqual([
      ['Name', documentHash(BODY)],
      ['Credit', documentHash('query Credit($id: ID!) { person(idNumber: $id) { credit { dishonestJudgmentDebtor } } }')],
    ]);
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['make']],
    ['no --issuer', ['build', '--subject', 's', '--out', 'x.json', 'q.graphql']],
    ['no --subject', ['build', '--issuer', 'i', '--out', 'x.json', 'q.graphql']],
    ['no --out', ['build', '--issuer', 'i', '--subject', 's', 'q.graphql']],
    ['no file', ['build', '--issuer', 'i', '--subject', 's', '--out', 'x.json']],
    ['an unknown option', ['build', '--client', 'i']],
  ])('exits 2 with the usage for %s', async (_, args) => {
    const { status, stderr } = await script(args);
    expect(status).toBe(2);
    expect(stderr).toMatch(/usage:/);
  });
});
