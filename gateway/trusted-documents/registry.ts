import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseManifest, type RegisteredOperation } from '../../common/trusted-documents/manifest.js';

/** The registered operations of every client, by client, then by id. */
export type ClientDocuments = ReadonlyMap<string, ReadonlyMap<string, RegisteredOperation>>;

export interface DocumentRegistryOptions {
  /** Folder of the manifests (`*.json`, one per client or per group of clients). A folder that does not exist holds none. */
  dir: string;
  logger: Logger;
  /** Reload when a manifest changes. Default true. */
  watch?: boolean;
  /** Quiet time before a change is read, so an editor's several writes load once. Default 100 ms. */
  debounceMs?: number;
  /** Called after a change has been loaded (or refused) — for tests and metrics. */
  onReload?: (outcome: { ok: true } | { ok: false; error: Error }) => void;
}

/** The registered documents, current after every accepted reload. */
export interface DocumentRegistry {
  /** The operation `id` registered for the client (`issuer`, `subject`), if any. */
  lookup(issuer: string, subject: string, id: string): RegisteredOperation | undefined;
  /** Manifest files and operations now loaded. */
  readonly size: { manifests: number; operations: number };
  close(): void;
}

/** The key of a client: issuer and subject, which contain no NUL. */
export const clientKey = (issuer: string, subject: string) => `${issuer}\u0000${subject}`;

/**
 * Reads every manifest of the folder, each checked (`parseManifest`).
 * @throws {ManifestError} naming the file and operation at fault.
 */
export function readManifests(dir: string): { documents: ClientDocuments; manifests: number; operations: number } {
  const documents = new Map<string, Map<string, RegisteredOperation>>();
  if (!existsSync(dir)) return { documents, manifests: 0, operations: 0 };
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  let operations = 0;
  for (const name of files) {
    const file = join(dir, name);
    const manifest = parseManifest(readFileSync(file, 'utf8'), file);
    operations += manifest.operations.length;
    for (const { issuer, subject } of manifest.clients) {
      const key = clientKey(issuer, subject);
      let own = documents.get(key);
      if (!own) documents.set(key, (own = new Map()));
      for (const operation of manifest.operations) own.set(operation.id, operation);
    }
  }
  return { documents, manifests: files.length, operations };
}

/**
 * Loads the manifests of a folder at start-up (a bad one stops start-up,
 * naming file and operation) and reloads them when a file of the folder
 * changes. A reload that fails keeps the manifests in force and logs the
 * error: a typo in one file never unregisters every client's documents.
 */
export function openDocumentRegistry(options: DocumentRegistryOptions): DocumentRegistry {
  const dir = resolve(options.dir);
  let loaded = readManifests(dir);
  const { logger } = options;
  logger.info({ dir, manifests: loaded.manifests, operations: loaded.operations }, 'trusted documents loaded');
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    try {
      loaded = readManifests(dir);
      logger.info({ dir, manifests: loaded.manifests, operations: loaded.operations }, 'trusted documents reloaded');
      options.onReload?.({ ok: true });
    } catch (error) {
      logger.error({ err: error }, 'changed trusted documents refused; keeping the current ones');
      options.onReload?.({ ok: false, error: error as Error });
    }
  };
  // A folder created later is not watched: restart to pick it up.
  if ((options.watch ?? true) && existsSync(dir)) {
    watcher = watch(dir, (_event, changed) => {
      if (changed !== null && !changed.endsWith('.json')) return;
      clearTimeout(timer);
      timer = setTimeout(reload, options.debounceMs ?? 100);
    });
    watcher.on('error', (error) => logger.error({ err: error }, 'trusted documents watcher failed'));
    // Never what keeps a process alive (a start-up that fails later need not close it).
    watcher.unref();
  }
  return {
    lookup: (issuer, subject, id) => loaded.documents.get(clientKey(issuer, subject))?.get(id),
    get size() {
      return { manifests: loaded.manifests, operations: loaded.operations };
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
