import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real service (Redis, PostgreSQL, a subgraph), on
 * a fixed port of its own, that a test can take down in the two ways an
 * outage looks to a client: `stop()` refuses new connections and drops the
 * open ones (the service is down), `freeze()` keeps every connection open and
 * relays nothing (the service hangs). `restore()` ends either.
 */
export interface TcpProxy {
  port: number;
  /** `http://127.0.0.1:<port>/graphql`, `redis://127.0.0.1:<port>`, …: the proxy's address in the form of `target`'s. */
  url(scheme: string, path?: string): string;
  stop(): Promise<void>;
  freeze(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  const drop = () => {
    for (const socket of sockets) socket.destroy();
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      drop();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (scheme, path = '') => `${scheme}://127.0.0.1:${port}${path}`,
    stop,
    freeze() {
      frozen = true;
    },
    async restore() {
      if (frozen) {
        // What was sent meanwhile is lost: the connections that hung are dropped, as a client would time them out anyway.
        frozen = false;
        drop();
      }
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}
