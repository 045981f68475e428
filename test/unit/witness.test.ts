import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  parseNote,
  parseSignatureLine,
  parseVerifierKey,
  verifyCosignature,
  verifyNoteSignature,
  noteVerifierKey,
  NOTE_ED25519,
  rawEd25519PublicKey,
} from '../../common/audit/note.js';
import { createLogger } from '../../common/logger.js';
import { TLOG_SIZE_TYPE } from '../../common/witness/add-checkpoint.js';
import { formatAddCheckpoint } from '../../common/witness/request.js';
import { type RunningWitness, startWitnessServer } from '../../common/witness/server.js';
import { openWitnessStore } from '../../common/witness/store.js';
import { createTestLog, type TestLog } from '../support/witness-log.js';

const NAME = 'witness.hunan.kuasheng.gov.cn';
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'kuasheng-witness-'));
  folders.push(folder);
  return folder;
}

/** A witness on a free port over a fresh folder, its log lines kept. */
async function startWitness(folder: string, jwksFile: string, now?: () => number) {
  const lines: string[] = [];
  const logger = createLogger({ name: 'witness', level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  const witness = await startWitnessServer({
    name: NAME,
    dataDir: join(folder, 'witness'),
    logJwksFile: jwksFile,
    originPrefix: 'kuasheng.gov.cn/audit/',
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 1_000,
    logger,
    now,
  });
  return { witness, lines };
}

async function add(witness: RunningWitness, body: string | Buffer) {
  const response = await fetch(`${witness.url}/add-checkpoint`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

/** Whether `line` is the witness's valid cosignature of the checkpoint note's text. */
function cosigns(witness: RunningWitness, note: string, line: string): number | null {
  return verifyCosignature(parseNote(note).text, parseSignatureLine(line), parseVerifierKey(witness.vkey));
}

describe('audit witness', () => {
  let folder: string;
  let jwksFile: string;
  let log: TestLog;
  let running: { witness: RunningWitness; lines: string[] };

  beforeEach(async () => {
    folder = tempFolder();
    jwksFile = join(folder, 'gateway.jwks.json');
    log = createTestLog('gateway-test', jwksFile, 10);
    running = await startWitness(folder, jwksFile);
  });
  afterEach(async () => {
    await running.witness.stop();
  });

  describe('add-checkpoint', () => {
    it('cosigns the first checkpoint of a log from old size 0: one cosignature line that verifies against its vkey', async () => {
      const answer = await add(running.witness, log.body(0));
      expect(answer.status).toBe(200);
      expect(answer.type).toMatch(/^text\/plain/);
      expect(answer.body).toMatch(/^\u2014 witness\.hunan\.kuasheng\.gov\.cn \S+\n$/u);
      const timestamp = cosigns(running.witness, log.note(), answer.body.trimEnd());
      expect(timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
    });

    it('cosigns each next checkpoint given the consistency proof from the size it cosigned last', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      for (const grow of [1, 5, 17, 64]) {
        const oldSize = log.leaves.length;
        log.append(grow);
        const answer = await add(running.witness, log.body(oldSize));
        expect(answer.status, `from ${oldSize}`).toBe(200);
        expect(cosigns(running.witness, log.note(), answer.body.trimEnd())).not.toBeNull();
      }
      expect(running.witness.store.latest(log.origin)?.size).toBe(97);
    });

    it('cosigns the same checkpoint again (old size = size, same root)', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      expect((await add(running.witness, log.body(10))).status).toBe(200);
    });

    it('answers 409 text/x.tlog.size with its latest size when the old size is another', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      log.append(5);
      for (const oldSize of [0, 4, 11]) {
        const answer = await add(running.witness, log.body(oldSize));
        expect(answer.status, `old ${oldSize}`).toBe(409);
        expect(answer.type).toBe(TLOG_SIZE_TYPE);
        expect(answer.body).toBe('10\n');
      }
      expect(running.witness.store.latest(log.origin)?.size).toBe(10);
    });

    it('answers 409 to a checkpoint of the size it cosigned with another root, and keeps it as evidence', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      const fork = log.fork(10);
      const answer = await add(running.witness, fork.body(10));
      expect(answer.status).toBe(409);
      expect(answer.type).not.toBe(TLOG_SIZE_TYPE);
      expect(running.witness.store.latest(log.origin)?.root).toEqual(new Uint8Array(log.root()));
      expect(running.witness.store.evidence(log.origin)).toMatchObject([{ status: 409, request: fork.body(10) }]);
    });

    it('answers 422 when the consistency proof does not verify (a rewritten log, a wrong proof), and keeps it as evidence', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      // The same log's key, another history: the first ten leaves differ.
      const rewritten = log.fork(20);
      const forged = await add(running.witness, rewritten.body(10));
      expect(forged.status).toBe(422);
      log.append(10);
      const wrongProof = formatAddCheckpoint(10, log.proof(10).reverse(), log.note());
      expect((await add(running.witness, wrongProof)).status).toBe(422);
      expect((await add(running.witness, formatAddCheckpoint(10, [], log.note()))).status).toBe(422);
      expect(running.witness.store.latest(log.origin)?.size).toBe(10);
      expect(running.witness.store.evidence(log.origin).map((e) => e.status)).toEqual([422, 422, 422]);
    });

    it('answers 422 to a proof sent with old size 0 (it must be empty)', async () => {
      const answer = await add(running.witness, formatAddCheckpoint(0, log.proof(4), log.note()));
      expect(answer.status).toBe(422);
      expect(running.witness.store.latest(log.origin)).toBeNull();
    });

    it('answers 400 when the old size is larger than the checkpoint’s', async () => {
      const answer = await add(running.witness, formatAddCheckpoint(11, [], log.note()));
      expect(answer.status).toBe(400);
    });

    it('answers 400 to a body that is not an add-checkpoint request', async () => {
      const note = log.note();
      const proofLine = log.proof(4)[0].toString('base64');
      const bodies: Array<string | Buffer> = [
        '',
        note,
        `old 0\n${note}`,
        `old 00\n\n${note}`,
        `old -1\n\n${note}`,
        `old 1e3\n\n${note}`,
        `old 99999999999999999999\n\n${note}`,
        `Old 0\n\n${note}`,
        `old 0\n\n${note.slice(0, -1)}`,
        `old 4\nnot base64!\n\n${note}`,
        `old 4\n${proofLine.slice(0, 40)}\n\n${note}`,
        `old 4\n${`${proofLine}\n`.repeat(64)}\n${note}`,
        `old 0\n\n${note.split('\n\n')[0]}\n`,
        `old 0\n\n${note.replace('\n\n', '\n\n\u0007')}`,
        `old 0\r\n\r\n${note}`,
        Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe]), Buffer.from(note)]),
      ];
      for (const body of bodies) {
        const answer = await add(running.witness, body);
        expect(answer.status, JSON.stringify(String(body).slice(0, 40))).toBe(400);
      }
      expect(running.witness.store.latest(log.origin)).toBeNull();
    });

    it('answers 404 to an origin it is not configured for', async () => {
      const elsewhere = createTestLog('x', join(folder, 'other.jwks.json'), 3);
      const foreign = elsewhere.body(0).replace(/kuasheng\.gov\.cn\/audit\/x/g, 'example.com/log');
      expect((await add(running.witness, foreign)).status).toBe(404);
      const badChain = elsewhere.body(0).replace(/kuasheng\.gov\.cn\/audit\/x/g, 'kuasheng.gov.cn/audit/a/b');
      expect((await add(running.witness, badChain)).status).toBe(404);
    });

    it('answers 403 when no trusted key signed the checkpoint, ignoring signatures of unknown keys', async () => {
      const stranger = generateKeyPairSync('ed25519').privateKey;
      expect((await add(running.witness, formatAddCheckpoint(0, [], log.note(10, stranger)))).status).toBe(403);
      // Another signature line (unknown key) beside the log's: ignored, the checkpoint is cosigned.
      const both = `${log.note(10, stranger)}${log.note().split('\n\n')[1]}`;
      expect((await add(running.witness, formatAddCheckpoint(0, [], both))).status).toBe(200);
    });

    it('answers 403 when a trusted key’s signature does not verify, even beside one that does', async () => {
      const oldKey = log.key;
      log.addKey();
      const [text, line] = log.note(10, oldKey).split('\n\n');
      const [dash, name, base64] = line.trimEnd().split(' ');
      const bytes = Buffer.from(base64, 'base64');
      bytes[10] ^= 1;
      const tampered = `${dash} ${name} ${bytes.toString('base64')}\n`;
      expect((await add(running.witness, formatAddCheckpoint(0, [], `${text}\n\n${tampered}`))).status).toBe(403);
      const valid = log.note().split('\n\n')[1];
      expect((await add(running.witness, formatAddCheckpoint(0, [], `${text}\n\n${tampered}${valid}`))).status).toBe(403);
      expect((await add(running.witness, formatAddCheckpoint(0, [], `${text}\n\n${valid}`))).status).toBe(200);
    });

    it('trusts a key added to the logs’ key set (rotation) without a restart, and still the old one', async () => {
      const oldKey = log.key;
      log.addKey();
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      log.append(1);
      expect((await add(running.witness, formatAddCheckpoint(10, log.proof(10), log.note(11, oldKey)))).status).toBe(200);
    });

    it('answers 413 to a body over 64 KiB, 405 to another method, 404 to another path', async () => {
      expect((await add(running.witness, `old 0\n\n${'a'.repeat(70_000)}`)).status).toBe(413);
      expect((await fetch(`${running.witness.url}/add-checkpoint`)).status).toBe(405);
      expect((await fetch(`${running.witness.url}/checkpoints`, { method: 'POST', body: 'x' })).status).toBe(405);
      expect((await fetch(`${running.witness.url}/`)).status).toBe(404);
      expect((await fetch(`${running.witness.url}/add-checkpoint/`, { method: 'POST', body: log.body(0) })).status).toBe(404);
    });

    it('goes on answering after garbage on the wire', async () => {
      for (const garbage of [
        '\u0000\u0001\u0002\r\n\r\n',
        'POST /add-checkpoint HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nold',
        'GET / HTTP/9\r\n\r\n',
      ]) {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(new URL(running.witness.url).port), '127.0.0.1', () => socket.end(garbage));
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
          socket.resume();
        });
      }
      expect((await add(running.witness, log.body(0))).status).toBe(200);
    });
  });

  describe('read extension', () => {
    it('GET /checkpoints lists every log’s latest cosigned checkpoint: the note with the log’s signature and the cosignature', async () => {
      const other = createTestLog('gateway-other', join(folder, 'unused.jwks.json'), 3);
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      expect((await add(running.witness, other.body(0))).status).toBe(403); // not in the witness's key set
      const response = await fetch(`${running.witness.url}/checkpoints`);
      expect(response.status).toBe(200);
      const listed = (await response.json()) as { witness: string; checkpoints: Array<{ origin: string; size: number; root: string; note: string }> };
      expect(listed.witness).toBe(NAME);
      expect(listed.checkpoints.map((c) => [c.origin, c.size, c.root])).toEqual([[log.origin, 10, log.root().toString('base64')]]);
      const { text, signatures } = parseNote(listed.checkpoints[0].note);
      const logKey = noteVerifierKey(log.origin, NOTE_ED25519, rawEd25519PublicKey(log.key));
      expect(signatures).toHaveLength(2);
      expect(verifyNoteSignature(text, signatures[0], logKey)).toBe(true);
      expect(cosigns(running.witness, listed.checkpoints[0].note, signatures[1].line)).not.toBeNull();
    });

    it('GET /checkpoint?origin= answers one log’s cosigned note, 404 when it has cosigned none', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      const one = await fetch(`${running.witness.url}/checkpoint?origin=${encodeURIComponent(log.origin)}`);
      expect(one.status).toBe(200);
      const note = await one.text();
      expect(parseNote(note).text).toBe(parseNote(log.note()).text);
      expect((await fetch(`${running.witness.url}/checkpoint?origin=kuasheng.gov.cn%2Faudit%2Fnone`)).status).toBe(404);
      expect((await fetch(`${running.witness.url}/checkpoint`)).status).toBe(400);
    });
  });

  describe('state and key', () => {
    it('keeps the latest checkpoint of each log across a restart, and goes on from it', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      const before = running.witness.store.latest(log.origin)!;
      await running.witness.stop();
      running = await startWitness(folder, jwksFile);
      expect(running.witness.store.latest(log.origin)).toEqual(before);
      log.append(3);
      expect(await add(running.witness, log.body(0))).toMatchObject({ status: 409, body: '10\n' });
      expect((await add(running.witness, log.body(10))).status).toBe(200);
      expect(running.witness.store.history(log.origin).map((c) => c.size)).toEqual([13, 10]);
    });

    it('creates its key once (mode 0600), writes its vkey next to it, and never logs the private key', async () => {
      const vkeyFile = join(folder, 'witness', 'witness.vkey');
      const keyFile = join(folder, 'witness', 'witness.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(vkeyFile, 'utf8')).toBe(`${running.witness.vkey}\n`);
      expect(running.witness.vkey).toMatch(/^witness\.hunan\.kuasheng\.gov\.cn\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      const vkey = running.witness.vkey;
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      const logged = running.lines;
      await running.witness.stop();
      running = await startWitness(folder, jwksFile);
      expect(running.witness.vkey).toBe(vkey);
      expect((await add(running.witness, log.body(10))).status).toBe(200);
      // The key file's base64 body, or its end (where the 32-byte seed is), in nothing either process logged.
      const secret = readFileSync(keyFile, 'utf8').split('\n')[1];
      const lines = [...logged, ...running.lines];
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.join('')).not.toContain(secret);
      expect(lines.join('')).not.toContain(secret.slice(-20));
    });

    it('never gives a cosignature an earlier time than the one before, should the clock step back', async () => {
      await running.witness.stop();
      let clock = Date.UTC(2026, 11, 4, 12);
      running = await startWitness(folder, jwksFile, () => clock);
      const first = await add(running.witness, log.body(0));
      clock -= 3_600_000;
      log.append(1);
      const second = await add(running.witness, log.body(10));
      expect(cosigns(running.witness, log.note(10), first.body.trimEnd())).toBe(Date.UTC(2026, 11, 4, 12) / 1000);
      expect(cosigns(running.witness, log.note(), second.body.trimEnd())).toBe(Date.UTC(2026, 11, 4, 12) / 1000);
    });
  });

  describe('when submissions race', () => {
    it('cosigns exactly one of the submissions from one size, answers the others 409 with its size, and never rolls back', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      log.append(20);
      const sizes = Array.from({ length: 20 }, (_, i) => 11 + i);
      const answers = await Promise.all(sizes.map((size) => add(running.witness, log.body(10, size))));
      const won = sizes.filter((_, i) => answers[i].status === 200);
      expect(won).toHaveLength(1);
      expect(answers.filter((a) => a.status === 409).map((a) => a.body)).toEqual(Array(19).fill(`${won[0]}\n`));
      expect(running.witness.store.latest(log.origin)?.size).toBe(won[0]);
    });

    it('a stale compare-and-set changes nothing: two witness processes on one state file cannot roll a log back', async () => {
      expect((await add(running.witness, log.body(0))).status).toBe(200);
      const file = join(folder, 'witness', 'witness.db');
      const other = openWitnessStore(file);
      try {
        const seen = other.latest(log.origin)!;
        // Meanwhile the running witness moves the log on to 30.
        log.append(20);
        expect((await add(running.witness, log.body(10))).status).toBe(200);
        // The other process, which checked against size 10, tries to store 15.
        const outcome = other.advance({ size: seen.size, root: seen.root }, { ...seen, size: 15, root: log.root(15), note: log.note(15) });
        expect(outcome).toMatchObject({ kind: 'conflict', current: { size: 30 } });
        expect(running.witness.store.latest(log.origin)?.size).toBe(30);
      } finally {
        other.close();
      }
    });
  });
});
