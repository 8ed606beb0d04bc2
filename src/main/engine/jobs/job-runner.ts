// Runs one batch job (or dry run) from the journal: scan, list what the destination already has,
// transfer files with bounded concurrency, and finish with a summary. A rerun of the same job
// continues from the journal: finished files are not touched, interrupted ones resume. Creating,
// continuing and finalising the job is the lifecycle's (job-lifecycle.ts), as for sync jobs.
import { BeamdropError, type ErrorInfo } from '../../../shared/errors.js';
import {
  FINAL_FILE_STATES,
  type FileRecord,
  type FileState,
  type JobEvent,
  type JobSummary,
  type ScanNote,
} from '../../../shared/model.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { Journal, StoredJobOf } from '../journal/journal.js';
import { renderKey } from '../keys/key-template.js';
import { KeyClaims } from '../keys/remote-key.js';
import { scan } from '../scan/scanner.js';
import type { Destination, RemoteObject } from '../storage/destination.js';
import { parseBandwidthSchedule } from '../transfer/bandwidth-schedule.js';
import { Throttle, type Clock } from '../transfer/throttle.js';
import { isLocalDiskFull } from '../journal/local-disk-full.js';
import { backoffDelay, classifyError, isOutOfSpace } from './classify-error.js';
import { DestinationDown, transferFile } from './file-transfer.js';
import { markFinishing } from './finishing.js';
import type { KindRunner } from './job-lifecycle.js';
import type { JobOptions } from './job-options.js';
import { ProgressTracker } from './progress-tracker.js';
import { SpaceWait, type ProbeOutcome } from './space-wait.js';

export type { JobOptions };

export interface RunnerDeps {
  journal: Journal;
  hashes: HashPool;
  destination: Destination;
  throttle: Throttle | null;
  clock: Clock;
  policy: UploadPolicy;
  onEvent: (e: JobEvent) => void;
  signal?: AbortSignal;
  onRead?: (bytes: number) => void;
  /** Where verified files go: the local catalogue and the catalogue outbox (a dry run's records nothing). */
  sink: VerifiedFileSink;
}

/** A batch upload (or dry run) as a kind of job for the lifecycle (job-lifecycle.ts). */
export function batchRunner<K extends 'batch' | 'dry-run'>(
  kind: K,
  deps: Pick<RunnerDeps, 'journal' | 'hashes' | 'clock'>,
  req: { signal?: AbortSignal; onRead?: (bytes: number) => void },
): KindRunner<K, { summary: JobSummary }> {
  return {
    kind,
    async run({ job, resumed, destination, policy, sink, onEvent }) {
      const summary = await runJob(job, resumed, {
        ...deps,
        sink,
        destination,
        policy,
        throttle: policy.bandwidth === 'off' ? null : new Throttle(parseBandwidthSchedule(policy.bandwidth), deps.clock),
        onEvent,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.onRead ? { onRead: req.onRead } : {}),
      });
      return { summary };
    },
    ended: (summary) => ({ summary }),
  };
}

const SCAN_BATCH = 1000;
const PROGRESS_EVERY_MS = 250;

export async function runJob(job: StoredJobOf<'batch' | 'dry-run'>, resumed: boolean, d: RunnerDeps): Promise<JobSummary> {
  const started = d.clock.now();
  const { options } = job;
  const dryRun = job.kind === 'dry-run';
  // The operator's stop (Ctrl-C, `beamdrop stop`); each round of transfers adds its own.
  const operator = d.signal ?? new AbortController().signal;
  d.onEvent({ type: 'job-started', jobId: job.id, dataset: job.dataset, destination: job.destination, resumed });

  try {
    await scanInto(job, options, d);
  } catch (e) {
    // Stopped while scanning: the job is paused, not left "scanning"; a rerun scans again. A dry
    // run is never continued, so it ends cancelled, with words for a dry run.
    if (!d.signal?.aborted) throw e;
    if (dryRun) d.journal.setJobState(job.id, 'cancelled', dryRunStopped('it was stopped by the operator during the scan.'));
    else
      d.journal.setJobState(job.id, 'paused', 'stopped by the operator during the scan; run the same command again to resume.');
    const summary = summarise(d.journal, job.id, 0, d.clock.now() - started);
    d.onEvent({ type: 'job-finished', summary });
    return summary;
  }
  if (d.journal.totals(job.id).files === 0) {
    const error = nothingMatched(job.sources, options, await holdsAnyFile(job.sources, options, d.signal));
    d.journal.setJobState(job.id, 'failed', error.message);
    throw error;
  }
  d.journal.setJobState(job.id, 'running');

  const keyOf = (f: FileRecord) => renderKey(options.keyTemplate, { ...options.vars, relpath: f.relpath });
  // Set when the destination is down (during the listing, or by a worker); workers stop taking files.
  const stop: { pausedBy: ErrorInfo | null } = { pausedBy: null };
  let existing = new Map<string, RemoteObject>();
  try {
    existing = await listExisting(d, keyPrefix(options), operator);
  } catch (e) {
    if (!(e instanceof DestinationDown)) throw e;
    stop.pausedBy = e.info;
  }
  const { sink } = d;
  const tracker = new ProgressTracker(() => d.clock.now());
  const emitProgress = () => {
    const t = d.journal.totals(job.id);
    d.onEvent({
      type: 'progress',
      progress: {
        jobId: job.id,
        filesTotal: t.files,
        filesDone: t.doneFiles,
        bytesTotal: t.bytes,
        bytesDone: t.doneBytes,
        rate: tracker.rate(),
        eta: tracker.eta(Math.max(0, t.bytes - t.doneBytes)),
        counts: d.journal.counts(job.id),
      },
    });
  };
  const timer = setInterval(emitProgress, PROGRESS_EVERY_MS);
  const space = new SpaceWait({
    clock: d.clock,
    timing: d.policy.outOfSpace,
    signal: d.signal,
    onWaiting: (info, giveUpInMs) => {
      const reason = waitingReason(job.id, info, d.policy.outOfSpace, giveUpInMs);
      d.journal.setJobState(job.id, 'paused', reason);
      d.onEvent({ type: 'job-paused', jobId: job.id, reason });
    },
    onProbeScheduled: (attempt, delayMs, info) => {
      const relpath = smallestPending(d.journal, job.id)?.relpath ?? info.file ?? '';
      d.onEvent({ type: 'retry', jobId: job.id, relpath, attempt, delayMs, error: info });
    },
    onBack: (waitedMs) => {
      d.journal.setJobState(job.id, 'running');
      d.onEvent({
        type: 'job-note',
        jobId: job.id,
        kind: 'destination-back',
        message: `destination "${d.destination.name}" takes files again after ${minutes(waitedMs)} out of space; the upload goes on.`,
      });
    },
  });

  /** Sends one file; a destination that is down (or full) comes back as its reason, a stop as null. */
  const sendOne = async (file: FileRecord, signal: AbortSignal): Promise<{ down: ErrorInfo } | { state: FileState } | null> => {
    let key: string;
    try {
      key = keyOf(file);
    } catch (e) {
      const info = classifyError(e, { destination: d.destination.name, file: file.relpath }).info;
      d.journal.setFileState(file.id, 'failed', { error: info });
      d.onEvent({ type: 'file-state', jobId: job.id, relpath: file.relpath, state: 'failed', error: info });
      return { state: 'failed' };
    }
    try {
      const state = await transferFile(file, key, {
        journal: d.journal,
        sink,
        hashes: d.hashes,
        destination: d.destination,
        throttle: d.throttle,
        clock: d.clock,
        retries: d.policy.retries,
        dataset: job.dataset,
        existing,
        signal,
        dryRun,
        onState: (f, state, extra) =>
          d.onEvent({ type: 'file-state', jobId: job.id, relpath: f.relpath, state, remoteKey: key, ...extra }),
        onSent: (n) => tracker.add(n),
        onRetry: (f, attempt, delayMs, error) =>
          d.onEvent({ type: 'retry', jobId: job.id, relpath: f.relpath, attempt, delayMs, error }),
        ...(d.onRead ? { onRead: d.onRead } : {}),
      });
      if (state === 'verified' || state === 'skipped') space.stored();
      return { state };
    } catch (e) {
      if (e instanceof DestinationDown) return { down: e.info };
      if (signal.aborted && !isLocalDiskFull(e)) return null;
      throw e;
    }
  };

  /** One pass over the files still to send, `concurrency` at a time, until done or the destination is down. */
  const round = async (): Promise<ErrorInfo | null> => {
    const controller = new AbortController();
    const signal = AbortSignal.any([operator, controller.signal]);
    let down: ErrorInfo | null = null;
    const pending = d.journal.files(job.id).filter((f) => !FINAL_FILE_STATES.has(f.state));
    let next = 0;
    const worker = async () => {
      try {
        while (next < pending.length && !down && !signal.aborted) {
          const r = await sendOne(pending[next++]!, signal);
          if (r && 'down' in r) {
            down ??= r.down;
            controller.abort();
          }
        }
      } catch (e) {
        // E.g. the local disk is full: the other transfers stop too, before the error goes up.
        controller.abort();
        throw e;
      }
    };
    const width = Math.max(1, Math.min(d.policy.concurrency, pending.length));
    const ended = await Promise.allSettled(Array.from({ length: width }, worker));
    const failure = ended.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    return down;
  };

  /** While out of space: the smallest file still to send, alone. */
  const probe = async (): Promise<ProbeOutcome> => {
    const smallest = smallestPending(d.journal, job.id);
    if (!smallest) return { kind: 'stored' };
    const r = await sendOne(smallest, operator);
    if (r === null) return { kind: 'stopped' };
    if ('down' in r) return isOutOfSpace(r.down) ? { kind: 'full', info: r.down } : { kind: 'down', info: r.down };
    // Stored, or a problem of that file alone: either way the next round finds out about space.
    return { kind: 'stored' };
  };

  try {
    while (!stop.pausedBy && !operator.aborted) {
      const down = await round();
      if (!down) break;
      if (dryRun || !isOutOfSpace(down) || operator.aborted) {
        stop.pausedBy = down;
        break;
      }
      // Out of space: no file is failed for it; wait for space, then the next round.
      const w = await space.wait(down, probe);
      if (w.kind === 'back') continue;
      if (w.kind === 'gave-up') stop.pausedBy = { ...w.info, message: gaveUp(w.info, w.waitedMs) };
      else if (w.kind === 'down') stop.pausedBy = w.info;
      break;
    }
  } finally {
    clearInterval(timer);
  }
  emitProgress();

  if (dryRun && (stop.pausedBy || operator.aborted)) {
    // A dry run is never paused (nothing would continue it): stopped early, it ends cancelled.
    d.journal.setJobState(
      job.id,
      'cancelled',
      dryRunStopped(
        stop.pausedBy
          ? `${stop.pausedBy.message} Run it again when the destination is back.`
          : 'it was stopped by the operator before it had looked at every file.',
      ),
    );
  } else if (stop.pausedBy) {
    const when = isOutOfSpace(stop.pausedBy) ? 'once the storage admins have freed space' : 'when the destination is back';
    const reason = `paused: ${stop.pausedBy.message} Nothing partial was left at a final key; run the same command again (or \`beamdrop resume ${job.id}\`) ${when}.`;
    d.journal.setJobState(job.id, 'paused', reason);
    d.onEvent({ type: 'job-paused', jobId: job.id, reason });
  } else if (operator.aborted) {
    d.journal.setJobState(job.id, 'paused', 'stopped by the operator; run the same command again to resume.');
  } else if (dryRun) {
    // A dry run ends `done`: it is finished as a dry run, never left running, never continued.
    d.journal.setJobState(job.id, 'done');
  } else {
    // Every file is settled; the lifecycle finalises the dataset and only then ends the job done.
    markFinishing(d.journal, job);
  }
  const summary = summarise(d.journal, job.id, tracker.bytesSent, d.clock.now() - started);
  d.onEvent({ type: 'job-finished', summary });
  return summary;
}

/** The file a probe sends while the destination is out of space: the cheapest real write. */
function smallestPending(journal: Journal, jobId: number): FileRecord | undefined {
  let best: FileRecord | undefined;
  for (const f of journal.files(jobId)) if (!FINAL_FILE_STATES.has(f.state) && (!best || f.size < best.size)) best = f;
  return best;
}

function minutes(ms: number): string {
  return ms < 90_000 ? `${Math.max(1, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`;
}

/** The job's reason while it waits for space: which destination, what to do, until when. */
function waitingReason(jobId: number, info: ErrorInfo, timing: UploadPolicy['outOfSpace'], giveUpInMs: number): string {
  return (
    `waiting for space: ${info.message} No file is marked failed for it: Beamdrop tries again with one small file ` +
    `(first in ${minutes(timing.baseDelayMs)}, then less often, at most every ${minutes(timing.maxDelayMs)}) and goes on ` +
    `by itself once space is back. If none comes back within ${minutes(giveUpInMs)}, job ${jobId} stays paused and ` +
    `\`beamdrop resume ${jobId}\` continues it later.`
  );
}

/** The pause reason of a job that waited for space in vain. */
function gaveUp(info: ErrorInfo, waitedMs: number): string {
  return `${info.message} No space came back in ${minutes(waitedMs)} of waiting (policy upload.outOfSpace.waitMs); no file was marked failed for it.`;
}

/** Why a dry run ended before it had looked at every file; it is never continued. */
function dryRunStopped(why: string): string {
  return `dry run not finished: ${why} It sent and recorded nothing and is never continued; run the dry run again for the full preview.`;
}

async function scanInto(job: { id: number; sources: string[] }, options: JobOptions, d: RunnerDeps): Promise<void> {
  const notes: ScanNote[] = [];
  let batch: { path: string; relpath: string; size: number; mtimeMs: number }[] = [];
  let files = 0;
  let bytes = 0;
  const flush = () => {
    if (!batch.length) return;
    d.journal.addScannedFiles(job.id, batch);
    batch = [];
    d.onEvent({ type: 'scan-progress', jobId: job.id, files, bytes });
  };
  const claims = new KeyClaims();
  const twins = new Map<string, ErrorInfo>();
  for await (const item of scan(job.sources, {
    include: options.include,
    exclude: options.exclude,
    followSymlinks: options.followSymlinks,
    ...(d.signal ? { signal: d.signal } : {}),
  })) {
    if ('note' in item) {
      notes.push(item.note);
      d.journal.event(job.id, null, 'scan-note', item.note);
      continue;
    }
    const f = item.file;
    const twin = claims.claim(f.relpath);
    if (twin) twins.set(f.relpath, twin.toJSON());
    batch.push({ path: f.path, relpath: f.relpath, size: f.size, mtimeMs: f.mtimeMs });
    files++;
    bytes += f.size;
    if (batch.length >= SCAN_BATCH) flush();
  }
  flush();
  // A file whose key another file of this job already has fails with the reason, before any transfer.
  if (twins.size)
    for (const file of d.journal.files(job.id, { states: ['discovered'] })) {
      const error = twins.get(file.relpath);
      if (!error) continue;
      d.journal.setFileState(file.id, 'failed', { error });
      d.onEvent({ type: 'file-state', jobId: job.id, relpath: file.relpath, state: 'failed', error });
    }
  d.onEvent({ type: 'scan-done', jobId: job.id, files, bytes, notes });
}

/** Finding 5: filters (or an empty folder) that leave no file end the job as failed, saying which. */
function nothingMatched(sources: string[], o: JobOptions, anyFile: boolean): BeamdropError {
  const quoted = (globs: string[]) => globs.map((g) => `'${g}'`).join(', ');
  const filters = [
    o.include.length ? `include ${quoted(o.include)}` : null,
    o.exclude.length ? `exclude ${quoted(o.exclude)}` : null,
  ]
    .filter(Boolean)
    .join('; ');
  const where = sources.join(', ');
  return new BeamdropError({
    code: 'nothing-matched',
    retryable: false,
    field: 'sources',
    message:
      anyFile && filters
        ? `nothing to upload: no file in ${where} matches the filters in force (${filters}); check the patterns (the profile's include/exclude apply too) and start again.`
        : `nothing to upload: ${where} holds no file; check the path and start again once the files are there.`,
  });
}

/** Whether the sources hold a file at all, filters aside (which of the two messages fits). */
async function holdsAnyFile(sources: string[], o: JobOptions, signal: AbortSignal | undefined): Promise<boolean> {
  for await (const item of scan(sources, {
    include: [],
    exclude: [],
    followSymlinks: o.followSymlinks,
    ...(signal ? { signal } : {}),
  }))
    if ('file' in item) return true;
  return false;
}

/** The part of every key before {relpath}: one listing of it finds what is already there. */
export function keyPrefix(options: JobOptions): string {
  const probe = renderKey(options.keyTemplate, { ...options.vars, relpath: 'x' });
  return probe.slice(0, -1);
}

/** What is already under the prefix. A dropped connection is retried like a transfer; a destination that stays down pauses the job (DestinationDown). */
async function listExisting(d: RunnerDeps, prefix: string, signal: AbortSignal): Promise<Map<string, RemoteObject>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const map = new Map<string, RemoteObject>();
      for await (const o of d.destination.list(prefix)) map.set(o.key, o);
      return map;
    } catch (e) {
      const c = classifyError(e, { destination: d.destination.name });
      if (c.scope !== 'destination' || signal.aborted) throw e;
      if (!c.info.retryable || attempt >= d.policy.retries.attempts) throw new DestinationDown(c.info);
      await d.clock.sleep(backoffDelay(attempt, d.policy.retries.baseDelayMs, d.policy.retries.maxDelayMs));
    }
  }
}

export function summarise(journal: Journal, jobId: number, bytesSent: number, durationMs: number): JobSummary {
  const record = journal.record(jobId)!;
  const totals = journal.totals(jobId);
  const failures = journal.files(jobId, { states: ['failed', 'changed'] }).map((f) => ({
    relpath: f.relpath,
    error: f.lastError ?? { code: 'internal' as const, message: 'no reason recorded', retryable: false },
  }));
  return { job: record, counts: journal.counts(jobId), bytesSent, bytesTotal: totals.bytes, durationMs, failures };
}
