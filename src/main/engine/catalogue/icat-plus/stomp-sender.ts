// Sends ICAT+ messages to the broker over STOMP (@stomp/stompjs on a Node TCP socket from
// @stomp/tcp-wrapper, or TLS for stomp+ssl://). A message counts as sent only when the broker's
// RECEIPT for it arrives: before that, the caller keeps it buffered. Frames go like pyicat-plus's
// (persistent, no content-length), so ActiveMQ hands the ingester a TextMessage, as from BLISS.
import { randomUUID } from 'node:crypto';
import tls from 'node:tls';
import { Client } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import { describeNetworkError } from '../../net/network-error.js';
import { CatalogueError } from '../catalogue-adapter.js';

export interface BrokerTarget {
  /** stomp://host:port or stomp+ssl://host:port */
  url: string;
  queue: string;
  username?: string;
  password?: string;
}

export interface BrokerConnection {
  /** Resolves once the broker confirmed the message with a RECEIPT. */
  send(body: string): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function parseBrokerUrl(url: string): { host: string; port: number; tls: boolean } {
  const m = /^stomp(\+ssl)?:\/\/([^/:\s]+)(?::(\d+))?\/?$/.exec(url);
  if (m === null)
    throw new CatalogueError({
      problem: 'rejected',
      field: 'catalogue.url',
      message: `the ICAT+ broker URL "${url}" is not stomp://HOST:PORT; correct catalogue.url in the facility profile.`,
    });
  return { host: m[2] as string, port: m[3] === undefined ? 61613 : Number(m[3]), tls: m[1] !== undefined };
}

/** TCPWrapper lets subclasses choose the socket: this one speaks TLS. */
class TlsWrapper extends TCPWrapper {
  protected override getSocket(port: number, host: string) {
    return tls.connect({ port, host, servername: host });
  }
}

const AUTH = /password|credential|user ?name|authenticat|not authori[sz]ed|login/i;

/** Connects, runs `work` with a sender, and always disconnects. Errors are CatalogueErrors. */
export async function withBroker<T>(
  target: BrokerTarget,
  work: (c: BrokerConnection) => Promise<T>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const { host, port, tls: secure } = parseBrokerUrl(target.url);
  const where = `the ICAT+ broker at ${target.url}`;
  const unreachable = (why: string, cause?: unknown): CatalogueError =>
    new CatalogueError(
      {
        problem: 'retryable',
        reason: why,
        message: `cannot reach ${where} (${why}); the message stays in the buffer folder and is sent when the broker is back (\`beamdrop catalogue resend\`).`,
      },
      { cause },
    );
  let failure: CatalogueError | undefined;
  let onFailure: ((e: CatalogueError) => void) | undefined;
  const fail = (e: CatalogueError): void => {
    failure ??= e;
    onFailure?.(failure);
  };

  const client = new Client({
    webSocketFactory: () => (secure ? new TlsWrapper(host, port) : new TCPWrapper(host, port)),
    connectHeaders: {
      host,
      ...(target.username === undefined ? {} : { login: target.username }),
      ...(target.password === undefined ? {} : { passcode: target.password }),
    },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    // Our own timeout (guarded, below) bounds the wait for CONNECTED. stompjs' watcher is cleared
    // only by a CONNECTED, so after a broker that took the CONNECT and hung up it kept the
    // process alive for the whole timeout.
    connectionTimeout: 0,
    debug: () => undefined,
  });
  let socketError = '';
  client.onWebSocketError = (ev: { message?: unknown }) => {
    const m = ev?.message;
    socketError = m instanceof Error ? describeNetworkError(m) : String(m ?? 'socket error');
  };
  client.onWebSocketClose = () => fail(unreachable(socketError || 'connection closed'));
  client.onStompError = (frame) => {
    const text = frame.headers.message ?? frame.body;
    fail(
      AUTH.test(text)
        ? new CatalogueError({
            problem: 'needs-login',
            reason: text,
            message: `${where} refused the sign-in (${text}); run \`beamdrop login\` with the broker's user name and password. Messages wait in the buffer folder.`,
          })
        : unreachable(`broker error: ${text}`),
    );
  };

  /** Waits for `p`, or for the connection to fail, or for the timeout. */
  const guarded = <V>(what: string, start: (resolve: (v: V) => void) => void): Promise<V> =>
    new Promise<V>((resolve, reject) => {
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const timer = setTimeout(() => reject(unreachable(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      onFailure = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      start((v) => {
        clearTimeout(timer);
        onFailure = undefined;
        resolve(v);
      });
    });

  try {
    await guarded<void>('answer to CONNECT', (resolve) => {
      client.onConnect = () => resolve();
      client.activate();
    });
    return await work({
      send: (body) =>
        guarded<void>('RECEIPT', (resolve) => {
          const receipt = randomUUID();
          client.watchForReceipt(receipt, () => resolve());
          client.publish({
            destination: target.queue,
            body,
            headers: { receipt, persistent: 'true' },
            skipContentLengthHeader: true,
          });
        }),
    });
  } finally {
    onFailure = undefined;
    client.onWebSocketClose = () => undefined;
    // A broker that vanished mid-session may never answer DISCONNECT: do not wait for it forever.
    await Promise.race([client.deactivate().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}
