import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditKeyError } from './errors.js';

/** Length of the audit HMAC key. */
export const AUDIT_KEY_BYTES = 32;

/** Where {@link ensureAuditKey} keeps the key: `<dataDir>/keys/audit-hmac.key` (git-ignored). */
export function auditKeyFile(dataDir: string): string {
  return join(dataDir, 'keys', 'audit-hmac.key');
}

/**
 * The key of the subject hashes, created on first start: 32 random bytes,
 * raw, mode 0600. Idempotent and safe when several processes start at once
 * (the file appears atomically, the first one wins, everyone reads the
 * winner's key).
 *
 * Guard: the key must never change once records exist — a new key makes
 * every earlier record unfindable by person. Replicas sharing a PostgreSQL
 * store must share this file (AUDIT_HMAC_KEY_FILE).
 */
export async function ensureAuditKey(dataDir: string): Promise<Uint8Array> {
  const file = auditKeyFile(dataDir);
  try {
    return await loadAuditKey(file);
  } catch (error) {
    const missing = error instanceof AuditKeyError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (!missing) throw error;
  }
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, randomBytes(AUDIT_KEY_BYTES), { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  try {
    // link(), unlike rename(), fails when the file exists: a key another process made first is never replaced.
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditKeyError(file, 'cannot be created', { cause: error });
  } finally {
    await unlink(temporary).catch(() => {});
  }
  return loadAuditKey(file);
}

/** Reads an audit key file (AUDIT_HMAC_KEY_FILE); throws an {@link AuditKeyError} unless it holds exactly 32 bytes. */
export async function loadAuditKey(file: string): Promise<Uint8Array> {
  let key: Buffer;
  try {
    key = await readFile(file);
  } catch (error) {
    throw new AuditKeyError(file, 'cannot be read', { cause: error });
  }
  if (key.length !== AUDIT_KEY_BYTES) throw new AuditKeyError(file, `must hold exactly ${AUDIT_KEY_BYTES} bytes, found ${key.length}`);
  return new Uint8Array(key);
}
