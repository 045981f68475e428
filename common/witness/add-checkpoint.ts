/**
 * What a witness does with an add-checkpoint request (C2SP tlog-witness),
 * apart from HTTP: check the checkpoint against the log's trusted keys and
 * the latest checkpoint cosigned for its origin, and if it is a consistent
 * extension of it, make it the latest (durably) and cosign it.
 *
 * The checks, in the protocol's order: a body that is not a request is 400;
 * an origin not configured 404; no valid signature by a trusted key of the
 * origin 403 (a trusted key's signature that does not verify too); an old
 * size above the checkpoint's 400; an old size that is not the latest
 * cosigned size (0 for a log never seen) 409 with that size; at the same
 * size another root 409; a consistency proof that fails 422. A signed
 * submission refused for its contents (the last two) is kept as evidence:
 * it may prove that the log misbehaved.
 */
import type { Logger } from 'pino';
import { EMPTY_TREE_ROOT, verifyConsistency } from '../audit/merkle.js';
import { cosignatureLine, type NoteSignature, type NoteSignerKey, verifyNoteSignature } from '../audit/note.js';
import { WitnessRefusal } from './errors.js';
import { parseAddCheckpoint } from './request.js';
import type { CosignedCheckpoint, WitnessStore } from './store.js';
import type { TrustedLogs } from './trusted-logs.js';

/** The media type of a 409's body: the witness's latest size for the origin, in decimal, and a newline. */
export const TLOG_SIZE_TYPE = 'text/x.tlog.size';

/** A cosignature given: the line (without its newline) and what it covers. */
export interface Cosigned {
  origin: string;
  size: number;
  /** The witness's signature line `— <name> <base64>`. */
  cosignature: string;
  /** The cosignature's time, POSIX seconds. */
  timestamp: number;
}

/** A refusal carrying the witness's latest size for the origin (409, `text/x.tlog.size`). */
export class SizeMismatch extends WitnessRefusal {
  constructor(readonly latestSize: number) {
    super('OLD_SIZE_MISMATCH', `the latest checkpoint cosigned for this origin has size ${latestSize}`);
  }
}

export interface CheckpointWitnessOptions {
  store: WitnessStore;
  signer: NoteSignerKey;
  trustedLogs: TrustedLogs;
  logger: Logger;
  /** Milliseconds since 1970; default Date.now. */
  now?: () => number;
}

export interface CheckpointWitness {
  /** Handles one add-checkpoint body; throws a {@link WitnessRefusal} ({@link SizeMismatch} for a 409 with the size). */
  addCheckpoint(body: string): Cosigned;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export function createCheckpointWitness(options: CheckpointWitnessOptions): CheckpointWitness {
  const { store, signer, trustedLogs, logger } = options;
  const now = options.now ?? Date.now;

  /** The log's signature lines that verify; throws 403 when none does, or when one by a trusted key does not. */
  function verifiedSignatures(origin: string, text: string, signatures: readonly NoteSignature[]): string[] {
    const keys = trustedLogs.keysOf(origin);
    const valid: string[] = [];
    for (const signature of signatures) {
      // Signatures of unknown keys (another witness's cosignature, a key not in the set) are ignored, as the protocol says.
      const key = keys.find((k) => k.name === signature.name && k.keyId.equals(signature.keyId));
      if (!key) continue;
      if (!verifyNoteSignature(text, signature, key)) throw new WitnessRefusal('UNTRUSTED_SIGNATURE', 'a signature by a trusted key does not verify');
      valid.push(signature.line);
    }
    if (valid.length === 0) throw new WitnessRefusal('UNTRUSTED_SIGNATURE', 'no signature by a trusted key of the origin');
    return valid;
  }

  function keepEvidence(origin: string, refusal: WitnessRefusal, body: string): WitnessRefusal {
    logger.warn({ origin, code: refusal.code }, `refused a signed checkpoint: ${refusal.message} (kept as evidence)`);
    try {
      store.recordEvidence(origin, refusal.status, refusal.message, body);
    } catch (error) {
      logger.error({ err: error, origin }, 'could not keep the evidence of a refused checkpoint');
    }
    return refusal;
  }

  return {
    addCheckpoint(body) {
      const request = parseAddCheckpoint(body);
      const { checkpoint, note, oldSize, proof } = request;
      const { origin, size, root } = checkpoint;
      if (!trustedLogs.knows(origin)) throw new WitnessRefusal('UNKNOWN_ORIGIN', 'this witness is not configured for the origin');
      const logSignatures = verifiedSignatures(origin, note.text, note.signatures);
      if (oldSize > size) throw new WitnessRefusal('OLD_SIZE_TOO_LARGE', `the old size ${oldSize} is larger than the checkpoint's ${size}`);

      const latest = store.latest(origin);
      const latestSize = latest?.size ?? 0;
      if (oldSize !== latestSize) throw new SizeMismatch(latestSize);
      const latestRoot = latest?.root ?? EMPTY_TREE_ROOT;
      if (oldSize === size && !same(root, latestRoot)) {
        throw keepEvidence(origin, new WitnessRefusal('ROOT_MISMATCH', `a checkpoint of size ${size} with another root was cosigned`), body);
      }
      if (!verifyConsistency(oldSize, size, latestRoot, root, proof)) {
        throw keepEvidence(origin, new WitnessRefusal('INCONSISTENT', `the consistency proof from size ${oldSize} to ${size} does not verify`), body);
      }

      // Never earlier than the cosignature it replaces, should the clock step back.
      const timestamp = Math.max(Math.floor(now() / 1000), latest?.cosignedAt ?? 0);
      const cosignature = cosignatureLine(note.text, signer, timestamp);
      const cosigned: CosignedCheckpoint = {
        origin,
        size,
        root,
        // The log's signatures this witness verified, then its own: what a verifier needs, and nothing unverified.
        note: `${note.text}\n${[...logSignatures, cosignature].map((line) => `${line}\n`).join('')}`,
        cosignedAt: timestamp,
      };
      // Persisted before the answer; the compare-and-set makes the check above and this update one atomic step.
      const outcome = store.advance({ size: latestSize, root: latest ? latest.root : null }, cosigned);
      if (outcome.kind === 'conflict') throw new SizeMismatch(outcome.current?.size ?? 0);
      logger.debug({ origin, oldSize, size }, 'cosigned a checkpoint');
      return { origin, size, cosignature, timestamp };
    },
  };
}
