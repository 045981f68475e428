import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { treeHash, leafHash } from '../../common/audit/merkle.js';
import {
  COSIGNATURE_V1,
  cosignatureLine,
  formatCheckpoint,
  formatVerifierKey,
  NOTE_ED25519,
  noteSignerKey,
  noteVerifierKey,
  parseCheckpoint,
  parseNote,
  parseSignatureLine,
  parseVerifierKey,
  signNote,
  verifyCosignature,
  verifyNoteSignature,
} from '../../common/audit/note.js';

const origin = 'kuasheng.gov.cn/audit/gateway-test';
const root = treeHash([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);
const log = noteSignerKey(origin, NOTE_ED25519, generateKeyPairSync('ed25519').privateKey);
const witness = noteSignerKey('witness.hunan.kuasheng.gov.cn', COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey);

describe('signed notes and checkpoints', () => {
  it('formats a checkpoint as origin, size and base64 root, and reads it back', () => {
    const text = formatCheckpoint({ origin, size: 2, root });
    expect(text).toBe(`${origin}\n2\n${root.toString('base64')}\n`);
    expect(parseCheckpoint(text)).toEqual({ origin, size: 2, root, extensions: [] });
    for (const bad of [
      `${origin}\n02\n${root.toString('base64')}\n`,
      `${origin}\n2\n${root.toString('base64')}`,
      `${origin}\n2\nAAAA\n`,
      '\n2\nx\n',
    ]) {
      expect(() => parseCheckpoint(bad)).toThrow(/checkpoint/);
    }
  });

  it('signs a note that the key verifies, and nothing else does', () => {
    const text = formatCheckpoint({ origin, size: 2, root });
    const note = signNote(text, [log]);
    const parsed = parseNote(note);
    expect(parsed.text).toBe(text);
    expect(parsed.signatures).toHaveLength(1);
    expect(note.split('\n').at(-2)?.startsWith(`\u2014 ${origin} `)).toBe(true);
    expect(verifyNoteSignature(text, parsed.signatures[0], log)).toBe(true);
    expect(verifyNoteSignature(formatCheckpoint({ origin, size: 3, root }), parsed.signatures[0], log)).toBe(false);
    const other = noteSignerKey(origin, NOTE_ED25519, generateKeyPairSync('ed25519').privateKey);
    expect(verifyNoteSignature(text, parsed.signatures[0], other)).toBe(false);
    // The key id binds the name: the same key under another name does not verify.
    const renamed = noteVerifierKey('kuasheng.gov.cn/audit/other', NOTE_ED25519, log.publicKey);
    expect(verifyNoteSignature(text, parsed.signatures[0], renamed)).toBe(false);
  });

  it('cosigns with a timestamp (cosignature/v1), verified only for that text and key', () => {
    const text = formatCheckpoint({ origin, size: 2, root });
    const line = cosignatureLine(text, witness, 1_790_000_000);
    const signature = parseSignatureLine(line);
    expect(signature.signature).toHaveLength(72);
    expect(verifyCosignature(text, signature, witness)).toBe(1_790_000_000);
    expect(verifyCosignature(formatCheckpoint({ origin, size: 1, root }), signature, witness)).toBeNull();
    expect(verifyCosignature(text, signature, log)).toBeNull();
    // A cosignature is not a note signature, even by the same key.
    const sameKeyAsNoteSigner = noteVerifierKey(witness.name, NOTE_ED25519, witness.publicKey);
    expect(verifyNoteSignature(text, signature, sameKeyAsNoteSigner)).toBe(false);
  });

  it('writes and reads verifier keys, refusing one whose id does not match', () => {
    const vkey = formatVerifierKey(witness);
    expect(vkey).toMatch(/^witness\.hunan\.kuasheng\.gov\.cn\+[0-9a-f]{8}\+/);
    const parsed = parseVerifierKey(vkey);
    expect(parsed.keyId.equals(witness.keyId)).toBe(true);
    expect(parsed.algorithm).toBe(COSIGNATURE_V1);
    const [name, id] = vkey.split('+');
    const wrongId = `${name}+${id === '00000000' ? '00000001' : '00000000'}+${vkey.slice(name.length + 10)}`;
    expect(() => parseVerifierKey(wrongId)).toThrow(/does not match/);
    expect(() => parseVerifierKey('nonsense')).toThrow(/verifier key/);
  });

  it('refuses text that is not a note', () => {
    for (const bad of ['no blank line\n', `${origin}\n2\n\n— x`, `${origin}\n\n— only-a-name\n`]) expect(() => parseNote(bad)).toThrow();
  });
});
