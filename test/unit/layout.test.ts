import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICE_FOLDERS = ['common', 'gateway', 'subgraphs'] as const;

/** What each top-level folder may import (besides packages). */
const MAY_IMPORT: Record<(typeof SERVICE_FOLDERS)[number], readonly string[]> = {
  common: ['common'],
  gateway: ['gateway', 'common'],
  subgraphs: ['subgraphs', 'common'],
};

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder))) {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative specifiers a file imports (static, dynamic, re-exports, type-only) or loads as a worker (`new URL(…, import.meta.url)`). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)'(\.{1,2}\/[^']*)'/g)) found.push(match[1]);
  return found;
}

/** The repository file a specifier names: `x.js` is `x.ts` in this tree; null for folders and data files. */
function resolveSpecifier(from: string, specifier: string): string | null {
  const target = normalize(join(dirname(from), specifier));
  for (const candidate of [target, target.replace(/\.js$/, '.ts')]) {
    const full = join(ROOT, candidate);
    if (existsSync(full) && statSync(full).isFile() && /\.(ts|js)$/.test(candidate)) return candidate;
  }
  return null;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const folder of SERVICE_FOLDERS) {
    for (const file of sourceFiles(folder)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      graph.set(
        file,
        specifiers(text).flatMap((s) => resolveSpecifier(file, s) ?? []),
      );
    }
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe('the layout', () => {
  const graph = importGraph();

  it('reads the imports of every service file (the check is not vacuous)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
    expect(edges).toBeGreaterThan(300);
    expect(graph.get('gateway/server.ts')).toContain('common/http/server.ts');
  });

  it('imports in one direction: gateway/ and subgraphs/ use common/, never each other; common/ uses neither', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = file.split('/')[0] as (typeof SERVICE_FOLDERS)[number];
      for (const target of targets) if (!MAY_IMPORT[from].includes(target.split('/')[0])) wrong.push(`${file} -> ${target}`);
    }
    expect(wrong).toEqual([]);
  });

  it('type-checks every service folder (tsconfig includes each)', () => {
    const { include } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
    for (const folder of SERVICE_FOLDERS) expect(include).toContain(folder);
  });

  it('has no import circles, type-only imports included', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle when there is one (the check itself)', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('names no file after its folder (audit/record.ts, not audit/audit-record.ts)', () => {
    const repeated = [...graph.keys()].filter((file) => {
      const parts = file.split('/');
      const folder = parts.at(-2)!;
      const singular = folder.replace(/s$/, '');
      return parts.length > 2 && (parts.at(-1)!.startsWith(`${folder}-`) || parts.at(-1)!.startsWith(`${singular}-`));
    });
    expect(repeated).toEqual([]);
  });
});
