// The engine's entry into sync mode: checks the request, creates the sync job (or continues the
// unfinished one of the same dataset, destination and folders), opens the destination, and runs a
// SyncSession until it is stopped. `resumeWatch` continues a paused or crashed job by number with
// the settings it was started with. The engine supplies the catalogue side (sink, finalisation).
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import type { JobEvent, JobSummary } from '../../../shared/model.js';
import type { DestinationConfig, FacilityProfile, UploadPolicy } from '../../../shared/profile-schema.js';
import { mergeRules, type SyncRuleSet } from '../../../shared/profile-sync-schema.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import { datasetJobOptions, type DatasetTarget } from '../dataset-target.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { Journal, StoredJob } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Destination } from '../storage/destination.js';
import { resolveDestination, type ResolvedDestination } from '../storage/resolve-destination.js';
import { parseBandwidthSchedule } from '../transfer/bandwidth-schedule.js';
import { Throttle, type Clock } from '../transfer/throttle.js';
import { resolveSyncFolders, syncSettings } from './sync-rules.js';
import { SyncSession, type SyncJobOptions, type WatchResult } from './sync-session.js';

export interface WatchRunOptions {
  /** Aborting it ends the acquisition: finish what is complete, then finalise the dataset. */
  signal?: AbortSignal;
  /** Aborting it pauses at once (transfers in flight stay journaled); resumable. */
  pauseSignal?: AbortSignal;
  onEvent?: (e: JobEvent) => void;
  /** Called once the dataset was finalised (after the catalogue's own finalisation). */
  onDatasetFinished?: (summary: JobSummary) => void | Promise<void>;
  /** Hands out the running session (e.g. to show its status). */
  onSession?: (session: SyncSession) => void;
}

export interface WatchRequest extends WatchRunOptions, DatasetTarget {
  folders: string[];
  /** Sync rules of this technique from the profile (sync.techniques). */
  technique?: string;
  /** Overrides of every folder's rules from the command line (--poll, --quiet-period). */
  rules?: SyncRuleSet;
}

/** What sync mode needs from the engine; wired in Engine (engine.ts). */
export interface WatchHost {
  journal: Journal;
  hashes: HashPool;
  clock: Clock;
  log: Logger;
  openDestination(resolved: ResolvedDestination, policy: UploadPolicy): Promise<Destination>;
  /** Where verified files go, and what finalises the dataset in the catalogue when the acquisition ends. */
  catalogueFor(
    job: StoredJob,
    destination: Destination,
    policy: UploadPolicy,
  ): Promise<{ sink: VerifiedFileSink; finished(summary: JobSummary): Promise<void> }>;
}

/** Same field names as the batch job's stored options, so verify and fetch find sync datasets too. */
type StoredSyncOptions = SyncJobOptions & { destinationConfig: DestinationConfig; adhoc: boolean; policy: UploadPolicy };

const usage = (field: string, message: string) => new BeamdropError({ code: 'config-invalid', retryable: false, field, message });

async function checkFolders(folders: string[]): Promise<string[]> {
  if (!folders.length) throw usage('folders', 'no folder given; name at least one FOLDER to watch.');
  return Promise.all(
    folders.map(async (f) => {
      const abs = resolve(f);
      const st = await stat(abs).catch(() => null);
      if (!st)
        throw new BeamdropError({
          code: 'not-found',
          retryable: false,
          file: abs,
          message: `${abs}: no such folder; check the path (create it first if the detector has not written yet).`,
        });
      if (!st.isDirectory())
        throw usage(
          'folders',
          `${abs} is a file, not a folder; \`beamdrop watch\` takes folders (upload single files with \`beamdrop upload\`).`,
        );
      return abs;
    }),
  );
}

function findUnfinishedSync(journal: Journal, dataset: string, destination: string, sources: string[]): StoredJob | null {
  const r = journal.db
    .prepare(
      `SELECT id FROM jobs WHERE kind = 'sync' AND dataset = ? AND destination = ? AND sources = ? AND state NOT IN ('done', 'failed') ORDER BY id DESC LIMIT 1`,
    )
    .get(dataset, destination, JSON.stringify(sources)) as { id: number } | undefined;
  return r ? journal.job(r.id) : null;
}

export async function startWatch(
  host: WatchHost,
  profile: FacilityProfile,
  req: WatchRequest,
  extra: Record<string, unknown> = {},
): Promise<WatchResult> {
  if (!req.dataset.trim()) throw usage('dataset', 'the dataset name is empty; give --dataset NAME.');
  const sources = await checkFolders(req.folders);
  const policy: UploadPolicy = {
    ...profile.upload,
    ...Object.fromEntries(Object.entries(req.policy ?? {}).filter(([, v]) => v !== undefined)),
  };
  const resolved = resolveDestination(profile, {
    ...(req.destination ? { destination: req.destination } : {}),
    ...(req.to ? { to: req.to } : {}),
  });
  const technique = req.technique ?? null;
  const folders = resolveSyncFolders(profile, sources, technique).map((f) => ({ ...f, rules: mergeRules(f.rules, req.rules) }));
  const destination = await host.openDestination(resolved, policy);
  try {
    let job = findUnfinishedSync(host.journal, req.dataset, resolved.name, sources);
    const resumed = job !== null;
    if (!job) {
      const options: StoredSyncOptions = {
        ...datasetJobOptions(profile, req, resolved, host.clock.now()),
        destinationConfig: resolved.config,
        adhoc: resolved.adhoc,
        policy,
        sync: { folders, settings: syncSettings(profile, technique) },
        ...extra,
      };
      job = host.journal.createJob({
        kind: 'sync',
        dataset: req.dataset,
        proposal: req.proposal ?? null,
        destination: resolved.name,
        sources,
        metadata: req.metadata ?? {},
        options: options as unknown as Record<string, unknown>,
      });
    }
    return await runSession(host, job, resumed, destination, policy, req);
  } finally {
    await destination.close();
  }
}

/** Continues a paused or crashed sync job with the settings it was started with. */
export async function resumeWatch(host: WatchHost, jobId: number, req: WatchRunOptions): Promise<WatchResult> {
  const job = host.journal.job(jobId);
  if (!job)
    throw new BeamdropError({
      code: 'job-not-found',
      retryable: false,
      message: `there is no job ${jobId}; \`beamdrop status\` lists the jobs.`,
    });
  if (job.kind !== 'sync') throw usage('job', `job ${jobId} is a batch upload; continue it with \`beamdrop resume ${jobId}\`.`);
  if (job.state === 'done')
    throw usage(
      'job',
      `job ${jobId} has finished and its dataset "${job.dataset}" was finalised; start a new watch to add files.`,
    );
  const o = job.options as unknown as StoredSyncOptions;
  const destination = await host.openDestination(
    { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc },
    o.policy,
  );
  try {
    return await runSession(host, job, true, destination, o.policy, req);
  } finally {
    await destination.close();
  }
}

async function runSession(
  host: WatchHost,
  job: StoredJob,
  resumed: boolean,
  destination: Destination,
  policy: UploadPolicy,
  req: WatchRunOptions,
): Promise<WatchResult> {
  const o = job.options as unknown as StoredSyncOptions;
  const { sink, finished } = await host.catalogueFor(job, destination, policy);
  const session = new SyncSession({
    job,
    options: o,
    resumed,
    journal: host.journal,
    hashes: host.hashes,
    destination,
    clock: host.clock,
    log: host.log,
    policy,
    sink,
    throttle: policy.bandwidth === 'off' ? null : new Throttle(parseBandwidthSchedule(policy.bandwidth), host.clock),
    onEvent: (e) => {
      if (e.type === 'file-state' && e.state === 'failed')
        host.log.warn({ jobId: job.id, file: e.relpath, error: e.error }, 'file failed');
      if (e.type === 'sync-note')
        host.log.info({ jobId: job.id, kind: e.kind, file: e.relpath, message: e.message }, 'sync note');
      req.onEvent?.(e);
    },
    onDatasetFinished: async (summary) => {
      await finished(summary);
      host.journal.event(job.id, null, 'dataset-finished', { counts: summary.counts });
      await req.onDatasetFinished?.(summary);
    },
  });
  req.onSession?.(session);
  const finish = () => session.requestStop('finish');
  const pause = () => session.requestStop('pause');
  if (req.signal?.aborted) finish();
  else req.signal?.addEventListener('abort', finish, { once: true });
  if (req.pauseSignal?.aborted) pause();
  else req.pauseSignal?.addEventListener('abort', pause, { once: true });
  host.log.info(
    {
      jobId: job.id,
      dataset: job.dataset,
      destination: job.destination,
      resumed,
      folders: o.sync.folders.map((f) => ({ path: f.path, mode: f.rules.mode })),
    },
    'watch started',
  );
  try {
    const result = await session.run();
    host.log.info({ jobId: job.id, state: result.summary.job.state, counts: result.summary.counts }, 'watch ended');
    return result;
  } finally {
    req.signal?.removeEventListener('abort', finish);
    req.pauseSignal?.removeEventListener('abort', pause);
  }
}
