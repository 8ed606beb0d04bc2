// One run of a sync job: discovery, completeness checks and transfers side by side until a stop.
// `finish` (Ctrl-C, `beamdrop stop JOB`) ends the acquisition: the watcher stops, one last full
// scan takes everything written so far, complete files are sent, files still incomplete after
// the grace period are reported, and the job is `finishing`; the job lifecycle then finalises the
// dataset exactly as it does after a batch upload and ends the job `done` (jobs/job-lifecycle.ts).
// `pause` (a second Ctrl-C, `beamdrop stop --pause`) aborts the transfers in flight, which stay
// journaled, and leaves the job resumable. A crash leaves the same journal as a pause, minus the reason.
import { relative, sep } from 'node:path';
import type { ErrorInfo } from '../../../shared/errors.js';
import type { JobEvent, JobSummary, SyncStatus } from '../../../shared/model.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { FolderRules } from '../../../shared/profile-sync-schema.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import type { HashPool } from '../hash/hash-pool.js';
import { classifyError } from '../jobs/classify-error.js';
import { isLocalDiskFull } from '../journal/local-disk-full.js';
import { markFinishing } from '../jobs/finishing.js';
import type { SyncJobOptions } from '../jobs/job-options.js';
import { keyPrefix, summarise } from '../jobs/job-runner.js';
import { ProgressTracker } from '../jobs/progress-tracker.js';
import type { Journal, StoredJobOf } from '../journal/journal.js';
import { renderKey } from '../keys/key-template.js';
import type { Logger } from '../log/logger.js';
import type { Destination, RemoteObject } from '../storage/destination.js';
import type { Clock, Throttle } from '../transfer/throttle.js';
import { Discovery } from './discovery.js';
import { FsClient } from './fs-client.js';
import { StabilityLoop, type CheckFolder } from './stability-check.js';
import { SyncLedger } from './sync-journal.js';
import { compileMarkers, rulesAt, type SyncFolder } from './sync-rules.js';
import { heartbeat, type StopMode } from './sync-sessions.js';
import { computeSyncStatus } from './sync-status.js';
import { TransferPool } from './transfer-pool.js';
import { Waker } from './waker.js';

export type { SyncJobOptions };

export interface SessionDeps {
  job: StoredJobOf<'sync'>;
  options: SyncJobOptions;
  resumed: boolean;
  journal: Journal;
  hashes: HashPool;
  destination: Destination;
  throttle: Throttle | null;
  clock: Clock;
  log: Logger;
  policy: UploadPolicy;
  sink: VerifiedFileSink;
  platform?: NodeJS.Platform;
  onEvent(e: JobEvent): void;
}

export interface WatchResult {
  summary: JobSummary;
  status: SyncStatus;
}

const HEARTBEAT_MS = 1000;
const STATUS_MS = 1000;

export class SyncSession {
  private stopMode: StopMode | null = null;
  private readonly stopWaker = new Waker();
  private readonly pauseController = new AbortController();
  private readonly ledger: SyncLedger;
  private readonly tracker: ProgressTracker;
  private readonly folders: SyncFolder[];
  private readonly compiled = new Map<FolderRules, CheckFolder>();
  private discovery: Discovery | null = null;
  private pool: TransferPool | null = null;

  constructor(private readonly d: SessionDeps) {
    this.ledger = new SyncLedger(d.journal, d.job.id);
    this.tracker = new ProgressTracker(() => d.clock.now());
    this.folders = d.options.sync.folders;
  }

  /** Asks the session to end; `pause` also overrides a finish already under way. */
  requestStop(mode: StopMode): void {
    if (this.stopMode === 'pause' || this.stopMode === mode) return;
    this.stopMode = mode;
    try {
      this.d.journal.event(this.d.job.id, null, 'sync-stop', { mode });
    } catch (e) {
      // The journal cannot be written (its disk is full): the session stops all the same, and
      // the error that made it stop is what the run ends with.
      this.d.log.warn({ jobId: this.d.job.id, error: String(e) }, 'the stop could not be journaled');
    }
    if (mode === 'pause') {
      this.pauseController.abort();
      void this.discovery?.stop(true);
    }
    this.stopWaker.wake();
  }

  /** The rules at a file: its watched folder's, or those of a configured folder inside it. */
  private folderOf(path: string): CheckFolder {
    let best = this.folders[0]!;
    for (const f of this.folders) if (path.startsWith(f.path + sep) && f.path.length > best.path.length) best = f;
    const rules = rulesAt(best, relative(best.path, path).split(sep).join('/'));
    let c = this.compiled.get(rules);
    if (!c) {
      c = { rules, markers: compileMarkers(rules.markers) };
      this.compiled.set(rules, c);
    }
    return c;
  }

  status(): SyncStatus {
    const job = this.d.journal.job(this.d.job.id)!;
    return computeSyncStatus(
      this.ledger,
      job.id,
      job.state,
      this.folders.map((f) => ({ path: f.path, mode: f.rules.mode })),
      this.tracker.rate(),
      this.pool?.downReason ?? null,
    );
  }

  async run(): Promise<WatchResult> {
    const { d } = this;
    const jobId = d.job.id;
    const started = d.clock.now();
    // The lifecycle holds the job for this process (claimSession) before the run and releases it after.
    d.journal.setJobState(jobId, 'running');
    d.onEvent({ type: 'job-started', jobId, dataset: d.job.dataset, destination: d.job.destination, resumed: d.resumed });
    const fs = new FsClient(d.options.followSymlinks);
    const stability = new StabilityLoop({
      ledger: this.ledger,
      fs,
      now: () => d.clock.now(),
      platform: d.platform ?? process.platform,
      folderOf: (p) => this.folderOf(p),
      onStable: () => this.pool?.wake(),
      reasons: new Map(),
      onFileStable: (row) => d.onEvent({ type: 'file-state', jobId, relpath: row.relpath, state: 'stable' }),
    });
    const discovery = new Discovery(
      {
        jobId,
        folders: d.options.sync.folders,
        filterJob: d.options,
        settings: d.options.sync.settings,
        fs,
        journal: d.journal,
        ledger: this.ledger,
        clock: d.clock,
        log: d.log,
        platform: d.platform ?? process.platform,
        onEvent: d.onEvent,
        onObserved: () => stability.wake(),
      },
      d.resumed ? this.ledger.knownFiles() : new Map(),
    );
    this.discovery = discovery;
    let failure: unknown = null;
    // Any loop that fails stops the session like a pause, with the error as the job's reason.
    const fail = (e: unknown) => {
      failure ??= e;
      this.requestStop('pause');
    };
    const guarded = (what: string, fn: () => void) => () => {
      try {
        fn();
      } catch (e) {
        d.log.warn({ jobId, error: String(e) }, `${what} failed`);
      }
    };
    const heartbeatTimer = setInterval(
      guarded('heartbeat', () => {
        const mode = heartbeat(d.journal, jobId, d.clock.now(), this.tracker.rate(), this.pool?.downReason ?? null);
        if (mode) this.requestStop(mode);
      }),
      HEARTBEAT_MS,
    );
    const statusTimer = setInterval(
      guarded('status', () => d.onEvent({ type: 'sync-status', status: this.status() })),
      STATUS_MS,
    );
    let poolRun: Promise<void> | null = null;
    try {
      const existing = await this.listStored();
      const pool = new TransferPool({
        jobId,
        dataset: d.job.dataset,
        journal: d.journal,
        ledger: this.ledger,
        sink: d.sink,
        hashes: d.hashes,
        destination: d.destination,
        throttle: d.throttle,
        clock: d.clock,
        policy: d.policy,
        existing,
        keyOf: (relpath) => renderKey(d.options.keyTemplate, { ...d.options.vars, relpath }),
        quietMsOf: (p) => this.folderOf(p).rules.quietPeriodMs,
        signal: this.pauseController.signal,
        onEvent: d.onEvent,
        onSent: (n) => this.tracker.add(n),
        afterStored: (p) => {
          discovery
            .reobserve(p)
            .catch((e: unknown) => d.log.warn({ jobId, file: p, error: String(e) }, 're-check after upload failed'));
        },
      });
      this.pool = pool;
      stability.start(fail);
      poolRun = pool.run(d.policy.concurrency).catch(fail);
      await discovery.initialScan();
      if (this.stopMode !== 'pause') discovery.start(fail);
      while (this.stopMode === null) await this.stopWaker.wait(null, this.pauseController.signal);
      if (this.stopMode === 'finish') await this.finish(discovery, stability, pool);
    } catch (e) {
      fail(e);
    } finally {
      clearInterval(heartbeatTimer);
      clearInterval(statusTimer);
      await discovery.stop(true);
      this.pool?.stop();
      await Promise.all([stability.stop(), poolRun]);
      await fs.close();
    }
    const job = d.journal.job(jobId)!;
    if (failure !== null) {
      const info = classifyError(failure, { destination: d.destination.name }).info;
      try {
        d.journal.setJobState(
          jobId,
          'paused',
          `stopped by an error: ${info.message} \`beamdrop watch --resume ${jobId}\` continues the job.`,
        );
      } catch (e) {
        // A full disk under the journal: the job stays as a crash leaves it, which a resume continues.
        if (!isLocalDiskFull(e)) throw e;
      }
      d.log.error({ jobId, error: info }, 'sync job stopped by an error');
    } else if (job.state !== 'finishing') {
      const reason = `paused before the acquisition was finished; \`beamdrop watch --resume ${jobId}\` continues it (files written meanwhile are found then).`;
      d.journal.setJobState(jobId, 'paused', reason);
      d.onEvent({ type: 'job-paused', jobId, reason });
    }
    const status = this.status();
    d.onEvent({ type: 'sync-status', status });
    const summary = summarise(d.journal, jobId, this.tracker.bytesSent, d.clock.now() - started);
    d.onEvent({ type: 'job-finished', summary });
    if (failure !== null) throw failure;
    return { summary, status };
  }

  /** What is already stored under the job's prefix; a destination that is down starts empty (the conflict check covers it). */
  private async listStored(): Promise<Map<string, RemoteObject>> {
    const map = new Map<string, RemoteObject>();
    try {
      for await (const o of this.d.destination.list(keyPrefix(this.d.options))) map.set(o.key, o);
    } catch (e) {
      if (classifyError(e, { destination: this.d.destination.name }).scope !== 'destination') throw e;
      map.clear();
    }
    return map;
  }

  /** Ends the acquisition: last scan, drain, report what never became complete; the job is then `finishing`. */
  private async finish(discovery: Discovery, stability: StabilityLoop, pool: TransferPool): Promise<void> {
    const { d } = this;
    const jobId = d.job.id;
    d.journal.setJobState(jobId, 'stopping');
    d.onEvent({
      type: 'sync-note',
      jobId,
      kind: 'stop-requested',
      message:
        'stopping: the last files are checked and sent, then the dataset is finalised (Ctrl-C again, or `beamdrop stop --pause`, pauses instead).',
    });
    await discovery.stop();
    await discovery.finalScan();
    stability.wake();
    pool.wake();
    const graceUntil = d.clock.now() + d.options.sync.settings.stopGraceMs;
    const waker = new Waker();
    for (;;) {
      if (this.stopMode === 'pause') return;
      const s = this.status();
      if (s.waiting.files === 0 && s.backlog.files === 0 && pool.inFlight === 0) break;
      if (s.waiting.files > 0 && d.clock.now() >= graceUntil) this.failIncomplete(stability);
      await waker.wait(250, this.pauseController.signal);
    }
    await stability.stop();
    pool.stop();
    // Every file is settled: the acquisition is over. Finalising the dataset is the lifecycle's,
    // which ends the job `done` once it is finalised.
    markFinishing(d.journal, d.job);
  }

  /** Files still not complete when the grace period after a stop ran out: failed, with why. */
  private failIncomplete(stability: StabilityLoop): void {
    for (const row of this.ledger.waiting()) {
      const why = stability.reason(row.id) ?? 'still being written';
      const error: ErrorInfo = {
        code: why.startsWith('waiting for its marker') ? 'not-found' : 'unreadable',
        retryable: true,
        file: row.relpath,
        message: `${row.relpath} was not uploaded: when the acquisition was stopped it was ${why}. If it is complete now, upload it into the same dataset with \`beamdrop upload\`.`,
      };
      this.d.journal.setFileState(row.id, 'failed', { error });
    }
  }
}
