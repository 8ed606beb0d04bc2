// A real TCP proxy on loopback for the orphan tests: it forwards bytes both ways, except on a
// connection whose request matches, where it holds either the request (never sent to the
// server) or the server's answer (the server acted, the client never hears of it). Holding the
// answer to CreateMultipartUpload is a process that dies between Create and journaling the
// upload id, made exact: the upload exists on the server and the client cannot know its id.
import net from 'node:net';

export type Hold = 'none' | 'request' | 'answer';

export interface HoldingProxy {
  readonly url: string;
  /** Requests that matched (whether held or not). */
  readonly matched: number;
  /** Whether a matching request is being held now. */
  readonly holding: boolean;
  /** What the next matching request gets; `match` is looked for in the bytes towards the server. */
  setHold(hold: Hold, match?: { method: string; contains: string }): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(upstream: { host: string; port: number }): Promise<HoldingProxy> {
  let hold: Hold = 'none';
  let match = { method: 'POST', contains: '?uploads' };
  let matched = 0;
  let holding = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const up = net.connect(upstream);
    sockets.add(client);
    sockets.add(up);
    let held: Hold = 'none';
    const end = () => {
      if (held !== 'none') holding--;
      held = 'none';
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on('error', end);
    up.on('error', end);
    client.on('close', end);
    up.on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (held === 'request') return;
      const text = chunk.toString('latin1');
      if (text.startsWith(`${match.method} `) && text.split('\r\n', 1)[0]!.includes(match.contains)) {
        matched++;
        if (hold !== 'none') {
          held = hold;
          holding++;
          if (held === 'request') return;
        }
      }
      up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => {
      if (held !== 'answer') client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get matched() {
      return matched;
    },
    get holding() {
      return holding > 0;
    },
    setHold(next, m) {
      hold = next;
      if (m) match = m;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
