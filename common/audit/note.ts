import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { HASH_SIZE } from './merkle.js';

/**
 * Signed notes (C2SP signed-note), transparency-log checkpoints
 * (C2SP tlog-checkpoint) and witness cosignatures (C2SP tlog-cosignature,
 * `cosignature/v1`), with Ed25519 keys.
 *
 * A note is a text ending in a newline, a blank line, then one signature
 * line per signer: `— <key name> base64(4-byte key id || signature)`. The
 * key id is SHA-256(name || "\n" || algorithm byte || public key)[:4], so a
 * verifier configured with (name, public key) ignores lines that are not
 * for it. A checkpoint's text is three lines — origin, tree size, base64
 * root hash — and optional extension lines.
 */

/** Algorithm bytes of signed-note keys. */
export const NOTE_ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;
export type NoteAlgorithm = typeof NOTE_ED25519 | typeof COSIGNATURE_V1;

const EM_DASH = '\u2014';
const COSIGNATURE_HEADER = 'cosignature/v1\n';
const MAX_NAME = 256;

export class NoteFormatError extends Error {
  readonly code = 'NOTE_MALFORMED';
  constructor(message: string) {
    super(message);
    this.name = 'NoteFormatError';
  }
}

/** A public key a note is checked against. */
export interface NoteVerifierKey {
  name: string;
  algorithm: NoteAlgorithm;
  /** The 32-byte Ed25519 public key. */
  publicKey: Buffer;
  keyId: Buffer;
}

/** A private key that signs notes under a name. */
export interface NoteSignerKey extends NoteVerifierKey {
  privateKey: KeyObject;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name === '' || name.length > MAX_NAME || /[\s+]/u.test(name)) {
    throw new NoteFormatError(`a key name must be 1-${MAX_NAME} characters without spaces or "+", got ${JSON.stringify(name)}`);
  }
}

/** SHA-256(name || "\n" || algorithm || public key)[:4]. */
export function noteKeyId(name: string, algorithm: NoteAlgorithm, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name)
    .update('\n')
    .update(Buffer.from([algorithm]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The raw 32-byte public key of an Ed25519 key (public or private, as a KeyObject or a CryptoKey). */
export function rawEd25519PublicKey(key: KeyObject | CryptoKey): Buffer {
  const object = key instanceof KeyObject ? key : KeyObject.from(key);
  const publicKey = object.type === 'private' ? createPublicKey(object) : object;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new NoteFormatError('the key is not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** A verifier key from a name and an Ed25519 public key (32 raw bytes). */
export function noteVerifierKey(name: string, algorithm: NoteAlgorithm, publicKey: Uint8Array): NoteVerifierKey {
  checkName(name);
  if (publicKey.length !== 32) throw new NoteFormatError('an Ed25519 public key is 32 bytes');
  return { name, algorithm, publicKey: Buffer.from(publicKey), keyId: noteKeyId(name, algorithm, publicKey) };
}

/** A signer from a name and an Ed25519 private key (a KeyObject, a CryptoKey or a private JWK). */
export function noteSignerKey(name: string, algorithm: NoteAlgorithm, privateKey: KeyObject | CryptoKey | JsonWebKey): NoteSignerKey {
  const object =
    privateKey instanceof KeyObject
      ? privateKey
      : 'type' in privateKey && typeof (privateKey as CryptoKey).algorithm === 'object'
        ? KeyObject.from(privateKey as CryptoKey)
        : createPrivateKey({ key: privateKey as import('node:crypto').JsonWebKey, format: 'jwk' });
  if (object.type !== 'private') throw new NoteFormatError('a signer needs a private key');
  return { ...noteVerifierKey(name, algorithm, rawEd25519PublicKey(object)), privateKey: object };
}

/** The vkey text of a verifier key: `<name>+<key id, 8 hex digits>+<base64(algorithm || public key)>`. */
export function formatVerifierKey(key: NoteVerifierKey): string {
  return `${key.name}+${key.keyId.toString('hex')}+${Buffer.concat([Buffer.from([key.algorithm]), key.publicKey]).toString('base64')}`;
}

/** Parses a vkey; throws a {@link NoteFormatError} when it is not one, or its key id does not match its key. */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  // The base64 key may itself hold "+": the name and the id are the first two fields.
  const parts = typeof vkey === 'string' ? /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(vkey.trim())?.slice(1) : undefined;
  if (!parts) throw new NoteFormatError('a verifier key reads <name>+<8 hex digits>+<base64 key>');
  const material = Buffer.from(parts[2], 'base64');
  const algorithm = material[0];
  if (material.length !== 33 || (algorithm !== NOTE_ED25519 && algorithm !== COSIGNATURE_V1)) {
    throw new NoteFormatError('a verifier key must hold an Ed25519 key (algorithm 0x01 or 0x04 and 32 bytes)');
  }
  const key = noteVerifierKey(parts[0], algorithm, material.subarray(1));
  if (key.keyId.toString('hex') !== parts[1]) throw new NoteFormatError(`the key id of verifier key ${parts[0]} does not match its key`);
  return key;
}

/** A parsed note: its text (ending in a newline) and its signature lines. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  /** The signature bytes after the key id. */
  signature: Buffer;
  /** The line as written, without its newline. */
  line: string;
}

/** Parses a signature line `— <name> <base64>`. */
export function parseSignatureLine(line: string): NoteSignature {
  const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
  if (!match) throw new NoteFormatError(`not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
  const bytes = Buffer.from(match[2], 'base64');
  if (bytes.length < 5) throw new NoteFormatError('a signature line holds a key id and a signature');
  return { name: match[1], keyId: bytes.subarray(0, 4), signature: bytes.subarray(4), line };
}

/** Splits a note into its text and signature lines; throws a {@link NoteFormatError} when it is not a note. */
export function parseNote(note: string): Note {
  if (typeof note !== 'string' || note.length > 1_000_000) throw new NoteFormatError('a note must be a string of at most 1 MB');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteFormatError('a note is a text, a blank line and signature lines, each ending in a newline');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (text.includes('\r')) throw new NoteFormatError('a note’s text must not contain carriage returns');
  return { text, signatures: lines.map(parseSignatureLine) };
}

function signatureLine(name: string, keyId: Buffer, signature: Buffer): string {
  return `${EM_DASH} ${name} ${Buffer.concat([keyId, signature]).toString('base64')}`;
}

/** The note of `text` signed by every signer (Ed25519 note signatures, algorithm 0x01). */
export function signNote(text: string, signers: readonly NoteSignerKey[]): string {
  if (!text.endsWith('\n')) throw new NoteFormatError('a note’s text must end in a newline');
  const lines = signers.map((signer) => {
    if (signer.algorithm !== NOTE_ED25519) throw new NoteFormatError(`key ${signer.name} is not a note-signing key`);
    return signatureLine(signer.name, signer.keyId, sign(null, Buffer.from(text), signer.privateKey));
  });
  return `${text}\n${lines.map((line) => `${line}\n`).join('')}`;
}

function keyObject(publicKey: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
}

/** Whether `line` is `key`'s valid Ed25519 note signature of `text`. Never throws. */
export function verifyNoteSignature(text: string, signature: NoteSignature, key: NoteVerifierKey): boolean {
  if (key.algorithm !== NOTE_ED25519 || signature.name !== key.name || !signature.keyId.equals(key.keyId)) return false;
  if (signature.signature.length !== 64) return false;
  try {
    return verify(null, Buffer.from(text), keyObject(key.publicKey), signature.signature);
  } catch {
    return false;
  }
}

function cosignedMessage(text: string, timestamp: number): Buffer {
  return Buffer.from(`${COSIGNATURE_HEADER}time ${timestamp}\n${text}`);
}

/** A witness's `cosignature/v1` line for a checkpoint text, at `timestamp` (POSIX seconds). */
export function cosignatureLine(text: string, witness: NoteSignerKey, timestamp: number): string {
  if (witness.algorithm !== COSIGNATURE_V1) throw new NoteFormatError(`key ${witness.name} is not a cosigning key`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new NoteFormatError('a cosignature’s time is whole seconds since 1970');
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  return signatureLine(witness.name, witness.keyId, Buffer.concat([time, sign(null, cosignedMessage(text, timestamp), witness.privateKey)]));
}

/** The time of `key`'s valid cosignature of `text`, or null when the line is not one. Never throws. */
export function verifyCosignature(text: string, signature: NoteSignature, key: NoteVerifierKey): number | null {
  if (key.algorithm !== COSIGNATURE_V1 || signature.name !== key.name || !signature.keyId.equals(key.keyId)) return null;
  if (signature.signature.length !== 72) return null;
  const timestamp = signature.signature.readBigUInt64BE(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  try {
    const ok = verify(null, cosignedMessage(text, Number(timestamp)), keyObject(key.publicKey), signature.signature.subarray(8));
    return ok ? Number(timestamp) : null;
  } catch {
    return null;
  }
}

/** The body of a checkpoint. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  /** Extension lines, if any (none of this project's checkpoints have them). */
  extensions: string[];
}

/** The checkpoint's text: origin, size and base64 root, one per line. */
export function formatCheckpoint(checkpoint: Omit<Checkpoint, 'extensions'> & { extensions?: string[] }): string {
  if (typeof checkpoint.origin !== 'string' || checkpoint.origin === '' || /[\n\r]/.test(checkpoint.origin)) {
    throw new NoteFormatError('a checkpoint’s origin must be one non-empty line');
  }
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw new NoteFormatError('a checkpoint’s size must be a whole number ≥ 0');
  if (checkpoint.root.length !== HASH_SIZE) throw new NoteFormatError('a checkpoint’s root must be a 32-byte hash');
  const extensions = checkpoint.extensions ?? [];
  if (extensions.some((line) => line === '' || /[\n\r]/.test(line))) throw new NoteFormatError('extension lines must be non-empty single lines');
  return [checkpoint.origin, String(checkpoint.size), Buffer.from(checkpoint.root).toString('base64'), ...extensions]
    .map((line) => `${line}\n`)
    .join('');
}

/** Parses a checkpoint's text (a note's text, without its signatures). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new NoteFormatError('a checkpoint’s text ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteFormatError('a checkpoint has an origin, a size and a root line');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === '') throw new NoteFormatError('a checkpoint’s origin line is empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new NoteFormatError('a checkpoint’s size is a decimal number without leading zeros');
  }
  const root = Buffer.from(rootLine, 'base64');
  if (root.length !== HASH_SIZE || root.toString('base64') !== rootLine) throw new NoteFormatError('a checkpoint’s root is a base64 32-byte hash');
  if (extensions.some((line) => line === '')) throw new NoteFormatError('a checkpoint’s extension lines must not be empty');
  return { origin, size: Number(sizeLine), root, extensions };
}

/** A checkpoint note opened: its text, its checkpoint and its signature lines. */
export interface OpenedCheckpoint {
  text: string;
  head: Checkpoint;
  signatures: NoteSignature[];
}

/** Parses a checkpoint note; a {@link NoteFormatError} message when it is not one. Never throws. */
export function openCheckpointNote(note: string): OpenedCheckpoint | { error: string } {
  try {
    const { text, signatures } = parseNote(note);
    return { text, head: parseCheckpoint(text), signatures };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Whether one of the note's signature lines is a valid note signature by one of `keys`. */
export function signedByOneOf(opened: OpenedCheckpoint, keys: readonly NoteVerifierKey[]): boolean {
  return opened.signatures.some((signature) => keys.some((key) => verifyNoteSignature(opened.text, signature, key)));
}

/** The origin of a gateway replica's audit log: also the name of the key that signs its checkpoints. */
export const AUDIT_LOG_ORIGIN_PREFIX = 'kuasheng.gov.cn/audit/';

export function auditLogOrigin(chainId: string): string {
  return `${AUDIT_LOG_ORIGIN_PREFIX}${chainId}`;
}
