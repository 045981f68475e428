import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';
import { CompactRange } from './merkle.js';
import {
  auditLogOrigin,
  formatCheckpoint,
  NOTE_ED25519,
  noteSignerKey,
  noteVerifierKey,
  openCheckpointNote,
  signedByOneOf,
  signNote,
  type NoteSignerKey,
  type NoteVerifierKey,
} from './note.js';

/**
 * A writer's signed statement "chain `chainId` had `seq` records and its
 * head hash was `headHash` at `time`". Records up to `seq` can no longer be
 * changed, removed or reordered without the verifier noticing, even by
 * someone who can rewrite the database and recompute hashes.
 */
export interface SignedCheckpoint {
  chainId: string;
  seq: number;
  headHash: string;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  /** Compact JWS (EdDSA, `kid` in the header) over the four fields above; see {@link signCheckpoint}. */
  signature: string;
  /**
   * The chain's Merkle tree at `seq` as a C2SP tlog-checkpoint (origin
   * `kuasheng.gov.cn/audit/<chainId>`, size `seq`, root), a signed note by
   * the same key: what witnesses cosign. Absent on checkpoints signed before
   * the chains were trees.
   */
  note?: string;
  /** The tree's compact range at `seq` (base64 subtree roots, largest first), so that the tree can be continued from here; bound by the note's root. */
  tree?: string[];
}

/** The gateway's signing key, as `loadGatewaySigningKey` returns it. */
export interface CheckpointSigningKey {
  key: CryptoKey | Uint8Array;
  kid: string;
}

/** A public key set checkpoints verify against (`<dataDir>/keys/gateway.jwks.json`, rotated keys included). */
export interface AuditJwks {
  keys: JWK[];
}

export const CHECKPOINT_ALGORITHM = 'EdDSA';
/** JWS `typ` of checkpoints, so that no other token the gateway signs can pass for one. */
export const CHECKPOINT_TYPE = 'kuasheng-audit-checkpoint+jws';

/** The signed payload: the four fields in this order, as JSON. */
function checkpointPayload(fields: Omit<SignedCheckpoint, 'signature'>): string {
  return JSON.stringify({ chainId: fields.chainId, seq: fields.seq, headHash: fields.headHash, time: fields.time });
}

/** Signs a checkpoint with the gateway's Ed25519 key. */
export async function signCheckpoint(fields: Omit<SignedCheckpoint, 'signature'>, signing: CheckpointSigningKey): Promise<SignedCheckpoint> {
  const signature = await new CompactSign(new TextEncoder().encode(checkpointPayload(fields)))
    .setProtectedHeader({ alg: CHECKPOINT_ALGORITHM, kid: signing.kid, typ: CHECKPOINT_TYPE })
    .sign(signing.key);
  return { chainId: fields.chainId, seq: fields.seq, headHash: fields.headHash, time: fields.time, signature };
}

/** The gateway key as the signer of a chain's tree checkpoints: a note key named after the chain's log origin. */
export function checkpointNoteSigner(chainId: string, signing: CheckpointSigningKey): NoteSignerKey {
  if (signing.key instanceof Uint8Array) throw new TypeError('the checkpoint key must be an Ed25519 private key, not raw bytes');
  return noteSignerKey(auditLogOrigin(chainId), NOTE_ED25519, signing.key);
}

/** Adds the chain's tree at the checkpoint's seq (`tree` must hold exactly `seq` leaves): the signed tlog-checkpoint note and the compact range. */
export function withTreeHead(checkpoint: SignedCheckpoint, tree: CompactRange, signer: NoteSignerKey): SignedCheckpoint {
  if (tree.size !== checkpoint.seq) throw new RangeError(`the tree holds ${tree.size} leaves, the checkpoint is at seq ${checkpoint.seq}`);
  const text = formatCheckpoint({ origin: signer.name, size: tree.size, root: tree.root() });
  return { ...checkpoint, note: signNote(text, [signer]), tree: tree.nodes().map((node) => node.toString('base64')) };
}

/** The compact range a checkpoint carries; null when it has none or it is not well-formed. */
export function checkpointTree(checkpoint: SignedCheckpoint): CompactRange | null {
  if (!checkpoint.tree) return null;
  try {
    return CompactRange.of(
      checkpoint.seq,
      checkpoint.tree.map((node) => Buffer.from(node, 'base64')),
    );
  } catch {
    return null;
  }
}

/** Verifies checkpoints against one key set; reuse it for a whole verification run. */
export interface CheckpointVerifier {
  /** Null when the signature is valid for the key set and covers exactly the checkpoint's fields; otherwise why not, as a predicate ("is signed by …"). */
  check(checkpoint: SignedCheckpoint): Promise<string | null>;
  /**
   * Null when the checkpoint's tree note is signed by a key of the set under
   * the chain's origin, for a tree of `seq` leaves, with `root` (when the
   * caller knows the root, from the records) and with the compact range it
   * carries; otherwise why not. Checkpoints without a note pass (they were
   * signed before chains were trees).
   */
  checkNote(checkpoint: SignedCheckpoint, root: Uint8Array | null): string | null;
  /** The note keys of the set under a chain's origin (one per Ed25519 key, rotated ones included). */
  noteKeys(chainId: string): NoteVerifierKey[];
}

export function createCheckpointVerifier(jwks: AuditJwks): CheckpointVerifier {
  const keySet = createLocalJWKSet(jwks as JSONWebKeySet);
  const noteKeysByChain = new Map<string, NoteVerifierKey[]>();
  const noteKeys = (chainId: string): NoteVerifierKey[] => {
    let keys = noteKeysByChain.get(chainId);
    if (!keys) {
      const origin = auditLogOrigin(chainId);
      keys = jwks.keys
        .filter((key) => key.kty === 'OKP' && key.crv === 'Ed25519' && typeof key.x === 'string')
        .map((key) => noteVerifierKey(origin, NOTE_ED25519, Buffer.from(key.x as string, 'base64url')));
      noteKeysByChain.set(chainId, keys);
    }
    return keys;
  };
  return {
    noteKeys,
    checkNote(checkpoint, root) {
      if (checkpoint.note === undefined) return null;
      const opened = openCheckpointNote(checkpoint.note);
      if ('error' in opened) return `has a tree note that is not a signed checkpoint (${opened.error})`;
      const { head } = opened;
      if (!signedByOneOf(opened, noteKeys(checkpoint.chainId))) {
        return 'has a tree note not signed by a key of the gateway key set under the chain’s origin';
      }
      if (head.origin !== auditLogOrigin(checkpoint.chainId)) return `has a tree note of another log (${head.origin})`;
      if (head.size !== checkpoint.seq) return `has a tree note for ${head.size} records, not ${checkpoint.seq}`;
      const tree = checkpointTree(checkpoint);
      if (checkpoint.tree && !tree?.root().equals(head.root)) return 'carries a compact range that does not make the root its note signs';
      if (root && !head.root.equals(root)) {
        return `signs a tree root that records 1–${checkpoint.seq} do not make: the chain up to it was rewritten`;
      }
      return null;
    },
    async check(checkpoint) {
      let payload: Uint8Array;
      try {
        const verified = await compactVerify(checkpoint.signature, keySet, { algorithms: [CHECKPOINT_ALGORITHM, 'Ed25519'] });
        if (verified.protectedHeader.typ !== CHECKPOINT_TYPE)
          return `is signed as something else than a checkpoint (typ ${String(verified.protectedHeader.typ)})`;
        payload = verified.payload;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'is signed by a key that is not in the gateway key set';
        return `has a signature that does not verify (${code ?? (error as Error).message})`;
      }
      const signed = new TextDecoder().decode(payload);
      if (signed !== checkpointPayload(checkpoint)) return `has fields that differ from what was signed (${signed})`;
      return null;
    },
  };
}
