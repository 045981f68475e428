import pg from 'pg';
import {
  JSON_COLUMNS,
  RECORD_COLUMNS,
  recordToRow,
  pruneUpdateValues,
  rowToCheckpoint,
  treeColumns,
  rowToPrune,
  rowToRecord,
  type CheckpointRow,
  type PruneRow,
  type RecordRow,
} from './columns.js';
import { AuditChainConflictError, AuditUnavailableError } from './errors.js';
import { runPrune, type PruneBackend, type PruneView } from './prune.js';
import {
  accessReportStatement,
  encodeCursor,
  normalizeAuditSearch,
  normalizeInstant,
  normalizePage,
  searchStatement,
  type SqlDialect,
} from './search.js';
import type { AccessReportRow, AuditSnapshot, AuditStore, NormalizedAuditStoreOptions } from './store-contract.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS audit_chains (
    chain_id text PRIMARY KEY,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE IF NOT EXISTS audit_records (
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    time timestamptz NOT NULL,
    request_id text NOT NULL,
    replica text NOT NULL,
    caller_subject text,
    caller_organisation text,
    caller_province text,
    caller_issuer text,
    caller_token_id text,
    matter text,
    case_number text,
    operation_name text,
    operation_type text,
    operation_hash text,
    requested jsonb NOT NULL,
    denied jsonb NOT NULL,
    disclosed jsonb NOT NULL,
    outcome text NOT NULL,
    http_status integer NOT NULL,
    error_codes jsonb NOT NULL,
    latency_ms double precision NOT NULL,
    detail jsonb,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (chain_id, seq)
  );
  CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time, chain_id, seq);
  CREATE INDEX IF NOT EXISTS audit_records_caller ON audit_records (caller_subject, time);
  CREATE INDEX IF NOT EXISTS audit_records_organisation ON audit_records (caller_organisation, time);
  CREATE INDEX IF NOT EXISTS audit_records_matter ON audit_records (matter, time);
  CREATE INDEX IF NOT EXISTS audit_records_case ON audit_records (case_number, time);
  CREATE TABLE IF NOT EXISTS audit_subjects (
    subject_hash text NOT NULL,
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (subject_hash, chain_id, seq)
  );
  CREATE INDEX IF NOT EXISTS audit_subjects_record ON audit_subjects (chain_id, seq);
  CREATE TABLE IF NOT EXISTS audit_checkpoints (
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    head_hash text NOT NULL,
    time timestamptz NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (chain_id, seq)
  );
  CREATE TABLE IF NOT EXISTS audit_prunes (
    chain_id text NOT NULL,
    from_seq bigint NOT NULL,
    up_to_seq bigint NOT NULL,
    head_hash text NOT NULL,
    checkpoint_time timestamptz NOT NULL,
    signature text NOT NULL,
    records bigint NOT NULL,
    cutoff timestamptz NOT NULL,
    pruned_at timestamptz NOT NULL,
    PRIMARY KEY (chain_id, up_to_seq)
  );
  ALTER TABLE audit_checkpoints ADD COLUMN IF NOT EXISTS note text;
  ALTER TABLE audit_checkpoints ADD COLUMN IF NOT EXISTS tree text;
  ALTER TABLE audit_prunes ADD COLUMN IF NOT EXISTS note text;
  ALTER TABLE audit_prunes ADD COLUMN IF NOT EXISTS tree text;
  CREATE TABLE IF NOT EXISTS audit_cosignatures (
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    witness text NOT NULL,
    cosignature text NOT NULL,
    PRIMARY KEY (chain_id, seq, witness)
  );
`;

const COLUMNS = RECORD_COLUMNS.join(', ');
const CHECKPOINT_COLUMNS = 'chain_id, seq, head_hash, time, signature, note, tree';
const PRUNE_COLUMNS = 'chain_id, from_seq, up_to_seq, head_hash, checkpoint_time, signature, records, cutoff, pruned_at, note, tree';
const PAGE = 1000;

const COLUMN_TYPES: Record<string, string> = {
  seq: 'bigint',
  time: 'timestamptz',
  http_status: 'integer',
  latency_ms: 'double precision',
};

/**
 * A whole batch as ONE statement, hence one transaction and one round trip:
 * the records arrive as one array per column and are unnested into one
 * multi-row INSERT; the subject index rows and the chain's registration ride
 * along as data-modifying CTEs. If any part fails (a `(chain_id, seq)`
 * taken, a table gone), none of it is written.
 */
const APPEND_BATCH = `
  WITH chain AS (
    INSERT INTO audit_chains (chain_id, created_at) VALUES ($${RECORD_COLUMNS.length + 4}, $${RECORD_COLUMNS.length + 5}::timestamptz)
    ON CONFLICT DO NOTHING
  ), subjects AS (
    INSERT INTO audit_subjects (subject_hash, chain_id, seq)
    SELECT * FROM unnest($${RECORD_COLUMNS.length + 1}::text[], $${RECORD_COLUMNS.length + 2}::text[], $${RECORD_COLUMNS.length + 3}::bigint[])
    ON CONFLICT DO NOTHING
  )
  INSERT INTO audit_records (${COLUMNS})
  SELECT ${RECORD_COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? `${c}::jsonb` : c)).join(', ')}
  FROM unnest(${RECORD_COLUMNS.map((c, i) => `$${i + 1}::${JSON_COLUMNS.has(c) ? 'text' : (COLUMN_TYPES[c] ?? 'text')}[]`).join(', ')})
    AS batch (${COLUMNS})`;

const dialect: SqlDialect = {
  param: (index, type) => (type === 'time' ? `$${index}::timestamptz` : type === 'integer' ? `$${index}::bigint` : `$${index}`),
  subjectRecords: (subjectHash, bind) => ({
    source: `SELECT chain_id, seq FROM audit_subjects WHERE subject_hash = ${bind(subjectHash)}`,
    confirm: null,
  }),
};

const CHAINS = `SELECT chain_id FROM (SELECT chain_id FROM audit_chains UNION SELECT chain_id FROM audit_checkpoints UNION SELECT chain_id FROM audit_prunes) AS chains
  ORDER BY chain_id COLLATE "C"`;
const PRUNES = `SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = $1 ORDER BY up_to_seq`;
const HEAD = `SELECT seq, hash FROM (
    (SELECT seq, hash FROM audit_records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1)
    UNION ALL
    (SELECT up_to_seq, head_hash FROM audit_prunes WHERE chain_id = $1 ORDER BY up_to_seq DESC LIMIT 1)
  ) AS heads ORDER BY seq DESC LIMIT 1`;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The audit store on PostgreSQL, shared by several gateway replicas (each
 * appends its own chain). Tables are created on first use, under an
 * advisory lock so that replicas starting together do not race. Connecting
 * is bounded by `connectionTimeoutMillis` and every statement by
 * `statementTimeoutMillis`, so an unreachable database makes appends fail
 * fast (503) rather than hang requests.
 */
export async function openPostgresAuditStore(options: Extract<NormalizedAuditStoreOptions, { backend: 'postgres' }>): Promise<AuditStore> {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    statement_timeout: options.statementTimeoutMillis,
    query_timeout: options.statementTimeoutMillis + 2000,
    idleTimeoutMillis: 10_000,
    keepAlive: true,
    allowExitOnIdle: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle connection dropped by the server must not crash the gateway; the next query reconnects.
  pool.on('error', () => {});
  let ready: Promise<void> | null = null;
  let closed = false;

  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // A broken connection is destroyed rather than returned to the pool.
      await client.query('ROLLBACK').then(
        () => client.release(),
        (rollbackError: Error) => client.release(rollbackError),
      );
      throw error;
    }
  }

  async function ensureSchema(): Promise<void> {
    if (closed) throw new AuditUnavailableError('The audit store is closed.');
    if (options.readOnly) return;
    ready ??= transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('kuasheng-audit-schema'))");
      if (options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
      await client.query(SCHEMA);
    }).catch((error: unknown) => {
      ready = null;
      throw error;
    });
    return ready;
  }

  async function query<T>(sql: string, params: unknown[] = [], client?: pg.PoolClient): Promise<T[]> {
    try {
      await ensureSchema();
      return (await (client ?? pool).query(sql, params)).rows as T[];
    } catch (error) {
      if (error instanceof AuditUnavailableError) throw error;
      throw new AuditUnavailableError('The PostgreSQL audit store is unavailable.', { cause: error });
    }
  }

  async function one<T>(sql: string, params: unknown[] = [], client?: pg.PoolClient): Promise<T | null> {
    return (await query<T>(sql, params, client))[0] ?? null;
  }

  function pruneView(client: pg.PoolClient): PruneView {
    return {
      async latestPrune(chainId) {
        const row = await one<PruneRow>(
          `SELECT ${PRUNE_COLUMNS} FROM audit_prunes WHERE chain_id = $1 ORDER BY up_to_seq DESC LIMIT 1`,
          [chainId],
          client,
        );
        return row ? rowToPrune(row) : null;
      },
      async firstSeqFrom(chainId, afterSeq, before) {
        const row = await one<{ seq: string | null }>(
          'SELECT MIN(seq) AS seq FROM audit_records WHERE chain_id = $1 AND seq > $2 AND time >= $3::timestamptz',
          [chainId, afterSeq, before],
          client,
        );
        return row?.seq == null ? null : Number(row.seq);
      },
      async checkpointIn(chainId, afterSeq, belowSeq, maxSeq) {
        const below = belowSeq ?? Number.MAX_SAFE_INTEGER;
        const row =
          (await one<CheckpointRow>(
            `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq > $2 AND seq < $3 AND seq <= $4 ORDER BY seq DESC LIMIT 1`,
            [chainId, afterSeq, below, maxSeq],
            client,
          )) ??
          (await one<CheckpointRow>(
            `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT 1`,
            [chainId, afterSeq, below],
            client,
          ));
        return row ? rowToCheckpoint(row) : null;
      },
      async countAndHash(chainId, afterSeq, upToSeq) {
        const row = await one<{ count: string; hash: string | null }>(
          `SELECT COUNT(*) AS count, (SELECT hash FROM audit_records WHERE chain_id = $1 AND seq = $3) AS hash
           FROM audit_records WHERE chain_id = $1 AND seq > $2 AND seq <= $3`,
          [chainId, afterSeq, upToSeq],
          client,
        );
        return { count: Number(row?.count ?? 0), hash: row?.hash ?? null };
      },
    };
  }

  const pruneBackend: PruneBackend = {
    chains: () => store.chains(),
    async step(chainId, work) {
      try {
        await ensureSchema();
        return await transaction(async (client) => {
          // Replicas may run retention at the same time: one prune per chain at a time.
          await client.query("SELECT pg_advisory_xact_lock(hashtext('kuasheng-audit-prune'), hashtext($1))", [chainId]);
          return work({
            view: pruneView(client),
            async apply(range, previous) {
              const { upToSeq, checkpoint } = range;
              await client.query('DELETE FROM audit_subjects WHERE chain_id = $1 AND seq <= $2', [chainId, upToSeq]);
              await client.query('DELETE FROM audit_records WHERE chain_id = $1 AND seq <= $2', [chainId, upToSeq]);
              await client.query('DELETE FROM audit_checkpoints WHERE chain_id = $1 AND seq < $2', [chainId, upToSeq]);
              if (previous) {
                await client.query(
                  'UPDATE audit_prunes SET up_to_seq = $1, head_hash = $2, checkpoint_time = $3, signature = $4, records = $5, note = $6, tree = $7 WHERE chain_id = $8 AND up_to_seq = $9',
                  pruneUpdateValues(range, previous),
                );
              } else {
                await client.query(`INSERT INTO audit_prunes (${PRUNE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
                  chainId,
                  range.fromSeq,
                  upToSeq,
                  range.headHash,
                  checkpoint.time,
                  checkpoint.signature,
                  range.records,
                  range.before,
                  range.time,
                  ...treeColumns(checkpoint),
                ]);
              }
            },
          });
        });
      } catch (error) {
        if (error instanceof AuditUnavailableError) throw error;
        throw new AuditUnavailableError('The PostgreSQL audit store is unavailable.', { cause: error });
      }
    },
  };

  /**
   * One REPEATABLE READ READ ONLY transaction on a connection of its own:
   * every read in it sees the database as the first one did, whatever the
   * replicas append meanwhile. Each stream is a cursor in it, fetched a page
   * at a time; ending the transaction closes any cursor left open.
   */
  async function openSnapshot(): Promise<AuditSnapshot> {
    const unavailable = (error: unknown) =>
      error instanceof AuditUnavailableError ? error : new AuditUnavailableError('The PostgreSQL audit store is unavailable.', { cause: error });
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    let released = false;
    let cursors = 0;
    const run = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      if (released) throw new AuditUnavailableError('The audit snapshot was released.');
      try {
        return (await client.query(sql, params)).rows as T[];
      } catch (error) {
        throw unavailable(error);
      }
    };
    try {
      await run('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The snapshot is taken by the transaction's first query, not by BEGIN.
      await run('SELECT 1 FROM audit_chains LIMIT 1');
    } catch (error) {
      released = true;
      client.release(error as Error);
      throw error;
    }
    async function* stream<T>(sql: string, params: unknown[]): AsyncGenerator<T> {
      const cursor = `audit_snapshot_${++cursors}`;
      await run(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`, params);
      let finished = false;
      try {
        for (;;) {
          const rows = await run<T>(`FETCH ${PAGE} FROM ${cursor}`);
          yield* rows;
          if (rows.length < PAGE) break;
        }
        finished = true;
      } finally {
        if (!released && finished) await run(`CLOSE ${cursor}`);
      }
    }
    return {
      chains: async () => (await run<{ chain_id: string }>(CHAINS)).map((r) => r.chain_id),
      prunes: async (chainId) => (await run<PruneRow>(PRUNES, [chainId])).map(rowToPrune),
      async head(chainId) {
        const [row] = await run<{ seq: string; hash: string }>(HEAD, [chainId]);
        return row ? { seq: Number(row.seq), hash: row.hash } : null;
      },
      async *readCheckpoints(chainId, range = {}) {
        const rows = stream<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq`,
          [chainId, range.fromSeq ?? 0, range.toSeq ?? Number.MAX_SAFE_INTEGER],
        );
        for await (const row of rows) yield rowToCheckpoint(row);
      },
      async *readChain(chainId, fromSeq = 1) {
        const rows = stream<RecordRow>(`SELECT ${COLUMNS} FROM audit_records WHERE chain_id = $1 AND seq >= $2 ORDER BY seq`, [chainId, fromSeq]);
        for await (const row of rows) yield rowToRecord(row);
      },
      async *readSubjectIndex(chainId, fromSeq = 1) {
        const rows = stream<{ seq: string; subject_hash: string }>(
          'SELECT seq, subject_hash FROM audit_subjects WHERE chain_id = $1 AND seq >= $2 ORDER BY seq, subject_hash',
          [chainId, fromSeq],
        );
        for await (const row of rows) yield { seq: Number(row.seq), subject: row.subject_hash };
      },
      indexKey: (subject) => subject,
      async release() {
        if (released) return;
        released = true;
        await client.query('ROLLBACK').then(
          () => client.release(),
          (error: Error) => client.release(error),
        );
      },
    };
  }

  const store: AuditStore = {
    backend: 'postgres',

    async appendBatch(records) {
      if (records.length === 0) return;
      const columns: unknown[][] = RECORD_COLUMNS.map(() => []);
      for (const record of records)
        recordToRow(record).forEach((value, i) => {
          columns[i].push(value);
        });
      const subjects: [string[], string[], number[]] = [[], [], []];
      for (const record of records) {
        // The person-search index needs each subject once per record, however many domains disclosed it.
        for (const subject of new Set(record.disclosed.map((d) => d.subject))) {
          subjects[0].push(subject);
          subjects[1].push(record.chainId);
          subjects[2].push(record.seq);
        }
      }
      try {
        await query(APPEND_BATCH, [...columns, ...subjects, records[0].chainId, records[0].time]);
      } catch (error) {
        const cause = (error as Error).cause as { code?: string; constraint?: string } | undefined;
        if (cause?.code === '23505' && cause.constraint === 'audit_records_pkey') throw new AuditChainConflictError(records[0].chainId, { cause });
        throw error;
      }
    },

    async head(chainId) {
      const row = await one<{ seq: string; hash: string }>(HEAD, [chainId]);
      return row ? { seq: Number(row.seq), hash: row.hash } : null;
    },

    async appendCheckpoint(checkpoint) {
      await query(
        'INSERT INTO audit_checkpoints (chain_id, seq, head_hash, time, signature, note, tree) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
        [checkpoint.chainId, checkpoint.seq, checkpoint.headHash, checkpoint.time, checkpoint.signature, ...treeColumns(checkpoint)],
      );
    },

    async appendCosignatures(chainId, seq, cosignatures) {
      if (cosignatures.length === 0) return;
      await query(
        'INSERT INTO audit_cosignatures (chain_id, seq, witness, cosignature) SELECT $1, $2, w, c FROM unnest($3::text[], $4::text[]) AS t(w, c) ON CONFLICT DO NOTHING',
        [chainId, seq, cosignatures.map((c) => c.witness), cosignatures.map((c) => c.line)],
      );
    },

    async latestCosigned(chainId) {
      const top = await one<{ seq: string | null }>('SELECT MAX(seq) AS seq FROM audit_cosignatures WHERE chain_id = $1', [chainId]);
      if (top?.seq == null) return null;
      const checkpoint = await one<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq = $2`, [
        chainId,
        top.seq,
      ]);
      if (!checkpoint) return null;
      const lines = await query<{ witness: string; cosignature: string }>(
        'SELECT witness, cosignature FROM audit_cosignatures WHERE chain_id = $1 AND seq = $2 ORDER BY witness',
        [chainId, top.seq],
      );
      return { checkpoint: rowToCheckpoint(checkpoint), cosignatures: lines.map((row) => ({ witness: row.witness, line: row.cosignature })) };
    },

    async readLeafHashes(chainId, fromSeq, toSeq) {
      const rows = await query<{ hash: string }>('SELECT hash FROM audit_records WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq', [
        chainId,
        fromSeq,
        toSeq,
      ]);
      return rows.map((row) => row.hash);
    },

    async checkpoints(chainId) {
      return (await query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 ORDER BY seq`, [chainId])).map(
        rowToCheckpoint,
      );
    },

    async *readCheckpoints(chainId, range = {}) {
      let from = range.fromSeq ?? 0;
      const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
      for (;;) {
        const rows = await query<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
          [chainId, from, to, PAGE],
        );
        for (const row of rows) yield rowToCheckpoint(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },

    async lastCheckpoint(chainId, beforeSeq = Number.MAX_SAFE_INTEGER) {
      const row = await one<CheckpointRow>(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1`,
        [chainId, beforeSeq],
      );
      return row ? rowToCheckpoint(row) : null;
    },

    async prunes(chainId) {
      return (await query<PruneRow>(PRUNES, [chainId])).map(rowToPrune);
    },

    async chains() {
      return (await query<{ chain_id: string }>(CHAINS)).map((r) => r.chain_id);
    },

    // The index is written with the records, in the same transaction.
    async settleIndex() {},

    indexKey: (subject) => subject,

    async *readSubjectIndex(chainId, fromSeq = 1) {
      let after = { seq: 0, subject: '' };
      for (;;) {
        const rows = await query<{ seq: string; subject_hash: string }>(
          'SELECT seq, subject_hash FROM audit_subjects WHERE chain_id = $1 AND seq >= $5 AND (seq, subject_hash) > ($2, $3) ORDER BY seq, subject_hash LIMIT $4',
          [chainId, after.seq, after.subject, PAGE, fromSeq],
        );
        for (const row of rows) yield { seq: Number(row.seq), subject: row.subject_hash };
        if (rows.length < PAGE) return;
        after = { seq: Number(rows[rows.length - 1].seq), subject: rows[rows.length - 1].subject_hash };
      }
    },

    async *readChain(chainId, fromSeq = 1) {
      let from = fromSeq;
      for (;;) {
        const rows = await query<RecordRow>(`SELECT ${COLUMNS} FROM audit_records WHERE chain_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [
          chainId,
          from,
          PAGE,
        ]);
        for (const row of rows) yield rowToRecord(row);
        if (rows.length < PAGE) return;
        from = Number(rows[rows.length - 1].seq) + 1;
      }
    },

    async snapshot() {
      await ensureSchema();
      return openSnapshot();
    },

    async seqRange(chainId, range = {}) {
      const row = await one<{ first: string | null; last: string | null }>(
        `SELECT MIN(seq) AS first, MAX(seq) AS last FROM audit_records
         WHERE chain_id = $1 AND ($2::timestamptz IS NULL OR time >= $2::timestamptz) AND ($3::timestamptz IS NULL OR time <= $3::timestamptz)`,
        [chainId, range.from ? normalizeInstant(range.from, 'from') : null, range.to ? normalizeInstant(range.to, 'to') : null],
      );
      return row?.first != null && row.last != null ? { firstSeq: Number(row.first), lastSeq: Number(row.last) } : null;
    },

    async get(chainId, seq) {
      const row = await one<RecordRow>(`SELECT ${COLUMNS} FROM audit_records WHERE chain_id = $1 AND seq = $2`, [chainId, seq]);
      return row ? rowToRecord(row) : null;
    },

    async search(filter, page) {
      const search = normalizeAuditSearch(filter);
      const { first, after } = normalizePage(page);
      const { sql, params } = searchStatement(search, after, first + 1, dialect);
      const rows = await query<RecordRow>(sql, params);
      const records = rows.slice(0, first).map(rowToRecord);
      return { records, endCursor: records.length > 0 ? encodeCursor(records[records.length - 1]) : null, hasNextPage: rows.length > first };
    },

    async accessReport(subjectHash, from, to) {
      const { sql, params } = accessReportStatement(subjectHash, normalizeInstant(from, 'from'), normalizeInstant(to, 'to'), dialect);
      const rows = await query<{
        caller_subject: string;
        caller_organisation: string;
        caller_province: string;
        matter: string | null;
        accesses: string;
        withheld: string | null;
        first_time: Date;
        last_time: Date;
      }>(sql, params);
      return rows.map(
        (r): AccessReportRow => ({
          callerSubject: r.caller_subject,
          organisation: r.caller_organisation,
          province: r.caller_province,
          matter: r.matter,
          accesses: Number(r.accesses),
          withheld: Number(r.withheld ?? 0),
          first: r.first_time.toISOString(),
          last: r.last_time.toISOString(),
        }),
      );
    },

    async prune(before, writer) {
      return runPrune(pruneBackend, normalizeInstant(before, 'before'), writer);
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return store;
}
