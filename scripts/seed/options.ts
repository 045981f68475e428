/**
 * Options of a seeding run, normalised once before anything is written:
 * defaults filled, bad values rejected with a SeedError naming the option.
 */
import { SeedError } from './errors.js';

export interface SeedOptions {
  /** Folder of the five database files. Required. */
  dataDir: string;
  /** Person rows to write, demo persons included (the 22 demo rows are written even when fewer are asked for). Default 10 000; at most 50 000 000. */
  persons?: number;
  /** Organisations to register, demo organisations included (the 9 demo ones always are). Default max(50, persons / 10). */
  organisations?: number;
  /** Seed of the random streams: same seed and counts, same rows. Default 'kuasheng'. */
  seed?: string;
  /** Called with (persons written, persons to write) every ~1 % and at the end. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Replace the domain databases already in the folder (any of the five,
   * damaged or empty ones included). Default false: seeding a folder that
   * holds one throws SeedError ALREADY_SEEDED and leaves it untouched.
   */
  overwrite?: boolean;
  /**
   * With `overwrite`: also when the databases replaced keep issued
   * documents (their records and revocations are lost), or cannot be read.
   * Default false: such a run throws SeedError ISSUED_DOCUMENTS_PRESENT and
   * leaves the folder untouched.
   */
  discardIssuedDocuments?: boolean;
  /** Aborts the run (between batches); the temporary files are deleted and nothing is installed. */
  signal?: AbortSignal;
}

export interface NormalizedSeedOptions {
  dataDir: string;
  persons: number;
  organisations: number;
  seed: string;
  onProgress: (done: number, total: number) => void;
  overwrite: boolean;
  discardIssuedDocuments: boolean;
  signal: AbortSignal | undefined;
}

export const DEFAULT_PERSONS = 10_000;
export const DEFAULT_SEED = 'kuasheng';
export const MAX_PERSONS = 50_000_000;

function count(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SeedError('INVALID_OPTION', `${option} must be an integer from ${min} to ${max}, got ${String(value)}`, { option });
  }
  return value;
}

export function defaultOrganisations(persons: number): number {
  return Math.max(50, Math.floor(persons / 10));
}

export function normalizeSeedOptions(options: SeedOptions): NormalizedSeedOptions {
  if (typeof options?.dataDir !== 'string' || options.dataDir.trim() === '') {
    throw new SeedError('INVALID_OPTION', 'dataDir must be a non-empty path', { option: 'dataDir' });
  }
  const persons = count(options.persons ?? DEFAULT_PERSONS, 'persons', 1, MAX_PERSONS);
  const organisations = count(options.organisations ?? defaultOrganisations(persons), 'organisations', 1, MAX_PERSONS);
  const seed = options.seed ?? DEFAULT_SEED;
  if (typeof seed !== 'string' || seed === '') throw new SeedError('INVALID_OPTION', 'seed must be a non-empty string', { option: 'seed' });
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new SeedError('INVALID_OPTION', 'onProgress must be a function', { option: 'onProgress' });
  }
  if (options.discardIssuedDocuments && !options.overwrite) {
    throw new SeedError('INVALID_OPTION', 'discardIssuedDocuments goes only with overwrite', { option: 'discardIssuedDocuments' });
  }
  return {
    dataDir: options.dataDir,
    persons,
    organisations,
    seed,
    onProgress: options.onProgress ?? (() => {}),
    overwrite: options.overwrite ?? false,
    discardIssuedDocuments: options.discardIssuedDocuments ?? false,
    signal: options.signal,
  };
}
