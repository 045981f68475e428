import type { SqliteDatabase } from './database.js';
import type { SubgraphName } from '../catalog.js';

/** A resolver map as `buildSubgraphSchema` takes it (scalars included). */
// Resolver signatures differ per field; the schema is the contract they are checked against at start-up.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
