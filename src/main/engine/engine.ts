// The engine's front door, used by the CLI and the Electron app alike. It owns the long-lived
// services (journal, local catalogue, hash workers, credentials, logger), wired here and nowhere
// else, and builds a destination per job.
import { BeamdropError } from '../../shared/errors.js';
import type { JobEvent, JobSummary } from '../../shared/model.js';
import type { DestinationConfig, FacilityProfile, UploadPolicy } from '../../shared/profile-schema.js';
import { CatalogueService } from './catalogue/catalogue-service.js';
import { openJobCatalogue, prepareJobCatalogue, type JobCatalogue, type JobCatalogueDeps } from './catalogue/job-catalogue.js';
import { LocalCatalogue } from './catalogue/local-catalogue.js';
import { CredentialStore, osKeychain, type SecretKeeper } from './credentials/credential-store.js';
import { HashPool } from './hash/hash-pool.js';
import { Journal, type StoredJob } from './journal/journal.js';
import { keyPrefix, runJob, summarise, type JobOptions } from './jobs/job-runner.js';
import { renderKey } from './keys/key-template.js';
import { createLogger, type Logger } from './log/logger.js';
import { dataPaths, dataRoot, type DataPaths } from './profile/data-dir.js';
import { DEFAULT_DESTINATION } from './profile/default-profile.js';
import { createDestination } from './storage/create-destination.js';
import type { Destination } from './storage/destination.js';
import { resolveDestination, type ResolvedDestination } from './storage/resolve-destination.js';
import { parseBandwidthSchedule } from './transfer/bandwidth-schedule.js';
import { systemClock, Throttle, type Clock } from './transfer/throttle.js';
import { resumeWatch, startWatch, type WatchHost, type WatchRequest, type WatchRunOptions } from './sync/start-watch.js';
import type { WatchResult } from './sync/sync-session.js';
import { requestStop, type StopMode } from './sync/sync-sessions.js';
import { syncStatusOf } from './sync/sync-status.js';
import { resolve } from 'node:path';
import { datasetJobOptions, type DatasetTarget } from './dataset-target.js';

export type { DatasetTarget };

export interface UploadRequest extends DatasetTarget {
  sources: string[];
  dryRun?: boolean;
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

interface StoredOptions extends JobOptions {
  destinationConfig: DestinationConfig;
  adhoc: boolean;
  policy: UploadPolicy;
  /** Technique, metadata, owner and registration key (absent in jobs of older versions: local only). */
  catalogue?: JobCatalogue;
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

  async upload(profile: FacilityProfile, req: UploadRequest): Promise<JobSummary> {
    if (!req.dataset.trim())
      throw new BeamdropError({
        code: 'config-invalid',
        retryable: false,
        field: 'dataset',
        message: 'the dataset name is empty; give --dataset NAME.',
      });
    if (!req.sources.length)
      throw new BeamdropError({
        code: 'config-invalid',
        retryable: false,
        field: 'sources',
        message: 'no files or folders given; name at least one PATH to upload.',
      });
    const policy: UploadPolicy = { ...profile.upload, ...definedOnly(req.policy ?? {}) };
    const resolved = resolveDestination(profile, {
      ...(req.destination ? { destination: req.destination } : {}),
      ...(req.to ? { to: req.to } : {}),
    });
    const sources = req.sources.map((s) => resolve(s));
    // Metadata checked against the technique template and, for a facility catalogue, a signed-in user: before anything is sent.
    const catalogue = await prepareJobCatalogue(this.catalogueDeps(), profile, req, { requireLogin: !req.dryRun });
    const destination = await this.openDestination(resolved, policy);
    try {
      const { journal } = this.services;
      let job = journal.findUnfinished(req.dataset, resolved.name, sources);
      const resumed = job !== null && !req.dryRun;
      if (!job || req.dryRun) {
        const options: StoredOptions = {
          ...datasetJobOptions(profile, req, resolved, this.services.clock.now()),
          destinationConfig: resolved.config,
          adhoc: resolved.adhoc,
          policy,
          catalogue,
        };
        job = journal.createJob({
          kind: 'batch',
          dataset: req.dataset,
          proposal: req.proposal ?? null,
          destination: resolved.name,
          sources,
          metadata: req.metadata ?? {},
          options: options as unknown as Record<string, unknown>,
        });
      }
      return await this.run(job, resumed, destination, policy, req);
    } finally {
      await destination.close();
    }
  }

  /** Continues a paused or interrupted job with the settings it was started with. */
  async resume(jobId: number, req: Pick<UploadRequest, 'signal' | 'onEvent' | 'onRead'> = {}): Promise<JobSummary> {
    const job = this.requireJob(jobId);
    const o = job.options as unknown as StoredOptions;
    const destination = await this.openDestination(
      { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc },
      o.policy,
    );
    try {
      return await this.run(job, true, destination, o.policy, req);
    } finally {
      await destination.close();
    }
  }

  private async run(
    job: StoredJob,
    resumed: boolean,
    destination: Destination,
    policy: UploadPolicy,
    req: Pick<UploadRequest, 'signal' | 'onEvent' | 'onRead' | 'dryRun'>,
  ): Promise<JobSummary> {
    const { log } = this.services;
    log.info({ jobId: job.id, dataset: job.dataset, destination: job.destination, resumed }, 'job started');
    const schedule = parseBandwidthSchedule(policy.bandwidth);
    const o = job.options as unknown as StoredOptions;
    const cat = await openJobCatalogue(this.catalogueDeps(), job, o.catalogue, {
      rootUri: destination.uri(keyPrefix(o)),
      policy,
      dryRun: req.dryRun ?? false,
    });
    const summary = await runJob(job, resumed, {
      sink: cat.sink,
      journal: this.services.journal,
      catalogue: this.services.catalogue,
      hashes: this.services.hashes,
      destination,
      throttle: policy.bandwidth === 'off' ? null : new Throttle(schedule, this.services.clock),
      clock: this.services.clock,
      policy,
      dryRun: req.dryRun ?? false,
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.onRead ? { onRead: req.onRead } : {}),
      onEvent: (e) => {
        if (e.type === 'file-state' && e.state === 'failed')
          log.warn({ jobId: job.id, file: e.relpath, error: e.error }, 'file failed');
        if (e.type === 'retry') log.info({ jobId: job.id, file: e.relpath, attempt: e.attempt, error: e.error }, 'retrying');
        if (e.type === 'job-paused') log.warn({ jobId: job.id, reason: e.reason }, 'job paused');
        req.onEvent?.(e);
      },
    });
    log.info({ jobId: job.id, counts: summary.counts, bytes: summary.bytesSent, ms: summary.durationMs }, 'job finished');
    await cat.afterJob(summary, {
      destination,
      keyOf: (relpath) => renderKey(o.keyTemplate, { ...o.vars, relpath }),
      ...(req.onEvent ? { onEvent: req.onEvent } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return summary;
  }

  /** What jobs (batch and sync) need to record and register their files. */
  catalogueDeps(): JobCatalogueDeps {
    const s = this.services;
    return { catalogues: s.catalogues, local: s.catalogue, hashes: s.hashes, clock: s.clock, log: s.log, dataDir: s.paths.root };
  }

  /** Sync mode: watches folders and uploads each file once it is complete, until stopped (src/main/engine/sync). */
  async watch(profile: FacilityProfile, req: WatchRequest): Promise<WatchResult> {
    const catalogue = await prepareJobCatalogue(this.catalogueDeps(), profile, req, { requireLogin: true });
    return startWatch(this.watchHost(), profile, req, { catalogue });
  }

  /** Continues a paused or crashed sync job with the settings it was started with. */
  resumeWatch(jobId: number, req: WatchRunOptions = {}): Promise<WatchResult> {
    return resumeWatch(this.watchHost(), jobId, req);
  }

  /** Asks the process watching a sync job to finish (or pause) it, through the journal. */
  stopWatch(jobId: number, mode: StopMode): ReturnType<typeof requestStop> {
    return requestStop(this.services.journal, jobId, mode, this.services.clock.now());
  }

  syncStatus(jobId: number): ReturnType<typeof syncStatusOf> {
    return syncStatusOf(this.services.journal, jobId, this.services.clock.now());
  }

  /** The catalogue seam of sync mode: the same sink and dataset finalisation as a batch job. */
  private watchHost(): WatchHost {
    const s = this.services;
    return {
      journal: s.journal,
      hashes: s.hashes,
      clock: s.clock,
      log: s.log,
      openDestination: (r, p) => this.openDestination(r, p),
      catalogueFor: async (job, destination, policy) => {
        const o = job.options as unknown as StoredOptions;
        const cat = await openJobCatalogue(this.catalogueDeps(), job, o.catalogue, {
          rootUri: destination.uri(keyPrefix(o)),
          policy,
          dryRun: false,
        });
        const keyOf = (relpath: string) => renderKey(o.keyTemplate, { ...o.vars, relpath });
        return {
          sink: cat.sink,
          finished: async (summary) => {
            await cat.afterJob(summary, { destination, keyOf });
          },
        };
      },
    };
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
        removed: await destination.cleanup(olderThanMs, this.services.journal.openUploadIds()),
      };
    } finally {
      await destination.close();
    }
  }

  requireJob(jobId: number): StoredJob {
    const job = this.services.journal.job(jobId);
    if (!job)
      throw new BeamdropError({
        code: 'job-not-found',
        retryable: false,
        message: `there is no job ${jobId}; \`beamdrop status\` lists the jobs.`,
      });
    return job;
  }

  summary(jobId: number): JobSummary {
    const job = this.requireJob(jobId);
    return summarise(this.services.journal, job.id, 0, (job.finishedAt ?? job.updatedAt) - job.createdAt);
  }

  /** Destinations a dataset's files were stored to, rebuilt from its jobs. */
  datasetDestinations(dataset: string): Map<string, ResolvedDestination & { policy: UploadPolicy }> {
    const out = new Map<string, ResolvedDestination & { policy: UploadPolicy }>();
    for (const job of this.services.journal.jobsOfDataset(dataset)) {
      const o = job.options as unknown as StoredOptions;
      out.set(job.destination, { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc, policy: o.policy });
    }
    return out;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
