// JobView and FileRow from the journal plus what only the running app knows (live rate and ETA,
// whether it runs the job, an error that stopped it). Running jobs take their totals from the
// engine's own progress events, so a 100,000-file job costs no extra query per update.
import type { FileRow, JobView } from '../../shared/app-model.js';
import type { ErrorInfo } from '../../shared/errors.js';
import type { FileRecord, JobProgress, JobRecord, RegistrationStatus, StateCounts, SyncStatus } from '../../shared/model.js';
import type { Journal } from '../engine/journal/journal.js';

export interface LiveJob {
  running: boolean;
  progress: JobProgress | null;
  /** Files found so far while scanning. */
  scanned: { files: number; bytes: number } | null;
  /** What stopped the job, when it was not a pause the journal recorded. */
  error: ErrorInfo | null;
  operatorPaused: boolean;
  /** The last status of a sync session (backlog, rate, ETA). */
  sync: SyncStatus | null;
  /** The last registration status the job reported. */
  registration: RegistrationStatus | null;
}

export const OPERATOR_PAUSE = 'stopped by the operator';

export function jobView(journal: Journal, job: JobRecord, live: LiveJob | undefined): JobView {
  const p = live?.running ? live.progress : null;
  let counts: StateCounts;
  let totals: { files: number; bytes: number; doneFiles: number; doneBytes: number };
  if (p) {
    counts = p.counts;
    totals = { files: p.filesTotal, bytes: p.bytesTotal, doneFiles: p.filesDone, doneBytes: p.bytesDone };
  } else {
    counts = journal.counts(job.id);
    totals = journal.totals(job.id);
    if (live?.running && live.scanned && live.scanned.files > totals.files)
      totals = { ...totals, files: live.scanned.files, bytes: live.scanned.bytes };
  }
  const sync = live?.running ? live.sync : null;
  const operatorPaused = live?.operatorPaused || (job.reason?.startsWith(OPERATOR_PAUSE) ?? false);
  // Paused by the operator before the engine left its scan: the journal still says scanning.
  const pausedEarly = !live?.running && !!live?.operatorPaused && (job.state === 'scanning' || job.state === 'running');
  const state = pausedEarly ? 'paused' : job.state;
  const reason =
    job.reason ??
    (pausedEarly ? `${OPERATOR_PAUSE} while scanning; resume to continue.` : null) ??
    live?.error?.message ??
    sync?.destinationDown ??
    (live?.registration?.state === 'needs-attention' ? (live.registration.lastError?.message ?? null) : null);
  const attention =
    (counts.failed ?? 0) > 0 ||
    (counts.changed ?? 0) > 0 ||
    state === 'failed' ||
    (!live?.running && live?.error != null) ||
    (state === 'paused' && !operatorPaused);
  return {
    id: job.id,
    kind: job.kind,
    state,
    dataset: job.dataset,
    proposal: job.proposal,
    destination: job.destination,
    sources: job.sources,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    reason,
    running: live?.running ?? false,
    filesTotal: totals.files,
    filesDone: totals.doneFiles,
    bytesTotal: totals.bytes,
    bytesDone: totals.doneBytes,
    rate: sync?.rate ?? p?.rate ?? 0,
    eta: sync ? sync.eta : (p?.eta ?? null),
    counts,
    backlog:
      job.kind !== 'sync'
        ? null
        : sync
          ? sync.backlog.files + sync.waiting.files
          : (counts.discovered ?? 0) + (counts.stable ?? 0) + (counts.transferring ?? 0) + (counts.uploaded ?? 0),
    attention: attention || live?.registration?.state === 'needs-attention' || sync?.destinationDown != null,
  };
}

export function fileRow(f: FileRecord): FileRow {
  return {
    id: f.id,
    relpath: f.relpath,
    size: f.size,
    state: f.state,
    sha256: f.sha256,
    remoteKey: f.remoteKey,
    attempts: f.attempts,
    error: f.lastError,
    updatedAt: f.updatedAt,
  };
}
