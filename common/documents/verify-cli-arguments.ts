/**
 * Command lines of `npm run certificate:verify` and `npm run seal-keys`,
 * parsed apart from the scripts so that every refusal is testable without
 * spawning a process.
 */
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DOCUMENT_TYPES, isDocumentType, type DocumentType } from './types.js';
import { dataDirSetting } from '../settings.js';
import { checkSealAuthorityId } from './seal-authority.js';

export const CERTIFICATE_VERIFY_USAGE = [
  'usage: npm run certificate:verify -- <file | token | QR text | -> [--trust-list <file>] [--data-dir <dir>]',
  '                                      [--holder-name <name>] [--holder-id <ID number or credit code>] [--type <TYPE>] [--json]',
  '  <file>        a text file holding the token or QR text; - reads standard input',
  '  --trust-list  default <data dir>/seals/trust-list.json; data dir from --data-dir, DATA_DIR or `data`',
  `  --type        the document type required: ${DOCUMENT_TYPES.join(', ')}`,
  '  exit status   0 valid (and, when a holder was given, theirs), 1 not valid or not theirs, 2 bad arguments or unreadable file',
].join('\n');

export const SEAL_KEYS_USAGE = [
  'usage: npm run seal-keys -- rotate <authorityId> [--data-dir <dir>]   new seal key for the authority, then rebuild the trust list',
  '       npm run seal-keys -- trust-list [--data-dir <dir>]             rebuild <data dir>/seals/trust-list.json',
].join('\n');

/** A command-line argument is missing or bad; `argument` names it. */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE' as const;

  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument} ${reason}`);
    this.name = 'CliUsageError';
  }
}

/** certificate:verify, parsed. */
export interface CertificateVerifyArguments {
  /** The positional argument: a file path, `-`, or the token / QR text itself. */
  document: string;
  trustListFile: string;
  holderName: string | undefined;
  holderId: string | undefined;
  expectedType: DocumentType | undefined;
  json: boolean;
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliUsageError('arguments', `are not understood: ${(error as Error).message}`);
  }
}

function nonEmpty(value: unknown, argument: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new CliUsageError(argument, 'must not be empty');
  return value;
}

function dataDirOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  return nonEmpty(values['data-dir'], '--data-dir') ?? dataDirSetting(env);
}

/** Parses certificate:verify's arguments; 'help' for -h/--help. */
export function parseCertificateVerifyArguments(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CertificateVerifyArguments | 'help' {
  const { values, positionals } = parse(argv, {
    'trust-list': { type: 'string' },
    'data-dir': { type: 'string' },
    'holder-name': { type: 'string' },
    'holder-id': { type: 'string' },
    type: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw new CliUsageError('<file or token>', 'is required');
  if (positionals.length > 1)
    throw new CliUsageError('<file or token>', `must be one argument, got ${positionals.length} (quote a token that contains spaces)`);
  const type = nonEmpty(values.type, '--type');
  if (type !== undefined && !isDocumentType(type)) throw new CliUsageError('--type', `must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const trustListFile = nonEmpty(values['trust-list'], '--trust-list') ?? join(dataDirOf(values, env), 'seals', 'trust-list.json');
  return {
    document: positionals[0],
    trustListFile,
    holderName: nonEmpty(values['holder-name'], '--holder-name'),
    holderId: nonEmpty(values['holder-id'], '--holder-id'),
    expectedType: type,
    json: values.json === true,
  };
}

/** seal-keys, parsed. */
export type SealKeysArguments = { command: 'rotate'; authorityId: string; dataDir: string } | { command: 'trust-list'; dataDir: string };

/** Parses seal-keys' arguments; 'help' for -h/--help. */
export function parseSealKeysArguments(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SealKeysArguments | 'help' {
  const { values, positionals } = parse(argv, {
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return 'help';
  const dataDir = dataDirOf(values, env);
  const [command, ...rest] = positionals;
  if (command === 'rotate') {
    if (rest.length !== 1) throw new CliUsageError('rotate', 'takes exactly one authority id, e.g. rotate 430100-social-insurance');
    try {
      return { command, authorityId: checkSealAuthorityId(rest[0], '<authorityId>'), dataDir };
    } catch (error) {
      throw new CliUsageError('<authorityId>', (error as Error).message.replace(/^Invalid seal authority: \S+ /, ''));
    }
  }
  if (command === 'trust-list') {
    if (rest.length !== 0) throw new CliUsageError('trust-list', 'takes no further arguments');
    return { command, dataDir };
  }
  throw new CliUsageError(
    '<command>',
    command === undefined ? 'is required: rotate or trust-list' : `must be rotate or trust-list, got ${JSON.stringify(command)}`,
  );
}
