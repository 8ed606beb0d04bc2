// Collects the engine's job events (thousands per second on small files) and hands the UI one
// `jobs.update` at most every 100 ms, only when something changed: the job views of the jobs that
// moved and the latest file changes (capped). The renderer re-reads the rows it shows, so a
// dropped file change costs nothing but a line in a list of recent changes.
import type { FileChange, JobView, JobsUpdate } from '../../shared/app-model.js';
import type { ErrorInfo } from '../../shared/errors.js';
import type { JobEvent } from '../../shared/model.js';
import type { LiveJob } from './job-views.js';
import type { Scheduler } from './ports.js';

export const MIN_INTERVAL_MS = 100;
export const MAX_FILE_CHANGES = 200;

export interface ProgressHubOptions {
  scheduler: Scheduler;
  /** Builds the views of these jobs when an update goes out. */
  views(jobIds: number[]): JobView[];
  emit(update: JobsUpdate): void;
  intervalMs?: number;
  maxFileChanges?: number;
}

export class ProgressHub {
  private readonly live = new Map<number, LiveJob>();
  private readonly dirty = new Set<number>();
  private changes: FileChange[] = [];
  private dropped = 0;
  private cancelTimer: (() => void) | null = null;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private disposed = false;
  private readonly interval: number;
  private readonly maxChanges: number;

  constructor(private readonly o: ProgressHubOptions) {
    this.interval = o.intervalMs ?? MIN_INTERVAL_MS;
    this.maxChanges = o.maxFileChanges ?? MAX_FILE_CHANGES;
  }

  liveJob(jobId: number): LiveJob | undefined {
    return this.live.get(jobId);
  }

  private entry(jobId: number): LiveJob {
    let l = this.live.get(jobId);
    if (!l) {
      l = { running: false, progress: null, scanned: null, error: null, operatorPaused: false, sync: null, registration: null };
      this.live.set(jobId, l);
    }
    return l;
  }

  /** The app started (or stopped) running a job. */
  setRunning(jobId: number, running: boolean, patch: Partial<Pick<LiveJob, 'operatorPaused' | 'error'>> = {}): void {
    const l = this.entry(jobId);
    if (running && !l.running) {
      l.error = null;
      l.operatorPaused = false;
      l.progress = null;
      l.scanned = null;
      l.sync = null;
    }
    l.running = running;
    Object.assign(l, patch);
    this.touch(jobId);
  }

  /** The operator paused it: a pause that needs no attention. */
  markOperatorPaused(jobId: number): void {
    this.entry(jobId).operatorPaused = true;
    this.touch(jobId);
  }

  setError(jobId: number, error: ErrorInfo): void {
    this.entry(jobId).error = error;
    this.touch(jobId);
  }

  ingest(e: JobEvent): void {
    const jobId = jobIdOf(e);
    const l = this.entry(jobId);
    switch (e.type) {
      case 'progress':
        l.progress = e.progress;
        break;
      case 'scan-progress':
      case 'scan-done':
        l.scanned = { files: e.files, bytes: e.bytes };
        break;
      case 'file-state':
        this.addChange({ jobId, relpath: e.relpath, state: e.state, ...(e.error ? { error: e.error } : {}) });
        break;
      case 'sync-status':
        l.sync = e.status;
        break;
      case 'registration':
        l.registration = e.status;
        break;
      default:
        break;
    }
    this.touch(jobId);
  }

  private addChange(c: FileChange): void {
    this.changes.push(c);
    // Keep the newest: the list is "what just happened".
    if (this.changes.length > this.maxChanges * 2) {
      this.dropped += this.changes.length - this.maxChanges;
      this.changes = this.changes.slice(-this.maxChanges);
    }
  }

  /** Something about the job changed: send its view with the next update. */
  touch(jobId: number): void {
    if (this.disposed) return;
    this.dirty.add(jobId);
    if (this.cancelTimer) return;
    const wait = Math.max(0, this.lastFlush + this.interval - this.o.scheduler.now());
    this.cancelTimer = this.o.scheduler.setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now (also used at shutdown). */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (!this.dirty.size || this.disposed) return;
    this.lastFlush = this.o.scheduler.now();
    const ids = [...this.dirty];
    this.dirty.clear();
    let fileChanges = this.changes;
    let dropped = this.dropped;
    if (fileChanges.length > this.maxChanges) {
      dropped += fileChanges.length - this.maxChanges;
      fileChanges = fileChanges.slice(-this.maxChanges);
    }
    this.changes = [];
    this.dropped = 0;
    this.o.emit({ jobs: this.o.views(ids), fileChanges, fileChangesDropped: dropped });
  }

  dispose(): void {
    this.flush();
    this.disposed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }
}

/** Every job event names its job, in one of three places. */
export function jobIdOf(e: JobEvent): number {
  switch (e.type) {
    case 'progress':
      return e.progress.jobId;
    case 'job-finished':
      return e.summary.job.id;
    case 'sync-status':
      return e.status.jobId;
    default:
      return e.jobId;
  }
}
