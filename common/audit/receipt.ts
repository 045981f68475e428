import { createCheckpointVerifier, type AuditJwks } from './checkpoint.js';
import type { WitnessedHead } from './chain-check.js';
import { recordLeafHash, verifyInclusion } from './merkle.js';
import { auditLogOrigin, openCheckpointNote, signedByOneOf, verifyCosignature, type NoteVerifierKey } from './note.js';

/**
 * Audit receipts: every answer of the gateway names, in its `extensions`,
 * the audit record of the request, so that the caller can prove later that
 * the access was recorded — and a citizen's access report can cite it. The
 * proof is an inclusion proof of the record's hash in its chain's Merkle
 * tree, against a checkpoint that witnesses (other provinces) cosigned: it
 * holds hashes only, and verifies offline with the gateway's public keys
 * and the witnesses' keys.
 */

/** The extension key of the receipt in an answer. */
export const RECEIPT_EXTENSION = 'audit';

/** What an answer carries. */
export interface AuditReceipt {
  /** The record's id, `<chain>:<sequence>`: what to ask `auditReceiptProof` for. */
  record: string;
  /** The chain's log origin (the key name of its checkpoints). */
  origin: string;
  /** The record's place in the tree (its sequence minus one). */
  leafIndex: number;
  /** The record's SHA-256 (hex): its entry in the tree. */
  recordHash: string;
}

export function receiptOf(record: { chainId: string; seq: number; hash: string }): AuditReceipt {
  return { record: `${record.chainId}:${record.seq}`, origin: auditLogOrigin(record.chainId), leafIndex: record.seq - 1, recordHash: record.hash };
}

/** What `auditReceiptProof` answers: the inclusion proof and the cosigned checkpoint it is against. */
export interface ReceiptProof {
  record: string;
  origin: string;
  leafIndex: number;
  recordHash: string;
  treeSize: number;
  /** Base64 hashes, bottom first (RFC 6962). */
  inclusionProof: string[];
  /** The checkpoint as a signed note, the gateway's signature and the witnesses' cosignatures after its text. */
  checkpoint: string;
}

export interface ReceiptVerification {
  ok: boolean;
  /** Why not, when not ok. */
  problem: string | null;
  treeSize: number | null;
  /** The witnesses whose cosignatures verified, with their times. */
  witnesses: { name: string; time: string }[];
}

/**
 * Verifies a receipt against a proof, offline: the proof is for the
 * receipt's record and hash, the checkpoint is signed by a key of the
 * gateway's set under the record's origin, at least `quorum` of the given
 * witnesses cosigned it, and the inclusion proof leads from the record's
 * leaf to the checkpoint's root.
 */
export function verifyReceipt(
  receipt: AuditReceipt,
  proof: ReceiptProof,
  trust: { jwks: AuditJwks; witnesses: readonly NoteVerifierKey[]; quorum?: number },
): ReceiptVerification {
  const quorum = trust.quorum ?? 1;
  const refuse = (problem: string, treeSize: number | null = null, witnesses: ReceiptVerification['witnesses'] = []): ReceiptVerification => ({
    ok: false,
    problem,
    treeSize,
    witnesses,
  });
  const match = /^(.+):(\d{1,15})$/.exec(String(receipt?.record));
  if (!match || !/^[0-9a-f]{64}$/.test(String(receipt.recordHash)))
    return refuse('the receipt is not an audit receipt (record <chain>:<seq>, recordHash)');
  const [, chainId, seqText] = match;
  const seq = Number(seqText);
  if (proof?.record !== receipt.record || proof.recordHash !== receipt.recordHash || proof.leafIndex !== seq - 1) {
    return refuse(`the proof is for record ${String(proof?.record)}, not the receipt's ${receipt.record} with its hash`);
  }
  const opened = openCheckpointNote(proof.checkpoint);
  if ('error' in opened) return refuse(`the proof's checkpoint is not a signed checkpoint: ${opened.error}`);
  const { text, signatures, head } = opened;
  if (head.origin !== auditLogOrigin(chainId)) return refuse(`the checkpoint is of log ${head.origin}, not ${auditLogOrigin(chainId)}`);
  if (!signedByOneOf(opened, createCheckpointVerifier(trust.jwks).noteKeys(chainId))) {
    return refuse('the checkpoint is not signed by a key of the gateway key set', head.size);
  }
  const witnesses: ReceiptVerification['witnesses'] = [];
  for (const key of trust.witnesses) {
    for (const signature of signatures) {
      const time = verifyCosignature(text, signature, key);
      if (time !== null) {
        witnesses.push({ name: key.name, time: new Date(time * 1000).toISOString() });
        break;
      }
    }
  }
  if (witnesses.length < quorum) {
    return refuse(`${witnesses.length} of the trusted witnesses cosigned the checkpoint; ${quorum} needed`, head.size, witnesses);
  }
  if (head.size !== proof.treeSize)
    return refuse(`the proof is for a tree of ${proof.treeSize} records, the checkpoint of ${head.size}`, head.size, witnesses);
  let path: Buffer[];
  try {
    path = proof.inclusionProof.map((node) => Buffer.from(node, 'base64'));
  } catch {
    return refuse('the inclusion proof is not a list of base64 hashes', head.size, witnesses);
  }
  if (!verifyInclusion(recordLeafHash(receipt.recordHash), seq - 1, head.size, path, head.root)) {
    return refuse(`the inclusion proof does not lead from record ${receipt.record} to the checkpoint's root`, head.size, witnesses);
  }
  return { ok: true, problem: null, treeSize: head.size, witnesses };
}

/**
 * The tree heads in cosigned checkpoint notes (as witnesses serve them),
 * by chain: each note must be signed by the gateway under a chain's origin
 * and cosigned by one of the witness keys. Notes that are not are returned
 * apart, with why, so that a verifier can say so instead of ignoring them.
 */
export function witnessedHeads(
  notes: readonly string[],
  jwks: AuditJwks,
  witnessKeys: readonly NoteVerifierKey[],
  originPrefix = auditLogOrigin(''),
): { heads: Map<string, WitnessedHead[]>; rejected: string[] } {
  const verifier = createCheckpointVerifier(jwks);
  const heads = new Map<string, WitnessedHead[]>();
  const rejected: string[] = [];
  for (const note of notes) {
    const opened = openCheckpointNote(note);
    if ('error' in opened) {
      rejected.push(`a witnessed checkpoint is not a signed checkpoint: ${opened.error}`);
      continue;
    }
    const { text, signatures, head } = opened;
    if (!head.origin.startsWith(originPrefix)) {
      rejected.push(`a witnessed checkpoint is of another log (${head.origin})`);
      continue;
    }
    const chainId = head.origin.slice(originPrefix.length);
    if (!signedByOneOf(opened, verifier.noteKeys(chainId))) {
      rejected.push(`the witnessed checkpoint of ${head.origin} at ${head.size} is not signed by the gateway key set`);
      continue;
    }
    let cosigned = false;
    for (const key of witnessKeys) {
      for (const signature of signatures) {
        const time = verifyCosignature(text, signature, key);
        if (time === null) continue;
        cosigned = true;
        const list = heads.get(chainId) ?? [];
        list.push({ witness: key.name, size: head.size, root: head.root, time: new Date(time * 1000).toISOString() });
        heads.set(chainId, list);
      }
    }
    if (!cosigned) rejected.push(`the checkpoint of ${head.origin} at ${head.size} has no cosignature of a trusted witness`);
  }
  return { heads, rejected };
}
