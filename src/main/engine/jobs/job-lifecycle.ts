// One path for every job, batch upload, sync session or dry run: check the request, create the job
// or continue the unfinished one of the same dataset, destination and sources (saying what
// differs), take it for this process, run it, and finalise the dataset when the job finished.
// The kinds differ only in how they run (KindRunner: job-runner.ts, sync/start-watch.ts).
import { BeamdropError } from '../../../shared/errors.js';
import {
  ENDED_JOB_STATES,
  datasetLabel,
  type DatasetIdentity,
  type JobEvent,
  type JobKind,
  type JobSummary,
  type RegistrationStatus,
} from '../../../shared/model.js';
import type { FacilityProfile, UploadPolicy } from '../../../shared/profile-schema.js';
import { openJobCatalogue, prepareJobCatalogue, type JobCatalogueDeps } from '../catalogue/job-catalogue.js';
import { catalogueIdentity } from '../catalogue/outbox/registration-request.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import { checkDatasetNames, checkSources, datasetJobOptions, type DatasetTarget } from '../dataset-target.js';
import type { Journal, NewJob, StoredJob, StoredJobOf } from '../journal/journal.js';
import { renderKey } from '../keys/key-template.js';
import type { Logger } from '../log/logger.js';
import type { Destination } from '../storage/destination.js';
import { resolveDestination, type ResolvedDestination } from '../storage/resolve-destination.js';
import { claimSession, endSession, heartbeat, refuseWhileBusy, refuseWhileDatasetBusy } from '../sync/sync-sessions.js';
import type { Clock } from '../transfer/throttle.js';
import type { BatchJobOptions, OptionsByKind } from './job-options.js';
import { keyPrefix } from './job-runner.js';
import { noSuchJob } from './no-such-job.js';
import { continuedOptions, optionChanges, optionsDiffer, updatedNote } from './option-changes.js';

export interface LifecycleHost {
  journal: Journal;
  clock: Clock;
  log: Logger;
  catalogue: JobCatalogueDeps;
  openDestination(resolved: ResolvedDestination, policy: UploadPolicy): Promise<Destination>;
}

/** What a job of one kind gets to run with, once it exists and this process holds it. */
export interface RunContext<K extends JobKind> {
  job: StoredJobOf<K>;
  resumed: boolean;
  destination: Destination;
  policy: UploadPolicy;
  sink: VerifiedFileSink;
  onEvent(e: JobEvent): void;
}

/** How a job of one kind runs; R is what it hands back besides the summary (sync: its status). */
export interface KindRunner<K extends JobKind, R extends { summary: JobSummary }> {
  kind: K;
  run(ctx: RunContext<K>): Promise<R>;
  /** The runner writes its own heartbeat (a sync session: it reads stop requests with it). */
  ownHeartbeat?: boolean;
}

export interface LifecycleHooks {
  onEvent?: (e: JobEvent) => void;
  /** Aborting it stops waiting for the catalogue after the job (Ctrl-C). */
  signal?: AbortSignal;
  /** Called once the dataset was finalised. */
  onDatasetFinished?: (summary: JobSummary) => void | Promise<void>;
}

export interface StartRequest<K extends JobKind> extends LifecycleHooks {
  target: DatasetTarget;
  sources: string[];
  /** Cancel the unfinished job of the same dataset, destination and sources, and start a new one. */
  newJob?: boolean;
  /** The options only this kind stores (sync: folders and settings), added to the batch ones. */
  kindOptions(base: BatchJobOptions, sources: string[]): OptionsByKind[K];
}

const HEARTBEAT_MS = 1000;

/** A dry run records nothing: a sink that is called is a bug, and says so. */
const DRY_RUN_SINK: VerifiedFileSink = {
  fileVerified(f) {
    throw new BeamdropError({
      code: 'internal',
      retryable: false,
      file: f.relpath,
      message: `a dry run tried to record ${f.relpath}; nothing was recorded.`,
    });
  },
};

/** The dataset a request names, in the catalogue of this profile. */
export function requestIdentity(profile: FacilityProfile, target: DatasetTarget): DatasetIdentity {
  return {
    catalogue: catalogueIdentity(profile.catalogue),
    proposal: target.proposal || null,
    visit: target.visit || null,
    name: target.dataset,
  };
}

export function requestPolicy(profile: FacilityProfile, target: DatasetTarget): UploadPolicy {
  const flags = Object.fromEntries(Object.entries(target.policy ?? {}).filter(([, v]) => v !== undefined));
  return { ...profile.upload, ...flags };
}

export function requestDestination(profile: FacilityProfile, target: DatasetTarget): ResolvedDestination {
  return resolveDestination(profile, {
    ...(target.destination ? { destination: target.destination } : {}),
    ...(target.to ? { to: target.to } : {}),
  });
}

/**
 * Starts a job of any kind: everything that can refuse the request (names, sources, metadata,
 * sign-in, differing options, the destination) is checked before a job is created or changed.
 */
export async function startJob<K extends JobKind, R extends { summary: JobSummary }>(
  host: LifecycleHost,
  profile: FacilityProfile,
  runner: KindRunner<K, R>,
  req: StartRequest<K>,
): Promise<R> {
  const { journal } = host;
  const kind = runner.kind;
  checkDatasetNames(req.target);
  const sources = await checkSources(kind, req.sources);
  const policy = requestPolicy(profile, req.target);
  const resolved = requestDestination(profile, req.target);
  const identity = requestIdentity(profile, req.target);
  // Metadata checked against the technique template and, for a facility catalogue, a signed-in user.
  const catalogue = await prepareJobCatalogue(host.catalogue, profile, req.target, { requireLogin: kind !== 'dry-run' });
  const base: BatchJobOptions = {
    ...datasetJobOptions(profile, req.target, resolved, host.clock.now()),
    destinationConfig: resolved.config,
    adhoc: resolved.adhoc,
    policy,
    catalogue,
  };
  const options = req.kindOptions(base, sources);
  const metadata = req.target.metadata ?? {};

  // A dry run is never continued and never continues a real job: each is its own.
  const existing = kind === 'dry-run' ? null : journal.findUnfinished({ kind, identity, destination: resolved.name, sources });
  // One job at a time writes into a dataset (a dry run only looks).
  if (kind !== 'dry-run') refuseWhileDatasetBusy(journal, identity, null, host.clock.now());
  let plan: { continue: StoredJob; updated: ReturnType<typeof optionChanges>['updated'] } | { replace: StoredJob | null };
  if (existing && !req.newJob) {
    refuseWhileBusy(journal, existing.id, host.clock.now(), `continue job ${existing.id}`);
    const changes = optionChanges(existing as StoredJob & { kind: K }, metadata, options);
    if (changes.refused.length) throw optionsDiffer(existing, changes.refused);
    plan = { continue: existing, updated: changes.updated };
  } else {
    if (existing) refuseWhileBusy(journal, existing.id, host.clock.now(), `replace job ${existing.id} with a new job`);
    plan = { replace: existing };
  }

  // Unreachable or wrong credentials fail here, before any job is created or changed.
  const destination = await host.openDestination(resolved, policy);
  try {
    let job: StoredJob;
    const notes: JobEvent[] = [];
    if ('continue' in plan) {
      const old = plan.continue as StoredJob & { kind: K };
      journal.updateJob(
        old.id,
        kind,
        { metadata, options: continuedOptions(old, options) },
        plan.updated.length ? { changed: plan.updated.map((d) => d.what) } : null,
      );
      job = journal.job(old.id)!;
      if (plan.updated.length)
        notes.push({ type: 'job-note', jobId: job.id, kind: 'options-updated', message: updatedNote(job, plan.updated) });
    } else {
      job = journal.createJob({
        kind,
        dataset: identity.name,
        proposal: identity.proposal,
        visit: identity.visit,
        catalogue: identity.catalogue,
        destination: resolved.name,
        sources,
        metadata,
        options,
      } as NewJob);
      if (plan.replace) {
        const old = plan.replace;
        const stored = storedFiles(journal, old.id);
        journal.setJobState(old.id, 'cancelled', `replaced by job ${job.id} (--new-job).`);
        notes.push({
          type: 'job-note',
          jobId: job.id,
          kind: 'job-replaced',
          message: `job ${old.id} of dataset ${datasetLabel(identity)} was cancelled and replaced by job ${job.id} (--new-job); ${stored ? `the ${stored} file(s) it stored stay at "${old.destination}" and stay recorded.` : 'it had stored no file.'}`,
        });
      }
    }
    return await runJobLifecycle(host, job as StoredJobOf<K>, 'continue' in plan, destination, policy, runner, req, notes);
  } finally {
    await destination.close();
  }
}

/** Continues a paused or interrupted job by number, with the settings it was started with. */
export async function continueJob<K extends JobKind, R extends { summary: JobSummary }>(
  host: LifecycleHost,
  jobId: number,
  runner: KindRunner<K, R>,
  hooks: LifecycleHooks,
): Promise<R> {
  const job = requireJob(host.journal, jobId);
  refuseEnded(host.journal, job);
  if (job.kind !== runner.kind) {
    const how = job.kind === 'sync' ? `\`beamdrop watch --resume ${jobId}\`` : `\`beamdrop resume ${jobId}\``;
    throw new BeamdropError({
      code: 'job-state',
      retryable: false,
      field: 'job',
      message: `job ${jobId} is a ${job.kind === 'sync' ? 'sync job (a watch)' : 'batch upload'}; continue it with ${how}.`,
    });
  }
  refuseWhileBusy(host.journal, jobId, host.clock.now(), `continue job ${jobId}`);
  const o = job.options;
  const destination = await host.openDestination(
    { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc },
    o.policy,
  );
  try {
    return await runJobLifecycle(host, job as StoredJobOf<K>, true, destination, o.policy, runner, hooks, []);
  } finally {
    await destination.close();
  }
}

export function requireJob(journal: Journal, jobId: number): StoredJob {
  const job = Number.isInteger(jobId) && jobId > 0 ? journal.job(jobId) : null;
  if (!job) throw noSuchJob(jobId);
  return job;
}

/**
 * A failed or cancelled job, a finished sync session and a dry run are never continued: a rerun
 * starts a new job. A finished batch job is continued only for files put back in its queue
 * (the app's "retry failed files").
 */
function refuseEnded(journal: Journal, job: StoredJob): void {
  const refuse = (message: string) => new BeamdropError({ code: 'job-state', retryable: false, field: 'job', message });
  if (job.kind === 'dry-run')
    throw refuse(`job ${job.id} is a dry run; it is never continued. Run the upload without --dry-run to send the files.`);
  if (!ENDED_JOB_STATES.has(job.state)) return;
  const t = journal.totals(job.id);
  if (job.state === 'done' && job.kind === 'batch' && t.files > t.doneFiles) return;
  if (job.state === 'done')
    throw refuse(
      `job ${job.id} has finished and dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })} was finalised; run the upload (or watch) again to add files in a new job.`,
    );
  if (job.state === 'cancelled')
    throw refuse(`job ${job.id} was cancelled; start a new upload (or watch) of the dataset instead.`);
  throw refuse(`job ${job.id} failed${job.reason ? ` (${job.reason})` : ''}; fix the cause and start the upload again.`);
}

/** Files a job has stored (they stay at the destination and recorded whatever happens to the job). */
export function storedFiles(journal: Journal, jobId: number): number {
  const c = journal.counts(jobId);
  return (c.uploaded ?? 0) + (c.verified ?? 0) + (c.registered ?? 0) + (c.skipped ?? 0) + (c.changed ?? 0);
}

/** Takes the job for this process, runs it, finalises the dataset if the job finished, releases it. */
async function runJobLifecycle<K extends JobKind, R extends { summary: JobSummary }>(
  host: LifecycleHost,
  job: StoredJobOf<K>,
  resumed: boolean,
  destination: Destination,
  policy: UploadPolicy,
  runner: KindRunner<K, R>,
  hooks: LifecycleHooks,
  notes: JobEvent[],
): Promise<R> {
  const { journal, log, clock } = host;
  const logged = loggedEvents(log, job.id, hooks.onEvent);
  // Notes of how the job was opened (options updated, job replaced) follow its job-started event.
  let pending = notes;
  const onEvent = (e: JobEvent) => {
    logged(e);
    if (e.type !== 'job-started' || !pending.length) return;
    const flush = pending;
    pending = [];
    for (const n of flush) logged(n);
  };
  claimSession(journal, job.id, clock.now());
  // The heartbeat says this process holds the job; a runner with its own writes it while it runs.
  let timer: NodeJS.Timeout | null = null;
  const beat = () => {
    timer ??= setInterval(() => {
      try {
        heartbeat(journal, job.id, clock.now(), 0, null);
      } catch (e) {
        log.warn({ jobId: job.id, error: String(e) }, 'heartbeat failed');
      }
    }, HEARTBEAT_MS);
  };
  if (!runner.ownHeartbeat) beat();
  try {
    const o = job.options;
    const keyOf = (relpath: string) => renderKey(o.keyTemplate, { ...o.vars, relpath });
    const cat =
      job.kind === 'dry-run'
        ? null
        : await openJobCatalogue(host.catalogue, job, o.catalogue, {
            rootUri: destination.uri(keyPrefix(o)),
            policy,
            dryRun: false,
          });
    log.info({ jobId: job.id, kind: job.kind, dataset: job.dataset, destination: job.destination, resumed }, 'job started');
    const result = await runner.run({ job, resumed, destination, policy, sink: cat?.sink ?? DRY_RUN_SINK, onEvent });
    const { summary } = result;
    beat();
    log.info({ jobId: job.id, state: summary.job.state, counts: summary.counts, bytes: summary.bytesSent }, 'job ended');
    // The one finalisation of every kind: a job that ended `done` (a batch upload that sent
    // everything, a sync session whose acquisition ended and whose backlog drained). Never a dry run.
    const finished = job.kind !== 'dry-run' && summary.job.state === 'done';
    let registration: RegistrationStatus | null = null;
    if (cat)
      registration = await cat.afterJob(summary, {
        destination,
        keyOf,
        finished,
        onEvent,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      });
    if (finished) {
      journal.event(job.id, null, 'dataset-finished', { counts: summary.counts, registration: registration?.state ?? null });
      onEvent({
        type: 'job-note',
        jobId: job.id,
        kind: 'dataset-finalised',
        message: `dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })} finalised: ${(summary.counts.verified ?? 0) + (summary.counts.registered ?? 0) + (summary.counts.skipped ?? 0)} file(s) stored and verified.`,
      });
      await hooks.onDatasetFinished?.(summary);
    }
    return result;
  } finally {
    if (timer) clearInterval(timer);
    endSession(journal, job.id, clock.now());
  }
}

/** The job's events, with what the log keeps of them. */
function loggedEvents(log: Logger, jobId: number, onEvent: ((e: JobEvent) => void) | undefined): (e: JobEvent) => void {
  return (e) => {
    if (e.type === 'file-state' && e.state === 'failed') log.warn({ jobId, file: e.relpath, error: e.error }, 'file failed');
    else if (e.type === 'retry') log.info({ jobId, file: e.relpath, attempt: e.attempt, error: e.error }, 'retrying');
    else if (e.type === 'job-paused') log.warn({ jobId, reason: e.reason }, 'job paused');
    else if (e.type === 'sync-note') log.info({ jobId, kind: e.kind, file: e.relpath, message: e.message }, 'sync note');
    else if (e.type === 'job-note') log.info({ jobId, kind: e.kind, message: e.message }, 'job note');
    onEvent?.(e);
  };
}
