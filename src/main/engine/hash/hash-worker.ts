// Worker thread that hashes with hash-wasm, so SHA-256 never runs on the event loop. Streams are
// identified by id; every update is acknowledged so the sender can bound the bytes in flight. An
// update with a `reply` id is a lent buffer: it is sent back (moved, not copied) once hashed, with
// the CRC32C of its bytes (an S3 part) if asked, computed in the same pass.
// No relative imports: this file is loaded as .ts (tests, Node type stripping) and as .js (dist).
import { parentPort } from 'node:worker_threads';
import { createSHA256, createCRC32 } from 'hash-wasm';

type Hasher = Awaited<ReturnType<typeof createSHA256>>;

type Request =
  | { op: 'update'; id: number; data: Uint8Array; reply?: number; crc32c?: boolean }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number }
  | { op: 'checksum'; id: number; algorithm: 'sha256' | 'crc32c'; data: Uint8Array };

/** Slice size for hashing one buffer with two algorithms (fits in L2). */
const SLICE = 256 * 1024;

const streams = new Map<number, Hasher>();
const port = parentPort;
if (!port) throw new Error('hash-worker must run in a worker thread');

let queue: Promise<void> = Promise.resolve();
let crc32c: Hasher | null = null;

port.on('message', (msg: Request) => {
  // Messages are handled strictly in order: creating a stream is async, later updates must not overtake it.
  queue = queue
    .then(() => handle(msg))
    .catch((e: unknown) => {
      const id = msg.op === 'update' && msg.reply !== undefined ? msg.reply : msg.id;
      port.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
    });
});

async function handle(msg: Request): Promise<void> {
  switch (msg.op) {
    case 'update': {
      const sha = await streamOf(msg.id);
      const bytes = msg.data.byteLength;
      if (!msg.crc32c) {
        sha.update(msg.data);
      } else {
        // One hasher serves every part: the worker handles one message at a time.
        crc32c ??= await createCRC32(0x82f63b78);
        crc32c.init();
        // Both hashers walk the buffer in slices that stay in the CPU cache.
        for (let at = 0; at < bytes; at += SLICE) {
          const slice = msg.data.subarray(at, at + SLICE);
          sha.update(slice);
          crc32c.update(slice);
        }
      }
      if (msg.reply !== undefined) {
        const base64 = msg.crc32c ? Buffer.from(crc32c!.digest('binary')).toString('base64') : undefined;
        port!.postMessage({ id: msg.reply, data: msg.data, base64 }, [msg.data.buffer as ArrayBuffer]);
      }
      port!.postMessage({ id: msg.id, ack: bytes });
      return;
    }
    case 'digest': {
      const hex = (await streamOf(msg.id)).digest('hex');
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

/** A stream starts with its first message (one message less per small file than an explicit init). */
async function streamOf(id: number): Promise<Hasher> {
  let h = streams.get(id);
  if (!h) {
    h = await createSHA256();
    h.init();
    streams.set(id, h);
  }
  return h;
}
