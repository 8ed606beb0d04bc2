// The HTTP plumbing the catalogue contract servers share (SciCat, ICAT): a node:http server on a
// loopback port that a test can take down and bring back on the same port with its state kept,
// request bodies read as JSON or form fields, and a log of every request for assertions.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** Path as sent (still URL-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  status: number;
}

export interface ContractResponse {
  status: number;
  body?: unknown;
}

export type ContractHandler = (req: IncomingMessage, url: URL, body: string) => ContractResponse | Promise<ContractResponse>;

export interface ContractHttpServer {
  port: number;
  /** http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  requests: LoggedRequest[];
  /** Whether the server is down (stop() was called and not yet restart()). */
  readonly down: boolean;
  /** Take the server off the network: close the listener and every open connection. */
  stop(): Promise<void>;
  /** Listen again on the same port, with the same state. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY = 512 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: ContractResponse): void {
  if (r.body === undefined) {
    res.writeHead(r.status).end();
    return;
  }
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res
    .writeHead(r.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

export async function startContractHttp(name: string, handler: ContractHandler, port = 0): Promise<ContractHttpServer> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let down = false;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    void (async () => {
      let out: ContractResponse;
      try {
        const body = await readBody(req);
        out = await handler(req, url, body);
      } catch (err) {
        // A bug in the contract server must show up as a 500 with its reason, not as a hang.
        out = {
          status: 500,
          body: { statusCode: 500, message: `${name} contract server error: ${(err as Error).stack ?? String(err)}` },
        };
      }
      requests.push({ method: req.method ?? 'GET', path: rawPath, query: url.searchParams, status: out.status });
      send(res, out);
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const bound = await listen(port);
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    requests,
    get down() {
      return down;
    },
    stop: async () => {
      down = true;
      await close();
    },
    restart: async () => {
      await close();
      await listen(bound);
      down = false;
    },
    close,
  };
}

/** application/x-www-form-urlencoded fields of a body. */
export function formFields(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

/** JSON.parse that reports failure as undefined instead of throwing. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
