import type { AuditJwks } from '../audit/checkpoint.js';
import type { WitnessedHead } from '../audit/chain-check.js';
import { parseVerifierKey } from '../audit/note.js';
import { witnessedHeads } from '../audit/receipt.js';
import type { WitnessEndpoint } from './endpoints.js';

/** What the witnesses said, for a verifier: the tree heads they cosigned by chain, and what could not be used (a witness down, a note that does not verify). */
export interface WitnessReading {
  heads: Map<string, WitnessedHead[]>;
  /** One line per witness that could not be read, or note that was refused. Never silently dropped. */
  problems: string[];
}

/**
 * Reads every witness's latest cosigned checkpoints (the read extension,
 * `GET <url>/checkpoints`) and keeps the heads whose notes the gateway
 * signed and the witness cosigned. The store is then checked against them:
 * a chain a witness knows must be there, with the root it cosigned.
 */
export async function readWitnessedHeads(witnesses: readonly WitnessEndpoint[], jwks: AuditJwks, timeoutMs = 5000): Promise<WitnessReading> {
  const heads = new Map<string, WitnessedHead[]>();
  const problems: string[] = [];
  await Promise.all(
    witnesses.map(async (witness) => {
      let notes: string[];
      try {
        const response = await fetch(`${witness.url.replace(/\/+$/, '')}/checkpoints`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) throw new Error(`answered ${response.status}`);
        const body = (await response.json()) as { checkpoints?: { note?: unknown }[] };
        notes = (body.checkpoints ?? []).map((c) => String(c.note));
      } catch (error) {
        problems.push(`witness ${witness.name} could not be read: ${(error as Error).message}`);
        return;
      }
      const reading = witnessedHeads(notes, jwks, [parseVerifierKey(witness.vkey)]);
      problems.push(...reading.rejected.map((why) => `witness ${witness.name}: ${why}`));
      for (const [chainId, list] of reading.heads) heads.set(chainId, [...(heads.get(chainId) ?? []), ...list]);
    }),
  );
  return { heads, problems };
}
