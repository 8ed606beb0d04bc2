// A real TCP proxy on loopback that stands between the engine and a server (MinIO) and breaks
// connections on demand, for the fault tests. No mocks: the client opens real sockets to it, and
// it opens real sockets to the upstream. Modes:
//
//   pass                     forward bytes both ways
//   cut      {afterBytes, times?}
//                            a connection is reset (RST) once it has carried more than afterBytes
//                            towards the server; after `times` cuts (default: unlimited) the
//                            proxy passes again by itself
//   cut-matching {match, times?}
//                            reset a connection when bytes towards the server contain `match`
//                            (e.g. "?tagging" picks out one kind of S3 request by its request
//                            line), before forwarding them; after `times` cuts it passes again
//   refuse                   accept each connection and reset it at once
//   pass-then-refuse {afterTotalBytes}
//                            pass until more than afterTotalBytes went towards the server in total
//                            (counted from setMode), then drop every connection and refuse
//
// It is bounded: close() resets every live connection and stops listening, and a proxy nobody
// closed closes itself after maxLifetimeMs (the timer does not keep the process alive).
import net from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'cut'; afterBytes: number; times?: number }
  | { kind: 'cut-matching'; match: string; times?: number }
  | { kind: 'refuse' }
  | { kind: 'pass-then-refuse'; afterTotalBytes: number };

export interface ProxyStats {
  /** Connections accepted (including refused ones). */
  connections: number;
  /** Connections reset by a `cut` or `cut-matching` mode. */
  cuts: number;
  /** Connections reset at once (`refuse`, or after `pass-then-refuse` tripped). */
  refused: number;
  /** Live connections reset by setMode()/the budget of `pass-then-refuse`. */
  dropped: number;
  /** Bytes forwarded towards the server and back. */
  bytesUp: number;
  bytesDown: number;
}

export interface FlakyProxy {
  readonly host: string;
  readonly port: number;
  /** http://host:port, to use as an S3 endpoint. */
  readonly url: string;
  readonly stats: ProxyStats;
  mode(): ProxyMode;
  /** Changes the mode; by default every live connection is reset, so pooled keep-alive sockets feel it too. */
  setMode(mode: ProxyMode, opts?: { dropExisting?: boolean }): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes this connection carried towards the server. */
  up: number;
}

export async function startFlakyProxy(
  upstream: { host: string; port: number },
  opts: { mode?: ProxyMode; maxLifetimeMs?: number } = {},
): Promise<FlakyProxy> {
  const host = '127.0.0.1';
  let mode: ProxyMode = opts.mode ?? { kind: 'pass' };
  let cutsInMode = 0;
  let upInMode = 0;
  const pairs = new Set<Pair>();
  const stats: ProxyStats = { connections: 0, cuts: 0, refused: 0, dropped: 0, bytesUp: 0, bytesDown: 0 };
  let closed = false;

  const kill = (p: Pair): void => {
    pairs.delete(p);
    if (!p.client.destroyed) p.client.resetAndDestroy();
    p.upstream?.destroy();
  };

  const dropAll = (): void => {
    for (const p of [...pairs]) {
      stats.dropped++;
      kill(p);
    }
  };

  const setMode = (next: ProxyMode, o: { dropExisting?: boolean } = {}): void => {
    mode = next;
    cutsInMode = 0;
    upInMode = 0;
    if (o.dropExisting ?? true) dropAll();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    stats.connections++;
    client.on('error', () => undefined);
    if (closed || mode.kind === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: null, up: 0 };
    pairs.add(pair);
    const up = net.connect({ host: upstream.host, port: upstream.port });
    pair.upstream = up;
    up.on('error', () => kill(pair));
    client.on('close', () => kill(pair));
    up.on('close', () => {
      // The server closed its side: let the client see an orderly end once it has read everything.
      pairs.delete(pair);
      if (!client.destroyed) client.end();
    });

    client.on('data', (chunk: Buffer) => {
      pair.up += chunk.length;
      upInMode += chunk.length;
      const m = mode;
      if (m.kind === 'refuse') {
        stats.dropped++;
        kill(pair);
        return;
      }
      if (m.kind === 'cut' && pair.up > m.afterBytes && (m.times === undefined || cutsInMode < m.times)) {
        cutsInMode++;
        stats.cuts++;
        kill(pair);
        return;
      }
      if (m.kind === 'cut-matching' && (m.times === undefined || cutsInMode < m.times) && chunk.includes(m.match, 0, 'latin1')) {
        cutsInMode++;
        stats.cuts++;
        kill(pair);
        return;
      }
      if (m.kind === 'pass-then-refuse' && upInMode > m.afterTotalBytes) {
        mode = { kind: 'refuse' };
        dropAll();
        return;
      }
      stats.bytesUp += chunk.length;
      if (!up.write(chunk)) {
        client.pause();
        up.once('drain', () => client.resume());
      }
    });
    client.on('end', () => up.end());

    up.on('data', (chunk: Buffer) => {
      stats.bytesDown += chunk.length;
      if (!client.write(chunk)) {
        up.pause();
        client.once('drain', () => up.resume());
      }
    });
    up.once('connect', () => client.resume());
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('flaky proxy: no port');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      clearTimeout(lifetime);
      dropAll();
      server.close(() => resolve());
    });
    return closing;
  };
  const lifetime = setTimeout(
    () => {
      void close();
    },
    opts.maxLifetimeMs ?? 15 * 60_000,
  );
  lifetime.unref();

  return {
    host,
    port: addr.port,
    url: `http://${host}:${addr.port}`,
    stats,
    mode: () => mode,
    setMode,
    close,
  };
}
