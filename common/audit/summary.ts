import type { AuditProblem } from './chain-check.js';
import type { VerificationReport } from './verifier.js';

const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `chain X seq N: KIND — detail`, the line that names the first bad record. */
export function describeProblem(problem: AuditProblem): string {
  return `chain ${problem.chainId} seq ${problem.seq}: ${problem.kind} — ${problem.detail}`;
}

/**
 * The verifier's one-paragraph summary: whether the trail is intact, how
 * many chains, records and checkpoints, how many records are not yet
 * anchored by a checkpoint, and per chain its range; or the first problem.
 * `source` says what was verified (never a database URL: it may carry a password).
 */
export function describeVerification(report: VerificationReport, source: string): string {
  const records = report.chains.reduce((n, c) => n + c.records, 0);
  const checkpoints = report.chains.reduce((n, c) => n + c.checkpoints, 0);
  const unanchored = report.chains.reduce((n, c) => n + c.unanchoredRecords, 0);
  const totals = `${count(report.chains.length, 'chain')}, ${count(records, 'record')}, ${count(checkpoints, 'checkpoint')}`;
  const perChain = report.chains
    .map((c) =>
      c.firstSeq === null
        ? `${c.chainId} (no records kept${c.lastCheckpointSeq !== null ? `, pruned up to seq ${c.lastCheckpointSeq}` : ''})`
        : `${c.chainId} seq ${c.firstSeq}–${c.lastSeq} (${count(c.checkpoints, 'checkpoint')}${c.lastCheckpointSeq !== null ? `, last at ${c.lastCheckpointSeq}` : ''}${c.witnessedSize !== null ? `; a witness cosigned ${c.witnessedSize}` : ''})`,
    )
    .join('; ');
  if (!report.ok && report.problem) {
    return `Audit trail NOT intact in ${source}: ${describeProblem(report.problem)}. Checked ${totals}${perChain ? `: ${perChain}` : ''}.`;
  }
  const anchoring =
    unanchored === 0
      ? 'every record is anchored by a signed checkpoint'
      : `${count(unanchored, 'record is', 'records are')} after the last checkpoint and not yet anchored`;
  return `Audit trail intact in ${source}: ${totals}; ${anchoring}${perChain ? `. Chains: ${perChain}` : ''}.`;
}
