// A recording TCP forwarder between the beamdrop process and one server (S3, WebDAV, SciCat,
// the STOMP broker): it passes every byte unchanged and keeps a timeline of the requests it saw
// (HTTP request lines, STOMP client frames) and when each was answered. After a SIGKILL the
// campaign asks which requests were in flight at the moment of the kill — a record made outside
// the killed process, so the phase a kill hit is read after the fact, not guessed.
import net from 'node:net';

export type TapProtocol = 'http' | 'stomp';

export interface TapRecord {
  /** e.g. "PUT /bucket/key?partNumber=2&uploadId=…" or "SEND /queue/x" */
  line: string;
  at: number;
  /** when the answer (status line, RECEIPT/CONNECTED) came, or the connection closed */
  end: number | null;
  status: number | null;
}

export interface RequestTap {
  readonly port: number;
  /** http://127.0.0.1:PORT (or stomp://… for a broker) */
  readonly url: string;
  readonly records: TapRecord[];
  /** Requests sent before `at` and not answered by then. */
  inFlightAt(at: number): TapRecord[];
  /** Forgets records that ended before `at` (the campaign keeps only the current round's). */
  forget(before: number): void;
  close(): Promise<void>;
}

const HTTP_REQUEST = /(GET|PUT|POST|HEAD|DELETE|PROPFIND|PROPPATCH|MKCOL|MOVE|COPY|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/g;
const HTTP_STATUS = /HTTP\/1\.[01] (\d{3}) /g;
const STOMP_CLIENT = /(?:^|\0|\n)(CONNECT|STOMP|SEND|SUBSCRIBE|DISCONNECT)\n(?:[^\0]*?destination:([^\n]*)\n)?/g;
const STOMP_SERVER = /(?:^|\0|\n)(CONNECTED|RECEIPT|ERROR)\n/g;
/** Bytes of the previous chunk kept, so a request line split between two reads is still seen. */
const CARRY = 512;

/** Finds matches in `carry + chunk` that end inside the new chunk. */
function scanner(re: RegExp, onMatch: (m: RegExpExecArray) => void): (chunk: Buffer) => void {
  let carry = '';
  return (chunk) => {
    const s = carry + chunk.toString('latin1');
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m.index + m[0].length > carry.length) onMatch(m);
      if (m[0].length === 0) re.lastIndex++;
    }
    carry = s.slice(-CARRY);
  };
}

export async function startRequestTap(upstream: { host: string; port: number }, protocol: TapProtocol): Promise<RequestTap> {
  const records: TapRecord[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const up = net.connect({ host: upstream.host, port: upstream.port });
    sockets.add(up);
    // Requests of this connection waiting for their answer, oldest first (HTTP/1.1 answers in order).
    const waiting: TapRecord[] = [];
    const opened = (line: string) => {
      const r: TapRecord = { line, at: Date.now(), end: null, status: null };
      records.push(r);
      waiting.push(r);
    };
    const answered = (status: number | null) => {
      const r = waiting.shift();
      if (r) {
        r.end = Date.now();
        r.status = status;
      }
    };
    const closeAll = () => {
      const now = Date.now();
      for (const r of waiting.splice(0)) r.end = now;
    };
    const upScan =
      protocol === 'http'
        ? scanner(HTTP_REQUEST, (m) => opened(`${m[1]} ${m[2]}`))
        : scanner(STOMP_CLIENT, (m) => {
            // SUBSCRIBE is never answered; the others are (CONNECTED, RECEIPT).
            if (m[1] !== 'SUBSCRIBE') opened(`${m[1]}${m[2] ? ` ${m[2]}` : ''}`);
          });
    const downScan =
      protocol === 'http'
        ? scanner(HTTP_STATUS, (m) => {
            const status = Number(m[1]);
            if (status >= 200) answered(status); // 100 Continue is not the answer
          })
        : scanner(STOMP_SERVER, (m) => answered(m[1] === 'ERROR' ? 500 : 200));
    client.on('data', upScan);
    up.on('data', downScan);
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      up.destroy();
      closeAll();
    });
    up.on('close', () => {
      sockets.delete(up);
      if (!client.destroyed) client.end();
      closeAll();
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('request tap: no port');
  return {
    port: addr.port,
    url: `${protocol === 'http' ? 'http' : 'stomp'}://127.0.0.1:${addr.port}`,
    records,
    inFlightAt: (at) => records.filter((r) => r.at <= at && (r.end === null || r.end > at)),
    forget: (before) => {
      const keep = records.filter((r) => r.end === null || r.end >= before);
      records.splice(0, records.length, ...keep);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
