import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** The variables of the README's Configuration table. */
function documentedVariables(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## Errors'));
  const variables = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const match of line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) variables.add(match[1]);
  }
  return [...variables];
}

describe('settings', () => {
  const files = ['common', 'gateway', 'subgraphs'].flatMap(sourceFiles).map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

  it('are each read from the environment in one place (one default, one bound)', () => {
    const variables = documentedVariables();
    expect(variables.length).toBeGreaterThan(25);
    const readTwice: string[] = [];
    for (const variable of variables) {
      const readers = files
        .filter(({ text }) => new RegExp(`env\\.${variable}\\b|env\\['${variable}'\\]|\\(env, '${variable}'`).test(text))
        .map(({ file }) => file);
      if (readers.length > 1) readTwice.push(`${variable}: ${readers.join(', ')}`);
    }
    expect(readTwice).toEqual([]);
  });

  it('are read only by the settings and configuration modules and the command lines', () => {
    const readers = files.filter(({ text }) => /\benv\.[A-Z][A-Z0-9_]+|\(env, '[A-Z]/.test(text)).map(({ file }) => file);
    expect(readers.length).toBeGreaterThan(2);
    expect(readers.filter((file) => !/(^|\/)(settings|config|cli-arguments|verify-cli-arguments|retention)\.ts$/.test(file))).toEqual([]);
  });
});
