// States and events of jobs and files, shared by the engine, the CLI and the UI.
import type { ErrorInfo } from './errors.js';

export const FILE_STATES = [
  'discovered',
  'stable',
  'transferring',
  'uploaded',
  'verified',
  'registered',
  'skipped',
  'changed',
  'failed',
] as const;
export type FileState = (typeof FILE_STATES)[number];

/** States a file does not leave by itself during a job. */
export const FINAL_FILE_STATES: ReadonlySet<FileState> = new Set(['verified', 'registered', 'skipped', 'failed', 'changed']);

/**
 * What names a dataset everywhere (journal, outbox key, local catalogue, RO-Crate, reconcile,
 * find): the same name in another proposal or visit, or for another catalogue, is another dataset.
 * `catalogue` is the catalogue's identity: "local", or "KIND URL" (e.g. "scicat https://host").
 */
export interface DatasetIdentity {
  catalogue: string;
  proposal: string | null;
  visit: string | null;
  name: string;
}

/** "ds1 (proposal 20170251, visit v1)": how messages name a dataset. */
export function datasetLabel(id: Pick<DatasetIdentity, 'name' | 'proposal' | 'visit'>): string {
  const where = [id.proposal ? `proposal ${id.proposal}` : null, id.visit ? `visit ${id.visit}` : null].filter(Boolean);
  return where.length ? `"${id.name}" (${where.join(', ')})` : `"${id.name}"`;
}

/** `dry-run`: shows what a batch upload would do; it sends nothing and never becomes a real job. */
export type JobKind = 'batch' | 'sync' | 'dry-run';
/**
 * `stopping`: a sync job asked to end (by `beamdrop stop` or Ctrl-C) that is finishing its backlog.
 * `finishing`: every file is settled and the dataset is being finalised (catalogue, RO-Crate); a job
 * left `finishing` by a killed process is finalised by the next resume or rerun. `done` only after that.
 * `cancelled`: stopped for good by `beamdrop cancel` (or replaced by `--new-job`); never continued.
 */
export type JobState = 'scanning' | 'running' | 'stopping' | 'paused' | 'finishing' | 'done' | 'failed' | 'cancelled';

/** The dataset a job belongs to. */
export function jobIdentity(job: Pick<JobRecord, 'catalogue' | 'proposal' | 'visit' | 'dataset'>): DatasetIdentity {
  return { catalogue: job.catalogue, proposal: job.proposal, visit: job.visit, name: job.dataset };
}

/** States a job does not leave: it is never continued, a rerun starts a new job. */
export const ENDED_JOB_STATES: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);

export interface JobRecord {
  id: number;
  kind: JobKind;
  state: JobState;
  dataset: string;
  proposal: string | null;
  visit: string | null;
  /** The catalogue's identity ("local", "scicat https://host"): with proposal, visit and name, the dataset's. */
  catalogue: string;
  destination: string;
  sources: string[];
  metadata: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Why the job is paused or failed, for the operator. */
  reason: string | null;
}

export interface FileRecord {
  id: number;
  jobId: number;
  /** Absolute local path. */
  path: string;
  /** Path relative to its source root, with `/` separators. */
  relpath: string;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  state: FileState;
  remoteKey: string | null;
  attempts: number;
  lastError: ErrorInfo | null;
  updatedAt: number;
}

export type StateCounts = Partial<Record<FileState, number>>;

export interface JobProgress {
  jobId: number;
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** Bytes per second over the recent window. */
  rate: number;
  /** Seconds, or null while unknown. */
  eta: number | null;
  counts: StateCounts;
}

export interface JobSummary {
  job: JobRecord;
  counts: StateCounts;
  bytesSent: number;
  bytesTotal: number;
  durationMs: number;
  failures: { relpath: string; error: ErrorInfo }[];
}

/** One event of a running job; the CLI prints these as JSON lines with --json. */
export type JobEvent =
  | { type: 'job-started'; jobId: number; dataset: string; destination: string; resumed: boolean }
  | { type: 'scan-progress'; jobId: number; files: number; bytes: number }
  | { type: 'scan-done'; jobId: number; files: number; bytes: number; notes: ScanNote[] }
  | {
      type: 'file-state';
      jobId: number;
      relpath: string;
      state: FileState;
      remoteKey?: string;
      sha256?: string;
      error?: ErrorInfo;
    }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'retry'; jobId: number; relpath: string; attempt: number; delayMs: number; error: ErrorInfo }
  | { type: 'job-paused'; jobId: number; reason: string }
  | { type: 'job-finished'; summary: JobSummary }
  | { type: 'registration'; jobId: number; status: RegistrationStatus }
  | { type: 'sync-status'; status: SyncStatus }
  | { type: 'sync-note'; jobId: number; kind: SyncNoteKind; relpath?: string; message: string }
  | { type: 'job-note'; jobId: number; kind: JobNoteKind; message: string };

/** Things any job tells the operator that are not a file state. */
export type JobNoteKind =
  /** A rerun continued the unfinished job with the metadata (or settings) given now; the message names each key. */
  | 'options-updated'
  /** `--new-job`: the unfinished job it would have continued was cancelled. */
  | 'job-replaced'
  /** A rerun with other -p values: what the facility catalogue's registration does with them. */
  | 'registration-updated'
  /** A rerun continued the job with the file selection and keys it was started with, though the profile gives other ones now. */
  | 'options-kept'
  /** A job whose finalisation was interrupted (every file settled, state `finishing`) is finalised now. */
  | 'finalising'
  /** The RO-Crate could not be written beside the data: files stored and registered, the manifest is missing. */
  | 'crate-not-written'
  /** The dataset was finalised: complete in the local catalogue, the catalogue told, RO-Crate written. */
  | 'dataset-finalised'
  /** A batch job that waited for its destination to have space again goes on. */
  | 'destination-back';

/** Things a sync job tells the operator that are not a file state. */
export type SyncNoteKind =
  | 'changed-after-upload'
  | 'deleted-locally'
  | 'folder-unreachable'
  | 'watch-fallback'
  | 'name-collision'
  | 'destination-down'
  | 'destination-back'
  | 'stop-requested';

/** A sync job as the operator sees it: what waits to be complete, the backlog, and when it drains. */
export interface SyncStatus {
  jobId: number;
  state: JobState;
  folders: { path: string; mode: 'watch' | 'poll' }[];
  /** Found but not complete yet (being written, quiet period, marker, held open). */
  waiting: { files: number; bytes: number };
  /** Complete and not yet verified at the destination: grows when acquisition outruns the link. */
  backlog: { files: number; bytes: number };
  done: { files: number; bytes: number };
  failed: number;
  /** Files that changed after upload: new versions stored, or flagged (`changed`). */
  versions: number;
  changed: number;
  deletedLocally: number;
  /** Bytes per second to the destination over the recent window. */
  rate: number;
  /** Seconds until the backlog is sent at the current rate; null while unknown. */
  eta: number | null;
  /** Why transfers are waiting for the destination, or null. */
  destinationDown: string | null;
}

/** Where a dataset stands in the facility catalogue (the outbox), as the operator sees it. */
export type RegistrationState = 'pending' | 'open' | 'registered' | 'needs-attention' | 'waiting-login';

export interface RegistrationStatus {
  dataset: string;
  /** With the name and catalogue, the dataset's identity (optional: absent in statuses of older versions). */
  proposal?: string | null;
  visit?: string | null;
  /** e.g. "scicat https://scicat.facility.example". */
  catalogue: string;
  state: RegistrationState;
  /** PID / id the catalogue gave the dataset, once created. */
  remoteId: string | null;
  filesQueued: number;
  filesRegistered: number;
  /** The last problem: with the server's own reason and the field it objected to, when known. */
  lastError: (ErrorInfo & { reason?: string }) | null;
  nextAttemptAt: number | null;
  finished: boolean;
  updatedAt: number;
}

/** Something the scan saw but did not take, reported to the operator. */
export interface ScanNote {
  path: string;
  kind: 'symlink' | 'unreadable' | 'excluded-special' | 'loop';
  detail: string;
}
