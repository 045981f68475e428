/**
 * Seal keys (电子印章密钥) of the issuing authorities: one Ed25519 key pair
 * per authority, kept under `<dataDir>/seals/<authorityId>/`:
 *
 * - `authority.json`: id, Chinese name, province (public);
 * - `seal.private.jwk.json` (mode 0600): the current private key, the only
 *   one kept — after a rotation the old private key is gone, so nobody can
 *   seal with it any more;
 * - `holder-binding.key` (mode 0600): 32 random bytes, base64url, the secret
 *   the authority binds holders' ID numbers with (format-2 documents); never
 *   rotated, since every document it bound stays checkable only with it, and
 *   never in the trust list;
 * - `seal.jwks.json`: every public key the authority ever sealed with, each
 *   with `activatedAt` and, once rotated out, `retiredAt`. Old keys stay so
 *   that documents issued before a rotation still verify, and the two times
 *   let a verifier check that the seal was in force when the document says
 *   it was sealed (the 2025 electronic-seal measures).
 *
 * `buildSealTrustList` gathers the public sets into the one trust list file
 * the gateway and the offline verifier load. Key creation and rotation take
 * a per-authority lock file, so two replicas starting together cannot each
 * create a key and leave one of them out of the public set.
 */
import { randomBytes } from 'node:crypto';
import { HOLDER_BINDING_KEY_BYTES, keyedBindingMatches, keyedHolderBinding } from './holder-binding.js';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { SealKeyError } from './errors.js';
import type { SealAlgorithm } from './types.js';
import { checkSealAuthorityId, normalizeSealAuthority, type SealAuthority, type SealAuthorityInput } from './seal-authority.js';
import { parseSealTrustList, SEAL_TRUST_LIST_VERSION, type SealPublicJwk, type SealTrustListFile } from './seal-trust-list.js';

/** The algorithm our authorities seal with. */
export const SEAL_KEY_ALGORITHM: SealAlgorithm = 'EdDSA';

/** Name of the trust list file inside `<dataDir>/seals/`. */
export const SEAL_TRUST_LIST_FILE_NAME = 'trust-list.json';

/** Paths of one authority's seal files. */
export interface SealKeyFiles {
  folder: string;
  authority: string;
  privateKey: string;
  jwks: string;
  holderBindingKey: string;
}

/** Folder holding every authority's seal files and the trust list. */
export function sealsFolder(dataDir: string): string {
  return join(dataDir, 'seals');
}

/** Default trust list path: `<dataDir>/seals/trust-list.json`. */
export function sealTrustListPath(dataDir: string): string {
  return join(sealsFolder(dataDir), SEAL_TRUST_LIST_FILE_NAME);
}

/** Paths of an authority's seal files; the id is checked first, so it cannot escape the folder. */
export function sealKeyFiles(dataDir: string, authorityId: string): SealKeyFiles {
  const folder = join(sealsFolder(dataDir), checkSealAuthorityId(authorityId, 'authorityId'));
  return {
    folder,
    authority: join(folder, 'authority.json'),
    privateKey: join(folder, 'seal.private.jwk.json'),
    jwks: join(folder, 'seal.jwks.json'),
    holderBindingKey: join(folder, 'holder-binding.key'),
  };
}

/** What `ensureSealKey` found or made. */
export interface SealKeyInfo {
  authority: SealAuthority;
  /** Key id of the current seal key. */
  kid: string;
  /** True when this call created the key. */
  created: boolean;
  files: SealKeyFiles;
}

/** Options of key creation and rotation. */
export interface SealKeyOptions {
  /** Clock for `activatedAt`/`retiredAt`; default `new Date()`. For tests. */
  now?: Date;
}

function writeFileAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}

function readJson<T>(file: string, authorityId: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new SealKeyError(
      'SEAL_KEY_INVALID',
      authorityId,
      `${file} cannot be read as JSON: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;

/**
 * Runs `task` holding `<folder>/.lock`, across processes; a lock older than
 * 30 s is taken to be left by a crash. `owner` names what is locked in the
 * SEAL_KEY_BUSY error.
 */
async function withLockFile<T>(folder: string, owner: string, task: () => Promise<T>): Promise<T> {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const lock = join(folder, '.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // Released between our attempt and the stat: try again.
      }
      if (Date.now() > deadline)
        throw new SealKeyError('SEAL_KEY_BUSY', owner, `another process holds ${lock}; remove it if no key operation is running`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** `430100-social-insurance-20260301-9f3a2c`: whose key and from when, readable in a JWS header and a log line. */
function newKid(authorityId: string, now: Date): string {
  return `${authorityId}-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

async function newSealKey(authorityId: string, now: Date): Promise<{ privateJwk: JWK; publicJwk: SealPublicJwk }> {
  const { publicKey, privateKey } = await generateKeyPair(SEAL_KEY_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const kid = newKid(authorityId, now);
  const common = { kid, alg: SEAL_KEY_ALGORITHM, use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...common },
    publicJwk: { ...(await exportJWK(publicKey)), ...common, kid, activatedAt: now.toISOString() },
  };
}

function writeJwks(files: SealKeyFiles, keys: SealPublicJwk[]): void {
  writeFileAtomically(files.jwks, `${JSON.stringify({ keys }, null, 2)}\n`, 0o644);
}

function writeAuthority(files: SealKeyFiles, authority: SealAuthority): void {
  const { id, name, province } = authority;
  writeFileAtomically(files.authority, `${JSON.stringify({ id, name, province }, null, 2)}\n`, 0o644);
}

function currentKid(files: SealKeyFiles, authorityId: string): string {
  const jwk = readJson<JWK>(files.privateKey, authorityId);
  if (typeof jwk.kid !== 'string' || typeof jwk.d !== 'string') {
    throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.privateKey} is not a private JWK with a kid`);
  }
  return jwk.kid;
}

/**
 * Creates the authority's seal key when it has none; idempotent. When the
 * key exists and the authority's name changed (机构改革 renames bodies),
 * the new name is recorded: it reaches verifiers with the next trust list,
 * and documents sealed before keep the name they were sealed under.
 *
 * @throws {SealAuthorityError} for a bad authority.
 * @throws {SealKeyError} `SEAL_KEY_INVALID` when the folder belongs to another province or holds unreadable files.
 */
export async function ensureSealKey(dataDir: string, authorityInput: SealAuthorityInput, options: SealKeyOptions = {}): Promise<SealKeyInfo> {
  const authority = normalizeSealAuthority(authorityInput);
  const files = sealKeyFiles(dataDir, authority.id);
  const complete = () => existsSync(files.privateKey) && existsSync(files.jwks) && existsSync(files.authority);
  const reconcile = (created: boolean, kid: string): SealKeyInfo => {
    const recorded = readJson<{ province?: string; name?: string }>(files.authority, authority.id);
    if (recorded.province !== authority.province) {
      throw new SealKeyError('SEAL_KEY_INVALID', authority.id, `${files.authority} records province ${recorded.province}, not ${authority.province}`);
    }
    if (recorded.name !== authority.name) writeAuthority(files, authority);
    return { authority, kid, created, files };
  };
  if (complete() && existsSync(files.holderBindingKey)) return reconcile(false, currentKid(files, authority.id));
  return withLockFile(files.folder, authority.id, async () => {
    // An authority from before keyed bindings gets its holder-binding key now (its seal key stays).
    if (!existsSync(files.holderBindingKey)) writeFileAtomically(files.holderBindingKey, `${newHolderBindingKey()}\n`, 0o600);
    // Another process may have finished while we waited for the lock.
    if (complete()) return reconcile(false, currentKid(files, authority.id));
    const { privateJwk, publicJwk } = await newSealKey(authority.id, options.now ?? new Date());
    writeAuthority(files, authority);
    // Public key first: at no moment may a private key exist whose public half is unpublished.
    writeJwks(files, [publicJwk]);
    writeFileAtomically(files.privateKey, `${JSON.stringify(privateJwk)}\n`, 0o600);
    return { authority, kid: privateJwk.kid!, created: true, files };
  });
}

function newHolderBindingKey(): string {
  return randomBytes(HOLDER_BINDING_KEY_BYTES).toString('base64url');
}

/**
 * The authority's holder-binding key, as the issuing domain checks a
 * candidate ID number against a format-2 document with it.
 *
 * @throws {SealKeyError} `SEAL_KEY_NOT_FOUND` or `SEAL_KEY_INVALID`.
 */
export function loadHolderBindingKey(dataDir: string, authorityId: string): Uint8Array {
  const files = sealKeyFiles(dataDir, authorityId);
  let text: string;
  try {
    text = readFileSync(files.holderBindingKey, 'utf8').trim();
  } catch {
    throw new SealKeyError('SEAL_KEY_NOT_FOUND', authorityId, `has no holder-binding key in ${files.folder}`);
  }
  const key = Buffer.from(text, 'base64url');
  if (key.length !== HOLDER_BINDING_KEY_BYTES || key.toString('base64url') !== text) {
    throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.holderBindingKey} is not ${HOLDER_BINDING_KEY_BYTES} bytes of base64url`);
  }
  return new Uint8Array(key);
}

/** Outcome of a rotation. */
export interface SealKeyRotation {
  authorityId: string;
  /** The new current key. */
  kid: string;
  /** Keys marked retired by this rotation (normally the one previous key). */
  retiredKids: string[];
}

/**
 * Adds a new seal key and makes it current. Every older public key stays in
 * the authority's JWKS with `retiredAt` set to now, so documents sealed
 * before still verify while a document claiming a later sealing time under
 * an old key does not. Rebuild the trust list afterwards
 * (`npm run seal-keys -- rotate` does both): until verifiers have the new
 * key, documents sealed with it are UNKNOWN_KEY to them.
 *
 * Issuers need no restart: a signer from {@link loadSealSigner} notices the
 * new private key file before its next seal.
 *
 * @throws {SealKeyError} `SEAL_KEY_NOT_FOUND` when the authority has no key yet.
 */
export async function rotateSealKey(dataDir: string, authorityId: string, options: SealKeyOptions = {}): Promise<SealKeyRotation> {
  const files = sealKeyFiles(dataDir, authorityId);
  if (!existsSync(files.privateKey) || !existsSync(files.jwks)) {
    throw new SealKeyError('SEAL_KEY_NOT_FOUND', authorityId, `has no seal key in ${files.folder}; create it first (ensureSealKey)`);
  }
  return withLockFile(files.folder, authorityId, async () => {
    const now = options.now ?? new Date();
    const jwks = readJson<{ keys?: SealPublicJwk[] }>(files.jwks, authorityId);
    if (!Array.isArray(jwks.keys)) throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.jwks} has no "keys" array`);
    const retiredKids: string[] = [];
    const keys = jwks.keys.map((key) => {
      if (key.retiredAt !== undefined) return key;
      retiredKids.push(key.kid);
      return { ...key, retiredAt: now.toISOString() };
    });
    const { privateJwk, publicJwk } = await newSealKey(authorityId, now);
    writeJwks(files, [...keys, publicJwk]);
    writeFileAtomically(files.privateKey, `${JSON.stringify(privateJwk)}\n`, 0o600);
    return { authorityId, kid: publicJwk.kid, retiredKids };
  });
}

/** The key a signer seals with right now. */
export interface SealSigningKey {
  kid: string;
  alg: SealAlgorithm;
  key: CryptoKey;
}

/**
 * What `sealDocument` needs: the authority and its current key. An HSM or a
 * remote signing service can implement this interface too.
 */
export interface SealSigner {
  readonly authority: SealAuthority;
  /** The current signing key; after a rotation, the new one. */
  currentKey(): Promise<SealSigningKey>;
  /** The format-2 holder binding of `identifier` under `salt`, made with the authority's secret holder-binding key. */
  bindHolder(salt: string, identifier: string): Promise<string>;
  /** Whether `candidate` is the identifier a format-2 binding was made from (the issuing domain's online check). */
  holderMatches(binding: string, salt: string, candidate: string): Promise<boolean>;
}

/**
 * Loads an authority's signer. The private key file is re-read whenever it
 * changed on disk (a rotation), checked with one `stat` per seal, so that a
 * long-running subgraph never seals with a key that was rotated out: its
 * documents would fail the seal-in-force check.
 *
 * @throws {SealKeyError} `SEAL_KEY_NOT_FOUND` or `SEAL_KEY_INVALID`.
 */
export async function loadSealSigner(dataDir: string, authorityId: string): Promise<SealSigner> {
  const files = sealKeyFiles(dataDir, authorityId);
  if (!existsSync(files.privateKey) || !existsSync(files.authority)) {
    throw new SealKeyError('SEAL_KEY_NOT_FOUND', authorityId, `has no seal key in ${files.folder}`);
  }
  const authority = normalizeSealAuthority(readJson<SealAuthorityInput>(files.authority, authorityId));
  if (authority.id !== authorityId) {
    throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.authority} names another authority (${authority.id})`);
  }
  let loaded: { version: string; key: SealSigningKey } | undefined;
  const load = async (): Promise<SealSigningKey> => {
    const info = await stat(files.privateKey);
    const version = `${info.ino}:${info.mtimeMs}:${info.size}`;
    if (loaded?.version === version) return loaded.key;
    const jwk = readJson<JWK>(files.privateKey, authorityId);
    if (typeof jwk.kid !== 'string' || typeof jwk.d !== 'string' || jwk.alg !== SEAL_KEY_ALGORITHM) {
      throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.privateKey} is not a private ${SEAL_KEY_ALGORITHM} JWK with a kid`);
    }
    let key: CryptoKey;
    try {
      key = (await importJWK(jwk, SEAL_KEY_ALGORITHM)) as CryptoKey;
    } catch (error) {
      throw new SealKeyError('SEAL_KEY_INVALID', authorityId, `${files.privateKey} cannot be imported: ${(error as Error).message}`, {
        cause: error,
      });
    }
    loaded = { version, key: Object.freeze({ kid: jwk.kid, alg: SEAL_KEY_ALGORITHM, key }) };
    return loaded.key;
  };
  await load();
  const holderKey = loadHolderBindingKey(dataDir, authorityId);
  return {
    authority,
    currentKey: load,
    bindHolder: async (salt, identifier) => keyedHolderBinding(holderKey, salt, identifier),
    holderMatches: async (binding, salt, candidate) => keyedBindingMatches(holderKey, binding, salt, candidate),
  };
}

/** Authorities that have seal files under `<dataDir>/seals/`, sorted by id. */
export function listSealAuthorities(dataDir: string): string[] {
  const folder = sealsFolder(dataDir);
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{6}-/.test(entry.name) && existsSync(join(folder, entry.name, 'seal.jwks.json')))
    .map((entry) => entry.name)
    .sort();
}

/** Options of {@link buildSealTrustList}. */
export interface BuildSealTrustListOptions {
  /** `generatedAt`; default now. */
  now?: Date;
  /** Where to write; default `<dataDir>/seals/trust-list.json`. */
  file?: string;
}

/**
 * Gathers every authority's public JWKS into one trust list, checks that it
 * loads (so a broken list is never published), and writes it atomically.
 * Only public key members are copied: private material cannot leak through
 * here even if a JWKS file was hand-edited. With no authority yet the list
 * is empty, which trusts nobody (every document UNKNOWN_KEY).
 *
 * Builds are serialised across processes by a lock file: two subgraphs
 * each creating an authority's key at first start and rebuilding must not
 * let the one that listed the folder first overwrite the other's list.
 * Whoever creates or rotates a key builds after it, so the last build
 * always holds every key.
 *
 * @throws {SealTrustListError} when the result would not load.
 * @throws {SealKeyError} for unreadable key files, or `SEAL_KEY_BUSY`.
 */
export async function buildSealTrustList(
  dataDir: string,
  options: BuildSealTrustListOptions = {},
): Promise<{ file: string; trustList: SealTrustListFile }> {
  const file = options.file ?? sealTrustListPath(dataDir);
  return withLockFile(sealsFolder(dataDir), 'trust-list', async () => {
    const authorities = listSealAuthorities(dataDir).map((id) => {
      const files = sealKeyFiles(dataDir, id);
      const authority = normalizeSealAuthority(readJson<SealAuthorityInput>(files.authority, id));
      const jwks = readJson<{ keys?: SealPublicJwk[] }>(files.jwks, id);
      const keys = (Array.isArray(jwks.keys) ? jwks.keys : []).map(publicMembers);
      return { id: authority.id, name: authority.name, province: authority.province, provinceName: authority.provinceName, jwks: { keys } };
    });
    const trustList: SealTrustListFile = { version: SEAL_TRUST_LIST_VERSION, generatedAt: (options.now ?? new Date()).toISOString(), authorities };
    await parseSealTrustList(trustList, file);
    writeFileAtomically(file, `${JSON.stringify(trustList, null, 2)}\n`, 0o644);
    return { file, trustList };
  });
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use', 'activatedAt', 'retiredAt'] as const;

function publicMembers(key: SealPublicJwk): SealPublicJwk {
  const copy: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) if (key[member] !== undefined) copy[member] = key[member];
  return copy as unknown as SealPublicJwk;
}
