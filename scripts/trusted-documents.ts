/**
 * Builds a client's trusted-documents manifest from its `.graphql` files.
 *
 *   npm run trusted-documents -- build --issuer <iss> --subject <sub> [--subject <sub>…] --out <manifest.json> <file.graphql>…
 *
 * Each operation of each file (named: every registered operation needs a
 * name) becomes one registered operation with the fragments it uses; its id
 * is the SHA-256 of its body. The manifest goes into the gateway's
 * TRUSTED_DOCUMENTS_DIR, where the gateway picks it up. Exit codes: 0 built,
 * 1 a file cannot be read or parsed, 2 bad arguments.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readCommandLine, UsageError, type ParsedCommandLine } from '../common/command-line.js';
import { buildManifest, ManifestError, parseManifest } from '../common/trusted-documents/manifest.js';

const USAGE = `usage: npm run trusted-documents -- build --issuer <iss> --subject <sub> [--subject <sub>…] --out <manifest.json> <file.graphql>…

Builds the manifest of a calling system (token issuer and subject) from its .graphql files:
one registered operation per named operation, its id the SHA-256 of its body.
  --issuer   the token issuer (iss) of the client, as in the trust list
  --subject  the token subject (sub) of the client; repeat to share the manifest
  --out      the manifest file to write (in TRUSTED_DOCUMENTS_DIR for the gateway to load it)`;

const COMMAND = {
  name: 'trusted-documents',
  usage: USAGE,
  options: {
    issuer: { type: 'string' },
    subject: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
  allowPositionals: true,
} as const;

function interpret({ values, positionals }: ParsedCommandLine<typeof COMMAND.options, true>) {
  const [command, ...files] = positionals;
  if (command !== 'build')
    throw new UsageError(command === undefined ? 'a command is required (build)' : `unknown command ${JSON.stringify(command)}`);
  const issuer = values.issuer?.trim();
  if (!issuer) throw new UsageError('--issuer is required');
  const subjects = (values.subject ?? []).map((s) => s.trim());
  if (subjects.length === 0 || subjects.some((s) => s === '')) throw new UsageError('--subject is required (non-empty)');
  if (!values.out) throw new UsageError('--out is required');
  if (files.length === 0) throw new UsageError('at least one .graphql file is required');
  const notGraphQL = files.find((f) => !/\.(graphql|gql)$/.test(f));
  if (notGraphQL) throw new UsageError(`${notGraphQL} is not a .graphql file`);
  return { issuer, subjects, out: values.out, files };
}

function main(argv: string[]): number {
  const cli = readCommandLine(COMMAND, interpret, argv);
  try {
    const sources = cli.files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    const manifest = buildManifest(
      cli.subjects.map((subject) => ({ issuer: cli.issuer, subject })),
      sources,
    );
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    parseManifest(text, cli.out); // what the gateway will check, checked before it is written
    writeFileSync(cli.out, text);
    process.stdout.write(`${cli.out}: ${manifest.operations.map((o) => `${o.name} ${o.id}`).join(', ')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ManifestError || (error as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`trusted-documents: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
