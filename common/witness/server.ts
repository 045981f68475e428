/**
 * The witness's HTTP service: C2SP tlog-witness `POST /add-checkpoint`,
 * and a read extension for monitors and verifiers (not part of the
 * protocol): `GET /checkpoints`, every log's latest cosigned checkpoint,
 * and `GET /checkpoint?origin=<origin>`, one log's.
 *
 * Nothing a request carries can stop it: bodies are bounded
 * ({@link MAX_BODY_BYTES}), every failure is answered (plain text, the
 * protocol's statuses; 500 with the cause in the log only), and the
 * client's timeouts are the gateway's settings.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { close, listen } from '../http/server.js';
import { parseRequestTarget } from '../http/request-target.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from '../settings.js';
import { createCheckpointWitness, SizeMismatch, TLOG_SIZE_TYPE } from './add-checkpoint.js';
import { WITNESS_REFUSALS, WitnessRefusal } from './errors.js';
import { ensureWitnessKey } from './key.js';
import { openWitnessStore, type CosignedCheckpoint, type WitnessStore } from './store.js';
import { createTrustedLogs } from './trusted-logs.js';

/** The largest request body read: an add-checkpoint request is a few hundred bytes (63 proof lines and 16 signatures fit easily). */
export const MAX_BODY_BYTES = 64 * 1024;

/** How often a key set that cannot be re-read is reported, at most. */
const RELOAD_WARNING_INTERVAL_MS = 60_000;

export interface WitnessServerOptions {
  /** The witness's name: the key name of its cosignatures. */
  name: string;
  /** Its folder: `witness.db`, `witness.key` (created on first start), `witness.vkey`. */
  dataDir: string;
  /** The JWKS file of the logs' public keys. */
  logJwksFile: string;
  /** The origins it witnesses start with this. */
  originPrefix: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Default {@link DEFAULT_HTTP_TIMEOUTS}. */
  httpTimeouts?: HttpTimeouts;
  /** How long `stop` lets requests in flight finish. Default 10 s. */
  shutdownGraceMs?: number;
  logger: Logger;
  /** Milliseconds since 1970, for the cosignatures' timestamps; default Date.now. */
  now?: () => number;
}

export interface RunningWitness {
  /** Its base URL (the submission and monitoring prefix), e.g. `http://127.0.0.1:4090`. */
  url: string;
  /** Its verifier key, as in `witness.vkey`. */
  vkey: string;
  store: WitnessStore;
  /** Stops taking requests, lets those in flight finish, closes the state file. */
  stop(): Promise<void>;
}

/** The JSON shape of a cosigned checkpoint in the read extension. */
export interface CosignedCheckpointJson {
  origin: string;
  size: number;
  /** Base64 root hash. */
  root: string;
  /** The cosignature's time, POSIX seconds. */
  timestamp: number;
  /** The whole note: checkpoint text, the log's signature lines, the witness's cosignature line. */
  note: string;
}

function checkpointJson(checkpoint: CosignedCheckpoint): CosignedCheckpointJson {
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    root: Buffer.from(checkpoint.root).toString('base64'),
    timestamp: checkpoint.cosignedAt,
    note: checkpoint.note,
  };
}

const TEXT = 'text/plain; charset=utf-8';

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}

class BodyTooLarge extends Error {}

/** Reads a body of at most `limit` bytes; rejects with BodyTooLarge beyond, or when the client goes away. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => reject(new Error('the client closed the connection before the request ended')));
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Starts a witness: opens (or creates) its state and key, and listens. */
export async function startWitnessServer(options: WitnessServerOptions): Promise<RunningWitness> {
  const { logger } = options;
  const timeouts = options.httpTimeouts ?? DEFAULT_HTTP_TIMEOUTS;
  const key = ensureWitnessKey(options.dataDir, options.name);
  let reloadWarnedAt = Number.NEGATIVE_INFINITY;
  const trustedLogs = createTrustedLogs({
    originPrefix: options.originPrefix,
    jwksFile: options.logJwksFile,
    onReloadFailure: (error) => {
      if (Date.now() - reloadWarnedAt < RELOAD_WARNING_INTERVAL_MS) return;
      reloadWarnedAt = Date.now();
      logger.warn({ file: options.logJwksFile, reason: error.message }, 'the logs’ key set cannot be re-read: the last one read stays in use');
    },
  });
  const store = openWitnessStore(join(options.dataDir, 'witness.db'));
  const witness = createCheckpointWitness({ store, signer: key.signer, trustedLogs, logger, now: options.now });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseRequestTarget(req.url);
    const route = target?.pathname;
    if (route === '/add-checkpoint') {
      if (req.method !== 'POST') return refuse(res, new WitnessRefusal('METHOD_NOT_ALLOWED', 'add-checkpoint takes POST'), { allow: 'POST' });
      let body: string;
      try {
        body = strictUtf8.decode(await readBody(req, MAX_BODY_BYTES));
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          return refuse(res, new WitnessRefusal('REQUEST_TOO_LARGE', `the body exceeds ${MAX_BODY_BYTES} bytes`));
        }
        if (error instanceof TypeError) return refuse(res, new WitnessRefusal('MALFORMED_REQUEST', 'the body is not UTF-8'));
        return void res.destroy(); // the client is gone
      }
      const cosigned = witness.addCheckpoint(body);
      return send(res, 200, TEXT, `${cosigned.cosignature}\n`);
    }
    if (route === '/checkpoints' || route === '/checkpoint') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return refuse(res, new WitnessRefusal('METHOD_NOT_ALLOWED', `${route.slice(1)} takes GET`), { allow: 'GET, HEAD' });
      if (route === '/checkpoints') {
        return send(
          res,
          200,
          'application/json; charset=utf-8',
          JSON.stringify({ witness: options.name, checkpoints: store.all().map(checkpointJson) }),
        );
      }
      const origin = new URLSearchParams(target!.search).get('origin');
      if (!origin) return refuse(res, new WitnessRefusal('MALFORMED_REQUEST', 'checkpoint takes ?origin=<origin>'));
      const latest = store.latest(origin);
      if (!latest) return refuse(res, new WitnessRefusal('NOT_FOUND', 'no checkpoint of this origin has been cosigned'));
      return send(res, 200, TEXT, latest.note);
    }
    return refuse(res, new WitnessRefusal('NOT_FOUND', 'the witness serves /add-checkpoint, /checkpoints and /checkpoint?origin='));
  }

  function refuse(res: ServerResponse, refusal: WitnessRefusal, headers: Record<string, string> = {}): void {
    if (refusal instanceof SizeMismatch) send(res, refusal.status, TLOG_SIZE_TYPE, `${refusal.latestSize}\n`, headers);
    else send(res, refusal.status, TEXT, `${refusal.message}\n`, headers);
  }

  const http: Server = createServer({ headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      try {
        if (error instanceof WitnessRefusal) {
          if (error.status >= 500) logger.error({ err: error }, 'witness request failed');
          else req.resume(); // what is left of the body is read and dropped: the connection can be reused
          if (!res.headersSent) refuse(res, error);
          return;
        }
        logger.error({ err: error }, 'witness request failed');
        if (!res.headersSent) send(res, WITNESS_REFUSALS.INTERNAL_ERROR, TEXT, 'internal error\n');
        else res.destroy();
      } catch {
        res.destroy();
      }
    });
  });
  http.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  let port: number;
  try {
    port = await listen(http, options.port, options.host);
  } catch (error) {
    store.close();
    throw error;
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    vkey: key.vkey,
    store,
    stop: () =>
      (stopped ??= (async () => {
        await close(http, options.shutdownGraceMs ?? 10_000);
        store.close();
      })()),
  };
}
