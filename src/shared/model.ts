// States and events of jobs and files, shared by the engine, the CLI and the UI.
import type { ErrorInfo } from './errors.js';

export const FILE_STATES = [
  'discovered', 'stable', 'transferring', 'uploaded', 'verified', 'registered',
  'skipped', 'changed', 'failed',
] as const;
export type FileState = (typeof FILE_STATES)[number];

/** States a file does not leave by itself during a job. */
export const FINAL_FILE_STATES: ReadonlySet<FileState> = new Set(['verified', 'registered', 'skipped', 'failed', 'changed']);

export type JobKind = 'batch' | 'sync';
export type JobState = 'scanning' | 'running' | 'paused' | 'done' | 'failed';

export interface JobRecord {
  id: number;
  kind: JobKind;
  state: JobState;
  dataset: string;
  proposal: string | null;
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
  | { type: 'file-state'; jobId: number; relpath: string; state: FileState; remoteKey?: string; sha256?: string; error?: ErrorInfo }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'retry'; jobId: number; relpath: string; attempt: number; delayMs: number; error: ErrorInfo }
  | { type: 'job-paused'; jobId: number; reason: string }
  | { type: 'job-finished'; summary: JobSummary };

/** Something the scan saw but did not take, reported to the operator. */
export interface ScanNote {
  path: string;
  kind: 'symlink' | 'unreadable' | 'excluded-special' | 'loop';
  detail: string;
}
