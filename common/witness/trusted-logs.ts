/**
 * The logs a witness trusts: every origin under a prefix
 * (`kuasheng.gov.cn/audit/<chainId>`, one log per gateway replica), each
 * signed by a key of the gateway's public key set (a JWKS file of Ed25519
 * keys). A log's note key is named by its origin, so each JWKS key stands
 * for one note verifier key per origin.
 *
 * Key rotation adds keys to the set and keeps the old ones: the file is
 * re-read when it changes (its size or modification time), and a set that
 * cannot be read then keeps the last one read.
 */
import { readFileSync, statSync } from 'node:fs';
import { NOTE_ED25519, type NoteVerifierKey, noteVerifierKey } from '../audit/note.js';

export interface TrustedLogsOptions {
  /** The origins witnessed start with this, followed by a chain id (1-64 letters, digits, dots, dashes, underscores). */
  originPrefix: string;
  /** The JWKS file of the logs' Ed25519 public keys. */
  jwksFile: string;
  /** Told when a changed key set cannot be read (the last one read stays in use). */
  onReloadFailure?: (error: Error) => void;
}

export interface TrustedLogs {
  /** Whether the witness is configured for this origin. */
  knows(origin: string): boolean;
  /** The note verifier keys of a known origin's log (every key of the set, named by the origin). */
  keysOf(origin: string): readonly NoteVerifierKey[];
}

const CHAIN_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Origins whose keys are kept computed: anyone may name an origin, so the cache is bounded (cleared when full). */
const CACHED_ORIGINS = 1_024;

/** The raw Ed25519 public keys of a JWKS file; throws naming the file when it is not one. */
export function readEd25519KeySet(file: string): Buffer[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new Error(`${file} is not a JWKS (no "keys" list)`);
  const keys: Buffer[] = [];
  for (const jwk of parsed.keys as Array<Record<string, unknown>>) {
    if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
    const raw = Buffer.from(jwk.x, 'base64url');
    if (raw.length === 32) keys.push(raw);
  }
  if (keys.length === 0) throw new Error(`${file} holds no Ed25519 public key`);
  return keys;
}

/**
 * Reads the key set once (throwing, at start-up, when it cannot be read)
 * and returns the trust policy.
 */
export function createTrustedLogs(options: TrustedLogsOptions): TrustedLogs {
  const { originPrefix, jwksFile } = options;
  const stamp = () => {
    const stat = statSync(jwksFile);
    return `${stat.size}:${stat.mtimeMs}`;
  };
  let readAt = stamp();
  let keys = readEd25519KeySet(jwksFile);
  // Per origin, the keys named by it: computed once per key set.
  let byOrigin = new Map<string, NoteVerifierKey[]>();

  function refresh(): void {
    try {
      const now = stamp();
      if (now === readAt) return;
      keys = readEd25519KeySet(jwksFile);
      readAt = now;
      byOrigin = new Map();
    } catch (error) {
      options.onReloadFailure?.(error as Error);
    }
  }

  const knows = (origin: string) => origin.startsWith(originPrefix) && CHAIN_ID.test(origin.slice(originPrefix.length));
  return {
    knows,
    keysOf(origin) {
      if (!knows(origin)) return [];
      refresh();
      let found = byOrigin.get(origin);
      if (!found) {
        found = keys.map((key) => noteVerifierKey(origin, NOTE_ED25519, key));
        if (byOrigin.size >= CACHED_ORIGINS) byOrigin.clear();
        byOrigin.set(origin, found);
      }
      return found;
    },
  };
}
