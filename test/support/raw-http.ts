import { connect } from 'node:net';

/** What came back on a raw connection. */
export interface RawReply {
  /** The status of the first response, or null when none came (the connection closed or timed out silently). */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** The status of every response on the connection, in order (pipelined requests get several). */
  statuses: number[];
  /** Everything the server sent, as latin1 text. */
  raw: string;
  /** Whether the server closed the connection (rather than the wait running out). */
  closedByServer: boolean;
  elapsedMs: number;
}

export interface RawRequestOptions {
  /** Bytes sent once connected; more can follow with `trickle`. */
  send: string | Buffer;
  /** Further pieces, each after its delay (ms from the previous piece): a slow client. */
  trickle?: { afterMs: number; bytes: string | Buffer }[];
  /** Give up (and close) after this long. Default 10 s. */
  waitMs?: number;
  /** Stop reading at the end of the first complete response instead of waiting for the close. Default true. */
  firstResponseOnly?: boolean;
}

function parseReply(raw: Buffer): Pick<RawReply, 'status' | 'headers' | 'body'> & { complete: boolean } {
  const text = raw.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return { status: null, headers: {}, body: '', complete: false };
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyBytes = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  const complete = length !== null && bodyBytes.length >= length;
  return { status: status ? Number(status[1]) : null, headers, body: bodyBytes.subarray(0, length ?? bodyBytes.length).toString('utf8'), complete };
}

/**
 * Sends bytes over a plain TCP connection, exactly as given — nothing
 * normalises the request line, the headers or the body as an HTTP client
 * would — and reads what comes back.
 */
export function rawRequest(port: number, options: RawRequestOptions): Promise<RawReply> {
  const waitMs = options.waitMs ?? 10_000;
  const firstOnly = options.firstResponseOnly ?? true;
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      const { complete: _complete, ...reply } = parseReply(raw);
      const text = raw.toString('latin1');
      const statuses = [...text.matchAll(/(?:^|\r\n|\})HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ ...reply, statuses, raw: text, closedByServer, elapsedMs: performance.now() - started });
    };
    socket.on('connect', () => {
      socket.write(options.send);
      let at = 0;
      for (const piece of options.trickle ?? []) {
        at += piece.afterMs;
        timers.push(setTimeout(() => socket.writable && socket.write(piece.bytes), at));
      }
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (firstOnly && parseReply(Buffer.concat(chunks)).complete) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    timers.push(setTimeout(() => finish(false), waitMs));
  });
}

/** A GET of `target` with nothing else: no token, no body. */
export function bareGet(target: string): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
}

/** A POST of a JSON body to `target`, with optional extra header lines. */
export function barePost(target: string, body: string, headers: string[] = []): string {
  return [
    `POST ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...headers,
    '',
    body,
  ].join('\r\n');
}
