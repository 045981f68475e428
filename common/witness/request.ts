/**
 * The body of a C2SP tlog-witness `add-checkpoint` request, read and
 * formatted: an old size line (`old <size>`), at most 63 consistency proof
 * lines (one base64 hash each), an empty line, then the checkpoint note.
 * Every line ends in a newline.
 */
import { type Checkpoint, type Note, NoteFormatError, parseCheckpoint, parseNote } from '../audit/note.js';
import { HASH_SIZE } from '../audit/merkle.js';
import { WitnessRefusal } from './errors.js';

/** The protocol's bound on proof lines. */
export const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Buffer[];
  /** The checkpoint note as sent: its text and signature lines. */
  note: Note;
  checkpoint: Checkpoint;
}

const SIZE = /^(0|[1-9][0-9]{0,15})$/;
const BASE64_HASH = /^[A-Za-z0-9+/]{43}=$/;

function malformed(message: string): WitnessRefusal {
  return new WitnessRefusal('MALFORMED_REQUEST', message);
}

/** A tree size written as the protocol writes it (decimal, no leading zero), or null. */
export function parseTreeSize(text: string): number | null {
  if (!SIZE.test(text)) return null;
  const size = Number(text);
  return Number.isSafeInteger(size) ? size : null;
}

/**
 * Reads an add-checkpoint body. Throws a {@link WitnessRefusal}
 * MALFORMED_REQUEST (400) naming what is wrong; never anything else.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  // signed-note: valid UTF-8 (the caller decodes strictly) and no control character but the newline.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the rule checked.
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(body)) throw malformed('the request holds a control character other than newline');
  let at = 0;
  const nextLine = (): string => {
    const end = body.indexOf('\n', at);
    if (end < 0) throw malformed('every line must end in a newline');
    const line = body.slice(at, end);
    at = end + 1;
    return line;
  };
  const oldLine = nextLine();
  const oldSize = oldLine.startsWith('old ') ? parseTreeSize(oldLine.slice(4)) : null;
  if (oldSize === null) throw malformed('the first line must be "old <size>", the size in decimal without leading zeros');
  const proof: Buffer[] = [];
  for (;;) {
    const line = nextLine();
    if (line === '') break;
    if (proof.length === MAX_PROOF_LINES) throw malformed(`a consistency proof has at most ${MAX_PROOF_LINES} lines`);
    const hash = BASE64_HASH.test(line) ? Buffer.from(line, 'base64') : null;
    if (hash === null || hash.length !== HASH_SIZE || hash.toString('base64') !== line) {
      throw malformed('each consistency proof line must be one base64 SHA-256 hash');
    }
    proof.push(hash);
  }
  try {
    const note = parseNote(body.slice(at));
    return { oldSize, proof, note, checkpoint: parseCheckpoint(note.text) };
  } catch (error) {
    if (error instanceof NoteFormatError) throw malformed(`the checkpoint is not a signed note: ${error.message}`);
    throw error;
  }
}

/** The add-checkpoint body for a checkpoint note, from `oldSize` with its consistency proof (the client's side). */
export function formatAddCheckpoint(oldSize: number, proof: readonly Uint8Array[], note: string): string {
  const lines = [`old ${oldSize}`, ...proof.map((hash) => Buffer.from(hash).toString('base64')), ''];
  return `${lines.join('\n')}\n${note}`;
}
