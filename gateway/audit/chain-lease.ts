import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/**
 * One writer per audit chain. Two gateway replicas configured with the same
 * GATEWAY_REPLICA_ID would race for the same sequence numbers; the store
 * refuses the loser's batches (fail closed), but that shows up only as 503s.
 * A lease taken at start-up turns the misconfiguration into a clear error
 * before the first request.
 */
export class ChainLeaseError extends Error {
  readonly code = 'AUDIT_CHAIN_IN_USE';
  constructor(chainId: string, holder: string) {
    super(`Audit chain ${chainId} is already being written by ${holder}: give every gateway replica its own GATEWAY_REPLICA_ID.`);
    this.name = 'ChainLeaseError';
  }
}

export interface ChainLease {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Embedded store: a lock file naming the writing process; a dead writer's lock (kill -9) is taken over. */
function fileLease(dataDir: string, chainId: string): ChainLease {
  const folder = join(dataDir, 'audit-chains');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${chainId}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return { release: async () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new ChainLeaseError(chainId, `process ${holder}`);
      rmSync(file, { force: true }); // the writer died without releasing it
    }
  }
  throw new ChainLeaseError(chainId, 'another process');
}

/** PostgreSQL: a session advisory lock, held by a dedicated connection for as long as the writer lives. */
async function postgresLease(databaseUrl: string, chainId: string): Promise<ChainLease> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    // Keyed by schema too: separate deployments may share a database.
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext('kuasheng-audit-chain:' || current_schema()), hashtext($1)) AS locked",
      [chainId],
    );
    if (!rows[0].locked) throw new ChainLeaseError(chainId, 'another gateway replica');
  } catch (error) {
    await client.end();
    throw error;
  }
  client.on('error', () => {}); // a dropped connection ends the lease; the store's own errors still fail closed
  return { release: () => client.end() };
}

/** Takes the chain's lease for this process, or throws ChainLeaseError naming the setting to fix. */
export function leaseAuditChain(options: { chainId: string; databaseUrl?: string; dataDir: string }): Promise<ChainLease> {
  return options.databaseUrl ? postgresLease(options.databaseUrl, options.chainId) : Promise.resolve(fileLease(options.dataDir, options.chainId));
}
