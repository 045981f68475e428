import { readFileSync } from 'node:fs';

/** A cross-province matter (跨省通办事项): the purpose a request for personal data serves. */
export interface Matter {
  code: string;
  name: string;
  description: string;
  legalBasis: string;
  /** The most any caller may see while handling this matter. */
  scopes: ReadonlySet<string>;
}

export interface MatterCatalog {
  get(code: string): Matter | undefined;
  all(): readonly Matter[];
}

const MATTER_CODE = /^[A-Z]{2}-[A-Z]{2,4}-\d{3}$/;

/**
 * Loads the matter catalog (config/matters.json), checking every entry:
 * a bad catalog stops start-up with a message naming the entry and field.
 * `knownScopes` is the scope vocabulary a matter may grant.
 */
export function loadMatterCatalog(file: string, knownScopes: ReadonlySet<string>): MatterCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Matter catalog ${file} is not readable JSON: ${(error as Error).message}`);
  }
  const list = (raw as { matters?: unknown }).matters;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`Matter catalog ${file}: "matters" must be a non-empty array`);
  const byCode = new Map<string, Matter>();
  list.forEach((entry: Record<string, unknown>, index) => {
    const where = `Matter catalog ${file}: matters[${index}]`;
    for (const field of ['code', 'name', 'description', 'legalBasis'] as const) {
      if (typeof entry[field] !== 'string' || (entry[field] as string).trim() === '') throw new Error(`${where}.${field} must be a non-empty string`);
    }
    const code = entry.code as string;
    if (!MATTER_CODE.test(code)) throw new Error(`${where}.code ${JSON.stringify(code)} must look like TB-HJ-001`);
    if (byCode.has(code)) throw new Error(`${where}.code ${code} appears twice`);
    if (!Array.isArray(entry.scopes) || entry.scopes.length === 0) throw new Error(`${where}.scopes must be a non-empty array`);
    for (const scope of entry.scopes) {
      if (!knownScopes.has(scope)) throw new Error(`${where}.scopes names unknown scope ${JSON.stringify(scope)}`);
    }
    byCode.set(code, {
      code,
      name: entry.name as string,
      description: entry.description as string,
      legalBasis: entry.legalBasis as string,
      scopes: new Set(entry.scopes as string[]),
    });
  });
  const matters = Object.freeze([...byCode.values()]);
  return { get: (code) => byCode.get(code), all: () => matters };
}
