import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from 'pino';

export interface SupergraphFileOptions {
  /** Path of the composed supergraph SDL. */
  file: string;
  logger: Logger;
  /**
   * Turns the file's SDL into what @apollo/gateway is given. The
   * authorisation layer hooks in here: it keeps the security directives for
   * its own enforcement and hands the gateway a supergraph it accepts.
   * Default: the SDL unchanged.
   */
  prepare?: (supergraphSdl: string) => string;
  /** Called with the file's SDL each time it has been accepted (first load included), after the gateway took it. */
  onLoaded?: (supergraphSdl: string) => void;
  /** Called after a changed file has been loaded (or refused) — for tests and metrics. */
  onReload?: (outcome: { ok: true } | { ok: false; error: Error }) => void;
  /** Quiet time before a change is read, so an editor's several writes load once. Default 100 ms. */
  debounceMs?: number;
}

/**
 * Serves the gateway its supergraph from a file and reloads it when the file
 * changes. A changed file that fails to load is logged and refused: the
 * gateway keeps serving the last good supergraph.
 */
export function supergraphFromFile(options: SupergraphFileOptions): SupergraphManager {
  const prepare = options.prepare ?? ((sdl: string) => sdl);
  const debounceMs = options.debounceMs ?? 100;
  return {
    async initialize({ update }) {
      let current = await readFile(options.file, 'utf8');
      const initial = prepare(current);
      // The first load happens when initialize returns; the SDL is valid enough to have been prepared.
      options.onLoaded?.(current);
      let timer: NodeJS.Timeout | undefined;

      const reload = async () => {
        let next: string;
        try {
          next = await readFile(options.file, 'utf8');
        } catch (error) {
          // Mid-rename, or removed: keep the last good supergraph.
          options.logger.warn({ err: error }, 'supergraph file unreadable; keeping the current supergraph');
          return;
        }
        if (next === current) return;
        try {
          update(prepare(next));
          current = next;
          options.onLoaded?.(next);
          options.logger.info({ file: options.file }, 'supergraph reloaded');
          options.onReload?.({ ok: true });
        } catch (error) {
          options.logger.error({ err: error }, 'changed supergraph refused; keeping the current supergraph');
          options.onReload?.({ ok: false, error: error as Error });
        }
      };

      // Watch the folder, not the file: `npm run compose` replaces the file by rename.
      const name = basename(options.file);
      const watcher: FSWatcher = watch(dirname(options.file), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(timer);
        timer = setTimeout(() => void reload(), debounceMs);
      });
      watcher.on('error', (error) => options.logger.error({ err: error }, 'supergraph watcher failed'));

      return {
        supergraphSdl: initial,
        async cleanup() {
          clearTimeout(timer);
          watcher.close();
        },
      };
    },
  };
}
