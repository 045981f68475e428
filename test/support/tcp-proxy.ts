import { createServer, type Server, Socket } from 'node:net';

/**
 * A real TCP proxy in front of a real service (PostgreSQL, a subgraph), to
 * put faults between a client and it without touching either:
 *
 * - `stop()`: every connection is destroyed and new ones are refused (as a
 *   database that went away); `start()` takes connections again.
 * - `freeze()`: bytes stop moving, both ways, but every socket stays open (a
 *   database or network that hangs). What was sent meanwhile is held, and
 *   delivered by `thaw()` — also to a side whose peer has gone, as bytes
 *   already in the network would be: a statement sent before its client gave
 *   up still reaches the database.
 * - `slow(ms)`: every chunk is delayed by `ms`, in order.
 * - `stopAfter(match)`: the next chunk from the client that `match` accepts is
 *   delivered, with what the client sends in the next 50 ms (the rest of its
 *   message), and then the proxy stops, no answer having come back (a
 *   database stopped mid-commit).
 */
export interface TcpProxy {
  /** `host:port` of the proxy. */
  readonly host: string;
  readonly port: number;
  stop(): void;
  start(): void;
  freeze(): void;
  thaw(): void;
  slow(delayMs: number): void;
  stopAfter(match: (chunk: Buffer) => boolean): Promise<void>;
  /** Closes the proxy and every connection. */
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  /** Chunks held while frozen, per direction. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** A side that ended (or closed) while frozen: the other is ended once what is held is delivered. */
  ended: { client: boolean; upstream: boolean };
  /** Tripped by `stopAfter`: nothing comes back any more. */
  mute: boolean;
}

/** Starts a proxy on a free port of 127.0.0.1, forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pipes = new Set<Pipe>();
  let stopped = false;
  let frozen = false;
  let delayMs = 0;
  let tripwire: { match: (chunk: Buffer) => boolean; tripped: () => void } | null = null;

  const destroyAll = () => {
    for (const pipe of pipes) {
      pipe.client.destroy();
      pipe.upstream.destroy();
    }
    pipes.clear();
  };

  const send = (to: Socket, chunk: Buffer) => {
    if (to.destroyed) return;
    if (delayMs > 0) setTimeout(() => to.destroyed || to.write(chunk), delayMs);
    else to.write(chunk);
  };

  const server: Server = createServer((client) => {
    if (stopped) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const pipe: Pipe = { client, upstream, held: { toUpstream: [], toClient: [] }, ended: { client: false, upstream: false }, mute: false };
    pipes.add(pipe);
    upstream.connect(target.port, target.host);
    client.on('data', (chunk: Buffer) => {
      if (tripwire?.match(chunk)) {
        const { tripped } = tripwire;
        tripwire = null;
        // Delivered with the rest of the message, and no answer let back; then the proxy stops.
        pipe.mute = true;
        upstream.write(chunk);
        setTimeout(() => {
          stopped = true;
          client.destroy();
          setTimeout(() => {
            destroyAll();
            tripped();
          }, 100);
        }, 50);
        return;
      }
      if (frozen) pipe.held.toUpstream.push(chunk);
      else send(upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pipe.mute) return;
      if (frozen) pipe.held.toClient.push(chunk);
      else send(client, chunk);
    });
    const ended = (side: 'client' | 'upstream') => () => {
      if (frozen) {
        pipe.ended[side] = true;
        return;
      }
      pipes.delete(pipe);
      const other = side === 'client' ? upstream : client;
      if (delayMs > 0) setTimeout(() => other.end(), delayMs);
      else other.end();
    };
    client.on('close', ended('client'));
    upstream.on('close', ended('upstream'));
    client.on('error', () => {});
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    host: '127.0.0.1',
    port,
    stop() {
      stopped = true;
      destroyAll();
    },
    start() {
      stopped = false;
    },
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const pipe of [...pipes]) {
        for (const chunk of pipe.held.toUpstream.splice(0)) pipe.upstream.destroyed || pipe.upstream.write(chunk);
        for (const chunk of pipe.held.toClient.splice(0)) pipe.client.destroyed || pipe.client.write(chunk);
        if (pipe.ended.client) pipe.upstream.end();
        if (pipe.ended.upstream) pipe.client.end();
        if (pipe.ended.client || pipe.ended.upstream) pipes.delete(pipe);
      }
    },
    slow(ms) {
      delayMs = ms;
    },
    stopAfter(match) {
      return new Promise<void>((resolve) => {
        tripwire = { match, tripped: resolve };
      });
    },
    async close() {
      stopped = true;
      frozen = false;
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
