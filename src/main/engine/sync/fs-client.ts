// The engine side of fs-worker.ts: batches of folder listings and stats, spread over a few worker
// threads (on a network share each call waits for a round trip, so several run at once; on a
// local disk two keep pace with the journal). Workers start on first use and are terminated by
// close(); a crashed worker fails its requests in flight and is started again by the next one.
import { Worker } from 'node:worker_threads';
import { FS_WORKER_ROLE, type Listing, type StatColumns } from './fs-worker.js';

export type { Listing, StatColumns } from './fs-worker.js';
export { KIND } from './fs-worker.js';

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './fs-worker.ts' : './fs-worker.js', import.meta.url);

type Reply = { id: number; listings?: Listing[]; stats?: StatColumns; error?: string };

interface Slot {
  worker: Worker | null;
  waiting: Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>;
}

export class FsClient {
  private readonly slots: Slot[];
  private nextId = 1;
  private turn = 0;
  private closed = false;

  constructor(
    private readonly follow: boolean,
    threads = 2,
  ) {
    this.slots = Array.from({ length: Math.max(1, threads) }, () => ({ worker: null, waiting: new Map() }));
  }

  private start(slot: Slot): Worker {
    if (this.closed) throw new Error('the folder reader was closed');
    if (slot.worker) return slot.worker;
    const w = new Worker(workerUrl, { workerData: { role: FS_WORKER_ROLE } });
    w.on('message', (r: Reply) => {
      const p = slot.waiting.get(r.id);
      if (!p) return;
      slot.waiting.delete(r.id);
      if (r.error) p.reject(new Error(`reading folders failed: ${r.error}`));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      if (slot.worker === w) slot.worker = null;
      for (const p of slot.waiting.values()) p.reject(e);
      slot.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the folder reader stopped (exit code ${code})`)));
    slot.worker = w;
    return w;
  }

  private request(msg: { op: 'list'; dirs: string[] } | { op: 'stat'; paths: string[] }): Promise<Reply> {
    // The least busy thread (round robin among equals); a stat of a few paths (a hint) is not held
    // up behind a long listing.
    this.turn = (this.turn + 1) % this.slots.length;
    const slot = this.slots.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a), this.slots[this.turn]!);
    const w = this.start(slot);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      w.postMessage({ ...msg, id, follow: this.follow });
    });
  }

  async list(dirs: string[]): Promise<Listing[]> {
    if (!dirs.length) return [];
    return (await this.request({ op: 'list', dirs })).listings ?? [];
  }

  async stat(paths: string[]): Promise<StatColumns> {
    if (!paths.length) return { kinds: [], sizes: [], mtimes: [], inos: [], errors: [] };
    return (await this.request({ op: 'stat', paths })).stats!;
  }

  /** Requests a caller may keep in flight to keep every thread busy. */
  get parallelism(): number {
    return this.slots.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== null);
    for (const s of this.slots) s.worker = null;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
