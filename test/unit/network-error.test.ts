// What engine/net/network-error.ts calls a network failure, on errors that real sockets on loopback
// produce through node:http and undici's fetch (no mocked errors).
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { describeNetworkError, isTemporaryHttpStatus, networkFailure } from '../../src/main/engine/net/network-error.js';

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  s.close();
  await once(s, 'close');
  return port;
}

const rejection = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );

function httpGet(port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe('network failures', () => {
  it('recognises a refused connection from node:http and from fetch (code in the cause)', async () => {
    const port = await closedPort();
    const viaHttp = await rejection(httpGet(port));
    expect(networkFailure(viaHttp)).toEqual({ code: 'ECONNREFUSED', description: 'connection refused (ECONNREFUSED)' });
    const viaFetch = await rejection(fetch(`http://127.0.0.1:${port}/`));
    expect((viaFetch as Error).message).toBe('fetch failed');
    expect(networkFailure(viaFetch)).toEqual({ code: 'ECONNREFUSED', description: 'connection refused (ECONNREFUSED)' });
    expect(describeNetworkError(viaFetch)).toBe('connection refused (ECONNREFUSED)');
  });

  it('recognises a server that closes the connection without answering (socket hang up)', async () => {
    const server = createServer((req) => req.socket.destroy());
    servers.push(server);
    const port = await listen(server);
    const viaHttp = await rejection(httpGet(port));
    expect((viaHttp as Error).message).toBe('socket hang up');
    expect(networkFailure(viaHttp)).toMatchObject({ code: 'ECONNRESET' });
    const viaFetch = await rejection(fetch(`http://127.0.0.1:${port}/`));
    expect(networkFailure(viaFetch)?.description).toMatch(/closed|reset|other side/);
  });

  it('recognises a timeout, and leaves a cancel and other errors alone', async () => {
    const server = createServer(() => undefined); // accepts and never answers
    servers.push(server);
    const port = await listen(server);
    const slow = await rejection(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(100) }));
    expect(networkFailure(slow)).toEqual({ code: undefined, description: 'no answer in time' });
    const cancel = new AbortController();
    const cancelled = fetch(`http://127.0.0.1:${port}/`, { signal: cancel.signal });
    cancel.abort();
    expect(networkFailure(await rejection(cancelled))).toBeNull();
    expect(networkFailure(new Error('ENOENT: no such file or directory'))).toBeNull();
    expect(networkFailure(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBeNull();
    expect(networkFailure('a string')).toBeNull();
    expect(describeNetworkError(new Error('Unexpected token < in JSON'))).toBe('Unexpected token < in JSON');
  });

  it('counts 5xx, 408 and 429 as answers worth trying again, and nothing else', () => {
    expect([500, 502, 503, 504, 507, 408, 429].map(isTemporaryHttpStatus)).toEqual(Array(7).fill(true));
    expect([200, 400, 401, 403, 404, 409, 412, 413].map(isTemporaryHttpStatus)).toEqual(Array(8).fill(false));
  });
});
