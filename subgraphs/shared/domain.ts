import type { WitnessEndpoint } from '../../common/witness/endpoints.js';
import type { SqliteDatabase } from './database.js';
import type { SubgraphName } from '../catalog.js';

/** A resolver map as `buildSubgraphSchema` takes it (scalars included). */
// Resolver signatures differ per field; the schema is the contract they are checked against at start-up.
// biome-ignore lint/suspicious/noExplicitAny: resolver and context types differ per domain; the schema is their contract
export type ResolverMap = Record<string, any>;

/**
 * One domain subgraph: its resolvers and a factory that, given the open
 * database, prepares the statements once and returns the per-request context
 * factory (fresh DataLoaders per request: nothing is shared across callers).
 */
export interface SubgraphDomain<Context> {
  name: SubgraphName;
  /** Issuing domains record the documents they seal: their database is opened read-write. */
  writable?: boolean;
  createContext(db: SqliteDatabase, environment: { dataDir: string }): () => Context;
  resolvers: ResolverMap;
}

/** What a subgraph needs to open its records. */
export interface SubgraphResources {
  dataDir: string;
  /** Domain subgraphs: the seeded SQLite file (opened read-only). */
  databaseFile?: string;
  /** Called with each SQL statement executed (tests count them). */
  onStatement?: (sql: string) => void;
  /** Audit review: the audit store (PostgreSQL URL; unset: <dataDir>/audit.db) and the subject-hash key. */
  auditDatabaseUrl?: string;
  auditKeyFile?: string;
  auditWitnesses?: WitnessEndpoint[];
  gatewayJwksFile: string;
}

/** A subgraph's resolvers and how to open what they read. */
export interface OpenableDomain {
  resolvers: ResolverMap;
  // biome-ignore lint/suspicious/noExplicitAny: resolver and context types differ per domain; the schema is their contract
  open(resources: SubgraphResources): Promise<{ createContext: () => any; close(): Promise<void> }>;
}
