// One path for every job, batch upload, sync session or dry run: check the request, create the job
// or continue the unfinished one of the same dataset, destination and sources (saying what
// differs), take it for this process, run it, and finalise the dataset when the job finished.
// The kinds differ only in how they run (KindRunner: job-runner.ts, sync/start-watch.ts).
import { BeamdropError } from '../../../shared/errors.js';
import {
  ENDED_JOB_STATES,
  datasetLabel,
  jobIdentity,
  type DatasetIdentity,
  type JobEvent,
  type JobKind,
  type JobSummary,
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
import {
  claimSession,
  endSession,
  heartbeat,
  holdsLease,
  inLeaseTransaction,
  refuseWhileBusy,
  refuseWhileDatasetBusy,
} from '../sync/sync-sessions.js';
import type { Clock } from '../transfer/throttle.js';
import type { BatchJobOptions, OptionsByKind } from './job-options.js';
import { keyPrefix, summarise } from './job-runner.js';
import { noSuchJob } from './no-such-job.js';
import { endForGood } from './job-removal.js';
import { sweepLeftovers } from './leftovers.js';
import { continuedOptions, keptNote, optionChanges, optionsDiffer, updatedNote, type Difference } from './option-changes.js';
import { datasetFolder, refuseSharedFolder } from './shared-folder.js';

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
  /** What it hands back for a job that ended with this summary (after finalisation, or when only finalisation was left). */
  ended(summary: JobSummary): R;
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

  // What to do: continue the unfinished job of the same dataset, destination and sources, or
  // create one. Decided once now, so that a refusal costs no connection, and again after the
  // destination was opened, in the one transaction that also takes the job for this process:
  // another process may have created, taken or finished a job of the dataset meanwhile.
  const decide = () =>
    decideJob(journal, profile, kind, { identity, resolved, sources, options, metadata }, req.newJob, host.clock.now());
  decide();

  // Unreachable or wrong credentials fail here, before any job is created or changed.
  const destination = await host.openDestination(resolved, policy);
  try {
    const opened = inLeaseTransaction(journal, () => {
      const { plan, runOptions, folder } = decide();
      let job: StoredJob;
      const notes: JobEvent[] = [];
      if ('continue' in plan) {
        const old = plan.continue as StoredJob & { kind: K };
        journal.updateJob(
          old.id,
          kind,
          { metadata, options: runOptions },
          plan.updated.length || plan.kept.length
            ? { changed: plan.updated.map((d) => d.what), kept: plan.kept.map((d) => d.what) }
            : null,
        );
        job = journal.job(old.id)!;
        if (plan.updated.length)
          notes.push({ type: 'job-note', jobId: job.id, kind: 'options-updated', message: updatedNote(job, plan.updated) });
        if (plan.kept.length)
          notes.push({ type: 'job-note', jobId: job.id, kind: 'options-kept', message: keptNote(job, plan.kept) });
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
          options: runOptions,
        } as NewJob);
        if (folder)
          notes.push({
            type: 'job-note',
            jobId: job.id,
            kind: 'options-kept',
            message: `dataset ${datasetLabel(identity)} already has files under "${folder.prefix}" on "${resolved.name}" (job ${folder.jobId}), stored with the key template "${folder.keyTemplate}"; job ${job.id} keeps it, so that the dataset stays in one folder. The destination's key template is "${options.keyTemplate}" now, which new datasets get.`,
          });
        if (plan.replace) {
          const old = plan.replace;
          const stored = journal.storedCount(old.id);
          // The same act as `beamdrop cancel`: its partial multipart uploads are released too.
          endForGood(journal, old.id, `replaced by job ${job.id} (--new-job).`);
          notes.push({
            type: 'job-note',
            jobId: job.id,
            kind: 'job-replaced',
            message: `job ${old.id} of dataset ${datasetLabel(identity)} was cancelled and replaced by job ${job.id} (--new-job); ${stored ? `the ${stored} file(s) it stored stay at "${old.destination}" and stay recorded.` : 'it had stored no file.'}`,
          });
        }
      }
      claimSession(journal, job.id, host.clock.now());
      // A rerun with other -p values: the facility catalogue's registration takes them too.
      const metadataChanged = 'continue' in plan && plan.updated.some((d) => d.what.startsWith('-p '));
      return { job: job as StoredJobOf<K>, resumed: 'continue' in plan, notes, metadataChanged };
    });
    return await runJobLifecycle(host, opened.job, opened.resumed, destination, policy, runner, req, opened.notes, {
      metadataChanged: opened.metadataChanged,
    });
  } finally {
    await destination.close();
  }
}

type JobPlan = { continue: StoredJob; updated: Difference[]; kept: Difference[] } | { replace: StoredJob | null };

/**
 * Whether a request continues the unfinished job of its dataset, destination and sources or
 * creates one (replacing that one with --new-job), with the options it runs with; refuses while
 * that job or any job of the dataset runs in another process, and when the options differ or
 * the storage folder is another dataset's. Reads only: it runs again in the lease transaction.
 */
function decideJob<K extends JobKind>(
  journal: Journal,
  profile: FacilityProfile,
  kind: K,
  r: {
    identity: DatasetIdentity;
    resolved: ResolvedDestination;
    sources: string[];
    options: OptionsByKind[K];
    metadata: Record<string, string>;
  },
  newJob: boolean | undefined,
  now: number,
): { plan: JobPlan; runOptions: OptionsByKind[K]; folder: ReturnType<typeof datasetFolder> } {
  // A dry run is never continued and never continues a real job: each is its own.
  const existing =
    kind === 'dry-run'
      ? null
      : journal.findUnfinished({ kind, identity: r.identity, destination: r.resolved.name, sources: r.sources });
  let plan: JobPlan;
  if (existing && !newJob) {
    // The job this request would run is running elsewhere: the caller may follow it (sameJob).
    refuseWhileBusy(journal, existing.id, now, `continue job ${existing.id}`, { sameJob: true });
    const changes = optionChanges(existing as StoredJob & { kind: K }, r.metadata, r.options, profile);
    if (changes.refused.length) throw optionsDiffer(existing, changes.refused);
    plan = { continue: existing, updated: changes.updated, kept: changes.kept };
  } else {
    if (existing) refuseWhileBusy(journal, existing.id, now, `replace job ${existing.id} with a new job`);
    plan = { replace: existing };
  }
  // One job at a time writes into a dataset (a dry run only looks).
  if (kind !== 'dry-run') refuseWhileDatasetBusy(journal, r.identity, null, now);
  // What the job runs with: a continued one keeps the file selection and keys it was started with;
  // a new job of a dataset that already has files on this storage keeps their key template.
  let runOptions = 'continue' in plan ? continuedOptions(plan.continue as StoredJob & { kind: K }, r.options) : r.options;
  const folder = 'continue' in plan ? null : datasetFolder(journal, r.identity, r.resolved, runOptions);
  if (folder) runOptions = { ...runOptions, keyTemplate: folder.keyTemplate };
  // Two datasets never share a storage folder: refused before any job is created or changed.
  refuseSharedFolder(journal, r.identity, r.resolved, runOptions);
  return { plan, runOptions, folder };
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
  // Refused now when another process runs it (or another job of its dataset), so that a refusal
  // costs no connection; checked again below, in the transaction that takes it.
  const busy = (j: StoredJob) => {
    refuseWhileBusy(host.journal, jobId, host.clock.now(), `continue job ${jobId}`, { sameJob: true });
    refuseWhileDatasetBusy(host.journal, jobIdentity(j), jobId, host.clock.now());
  };
  busy(job);
  const o = job.options;
  const destination = await host.openDestination(
    { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc },
    o.policy,
  );
  try {
    const current = inLeaseTransaction(host.journal, () => {
      // Another process may have run it meanwhile: ended now, or holding it.
      const j = requireJob(host.journal, jobId);
      refuseEnded(host.journal, j);
      busy(j);
      claimSession(host.journal, jobId, host.clock.now());
      return j as StoredJobOf<K>;
    });
    return await runJobLifecycle(host, current, true, destination, o.policy, runner, hooks, []);
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

/** Runs the job this process took (claimSession), finalises the dataset if the job finished, releases it. */
async function runJobLifecycle<K extends JobKind, R extends { summary: JobSummary }>(
  host: LifecycleHost,
  job: StoredJobOf<K>,
  resumed: boolean,
  destination: Destination,
  policy: UploadPolicy,
  runner: KindRunner<K, R>,
  hooks: LifecycleHooks,
  notes: JobEvent[],
  opened: { metadataChanged?: boolean } = {},
): Promise<R> {
  const { journal, log, clock } = host;
  const logged = loggedEvents(log, job.id, hooks.onEvent);
  // Notes of how the job was opened (options updated, job replaced) follow its job-started event.
  let pending = notes;
  // The runner's summary of a job whose files are all settled (`finishing`) is held back and
  // told after the finalisation, with the state the job then has.
  let held: JobSummary | null = null;
  const onEvent = (e: JobEvent) => {
    if (e.type === 'job-finished' && e.summary.job.state === 'finishing') {
      held = e.summary;
      return;
    }
    logged(e);
    if (e.type !== 'job-started' || !pending.length) return;
    const flush = pending;
    pending = [];
    for (const n of flush) logged(n);
  };
  // The heartbeat says this process holds the job; a runner with its own writes it while it runs.
  let timer: NodeJS.Timeout | null = null;
  let lost = false;
  const beat = () => {
    timer ??= setInterval(() => {
      try {
        heartbeat(journal, job.id, clock.now(), 0, null);
        // Taken over as stale (this process was stopped for longer than HEARTBEAT_STALE_MS, seen from another host).
        if (!lost && !holdsLease(journal, job.id)) {
          lost = true;
          log.warn({ jobId: job.id }, 'another process took this job over; this one no longer holds it');
        }
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
            metadataChanged: opened.metadataChanged ?? false,
          });
    if (cat) pending.push(...cat.notes);
    log.info({ jobId: job.id, kind: job.kind, dataset: job.dataset, destination: job.destination, resumed }, 'job started');
    await sweepLeftovers(host, job, destination, 'start');
    let result: R;
    if (job.state === 'finishing') {
      // Every file was settled but the finalisation was cut short (a second Ctrl-C, a crash):
      // only the finalisation is left. Nothing is sent again, no folder is watched again.
      onEvent({ type: 'job-started', jobId: job.id, dataset: job.dataset, destination: job.destination, resumed: true });
      onEvent({
        type: 'job-note',
        jobId: job.id,
        kind: 'finalising',
        message: `job ${job.id} had settled every file, but dataset ${datasetLabel(jobIdentity(job))} was not finalised (its process was stopped first); it is finalised now, nothing is sent again.${job.kind === 'sync' ? ' A new `beamdrop watch` of the dataset starts a new session.' : ''}`,
      });
      held = summarise(journal, job.id, 0, 0);
      result = runner.ended(held);
    } else {
      result = await runner.run({ job, resumed, destination, policy, sink: cat?.sink ?? DRY_RUN_SINK, onEvent });
    }
    const { summary } = result;
    beat();
    log.info({ jobId: job.id, state: summary.job.state, counts: summary.counts, bytes: summary.bytesSent }, 'job ended');
    // The one finalisation of every kind: a job whose files are all settled (a batch upload that
    // looked at every file, a sync session whose acquisition ended and whose backlog drained) is
    // `finishing`; it becomes `done` once its dataset is finalised. Never a dry run.
    const finished = job.kind !== 'dry-run' && summary.job.state === 'finishing';
    // Finalised (complete, the catalogue told, the crate written or its failure told): the job is
    // `done`, before any wait for the catalogue's answer, which is only reported.
    let final: JobSummary | null = null;
    const finalised = () => {
      if (final || !finished) return;
      journal.batch(() => {
        journal.setJobState(job.id, 'done');
        journal.event(job.id, null, 'dataset-finished', { counts: summary.counts });
      });
      final = { ...summary, job: journal.record(job.id)! };
      logged({ type: 'job-finished', summary: final });
      onEvent({
        type: 'job-note',
        jobId: job.id,
        kind: 'dataset-finalised',
        message: `dataset ${datasetLabel(jobIdentity(job))} finalised: ${journal.storedCount(job.id)} file(s) stored and verified.`,
      });
    };
    if (finished) await sweepLeftovers(host, job, destination, 'end');
    try {
      if (cat)
        await cat.afterJob(summary, {
          destination,
          keyOf,
          finished,
          onEvent,
          onFinalised: finalised,
          ...(hooks.signal ? { signal: hooks.signal } : {}),
        });
    } catch (e) {
      // Not finalised: the job stays `finishing` (the next resume or rerun finalises it); its summary says so.
      if (held && !final) logged({ type: 'job-finished', summary: held });
      throw e;
    }
    if (!finished) return result;
    finalised();
    await hooks.onDatasetFinished?.(final!);
    return runner.ended(final!);
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
