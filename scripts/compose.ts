/**
 * `npm run compose`: writes schema/supergraph.graphql from the subgraph SDLs.
 * `npm run compose -- --check` only reports whether the committed file is current.
 * Exit codes: 0 done (or current), 1 composition failed (or file stale with --check), 2 bad arguments.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readCommandLine } from '../common/command-line.js';
import { composeSupergraph, SUPERGRAPH_FILE } from './compose-supergraph.js';

const { values } = readCommandLine({
  name: 'compose',
  usage: [
    'usage: npm run compose -- [--check]',
    '  composes schema/<subgraph>.graphql into schema/supergraph.graphql (written only when it changed)',
    '  --check  writes nothing: exit 0 when the committed supergraph is current, 1 when it is stale',
  ].join('\n'),
  options: { check: { type: 'boolean', default: false } },
});
const check = values.check;
const result = composeSupergraph();
if (!result.ok) {
  process.stderr.write(`Composition failed with ${result.errors.length} error(s):\n`);
  for (const error of result.errors) process.stderr.write(`  - ${error}\n`);
  process.exit(1);
}
let current = '';
try {
  current = readFileSync(SUPERGRAPH_FILE, 'utf8');
} catch {
  // No supergraph yet: it is written below.
}
if (check) {
  if (current === result.supergraphSdl) {
    process.stdout.write(`${SUPERGRAPH_FILE} is up to date.\n`);
    process.exit(0);
  }
  process.stderr.write(`${SUPERGRAPH_FILE} is stale: run npm run compose.\n`);
  process.exit(1);
}
if (current === result.supergraphSdl) {
  process.stdout.write(`${SUPERGRAPH_FILE} is up to date.\n`);
} else {
  // Write-then-rename so a watching gateway never reads a half-written file.
  const temporary = `${SUPERGRAPH_FILE}.tmp`;
  writeFileSync(temporary, result.supergraphSdl);
  renameSync(temporary, SUPERGRAPH_FILE);
  process.stdout.write(`Wrote ${SUPERGRAPH_FILE}.\n`);
}
