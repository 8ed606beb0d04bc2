// Sends complete files with the batch engine's transferFile (one read pass, verify, catalogue
// sink), a bounded number at a time. Work is pulled from the journal a small page at a time, so
// a backlog of any size costs no memory. Sync mode is its own retry loop: a file that changed
// while being sent, or is briefly busy, goes back to `discovered` and must be complete again; a
// destination that is down holds the transfers back with backoff while discovery goes on (one
// that is out of space is probed by one transfer at a time, with the longer outOfSpace backoff).
import { stat } from 'node:fs/promises';
import type { ErrorInfo } from '../../../shared/errors.js';
import type { JobEvent } from '../../../shared/model.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import type { HashPool } from '../hash/hash-pool.js';
import { backoffDelay, isOutOfSpace } from '../jobs/classify-error.js';
import { DestinationDown, transferFile } from '../jobs/file-transfer.js';
import type { Journal } from '../journal/journal.js';
import type { Destination, RemoteObject } from '../storage/destination.js';
import type { Clock, Throttle } from '../transfer/throttle.js';
import type { SyncLedger, SyncRow } from './sync-journal.js';
import { Waker } from './waker.js';

export interface PoolDeps {
  jobId: number;
  dataset: string;
  journal: Journal;
  ledger: SyncLedger;
  sink: VerifiedFileSink;
  hashes: HashPool;
  destination: Destination;
  throttle: Throttle | null;
  clock: Clock;
  policy: UploadPolicy;
  existing: Map<string, RemoteObject>;
  keyOf(relpath: string): string;
  quietMsOf(path: string): number;
  /** Aborts transfers in flight (pause); stop() only stops taking new files. */
  signal: AbortSignal;
  onEvent(e: JobEvent): void;
  onSent(bytes: number): void;
  /** A file was sent: look at it again, so a change during the verification is not lost. */
  afterStored(path: string): void;
}

export class TransferPool {
  private readonly busy = new Set<number>();
  private queue: SyncRow[] = [];
  private readonly waker = new Waker();
  private stopping = false;
  private downUntil = 0;
  private downCount = 0;
  /** The destination said it is out of space: it is probed by one transfer at a time, less often. */
  private outOfSpace = false;
  private probing = false;
  /** Why the destination is not taking files, or null. */
  downReason: string | null = null;

  constructor(private readonly d: PoolDeps) {}

  wake(): void {
    this.waker.wake();
  }
  get inFlight(): number {
    return this.busy.size;
  }

  /** Stops taking files; the transfers in flight finish (or abort with the signal). */
  stop(): void {
    this.stopping = true;
    this.waker.wake();
  }

  /** Runs `width` workers until stop(). */
  async run(width: number): Promise<void> {
    await Promise.all(Array.from({ length: Math.max(1, width) }, () => this.worker()));
  }

  private async worker(): Promise<void> {
    const { signal } = this.d;
    while (!this.stopping && !signal.aborted) {
      const wait = this.downUntil - this.d.clock.now();
      if (wait > 0) {
        await this.waker.wait(wait, signal);
        continue;
      }
      // Out of space, one worker probes with one file; the others wait for its outcome.
      if (this.outOfSpace && this.probing) {
        await this.waker.wait(null, signal);
        continue;
      }
      const row = this.take();
      if (!row) {
        await this.waker.wait(null, signal);
        continue;
      }
      this.busy.add(row.id);
      const probe = this.outOfSpace;
      if (probe) this.probing = true;
      try {
        await this.send(row);
      } finally {
        this.busy.delete(row.id);
        if (probe) {
          this.probing = false;
          this.waker.wake();
        }
      }
    }
    // Another worker may be waiting on the shared waker: let it see the stop too.
    this.waker.wake();
  }

  private take(): SyncRow | null {
    for (;;) {
      if (!this.queue.length) this.queue = this.d.ledger.nextForTransfer(8, this.busy);
      const next = this.queue.shift();
      if (!next) return null;
      // The page may be stale: take the row as it is now.
      const row = this.d.ledger.row(next.id);
      if (
        row &&
        !this.busy.has(row.id) &&
        row.deletedAt === null &&
        (row.state === 'stable' || row.state === 'transferring' || row.state === 'uploaded')
      )
        return row;
    }
  }

  private async send(row: SyncRow): Promise<void> {
    const { d } = this;
    const now = d.clock.now();
    if (row.state !== 'uploaded') {
      // The last look before the bytes are read: a file that moved since it was found complete
      // must be complete again (transferFile itself would send its new size straight away).
      const current = await stat(row.path).catch((e: NodeJS.ErrnoException) =>
        e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : undefined,
      );
      if (current === null) {
        d.ledger.dropBeforeUpload(row, now);
        return;
      }
      if (current && (current.size !== row.size || current.mtimeMs !== row.mtimeMs)) {
        d.ledger.requeue(row.id, now, now + d.quietMsOf(row.path), { size: current.size, mtimeMs: current.mtimeMs });
        return;
      }
    }
    const file = d.journal.file(row.id);
    if (!file) return;
    const key = d.keyOf(row.relpath);
    try {
      await transferFile(file, key, {
        journal: d.journal,
        sink: d.sink,
        hashes: d.hashes,
        destination: d.destination,
        throttle: d.throttle,
        clock: d.clock,
        // One attempt: a file problem comes back here (requeued below) and a destination problem
        // is thrown (DestinationDown), so retries never hold a worker while discovery goes on.
        retries: { ...d.policy.retries, attempts: 1 },
        dataset: d.dataset,
        existing: d.existing,
        signal: d.signal,
        dryRun: false,
        onState: (f, state, extra) => {
          // A retryable failure is not final here: it is requeued below, not shown as failed.
          if (state === 'failed' && extra.error && requeueable(extra.error)) return;
          d.onEvent({ type: 'file-state', jobId: d.jobId, relpath: f.relpath, state, remoteKey: key, ...extra });
        },
        onSent: (n) => d.onSent(n),
        onRetry: () => undefined,
      });
    } catch (e) {
      if (e instanceof DestinationDown) {
        this.down(e.info);
        return;
      }
      if (d.signal.aborted) return;
      throw e;
    }
    const after = d.journal.file(row.id);
    if (!after) return;
    if (after.state === 'failed' && after.lastError) {
      const t = d.clock.now();
      if (after.lastError.code === 'vanished') d.ledger.dropBeforeUpload(row, t);
      else if (requeueable(after.lastError)) d.ledger.requeue(row.id, t, t + d.quietMsOf(row.path), undefined, after.lastError);
      return;
    }
    if (after.state === 'verified' || after.state === 'skipped') {
      this.up();
      d.afterStored(row.path);
    }
  }

  private down(info: ErrorInfo): void {
    const now = this.d.clock.now();
    // Transfers that were already in flight when the destination went down count once.
    if (now < this.downUntil) return;
    this.downCount++;
    this.outOfSpace = isOutOfSpace(info);
    // A full destination is not freed in seconds: it is probed with the longer outOfSpace backoff.
    const timing = this.outOfSpace ? this.d.policy.outOfSpace : this.d.policy.retries;
    const delay = backoffDelay(this.downCount, timing.baseDelayMs, timing.maxDelayMs);
    this.downUntil = now + delay;
    if (this.downReason === null) {
      const next = `next in ${(delay / 1000).toFixed(1)} s`;
      this.d.onEvent({
        type: 'sync-note',
        jobId: this.d.jobId,
        kind: 'destination-down',
        message: this.outOfSpace
          ? `${info.message} No file is marked failed for it: one file is tried (${next}, then less often) and the transfers go on by themselves once there is room; new files keep being journaled.`
          : `${info.message} Transfers wait and are tried again (${next}); new files keep being journaled.`,
      });
    }
    this.downReason = info.message;
    this.queue = [];
  }

  private up(): void {
    if (this.downReason !== null) {
      this.d.onEvent({
        type: 'sync-note',
        jobId: this.d.jobId,
        kind: 'destination-back',
        message: `destination "${this.d.destination.name}" takes files again.`,
      });
    }
    this.downReason = null;
    this.downCount = 0;
    this.downUntil = 0;
    this.outOfSpace = false;
    this.waker.wake();
  }
}

/** File problems that a later attempt can fix: the file changed while being sent, or was busy. */
function requeueable(e: ErrorInfo): boolean {
  return e.retryable && (e.code === 'changed-during-upload' || e.code === 'unreadable');
}
