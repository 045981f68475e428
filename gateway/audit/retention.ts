import { integerSetting } from '../../common/settings.js';
import { AuditOptionError } from '../../common/audit/errors.js';
import type { AuditPruneRecorder, AuditPruneResult, AuditStore } from '../../common/audit/store.js';

/** Records are kept at least three years (PIPL and the records rules for government data exchange). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 1095;
export const MIN_AUDIT_RETENTION_DAYS = 1095;

export interface AuditRetentionOptions {
  /** Days records are kept. Default 1095; at least 1095. */
  retentionDays?: number;
  /** Lets tests use a shorter retention. Never set it in service. Default false. */
  allowShortRetention?: boolean;
  /** Clock. Default `() => new Date()`. */
  now?: () => Date;
}

export interface NormalizedAuditRetentionOptions {
  retentionDays: number;
  now: () => Date;
}

/** Fills defaults and checks the retention; throws an {@link AuditOptionError} naming the bad setting. */
export function normalizeAuditRetentionOptions(options: AuditRetentionOptions = {}): NormalizedAuditRetentionOptions {
  const retentionDays = options.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  const minimum = options.allowShortRetention === true ? 0 : MIN_AUDIT_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < minimum || retentionDays > 36_500) {
    throw new AuditOptionError('retentionDays', `must be a whole number of days from ${minimum} to 36500`);
  }
  const now = options.now ?? (() => new Date());
  if (typeof now !== 'function') throw new AuditOptionError('now', 'must be a function returning a Date');
  return { retentionDays, now };
}

/**
 * AUDIT_RETENTION_DAYS (default 1095, at least 1095). The minimum is
 * lifted only by AUDIT_RETENTION_TEST_OVERRIDE=1, for tests. Throws a
 * `ConfigError` naming the variable.
 */
export function auditRetentionFromEnv(env: NodeJS.ProcessEnv = process.env): AuditRetentionOptions {
  const allowShortRetention = env.AUDIT_RETENTION_TEST_OVERRIDE === '1';
  const minimum = allowShortRetention ? 0 : MIN_AUDIT_RETENTION_DAYS;
  return { retentionDays: integerSetting(env, 'AUDIT_RETENTION_DAYS', DEFAULT_AUDIT_RETENTION_DAYS, minimum, 36_500), allowShortRetention };
}

/** The instant before which records may go: now minus the retention. */
export function retentionCutoff(options: AuditRetentionOptions = {}): string {
  const { retentionDays, now } = normalizeAuditRetentionOptions(options);
  return new Date(now().getTime() - retentionDays * 86_400_000).toISOString();
}

/**
 * Applies the retention policy: deletes whole checkpointed ranges older
 * than the retention period and records the prune in `writer`'s chain (a
 * `PRUNE` record) and in the store's prune table. Run it daily, from one
 * replica or several (prunes of a chain are serialised).
 */
export async function pruneExpiredAudit(
  options: AuditRetentionOptions & { store: AuditStore; writer?: AuditPruneRecorder },
): Promise<AuditPruneResult> {
  return options.store.prune(retentionCutoff(options), options.writer);
}
