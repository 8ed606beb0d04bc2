// Serves the built renderer on a loopback port with main's own app:// handler (serveAsset), so
// the page gets the same files and the same CSP header as in Electron.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { APP_ORIGIN, serveAsset } from '../../../src/main/app/app-protocol.js';

export interface RendererServer {
  origin: string;
  close(): Promise<void>;
}

export async function startRendererServer(dir: string): Promise<RendererServer> {
  const root = resolve(dir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    void serveAsset(root, `${APP_ORIGIN}${url.pathname}`, (f) => readFile(f)).then(
      async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers.entries()));
        res.end(Buffer.from(await r.arrayBuffer()));
      },
      (e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      },
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
