/**
 * The witness's own Ed25519 key, created on first start in its data
 * folder: `witness.key` (PKCS #8 PEM, mode 0600; never logged) and, next to
 * it, `witness.vkey`, the verifier key others configure to check its
 * cosignatures: `<name>+<key id>+<base64(0x04 || public key)>`. The vkey is
 * rewritten at each start from the key and the configured name.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { COSIGNATURE_V1, formatVerifierKey, type NoteSignerKey, noteSignerKey } from '../audit/note.js';

export function witnessKeyFiles(dataDir: string) {
  return { privateKey: join(dataDir, 'witness.key'), vkey: join(dataDir, 'witness.vkey') };
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}

export interface WitnessKey {
  /** Signs cosignatures (`cosignature/v1`, algorithm 0x04) under the witness's name. */
  signer: NoteSignerKey;
  /** The verifier key text, as written to `witness.vkey`. */
  vkey: string;
  files: ReturnType<typeof witnessKeyFiles>;
}

/** Loads the witness's key from `dataDir`, creating it when missing, and (re)writes its vkey for `name`. */
export function ensureWitnessKey(dataDir: string, name: string): WitnessKey {
  const files = witnessKeyFiles(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.privateKey)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeAtomically(files.privateKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  }
  const privateKey = createPrivateKey(readFileSync(files.privateKey));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${files.privateKey} is not an Ed25519 private key`);
  const signer = noteSignerKey(name, COSIGNATURE_V1, privateKey);
  const vkey = formatVerifierKey(signer);
  if (!existsSync(files.vkey) || readFileSync(files.vkey, 'utf8').trim() !== vkey) writeAtomically(files.vkey, `${vkey}\n`, 0o644);
  return { signer, vkey, files };
}
