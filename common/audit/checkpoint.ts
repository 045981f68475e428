import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';

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
  /** Compact JWS (EdDSA, `kid` in the header) over the other four fields; see {@link signCheckpoint}. */
  signature: string;
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

/** Verifies checkpoints against one key set; reuse it for a whole verification run. */
export interface CheckpointVerifier {
  /** Null when the signature is valid for the key set and covers exactly the checkpoint's fields; otherwise why not, as a predicate ("is signed by …"). */
  check(checkpoint: SignedCheckpoint): Promise<string | null>;
}

export function createCheckpointVerifier(jwks: AuditJwks): CheckpointVerifier {
  const keySet = createLocalJWKSet(jwks as JSONWebKeySet);
  return {
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
