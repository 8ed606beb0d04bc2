// The engine's front door, used by the CLI and the Electron app alike. It owns the long-lived
// services (journal, local catalogue, hash workers, credentials, logger), wired here and nowhere
// else, and builds a destination per job.
import { BeamdropError } from '../../shared/errors.js';
import type { JobEvent, JobSummary } from '../../shared/model.js';
import type { DestinationConfig, FacilityProfile, UploadPolicy } from '../../shared/profile-schema.js';
import { LocalCatalogue } from './catalogue/local-catalogue.js';
import { CredentialStore, osKeychain, type SecretKeeper } from './credentials/credential-store.js';
import { HashPool } from './hash/hash-pool.js';
import { Journal, type StoredJob } from './journal/journal.js';
import { runJob, summarise, type JobOptions } from './jobs/job-runner.js';
import { createLogger, type Logger } from './log/logger.js';
import { dataPaths, dataRoot, type DataPaths } from './profile/data-dir.js';
import { DEFAULT_DESTINATION } from './profile/default-profile.js';
import { createDestination } from './storage/create-destination.js';
import type { Destination } from './storage/destination.js';
import { resolveDestination, type ResolvedDestination } from './storage/resolve-destination.js';
import { parseBandwidthSchedule } from './transfer/bandwidth-schedule.js';
import { systemClock, Throttle, type Clock } from './transfer/throttle.js';
import { resolve } from 'node:path';

export interface UploadRequest {
  sources: string[];
  dataset: string;
  proposal?: string;
  visit?: string;
  destination?: string;
  to?: string;
  include?: string[];
  exclude?: string[];
  metadata?: Record<string, string>;
  dryRun?: boolean;
  followSymlinks?: boolean;
  /** Overrides of the profile's upload policy (CLI flags). */
  policy?: Partial<Pick<UploadPolicy, 'concurrency' | 'partConcurrency' | 'bandwidth'>>;
  signal?: AbortSignal;
  onEvent?: (e: JobEvent) => void;
  /** Counts bytes read from local disk (tests prove one read pass with it). */
  onRead?: (bytes: number) => void;
}

export interface EngineServices {
  paths: DataPaths;
  journal: Journal;
  catalogue: LocalCatalogue;
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
}

export class Engine {
  constructor(readonly services: EngineServices) {}

  /** Wires the services for one data folder. */
  static open(opts: { home?: string; keeper?: SecretKeeper; env?: NodeJS.ProcessEnv; clock?: Clock; log?: Logger } = {}): Engine {
    const env = opts.env ?? process.env;
    const paths = dataPaths(opts.home ?? dataRoot(env));
    return new Engine({
      paths,
      journal: new Journal(paths.journal),
      catalogue: new LocalCatalogue(paths.catalogue),
      hashes: new HashPool(),
      credentials: new CredentialStore(opts.keeper ?? osKeychain(), env),
      log: opts.log ?? createLogger(paths.logs),
      clock: opts.clock ?? systemClock,
      env,
    });
  }

  async close(): Promise<void> {
    await this.services.hashes.close();
    this.services.journal.close();
    this.services.catalogue.close();
  }

  /** Builds and checks a destination: unreachable or wrong credentials fail here, before any scan. */
  async openDestination(resolved: ResolvedDestination, policy: UploadPolicy): Promise<Destination> {
    const destination = await createDestination(resolved, {
      credentials: this.services.credentials, hashes: this.services.hashes, policy, env: this.services.env,
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
    if (!req.dataset.trim()) throw new BeamdropError({ code: 'config-invalid', retryable: false, field: 'dataset', message: 'the dataset name is empty; give --dataset NAME.' });
    if (!req.sources.length) throw new BeamdropError({ code: 'config-invalid', retryable: false, field: 'sources', message: 'no files or folders given; name at least one PATH to upload.' });
    const policy: UploadPolicy = { ...profile.upload, ...definedOnly(req.policy ?? {}) };
    const resolved = resolveDestination(profile, { ...(req.destination ? { destination: req.destination } : {}), ...(req.to ? { to: req.to } : {}) });
    const sources = req.sources.map((s) => resolve(s));
    const destination = await this.openDestination(resolved, policy);
    try {
      const { journal } = this.services;
      let job = journal.findUnfinished(req.dataset, resolved.name, sources);
      const resumed = job !== null && !req.dryRun;
      if (!job || req.dryRun) {
        const options: StoredOptions = {
          include: [...profile.include, ...(req.include ?? [])],
          exclude: [...profile.exclude, ...(req.exclude ?? [])],
          followSymlinks: req.followSymlinks ?? false,
          keyTemplate: resolved.config.keyTemplate,
          vars: {
            facility: profile.facility || null, beamline: profile.beamline || null,
            proposal: req.proposal ?? null, visit: req.visit ?? null,
            dataset: req.dataset, date: new Date(this.services.clock.now()).toISOString().slice(0, 10),
          },
          destinationConfig: resolved.config, adhoc: resolved.adhoc, policy,
        };
        job = journal.createJob({
          kind: 'batch', dataset: req.dataset, proposal: req.proposal ?? null, destination: resolved.name,
          sources, metadata: req.metadata ?? {}, options: options as unknown as Record<string, unknown>,
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
    const destination = await this.openDestination({ name: job.destination, config: o.destinationConfig, adhoc: o.adhoc }, o.policy);
    try {
      return await this.run(job, true, destination, o.policy, req);
    } finally {
      await destination.close();
    }
  }

  private async run(job: StoredJob, resumed: boolean, destination: Destination, policy: UploadPolicy, req: Pick<UploadRequest, 'signal' | 'onEvent' | 'onRead' | 'dryRun'>): Promise<JobSummary> {
    const { log } = this.services;
    log.info({ jobId: job.id, dataset: job.dataset, destination: job.destination, resumed }, 'job started');
    const schedule = parseBandwidthSchedule(policy.bandwidth);
    const summary = await runJob(job, resumed, {
      journal: this.services.journal, catalogue: this.services.catalogue, hashes: this.services.hashes, destination,
      throttle: policy.bandwidth === 'off' ? null : new Throttle(schedule, this.services.clock),
      clock: this.services.clock, policy, dryRun: req.dryRun ?? false,
      ...(req.signal ? { signal: req.signal } : {}), ...(req.onRead ? { onRead: req.onRead } : {}),
      onEvent: (e) => {
        if (e.type === 'file-state' && e.state === 'failed') log.warn({ jobId: job.id, file: e.relpath, error: e.error }, 'file failed');
        if (e.type === 'retry') log.info({ jobId: job.id, file: e.relpath, attempt: e.attempt, error: e.error }, 'retrying');
        if (e.type === 'job-paused') log.warn({ jobId: job.id, reason: e.reason }, 'job paused');
        req.onEvent?.(e);
      },
    });
    log.info({ jobId: job.id, counts: summary.counts, bytes: summary.bytesSent, ms: summary.durationMs }, 'job finished');
    return summary;
  }

  /** Aborts stale multipart uploads and removes stale temporary files, sparing what the journal resumes. */
  async cleanup(profile: FacilityProfile, choice: { destination?: string; to?: string }, olderThanMs: number): Promise<{ destination: string; removed: number }> {
    const resolved = resolveDestination(profile, choice);
    const destination = await this.openDestination(resolved, profile.upload);
    try {
      return { destination: resolved.name, removed: await destination.cleanup(olderThanMs, this.services.journal.openUploadIds()) };
    } finally {
      await destination.close();
    }
  }

  requireJob(jobId: number): StoredJob {
    const job = this.services.journal.job(jobId);
    if (!job) throw new BeamdropError({ code: 'job-not-found', retryable: false, message: `there is no job ${jobId}; \`beamdrop status\` lists the jobs.` });
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
