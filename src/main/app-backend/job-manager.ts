// The jobs this app runs in the background: start (batch or sync), pause, resume, retry failed,
// stop acquisition, pause-all / resume-all for the tray, and shutdown() that stops taking work
// and waits until every runner has journaled what it had in flight. Uploading itself is the
// engine's; this only owns the AbortControllers and the promises.
import type { JobView } from '../../shared/app-model.js';
import { BeamdropError, toErrorInfo } from '../../shared/errors.js';
import { ENDED_JOB_STATES, type JobEvent, type JobSummary } from '../../shared/model.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import type { Engine, UploadRequest } from '../engine/engine.js';
import type { Journal } from '../engine/journal/journal.js';
import type { Logger } from '../engine/log/logger.js';
import type { ProgressHub } from './progress-hub.js';
import type { Completeness, SyncGateway, SyncSignals } from './sync-gateway.js';

interface Running {
  /** Pauses the job (batch and sync). */
  controller: AbortController;
  /** Sync only: ends the acquisition (send what is complete, finalise the dataset). */
  finish: AbortController;
  done: Promise<void>;
}

/** What a started job needs; built from the dataset definition by the start handler. */
export interface JobStart {
  mode: 'batch' | 'sync';
  request: Omit<UploadRequest, 'signal' | 'onEvent' | 'onRead'>;
  technique: string | null;
  completeness: Completeness;
}

type Runner = (signals: SyncSignals, onEvent: (e: JobEvent) => void) => Promise<JobSummary>;

export interface JobManagerDeps {
  engine: Engine;
  /** Recent jobs (resume all) and failed files back to the queue (retry failed). */
  journal: Pick<Journal, 'records' | 'requeueFailed'>;
  profile(): FacilityProfile;
  hub: ProgressHub;
  sync: SyncGateway;
  log: Logger;
  view(jobId: number): JobView;
}

export class JobManager {
  private readonly running = new Map<number, Running>();
  private closing = false;

  constructor(private readonly d: JobManagerDeps) {}

  isRunning(jobId: number): boolean {
    return this.running.has(jobId);
  }
  runningIds(): number[] {
    return [...this.running.keys()];
  }

  /**
   * Starts a job; resolves with its id once the engine created it (errors before that are the
   * caller's). A second start of a dataset this app is already running (batch or sync) is refused;
   * one run by another process is refused by the engine (job-busy as well).
   */
  async start(s: JobStart): Promise<number> {
    this.refuseWhenClosing();
    const profile = this.d.profile();
    const kind = s.mode === 'sync' ? 'sync' : s.request.dryRun ? 'dry-run' : 'batch';
    const same = kind === 'dry-run' ? null : this.d.engine.unfinishedJob(profile, kind, s.request, s.request.sources);
    if (same && this.running.has(same.id)) {
      throw new BeamdropError({
        code: 'job-busy',
        retryable: false,
        field: 'name',
        message: `dataset "${s.request.dataset}" is already ${kind === 'sync' ? 'being watched' : 'uploading'} to "${same.destination}" as job ${same.id}; watch it in Activity${kind === 'sync' ? ', or stop it there first' : ''}.`,
      });
    }
    if (s.mode === 'sync') {
      return this.launchNew((signals, onEvent) =>
        this.d.sync.start(profile, { ...s.request, technique: s.technique, completeness: s.completeness }, signals, onEvent),
      );
    }
    return this.launchNew((signals, onEvent) => this.d.engine.upload(profile, { ...s.request, signal: signals.pause, onEvent }));
  }

  private launchNew(run: Runner): Promise<number> {
    return new Promise<number>((resolveId, reject) => {
      const controller = new AbortController();
      const finish = new AbortController();
      let jobId: number | null = null;
      let settle: () => void = () => undefined;
      const done = new Promise<void>((r) => {
        settle = r;
      });
      run({ pause: controller.signal, finish: finish.signal }, (e) => {
        if (e.type === 'job-started' && jobId === null) {
          jobId = e.jobId;
          this.running.set(jobId, { controller, finish, done });
          this.d.hub.setRunning(jobId, true);
          resolveId(jobId);
        }
        this.d.hub.ingest(e);
      })
        .then(
          () => {
            if (jobId !== null) this.finished(jobId, null);
          },
          (err: unknown) => {
            if (jobId === null) reject(err);
            else this.finished(jobId, err);
          },
        )
        .finally(settle);
    });
  }

  private launchExisting(jobId: number, run: Runner): void {
    const controller = new AbortController();
    const finish = new AbortController();
    const done = run({ pause: controller.signal, finish: finish.signal }, (e) => this.d.hub.ingest(e)).then(
      () => this.finished(jobId, null),
      (err: unknown) => this.finished(jobId, err),
    );
    this.running.set(jobId, { controller, finish, done });
    this.d.hub.setRunning(jobId, true);
  }

  private finished(jobId: number, err: unknown): void {
    this.running.delete(jobId);
    const operatorPaused = this.d.hub.liveJob(jobId)?.operatorPaused ?? false;
    if (err && !(err instanceof BeamdropError && err.code === 'cancelled')) {
      const info = toErrorInfo(err);
      this.d.log.warn({ jobId, error: info }, 'job stopped by an error');
      this.d.hub.setRunning(jobId, false, { error: info, operatorPaused });
    } else {
      this.d.hub.setRunning(jobId, false, { operatorPaused });
    }
  }

  async pause(jobId: number): Promise<JobView> {
    const r = this.running.get(jobId);
    if (r) {
      this.d.hub.markOperatorPaused(jobId);
      r.controller.abort();
      await r.done;
    }
    return this.d.view(jobId);
  }

  async resume(jobId: number): Promise<JobView> {
    this.refuseWhenClosing();
    if (this.running.has(jobId)) return this.d.view(jobId);
    const job = this.d.engine.requireJob(jobId);
    if (job.kind === 'sync') this.launchExisting(jobId, (signals, onEvent) => this.d.sync.resume(jobId, signals, onEvent));
    else this.launchExisting(jobId, (signals, onEvent) => this.d.engine.resume(jobId, { signal: signals.pause, onEvent }));
    return this.d.view(jobId);
  }

  /** Failed files go back to the queue and the job runs again; `changed` files stay for the operator. */
  async retryFailed(jobId: number): Promise<JobView> {
    this.d.engine.requireJob(jobId);
    if (this.running.has(jobId)) await this.pause(jobId);
    this.d.journal.requeueFailed(jobId);
    return this.resume(jobId);
  }

  /** Sync: stop watching, send what is complete, then finish. Batch: the same as pause. */
  async stop(jobId: number): Promise<JobView> {
    const job = this.d.engine.requireJob(jobId);
    const r = this.running.get(jobId);
    if (job.kind === 'sync' && r) {
      r.finish.abort();
      await r.done;
      return this.d.view(jobId);
    }
    return this.pause(jobId);
  }

  async pauseAll(): Promise<JobView[]> {
    const ids = this.runningIds();
    await Promise.all(ids.map((id) => this.pause(id)));
    return ids.map((id) => this.d.view(id));
  }

  /** Resumes the recent jobs that are paused or were interrupted (not the finished ones). */
  async resumeAll(): Promise<JobView[]> {
    const ids = this.d.journal
      .records(50)
      .filter((j) => j.kind !== 'dry-run' && !ENDED_JOB_STATES.has(j.state) && !this.running.has(j.id))
      .map((j) => j.id);
    const out: JobView[] = [];
    for (const id of ids) out.push(await this.resume(id));
    return out;
  }

  /** Stops taking work and waits until every runner journaled its files in flight. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort();
    await Promise.all(all.map((r) => r.done));
  }

  private refuseWhenClosing(): void {
    if (this.closing)
      throw new BeamdropError({
        code: 'cancelled',
        retryable: false,
        message: 'Beamdrop is shutting down; start the job again after it restarts.',
      });
  }
}
