/**
 * The log's side of C2SP tlog-witness: submits each new checkpoint of a
 * log to every configured witness and collects their cosignatures.
 *
 * Per witness and origin it remembers the size the witness last cosigned
 * (0 at first; a 409 says the witness's, `text/x.tlog.size`, and the
 * submission is made again from there once), asks the caller for the
 * consistency proof from that size, and accepts a cosignature only once it
 * verifies against the witness's configured vkey. Each witness's exchange
 * is bounded by `timeoutMs`; a witness that is down, slow or answers
 * nonsense costs a throttled warning (no stack trace) and is left out of
 * the result: `submit` never rejects, whatever the witnesses do.
 */
import { type Checkpoint, type NoteSignature, parseCheckpoint, parseNote, parseSignatureLine, verifyCosignature } from '../audit/note.js';
import { throttledWarning, type WarningLogger } from '../throttled-warning.js';
import { TLOG_SIZE_TYPE } from './add-checkpoint.js';
import { type CheckedWitness, checkWitnessEndpoint, type WitnessEndpoint } from './endpoints.js';
import { formatAddCheckpoint, parseTreeSize } from './request.js';

export type { WitnessEndpoint } from './endpoints.js';

export interface WitnessClientOptions {
  witnesses: readonly WitnessEndpoint[];
  /** Takes the warnings (throttled per witness); default: none. */
  logger?: WarningLogger;
  /** The longest one witness's exchange may take (proof, request and answer; a 409 and its retry included). Default 5000 ms. */
  timeoutMs?: number;
  /** A witness's warnings are logged at most this often. Default 30 s. */
  warnIntervalMs?: number;
  /** Milliseconds since 1970; default Date.now. */
  now?: () => number;
}

/** A new checkpoint of a log, as the log's writer hands it over. */
export interface CheckpointSubmission {
  origin: string;
  /** The checkpoint note signed by the log. */
  note: string;
  size: number;
  root: Uint8Array;
  /** The consistency proof from the tree of `oldSize` leaves to this checkpoint's (0 < oldSize < size). */
  consistencyFrom: (oldSize: number) => Promise<readonly Uint8Array[]> | readonly Uint8Array[];
}

/** A witness's cosignature of a checkpoint, verified (the audit store's `WitnessCosignature`, with its time). */
export interface WitnessCosignature {
  witness: string;
  /** The signature line `— <witness name> <base64>`, without its newline: append it to the note. */
  line: string;
  /** Its time, POSIX seconds. */
  timestamp: number;
}

/** A witness's latest cosigned checkpoint of a log (read extension), its cosignature verified. */
export interface WitnessedCheckpoint extends WitnessCosignature {
  checkpoint: Checkpoint;
  /** The whole note as the witness keeps it: checkpoint text, the log's signature lines, the cosignature. */
  note: string;
}

/** Why a witness's checkpoint could not be fetched: unreachable, an answer that is not one, or a cosignature that does not verify. */
export class WitnessResponseError extends Error {
  constructor(
    readonly code: 'WITNESS_UNREACHABLE' | 'WITNESS_BAD_RESPONSE' | 'WITNESS_BAD_COSIGNATURE',
    readonly witness: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`witness ${witness}: ${message}`, options);
    this.name = 'WitnessResponseError';
  }
}

export interface WitnessClient {
  /** Submits a checkpoint to every witness at once; resolves with the cosignatures that verified. Never rejects. */
  submit(submission: CheckpointSubmission): Promise<WitnessCosignature[]>;
  /** {@link WitnessClient.submit}, under the name the audit writer's `CheckpointWitnessing` gives it. */
  cosign(submission: CheckpointSubmission): Promise<WitnessCosignature[]>;
  /** A witness's latest cosigned checkpoint of `origin`, or null when it has none; rejects with a {@link WitnessResponseError}. */
  latestCheckpoint(witness: string, origin: string): Promise<WitnessedCheckpoint | null>;
  /** The size a witness is known to have cosigned for `origin` (0 when none is known). */
  knownSize(witness: string, origin: string): number;
  /** The witnesses, checked. */
  readonly witnesses: readonly CheckedWitness[];
}

export const DEFAULT_WITNESS_TIMEOUT_MS = 5_000;
export const DEFAULT_WITNESS_WARN_INTERVAL_MS = 30_000;

/** A witness answers a line or two: more than this is not an answer. */
const MAX_ANSWER_BYTES = 64 * 1024;

const silent: WarningLogger = { warn() {} };

export interface NormalizedWitnessClientOptions {
  witnesses: CheckedWitness[];
  logger: WarningLogger;
  timeoutMs: number;
  warnIntervalMs: number;
  now: () => number;
}

/** Checks the options once, at start-up: throws a TypeError naming a bad witness or option. */
export function normalizeWitnessClientOptions(options: WitnessClientOptions): NormalizedWitnessClientOptions {
  const witnesses = options.witnesses.map(checkWitnessEndpoint);
  const names = witnesses.map((w) => w.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new TypeError(`witness ${twice} is listed twice`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`timeoutMs must be a positive whole number, got ${timeoutMs}`);
  return {
    witnesses,
    logger: options.logger ?? silent,
    timeoutMs,
    warnIntervalMs: options.warnIntervalMs ?? DEFAULT_WITNESS_WARN_INTERVAL_MS,
    now: options.now ?? Date.now,
  };
}

/** Reads at most MAX_ANSWER_BYTES of an answer. */
async function answerText(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw new Error(`its answer exceeds ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The first of the lines that is the witness's valid cosignature of `text`, or null. */
function verifiedCosignature(witness: CheckedWitness, text: string, lines: readonly string[]): WitnessCosignature | null {
  for (const line of lines) {
    let signature: NoteSignature;
    try {
      signature = parseSignatureLine(line);
    } catch {
      continue;
    }
    // Lines of other keys are ignored, as the protocol says.
    const timestamp = verifyCosignature(text, signature, witness.key);
    if (timestamp !== null) return { witness: witness.name, line, timestamp };
  }
  return null;
}

/** A short, single-line excerpt of what a witness answered, for a warning. */
function excerpt(text: string): string {
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

export function createWitnessClient(options: WitnessClientOptions): WitnessClient {
  const { witnesses, logger, timeoutMs, warnIntervalMs, now } = normalizeWitnessClientOptions(options);
  const byName = new Map(witnesses.map((w) => [w.name, w]));
  // Per witness: the size it last cosigned per origin, its warnings, and the submission in flight per origin.
  const state = new Map(
    witnesses.map((w) => [
      w.name,
      {
        sizes: new Map<string, number>(),
        warn: throttledWarning(logger, warnIntervalMs, now),
        inFlight: new Map<string, Promise<unknown>>(),
      },
    ]),
  );

  async function exchange(
    witness: CheckedWitness,
    submission: CheckpointSubmission,
    text: string,
    signal: AbortSignal,
  ): Promise<WitnessCosignature | null> {
    const { sizes, warn } = state.get(witness.name)!;
    const { origin, size } = submission;
    const context = { witness: witness.name, origin, size };
    // At most two requests: the second from the size a 409 named.
    for (let attempt = 0; attempt < 2; attempt++) {
      const oldSize = sizes.get(origin) ?? 0;
      if (oldSize > size) {
        warn(
          { ...context, witnessSize: oldSize },
          'witness has cosigned a larger tree of this log than the checkpoint: the log lost records, or was reset',
        );
        return null;
      }
      const proof = oldSize === 0 || oldSize === size ? [] : await submission.consistencyFrom(oldSize);
      const response = await fetch(`${witness.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: formatAddCheckpoint(oldSize, proof, submission.note),
        signal,
      });
      const body = await answerText(response);
      if (response.status === 200) {
        const cosignature = verifiedCosignature(witness, text, body.split('\n'));
        if (!cosignature) {
          warn(context, 'witness answered without a valid cosignature of the checkpoint (checked against its vkey): ignored');
          return null;
        }
        sizes.set(origin, size);
        return cosignature;
      }
      const type = response.headers.get('content-type')?.split(';')[0].trim();
      const witnessSize = response.status === 409 && type === TLOG_SIZE_TYPE ? parseTreeSize(body.replace(/\n$/, '')) : null;
      if (witnessSize === null || witnessSize === oldSize) {
        warn({ ...context, oldSize, status: response.status, answer: excerpt(body) }, 'witness refused the checkpoint');
        return null;
      }
      sizes.set(origin, witnessSize);
    }
    warn(context, 'witness changed its size twice during one submission');
    return null;
  }

  async function submitTo(witness: CheckedWitness, submission: CheckpointSubmission, text: string): Promise<WitnessCosignature | null> {
    const { warn, inFlight } = state.get(witness.name)!;
    // One submission per witness and origin at a time: the next one starts from the size the last one left.
    const before = inFlight.get(submission.origin) ?? Promise.resolve();
    const run = before.then(async () => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        return await Promise.race([
          exchange(witness, submission, text, signal),
          // Bounds the caller's proof too, which no fetch signal reaches.
          new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
        ]);
      } catch (error) {
        warn({ witness: witness.name, origin: submission.origin, size: submission.size, err: error }, 'witness unreachable: checkpoint not cosigned');
        return null;
      }
    });
    inFlight.set(submission.origin, run);
    void run.finally(() => {
      if (inFlight.get(submission.origin) === run) inFlight.delete(submission.origin);
    });
    return run;
  }

  async function submit(submission: CheckpointSubmission): Promise<WitnessCosignature[]> {
    let text: string;
    try {
      text = parseNote(submission.note).text;
    } catch (error) {
      logger.warn({ origin: submission.origin, reason: (error as Error).message }, 'not submitted to the witnesses: the checkpoint is not a note');
      return [];
    }
    const results = await Promise.all(witnesses.map((witness) => submitTo(witness, submission, text)));
    return results.filter((result): result is WitnessCosignature => result !== null);
  }

  return {
    witnesses,
    submit,
    cosign: submit,
    async latestCheckpoint(name, origin) {
      const witness = byName.get(name);
      if (!witness) throw new TypeError(`no witness named ${name} is configured`);
      let status: number;
      let body: string;
      try {
        const response = await fetch(`${witness.url}/checkpoint?origin=${encodeURIComponent(origin)}`, { signal: AbortSignal.timeout(timeoutMs) });
        status = response.status;
        body = await answerText(response);
      } catch (error) {
        throw new WitnessResponseError('WITNESS_UNREACHABLE', name, (error as Error).message, { cause: error });
      }
      if (status === 404) return null;
      if (status !== 200) throw new WitnessResponseError('WITNESS_BAD_RESPONSE', name, `answered ${status}: ${excerpt(body)}`);
      let checkpoint: Checkpoint;
      let signatures: NoteSignature[];
      let text: string;
      try {
        ({ text, signatures } = parseNote(body));
        checkpoint = parseCheckpoint(text);
      } catch (error) {
        throw new WitnessResponseError('WITNESS_BAD_RESPONSE', name, `its checkpoint is not a note: ${(error as Error).message}`);
      }
      if (checkpoint.origin !== origin) throw new WitnessResponseError('WITNESS_BAD_RESPONSE', name, `answered a checkpoint of ${checkpoint.origin}`);
      const cosignature = verifiedCosignature(
        witness,
        text,
        signatures.map((s) => s.line),
      );
      if (!cosignature) throw new WitnessResponseError('WITNESS_BAD_COSIGNATURE', name, 'its checkpoint carries no valid cosignature of its vkey');
      return { ...cosignature, checkpoint, note: body };
    },

    knownSize: (name, origin) => state.get(name)?.sizes.get(origin) ?? 0,
  };
}
