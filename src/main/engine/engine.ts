// The engine's front door, used by the CLI and the Electron app alike. It owns the long-lived
// services (journal, local catalogue, hash workers, credentials, logger), wired here and nowhere
// else, and builds a destination per job. Every kind of job (batch, sync, dry run) is created,
// continued and finalised by the one job lifecycle (jobs/job-lifecycle.ts). The operations above
// it (engine/operations) and the app backend get the parts they name from operationDeps().
import { resolve } from 'node:path';
import type { DatasetIdentity, JobEvent, JobKind, JobRecord, JobSummary } from '../../shared/model.js';
import type { FacilityProfile, UploadPolicy } from '../../shared/profile-schema.js';
import { CatalogueService } from './catalogue/catalogue-service.js';
import type { JobCatalogueDeps } from './catalogue/job-catalogue.js';
import { LocalCatalogue } from './catalogue/local-catalogue.js';
import { backfillLocalIdentities } from './catalogue/local/identity-backfill.js';
import { OutboxStore } from './catalogue/outbox/outbox-store.js';
import { CredentialStore, osKeychain, type SecretKeeper } from './credentials/credential-store.js';
import type { DatasetTarget } from './dataset-target.js';
import { HashPool } from './hash/hash-pool.js';
import {
  continueJob,
  requestDestination,
  requestIdentity,
  requireJob,
  startJob,
  type LifecycleHost,
} from './jobs/job-lifecycle.js';
import { cancelJob, cancelPlan, forgetJob, forgetPlan, type RemovalPlan } from './jobs/job-removal.js';
import { batchRunner, summarise } from './jobs/job-runner.js';
import { Journal, type StoredJob } from './journal/journal.js';
import { createLogger, type Logger } from './log/logger.js';
import { dataPaths, dataRoot, type DataPaths } from './profile/data-dir.js';
import { DEFAULT_DESTINATION } from './profile/default-profile.js';
import { createDestination } from './storage/create-destination.js';
import type { Destination } from './storage/destination.js';
import { resolveDestination, type ResolvedDestination } from './storage/resolve-destination.js';
import { syncJobOptions, syncRunner, type WatchHost, type WatchRequest, type WatchRunOptions } from './sync/start-watch.js';
import type { WatchResult } from './sync/sync-session.js';
import { requestStop, type StopMode } from './sync/sync-sessions.js';
import { syncStatusOf } from './sync/sync-status.js';
import { systemClock, type Clock } from './transfer/throttle.js';

export type { DatasetTarget };

export interface UploadRequest extends DatasetTarget {
  sources: string[];
  /** Show what would be sent, skipped or in conflict: a job of its own kind that sends and records nothing. */
  dryRun?: boolean;
  /** Cancel the unfinished job of the same dataset, destination and sources, and start a new one. */
  newJob?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: JobEvent) => void;
  /** Counts bytes read from local disk (tests prove one read pass with it). */
  onRead?: (bytes: number) => void;
}

export interface EngineServices {
  paths: DataPaths;
  journal: Journal;
  catalogue: LocalCatalogue;
  /** Facility catalogues: sign-in, outbox, worker (and the local catalogue as an adapter). */
  catalogues: CatalogueService;
  hashes: HashPool;
  credentials: CredentialStore;
  log: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
}

/**
 * What the operations above the engine (engine/operations: verify, fetch, reconcile, import,
 * register, catalogue retry) and the app backend's services may use. Each names the few parts it
 * touches with `Pick<OperationDeps, …>` in its signature; Engine.operationDeps() builds them.
 */
export interface OperationDeps extends JobCatalogueDeps {
  journal: Journal;
  credentials: CredentialStore;
  env: NodeJS.ProcessEnv;
  /** Builds and checks a destination (Engine.openDestination). */
  openDestination(resolved: ResolvedDestination, policy: UploadPolicy): Promise<Destination>;
  /** A batch upload through the one job lifecycle (Engine.upload). */
  upload(profile: FacilityProfile, req: UploadRequest): Promise<JobSummary>;
}

export class Engine {
  constructor(readonly services: EngineServices) {}

  /** Wires the services for one data folder. */
  static open(opts: { home?: string; keeper?: SecretKeeper; env?: NodeJS.ProcessEnv; clock?: Clock; log?: Logger } = {}): Engine {
    const env = opts.env ?? process.env;
    const paths = dataPaths(opts.home ?? dataRoot(env));
    const keeper = opts.keeper ?? osKeychain();
    const journal = new Journal(paths.journal);
    const catalogue = new LocalCatalogue(paths.catalogue);
    const log = opts.log ?? createLogger(paths.logs);
    const clock = opts.clock ?? systemClock;
    try {
      // Rows of the local catalogue from before dataset identities get their catalogue and visit from the journal (once).
      backfillLocalIdentities(catalogue, () => ({
        registrations: new OutboxStore(journal).identities(),
        jobs: journal.records(Number.MAX_SAFE_INTEGER),
      }));
    } catch (e) {
      log.warn({ error: String(e) }, 'the identities of earlier datasets could not be filled in from the journal');
    }
    return new Engine({
      paths,
      journal,
      catalogue,
      catalogues: new CatalogueService({ journal, local: catalogue, keeper, clock, dataDir: paths.root, log }),
      hashes: new HashPool(),
      credentials: new CredentialStore(keeper, env),
      log,
      clock,
      env,
    });
  }

  async close(): Promise<void> {
    await this.services.catalogues.dispose();
    await this.services.hashes.close();
    this.services.journal.close();
    this.services.catalogue.close();
  }

  /** Builds and checks a destination: unreachable or wrong credentials fail here, before any scan. */
  async openDestination(resolved: ResolvedDestination, policy: UploadPolicy): Promise<Destination> {
    const destination = await createDestination(resolved, {
      credentials: this.services.credentials,
      hashes: this.services.hashes,
      policy,
      env: this.services.env,
      createFilesystemRoot: resolved.name === DEFAULT_DESTINATION,
    });
    try {
      await destination.check();
    } catch (e) {
      await destination.close();
      throw e;
    }
    return destination;
  }

  /** A batch upload, or a dry run of one (`dryRun`): creates the job, or continues the unfinished one of the same dataset. */
  async upload(profile: FacilityProfile, req: UploadRequest): Promise<JobSummary> {
    const runner = batchRunner(req.dryRun ? 'dry-run' : 'batch', this.services, req);
    const r = await startJob(this.lifecycleHost(), profile, runner, {
      target: req,
      sources: req.sources,
      ...(req.newJob ? { newJob: true } : {}),
      kindOptions: (base) => base,
      ...(req.onEvent ? { onEvent: req.onEvent } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return r.summary;
  }

  /** Continues a paused or interrupted batch job with the settings it was started with. */
  async resume(jobId: number, req: Pick<UploadRequest, 'signal' | 'onEvent' | 'onRead'> = {}): Promise<JobSummary> {
    const r = await continueJob(this.lifecycleHost(), jobId, batchRunner('batch', this.services, req), {
      ...(req.onEvent ? { onEvent: req.onEvent } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return r.summary;
  }

  /** What jobs (batch and sync) need to record and register their files. */
  catalogueDeps(): JobCatalogueDeps {
    const s = this.services;
    return { catalogues: s.catalogues, local: s.catalogue, hashes: s.hashes, clock: s.clock, log: s.log, dataDir: s.paths.root };
  }

  /** The parts operations are built on (see OperationDeps), wired here once. */
  operationDeps(): OperationDeps {
    const s = this.services;
    return {
      ...this.catalogueDeps(),
      journal: s.journal,
      credentials: s.credentials,
      env: s.env,
      openDestination: (r, p) => this.openDestination(r, p),
      upload: (p, r) => this.upload(p, r),
    };
  }

  private lifecycleHost(): LifecycleHost {
    const s = this.services;
    return {
      journal: s.journal,
      clock: s.clock,
      log: s.log,
      catalogue: this.catalogueDeps(),
      openDestination: (r, p) => this.openDestination(r, p),
    };
  }

  /** Sync mode: watches folders and uploads each file once it is complete, until stopped (src/main/engine/sync). */
  async watch(profile: FacilityProfile, req: WatchRequest): Promise<WatchResult> {
    return startJob(this.lifecycleHost(), profile, syncRunner(this.watchHost(), req), {
      target: req,
      sources: req.folders,
      ...(req.newJob ? { newJob: true } : {}),
      kindOptions: syncJobOptions(profile, req),
      ...this.watchHooks(req),
    });
  }

  /** Continues a paused or crashed sync job with the settings it was started with. */
  resumeWatch(jobId: number, req: WatchRunOptions = {}): Promise<WatchResult> {
    return continueJob(this.lifecycleHost(), jobId, syncRunner(this.watchHost(), req), this.watchHooks(req));
  }

  /** A second Ctrl-C (pause) also stops waiting for the catalogue after the session. */
  private watchHooks(req: WatchRunOptions) {
    return {
      ...(req.onEvent ? { onEvent: req.onEvent } : {}),
      ...(req.pauseSignal ? { signal: req.pauseSignal } : {}),
      ...(req.onDatasetFinished ? { onDatasetFinished: req.onDatasetFinished } : {}),
    };
  }

  private watchHost(): WatchHost {
    const s = this.services;
    return { journal: s.journal, hashes: s.hashes, clock: s.clock, log: s.log };
  }

  /** Asks the process watching a sync job to finish (or pause) it, through the journal. */
  stopWatch(jobId: number, mode: StopMode): ReturnType<typeof requestStop> {
    return requestStop(this.services.journal, jobId, mode, this.services.clock.now());
  }

  syncStatus(jobId: number): ReturnType<typeof syncStatusOf> {
    return syncStatusOf(this.services.journal, jobId, this.services.clock.now());
  }

  /** Aborts stale multipart uploads and removes stale temporary files, sparing what the journal resumes. */
  async cleanup(
    profile: FacilityProfile,
    choice: { destination?: string; to?: string },
    olderThanMs: number,
  ): Promise<{ destination: string; removed: number }> {
    const resolved = resolveDestination(profile, choice);
    const destination = await this.openDestination(resolved, profile.upload);
    try {
      return {
        destination: resolved.name,
        removed: await destination.cleanup(
          olderThanMs,
          this.services.journal.openUploadIds(),
          this.services.journal.intendedKeys(),
        ),
      };
    } finally {
      await destination.close();
    }
  }

  requireJob(jobId: number): StoredJob {
    return requireJob(this.services.journal, jobId);
  }

  /** The unfinished job a start of this request would continue (the app refuses a second start of a running one). */
  unfinishedJob(profile: FacilityProfile, kind: JobKind, target: DatasetTarget, sources: string[]): StoredJob | null {
    return this.services.journal.findUnfinished({
      kind,
      identity: requestIdentity(profile, target),
      destination: requestDestination(profile, target).name,
      sources: sources.map((p) => resolve(p)),
    });
  }

  /** What `cancel` would do, said before anything is done; refuses as `cancelJob` would. */
  cancelPlan(jobId: number): RemovalPlan {
    return cancelPlan(this.services.journal, jobId, this.services.clock.now());
  }

  /** Stops an unfinished job for good: its stored files stay, the dataset is not finalised. */
  cancelJob(jobId: number): JobRecord {
    return cancelJob(this.services.journal, jobId, this.services.clock.now());
  }

  forgetPlan(jobId: number): RemovalPlan {
    return forgetPlan(this.services.journal, jobId, this.services.clock.now());
  }

  /** Removes a job that stored nothing (a refused start, a dry run, a cancelled job) from the journal. */
  forgetJob(jobId: number): JobRecord {
    return forgetJob(this.services.journal, jobId, this.services.clock.now());
  }

  summary(jobId: number): JobSummary {
    const job = this.services.journal.record(jobId) ?? this.requireJob(jobId);
    return summarise(this.services.journal, job.id, 0, (job.finishedAt ?? job.updatedAt) - job.createdAt);
  }

  /** Destinations a dataset's files were stored to, rebuilt from its jobs (a name alone: every dataset of that name). */
  datasetDestinations(dataset: string | DatasetIdentity): Map<string, ResolvedDestination & { policy: UploadPolicy }> {
    const out = new Map<string, ResolvedDestination & { policy: UploadPolicy }>();
    const { journal } = this.services;
    const jobs = typeof dataset === 'string' ? journal.jobsNamed(dataset) : journal.jobsOfDataset(dataset);
    for (const job of jobs) {
      if (job.kind === 'dry-run') continue;
      const o = job.options;
      out.set(job.destination, { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc, policy: o.policy });
    }
    return out;
  }
}
