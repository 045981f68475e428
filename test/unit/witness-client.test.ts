import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COSIGNATURE_V1,
  formatVerifierKey,
  noteSignerKey,
  parseNote,
  parseSignatureLine,
  parseVerifierKey,
  verifyCosignature,
} from '../../common/audit/note.js';
import { ConfigError, loadGatewayConfig } from '../../gateway/config.js';
import { createLogger } from '../../common/logger.js';
import { type CheckpointWitnessing, createAuditWriter } from '../../gateway/audit/writer.js';
import { ensureGatewayKeys, loadGatewaySigningKey } from '../../common/gateway-keys.js';
import { openAuditStore } from '../../common/audit/store.js';
import { auditLogOrigin } from '../../common/audit/note.js';
import { requestEntry } from '../support/audit-store-suite.js';
import { createWitnessClient, type CheckpointSubmission, WitnessResponseError } from '../../common/witness/client.js';
import { formatWitnessList, parseWitnessList } from '../../common/witness/endpoints.js';
import { type RunningWitness, startWitnessServer } from '../../common/witness/server.js';
import { createTestLog, type TestLog } from '../support/witness-log.js';

const NAME = 'witness.hunan.kuasheng.gov.cn';
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A logger that keeps what it is given. */
function warnings() {
  const seen: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { seen, logger: { warn: (obj: object, msg: string) => seen.push({ obj: obj as Record<string, unknown>, msg }) } };
}

/** The submission of a test log's checkpoint, recording the sizes its proofs were asked from. */
function submission(log: TestLog, asked: number[] = []): CheckpointSubmission {
  const size = log.leaves.length;
  return {
    origin: log.origin,
    note: log.note(),
    size,
    root: log.root(),
    consistencyFrom: (oldSize) => {
      asked.push(oldSize);
      return log.proof(oldSize, size);
    },
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('witness client', () => {
  let folder: string;
  let log: TestLog;
  let witness: RunningWitness;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'kuasheng-witness-client-'));
    folders.push(folder);
    const jwksFile = join(folder, 'gateway.jwks.json');
    log = createTestLog('gateway-client', jwksFile, 10);
    witness = await startWitnessServer({
      name: NAME,
      dataDir: join(folder, 'witness'),
      logJwksFile: jwksFile,
      originPrefix: 'kuasheng.gov.cn/audit/',
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logger: createLogger({ name: 'witness', level: 'silent' }),
    });
  });
  afterEach(async () => {
    await witness.stop();
  });

  describe('when the witness is up', () => {
    it('submits from size 0, then from the size it cosigned, asking for the proof from it; each cosignature verifies', async () => {
      const { seen, logger } = warnings();
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }], logger });
      // What the audit writer takes as its witnesses.
      const witnessing: CheckpointWitnessing = client;
      expect(witnessing.cosign).toBe(client.submit);
      const asked: number[] = [];
      const first = await client.submit(submission(log, asked));
      expect(first).toHaveLength(1);
      expect(first[0].witness).toBe(NAME);
      const key = parseVerifierKey(witness.vkey);
      expect(verifyCosignature(parseNote(log.note()).text, parseSignatureLine(first[0].line), key)).toBe(first[0].timestamp);
      log.append(7);
      const second = await client.submit(submission(log, asked));
      expect(second).toHaveLength(1);
      expect(asked).toEqual([10]);
      expect(client.knownSize(NAME, log.origin)).toBe(17);
      expect(seen).toEqual([]);
    });

    it('learns the witness’s size from a 409 and submits again from it', async () => {
      const earlier = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }] });
      expect(await earlier.submit(submission(log))).toHaveLength(1);
      // A client that knows nothing (the gateway restarted): it starts from 0, is told 10, and goes on from there.
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }] });
      log.append(5);
      const asked: number[] = [];
      expect(await client.submit(submission(log, asked))).toHaveLength(1);
      expect(asked).toEqual([10]);
      expect(client.knownSize(NAME, log.origin)).toBe(15);
    });

    it('submits one checkpoint of an origin at a time: the next starts from the size the last left', async () => {
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }] });
      const asked: number[] = [];
      const first = submission(log, asked);
      log.append(3);
      const second = submission(log, asked);
      const [a, b] = await Promise.all([client.submit(first), client.submit(second)]);
      expect([a.length, b.length]).toEqual([1, 1]);
      expect(asked).toEqual([10]);
    });

    it('rejects a cosignature that does not verify against the configured vkey', async () => {
      const { seen, logger } = warnings();
      // The witness's name, another key: what an impostor on the witness's address would sign with.
      const impostor = formatVerifierKey(noteSignerKey(NAME, COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: impostor }], logger });
      expect(await client.submit(submission(log))).toEqual([]);
      expect(seen).toHaveLength(1);
      expect(seen[0].msg).toMatch(/without a valid cosignature/);
      expect(client.knownSize(NAME, log.origin)).toBe(0);
    });

    it('fetches the witness’s latest cosigned checkpoint of an origin, its cosignature verified; null when it has none', async () => {
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }] });
      expect(await client.latestCheckpoint(NAME, log.origin)).toBeNull();
      const [cosigned] = await client.submit(submission(log));
      const latest = await client.latestCheckpoint(NAME, log.origin);
      expect(latest).toMatchObject({ witness: NAME, line: cosigned.line, timestamp: cosigned.timestamp });
      expect(latest!.checkpoint).toMatchObject({ origin: log.origin, size: 10, root: log.root() });
      const impostor = formatVerifierKey(noteSignerKey(NAME, COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
      const misled = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: impostor }] });
      await expect(misled.latestCheckpoint(NAME, log.origin)).rejects.toMatchObject({ code: 'WITNESS_BAD_COSIGNATURE' });
    });
  });

  describe('when a witness is down, stalled or broken', () => {
    let stalled: TcpServer;
    let stalledUrl: string;
    const sockets: Socket[] = [];
    let forger: Server;
    let forgerUrl: string;

    beforeEach(async () => {
      // Accepts connections and never answers.
      stalled = createTcpServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
      stalledUrl = `http://127.0.0.1:${(stalled.address() as { port: number }).port}`;
      // Answers 200 with a line that looks like the witness's cosignature (its name and key id) but is not one.
      forger = createHttpServer((req, res) => {
        req.resume();
        req.on('end', async () => {
          const genuine = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body: log.body(0) }).then((r) => r.text());
          const bytes = Buffer.from(genuine.trimEnd().split(' ')[2], 'base64');
          bytes[20] ^= 1;
          res.end(`\u2014 ${NAME} ${bytes.toString('base64')}\n`);
        });
      });
      await new Promise<void>((resolve) => forger.listen(0, '127.0.0.1', resolve));
      forgerUrl = `http://127.0.0.1:${(forger.address() as { port: number }).port}`;
    });
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise((resolve) => stalled.close(resolve));
      forger.closeAllConnections();
      await new Promise((resolve) => forger.close(resolve));
    });

    it('resolves with the others’ cosignatures, within the timeout, never rejecting, one throttled warning each without a stack', async () => {
      const { seen, logger } = warnings();
      const down = `http://127.0.0.1:${await closedPort()}`;
      const names = ['witness.down.example', 'witness.stalled.example'];
      const keyOf = (name: string) => formatVerifierKey(noteSignerKey(name, COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
      const client = createWitnessClient({
        witnesses: [
          { name: NAME, url: witness.url, vkey: witness.vkey },
          { name: names[0], url: down, vkey: keyOf(names[0]) },
          { name: names[1], url: stalledUrl, vkey: keyOf(names[1]) },
        ],
        logger,
        timeoutMs: 300,
      });
      const started = Date.now();
      const cosigned = await client.submit(submission(log));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(cosigned.map((c) => c.witness)).toEqual([NAME]);
      log.append(1);
      expect((await client.submit(submission(log))).map((c) => c.witness)).toEqual([NAME]);
      // One line per witness for both submissions: the second is counted, not logged.
      expect(seen.map((w) => w.obj.witness).sort()).toEqual(names);
      for (const warning of seen) {
        expect(warning.msg).toMatch(/unreachable/);
        expect(warning.obj.reason).toEqual(expect.any(String));
        expect(JSON.stringify(warning.obj)).not.toMatch(/\n\s+at /);
      }
    });

    it('bounds the caller’s proof too, and never rejects when it fails', async () => {
      const { seen, logger } = warnings();
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }], logger, timeoutMs: 300 });
      expect(await client.submit(submission(log))).toHaveLength(1);
      log.append(2);
      const hanging = { ...submission(log), consistencyFrom: () => new Promise<Uint8Array[]>(() => {}) };
      const started = Date.now();
      expect(await client.submit(hanging)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1_500);
      const failing = {
        ...submission(log),
        consistencyFrom: () => {
          throw new Error('the leaves are pruned');
        },
      };
      expect(await client.submit(failing)).toEqual([]);
      expect(seen.length).toBeGreaterThan(0);
    });

    it('ignores a forged cosignature (the witness’s name and key id, a signature that does not verify)', async () => {
      const { seen, logger } = warnings();
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: forgerUrl, vkey: witness.vkey }], logger });
      expect(await client.submit(submission(log))).toEqual([]);
      expect(seen[0].msg).toMatch(/without a valid cosignature/);
    });

    it('fails a checkpoint fetch from a witness that is down with WITNESS_UNREACHABLE', async () => {
      const client = createWitnessClient({ witnesses: [{ name: NAME, url: stalledUrl, vkey: witness.vkey }], timeoutMs: 200 });
      const error = await client.latestCheckpoint(NAME, log.origin).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WitnessResponseError);
      expect(error).toMatchObject({ code: 'WITNESS_UNREACHABLE' });
    });
  });
});

describe('witness client with the audit writer', () => {
  it('gets each checkpoint of a chain cosigned: the first from size 0, the next with the writer’s consistency proof', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kuasheng-witness-writer-'));
    folders.push(dataDir);
    // The gateway's real key set, as npm start gives it to the demo witness.
    const { jwks } = await ensureGatewayKeys(dataDir);
    const witness = await startWitnessServer({
      name: NAME,
      dataDir: join(dataDir, 'witness'),
      logJwksFile: jwks,
      originPrefix: 'kuasheng.gov.cn/audit/',
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logger: createLogger({ name: 'witness', level: 'silent' }),
    });
    const store = await openAuditStore({ file: join(dataDir, 'audit.db') });
    const { seen, logger } = warnings();
    const client = createWitnessClient({ witnesses: [{ name: NAME, url: witness.url, vkey: witness.vkey }], logger });
    const writer = await createAuditWriter({
      store,
      chainId: 'gateway-w',
      signing: await loadGatewaySigningKey(dataDir),
      checkpointIntervalMs: 3_600_000,
      witnessing: client,
    });
    try {
      for (let i = 1; i <= 5; i++) await writer.append(requestEntry(i));
      await writer.checkpoint();
      for (let i = 6; i <= 12; i++) await writer.append(requestEntry(i));
      await writer.checkpoint();
      await writer.close();
      expect(seen).toEqual([]);
      expect(witness.store.history(auditLogOrigin('gateway-w')).map((c) => c.size)).toEqual([12, 5]);
      const cosigned = await store.latestCosigned('gateway-w');
      expect(cosigned?.checkpoint.seq).toBe(12);
      expect(cosigned?.cosignatures.map((c) => c.witness)).toEqual([NAME]);
    } finally {
      await writer.close();
      await store.close();
      await witness.stop();
    }
  });
});

describe('AUDIT_WITNESSES', () => {
  const vkey = formatVerifierKey(noteSignerKey(NAME, COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));
  const other = formatVerifierKey(noteSignerKey('witness.sichuan.example', COSIGNATURE_V1, generateKeyPairSync('ed25519').privateKey));

  it('reads comma-separated "<url> <vkey>" pairs, the name from the vkey; unset is none', () => {
    const text = `http://127.0.0.1:4090 ${vkey}, https://witness.sichuan.example/w1/ ${other}`;
    const witnesses = loadGatewayConfig({ AUDIT_WITNESSES: text }).auditWitnesses;
    expect(witnesses).toEqual([
      { name: NAME, url: 'http://127.0.0.1:4090', vkey },
      { name: 'witness.sichuan.example', url: 'https://witness.sichuan.example/w1', vkey: other },
    ]);
    expect(parseWitnessList(formatWitnessList(witnesses))).toEqual(witnesses);
    expect(loadGatewayConfig({}).auditWitnesses).toEqual([]);
  });

  it('refuses a bad entry at start-up, naming the setting', () => {
    const logKey = formatVerifierKey(noteSignerKey(NAME, 0x01, generateKeyPairSync('ed25519').privateKey));
    for (const bad of [
      vkey,
      `http://127.0.0.1:4090 ${vkey.slice(0, -4)}`,
      `ftp://127.0.0.1 ${vkey}`,
      `http://127.0.0.1:4090 ${logKey}`,
      `http://127.0.0.1:4090 ${vkey},http://127.0.0.1:4091 ${vkey}`,
      `http://127.0.0.1:4090?x=1 ${vkey}`,
    ]) {
      expect(() => loadGatewayConfig({ AUDIT_WITNESSES: bad }), bad).toThrow(ConfigError);
      expect(() => loadGatewayConfig({ AUDIT_WITNESSES: bad })).toThrow(/AUDIT_WITNESSES/);
    }
  });
});
