// Worker thread that hashes with hash-wasm, so SHA-256 never runs on the event loop. Streams are
// identified by id; every update is acknowledged so the sender can bound the bytes in flight.
// No relative imports: this file is loaded as .ts (tests, Node type stripping) and as .js (dist).
import { parentPort } from 'node:worker_threads';
import { createSHA256, createCRC32 } from 'hash-wasm';

type Hasher = Awaited<ReturnType<typeof createSHA256>>;

type Request =
  | { op: 'init'; id: number }
  | { op: 'update'; id: number; data: Uint8Array }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number }
  | { op: 'checksum'; id: number; algorithm: 'sha256' | 'crc32c'; data: Uint8Array };

const streams = new Map<number, Hasher>();
const port = parentPort;
if (!port) throw new Error('hash-worker must run in a worker thread');

let queue: Promise<void> = Promise.resolve();

port.on('message', (msg: Request) => {
  // Messages are handled strictly in order: init is async, updates must not overtake it.
  queue = queue.then(() => handle(msg)).catch((e: unknown) => {
    port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  });
});

async function handle(msg: Request): Promise<void> {
  switch (msg.op) {
    case 'init': {
      const h = await createSHA256();
      h.init();
      streams.set(msg.id, h);
      return;
    }
    case 'update': {
      streamOf(msg.id).update(msg.data);
      port!.postMessage({ id: msg.id, ack: msg.data.byteLength });
      return;
    }
    case 'digest': {
      const hex = streamOf(msg.id).digest('hex');
      streams.delete(msg.id);
      port!.postMessage({ id: msg.id, hex });
      return;
    }
    case 'drop':
      streams.delete(msg.id);
      return;
    case 'checksum': {
      const h = msg.algorithm === 'sha256' ? await createSHA256() : await createCRC32(0x82f63b78);
      h.init();
      h.update(msg.data);
      const bytes = h.digest('binary');
      port!.postMessage({ id: msg.id, base64: Buffer.from(bytes).toString('base64') });
      return;
    }
  }
}

function streamOf(id: number): Hasher {
  const h = streams.get(id);
  if (!h) throw new Error(`no hash stream ${id}`);
  return h;
}
