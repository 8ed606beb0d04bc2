// A small pool of hash workers. A Sha256Stream lives on one worker (SHA-256 is sequential); bytes
// are either copied to it (update) or lent to it and handed back (lend: no copy), and the worker
// can return the CRC32C of an S3 part over the very bytes it hashes (one pass, no second copy).
// One-shot checksums of small buffers go to the least loaded worker.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);

/** Bytes a stream may have queued at its worker before update() waits. */
const HIGH_WATER = 32 * 1024 * 1024;

type Reply = { id: number; ack?: number; hex?: string; base64?: string; data?: Uint8Array; error?: string };

class PooledWorker {
  readonly worker: Worker;
  load = 0;
  private readonly waiters = new Map<number, (r: Reply) => void>();
  private readonly ackHandlers = new Map<number, (n: number) => void>();

  private readonly replies = new Map<number, (r: Reply) => void>();

  constructor() {
    this.worker = new Worker(workerUrl);
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      if (r.ack !== undefined) {
        this.ackHandlers.get(r.id)?.(r.ack);
        return;
      }
      const reply = this.replies.get(r.id);
      if (reply) {
        this.replies.delete(r.id);
        reply(r);
        return;
      }
      const w = this.waiters.get(r.id);
      if (w) {
        this.waiters.delete(r.id);
        w(r);
      }
    });
    this.worker.on('error', (e) => {
      for (const w of [...this.waiters.values(), ...this.replies.values()]) w({ id: -1, error: e.message });
      this.waiters.clear();
      this.replies.clear();
    });
  }

  request(msg: { id: number; [field: string]: unknown }, transfer?: ArrayBuffer[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiters.set(msg.id, (r) => (r.error ? reject(new Error(`hashing failed: ${r.error}`)) : resolve(r)));
      this.worker.postMessage(msg, transfer ?? []);
    });
  }

  post(msg: object, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(msg, transfer ?? []);
  }
  /** Registers for a reply to a message that will carry `reply` as its id (see lend). */
  expect(reply: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.replies.set(reply, (r) => (r.error ? reject(new Error(`hashing failed: ${r.error}`)) : resolve(r)));
    });
  }
  onAck(id: number, fn: ((n: number) => void) | null): void {
    if (fn) this.ackHandlers.set(id, fn);
    else this.ackHandlers.delete(id);
  }
}

export interface Lent {
  data: Buffer;
  crc32c?: string;
}

export interface Sha256Stream {
  /** Queues bytes for hashing; resolves once the queue is below the high-water mark. */
  update(data: Buffer): Promise<void>;
  /**
   * Hashes `data` without copying it: its memory moves to the worker and comes back in `done`,
   * so the caller must not use `data` itself afterwards (it is detached). With `crc32c`, the
   * worker also returns the CRC32C (base64) of exactly these bytes, from the same pass.
   * `queued` is update()'s backpressure.
   */
  lend(data: Buffer, options?: { crc32c?: boolean }): { queued: Promise<void>; done: Promise<Lent> };
  digest(): Promise<string>;
  /** Forgets the stream without a digest (upload abandoned). */
  drop(): void;
}

export class HashPool {
  private readonly workers: PooledWorker[] = [];
  private nextId = 1;

  constructor(private readonly size = Math.max(1, Math.min(4, availableParallelism()))) {}

  /** Workers start on first use, so commands that hash nothing start fast. */
  private leastLoaded(): PooledWorker {
    if (!this.workers.length) for (let i = 0; i < this.size; i++) this.workers.push(new PooledWorker());
    return this.workers.reduce((a, b) => (b.load < a.load ? b : a));
  }

  sha256Stream(): Sha256Stream {
    const w = this.leastLoaded();
    const id = this.nextId++;
    w.load++;
    // The worker starts the stream with its first message (no separate init message).
    let pending = 0;
    let wake: (() => void) | null = null;
    let closed = false;
    w.onAck(id, (n) => {
      pending -= n;
      if (pending < HIGH_WATER && wake) {
        const f = wake;
        wake = null;
        f();
      }
    });
    const close = () => {
      if (!closed) {
        closed = true;
        w.load--;
        w.onAck(id, null);
      }
    };
    const enqueue = async (data: Uint8Array, extra?: { reply: number; crc32c: boolean }): Promise<void> => {
      pending += data.byteLength;
      w.post({ op: 'update', id, data, ...extra }, [data.buffer as ArrayBuffer]);
      if (pending >= HIGH_WATER)
        await new Promise<void>((r) => {
          wake = r;
        });
    };
    return {
      // An exact copy is transferred to the worker; the caller keeps its buffer to send it.
      update: (data) => enqueue(exactCopy(data)),
      lend: (data, options) => {
        const reply = this.nextId++;
        const done = w.expect(reply).then((r): Lent => {
          const back = r.data!;
          return { data: Buffer.from(back.buffer, back.byteOffset, back.byteLength), crc32c: r.base64 };
        });
        // Marked handled here: a caller that gave up on the bytes must not crash the process.
        done.catch(() => undefined);
        // Only a buffer that is all of its memory can be moved; anything else is copied once.
        const owned =
          data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
        return { queued: enqueue(owned ? data : exactCopy(data), { reply, crc32c: options?.crc32c ?? false }), done };
      },
      digest: async () => {
        try {
          return (await w.request({ op: 'digest', id })).hex!;
        } finally {
          close();
        }
      },
      drop: () => {
        if (!closed) {
          w.post({ op: 'drop', id });
          close();
        }
      },
    };
  }

  async checksum(data: Buffer, algorithm: 'sha256' | 'crc32c'): Promise<string> {
    const w = this.leastLoaded();
    w.load++;
    try {
      const copy = exactCopy(data);
      const r = await w.request({ op: 'checksum', id: this.nextId++, algorithm, data: copy }, [copy.buffer as ArrayBuffer]);
      return r.base64!;
    } finally {
      w.load--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}

/** Posting a view clones its whole backing buffer (a slice of a pool or a larger read), so copy exactly. */
function exactCopy(data: Buffer): Uint8Array {
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy;
}
