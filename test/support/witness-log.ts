/**
 * A transparency log for the witness's tests, built with the audit trail's
 * own library: leaves are random record hashes, checkpoints are signed
 * with a generated Ed25519 key named by the origin, and its public key is
 * in a JWKS file as the gateway's would be (`addKey` rotates).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { consistencyProof, leafHash, leafRangeHasher, treeHash } from '../../common/audit/merkle.js';
import { AUDIT_LOG_ORIGIN_PREFIX, formatCheckpoint, NOTE_ED25519, noteSignerKey, signNote } from '../../common/audit/note.js';
import { formatAddCheckpoint } from '../../common/witness/request.js';

export interface TestLog {
  origin: string;
  /** The leaf hashes so far. */
  leaves: Buffer[];
  append(count: number): void;
  root(size?: number): Buffer;
  /** The checkpoint note of the tree of `size` leaves (default: all), signed by the log's current key (or `key`). */
  note(size?: number, key?: KeyObject): string;
  proof(oldSize: number, size?: number): Buffer[];
  /** An add-checkpoint body from `oldSize` to `size` (default: all), with the right proof. */
  body(oldSize: number, size?: number): string;
  /** Adds a new key to the JWKS and signs with it from now on (the old key stays in the set). */
  addKey(): void;
  /** The current signing key. */
  readonly key: KeyObject;
  /** Another history under the same origin and keys (a fork, a rewritten log) of `leaves` new leaves. */
  fork(leaves: number): TestLog;
}

function publicJwk(key: KeyObject) {
  return { ...key.export({ format: 'jwk' }), alg: 'EdDSA', use: 'sig' };
}

/** A log named `kuasheng.gov.cn/audit/<chainId>` whose key set is written to `jwksFile`. */
export function createTestLog(chainId: string, jwksFile: string, leaves = 0, keys: KeyObject[] = []): TestLog {
  const origin = `${AUDIT_LOG_ORIGIN_PREFIX}${chainId}`;
  const writeKeys = () => writeFileSync(jwksFile, JSON.stringify({ keys: keys.map((k) => publicJwk(k)) }));
  if (keys.length === 0) {
    keys.push(generateKeyPairSync('ed25519').privateKey);
    writeKeys();
  }
  const log: TestLog = {
    origin,
    leaves: [],
    append(count) {
      for (let i = 0; i < count; i++) log.leaves.push(leafHash(randomBytes(32)));
    },
    root: (size = log.leaves.length) => treeHash(log.leaves.slice(0, size)),
    note(size = log.leaves.length, key = log.key) {
      return signNote(formatCheckpoint({ origin, size, root: log.root(size) }), [noteSignerKey(origin, NOTE_ED25519, key)]);
    },
    proof: (oldSize, size = log.leaves.length) => consistencyProof(oldSize, size, leafRangeHasher(log.leaves)),
    body: (oldSize, size = log.leaves.length) => formatAddCheckpoint(oldSize, log.proof(oldSize, size), log.note(size)),
    addKey() {
      keys.push(generateKeyPairSync('ed25519').privateKey);
      writeKeys();
    },
    get key() {
      return keys[keys.length - 1];
    },
    fork: (count) => createTestLog(chainId, jwksFile, count, keys),
  };
  log.append(leaves);
  return log;
}
