/**
 * `npm run certificate:verify -- <file or token> [--trust-list <file>] [--holder-name …] [--holder-id …] [--data-dir data]`
 *
 * Offline verification of a sealed document for a notary office: no
 * server, only a saved seal trust list (default
 * `<data dir>/seals/trust-list.json`). Prints integrity, issuer, validity,
 * the content and the holder match, and says plainly that the live status
 * (revoked, superseded) was not checked.
 *
 * The argument is a file holding the token or QR text (or the JSON
 * `{ "token": … }` / `{ "qrText": … }` an issuing service returns), `-` for
 * standard input, or the token itself.
 *
 * Exit status: 0 valid (and the holder's, when a holder was given); 1 not
 * valid or not the given holder's; 2 bad arguments, an unreadable file or
 * trust list; 3 valid, but the ID number given could not be checked offline
 * (a format-2 document: only its issuer can, online).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  CERTIFICATE_VERIFY_USAGE as USAGE,
  CliUsageError,
  LIVE_STATUS_NOT_CHECKED,
  describeDocumentVerification,
  loadSealTrustList,
  parseCertificateVerifyArguments,
  SealTrustListError,
  verifyDocument,
  type CertificateVerifyArguments,
  type SealTrustList,
} from '../common/documents/index.js';

const MAX_FILE_BYTES = 1_048_576;

class UnreadableInput extends Error {}

function usageError(message: string): number {
  process.stderr.write(`certificate:verify: ${message}\n${USAGE}\n`);
  return 2;
}

/** The token text of a file's content: the text itself, or the token of an issuing service's JSON answer. */
function documentText(content: string): string {
  const trimmed = content.trim();
  if (!trimmed.startsWith('{')) return content;
  try {
    const value = JSON.parse(trimmed) as { token?: unknown; qrText?: unknown };
    const text = value.token ?? value.qrText;
    if (typeof text === 'string') return text;
  } catch {
    // Not JSON after all: let verification call it malformed.
  }
  return content;
}

function readDocument(argument: string): string {
  if (argument === '-') return documentText(readFileSync(0, 'utf8'));
  if (existsSync(argument)) {
    const info = statSync(argument);
    if (!info.isFile()) throw new UnreadableInput(`${argument} is not a file`);
    if (info.size > MAX_FILE_BYTES) throw new UnreadableInput(`${argument} is larger than ${MAX_FILE_BYTES} bytes: not a document`);
    try {
      return documentText(readFileSync(argument, 'utf8'));
    } catch (error) {
      throw new UnreadableInput(`${argument} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  // A token starts with its base64url JSON header, a QR text with its prefix; anything else was meant as a file name.
  if (/^\s*(KSTB\d*:|eyJ)/i.test(argument)) return argument;
  throw new UnreadableInput(`${argument} does not exist (and is not a token or QR text)`);
}

async function main(): Promise<number> {
  let cli: CertificateVerifyArguments | 'help';
  try {
    cli = parseCertificateVerifyArguments(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CliUsageError) return usageError(error.message);
    throw error;
  }
  if (cli === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let input: string;
  try {
    input = readDocument(cli.document);
  } catch (error) {
    if (error instanceof UnreadableInput) return usageError(error.message);
    throw error;
  }
  let trustList: SealTrustList;
  try {
    trustList = await loadSealTrustList(cli.trustListFile);
  } catch (error) {
    if (error instanceof SealTrustListError) return usageError(error.message);
    throw error;
  }

  const holder = cli.holderName !== undefined || cli.holderId !== undefined ? { name: cli.holderName, idNumber: cli.holderId } : undefined;
  const result = await verifyDocument(input, trustList, { holder, expectedType: cli.expectedType });
  const match = result.holderMatch;
  const holderRefused = match.checked && (match.nameMatches === false || match.idNumberMatches === false);
  if (cli.json) {
    process.stdout.write(
      `${JSON.stringify({ ...result, liveStatus: { checked: false, note: LIVE_STATUS_NOT_CHECKED }, trustList: { source: trustList.source, generatedAt: trustList.generatedAt } }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`Offline verification against the trust list ${trustList.source} (generated ${trustList.generatedAt})\n`);
    process.stdout.write(describeDocumentVerification(result));
    if (result.verdict === 'VALID' && holderRefused) process.stdout.write("The document is genuine but NOT the given holder's.\n");
  }
  if (result.verdict !== 'VALID' || holderRefused) return 1;
  return match.idNumberNeedsIssuer ? 3 : 0;
}

process.exitCode = await main();
