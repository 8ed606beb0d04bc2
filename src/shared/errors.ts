// The one error type that crosses every boundary (engine → CLI, engine → IPC → renderer). It is
// plain data so it survives JSON and Electron's structured clone, which keeps only `message` of
// a thrown Error.

export type ErrorCode =
  /** Bad command-line arguments: unknown flag, missing option, a value of the wrong form. */
  | 'usage'
  /** The facility profile (YAML) is invalid: the field and what to write instead. */
  | 'profile-invalid'
  /** A -p / form metadata value refused by the technique template (type, unit, range, required). */
  | 'metadata-invalid'
  /** A dataset name, proposal or visit that cannot name a dataset (empty, a path, reserved characters). */
  | 'dataset-name-invalid'
  /** A PATH or folder to upload or watch that is missing or of the wrong kind. */
  | 'source-invalid'
  /** --to / a destination setting that cannot be a destination (a file, a bad URI). */
  | 'destination-invalid'
  /** The include/exclude filters (or an empty folder) left no file to upload. */
  | 'nothing-matched'
  /** A rerun whose options differ from the unfinished job it would continue. */
  | 'job-options-differ'
  /** The job is being run by another process or window. */
  | 'job-busy'
  /** The operation does not apply to the job in its state (finished, cancelled, running). */
  | 'job-state'
  /** A dataset name that matches several datasets (other proposals or visits). */
  | 'dataset-ambiguous'
  /** A destructive command that needs --yes when there is no terminal to ask. */
  | 'confirmation-required'
  | 'profile-not-found'
  | 'destination-unknown'
  | 'destination-unreachable'
  | 'credentials-missing'
  | 'credentials-rejected'
  | 'permission-denied'
  | 'not-found'
  | 'vanished'
  | 'unreadable'
  | 'changed-during-upload'
  | 'conflict'
  | 'checksum-mismatch'
  | 'size-mismatch'
  | 'invalid-key'
  | 'symlink-skipped'
  | 'transfer-failed'
  /** The destination is out of space (S3 507 XMinioStorageFull, WebDAV 507, ENOSPC on a mounted archive). */
  | 'disk-full'
  /** The local disk under Beamdrop's data folder (journal, catalogue, logs) is full: the process stops, nothing is lost. */
  | 'local-disk-full'
  | 'job-not-found'
  | 'dataset-not-found'
  | 'cancelled'
  | 'internal';

export interface ErrorInfo {
  code: ErrorCode;
  /** Written for the operator: what happened and what to do. */
  message: string;
  /** Whether trying the same step again later may succeed. */
  retryable: boolean;
  file?: string;
  dataset?: string;
  field?: string;
}

export class BeamdropError extends Error implements ErrorInfo {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly file?: string;
  readonly dataset?: string;
  readonly field?: string;

  constructor(info: ErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'BeamdropError';
    this.code = info.code;
    this.retryable = info.retryable;
    if (info.file !== undefined) this.file = info.file;
    if (info.dataset !== undefined) this.dataset = info.dataset;
    if (info.field !== undefined) this.field = info.field;
  }

  toJSON(): ErrorInfo {
    const out: ErrorInfo = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.file !== undefined) out.file = this.file;
    if (this.dataset !== undefined) out.dataset = this.dataset;
    if (this.field !== undefined) out.field = this.field;
    return out;
  }
}

export function isBeamdropError(e: unknown): e is BeamdropError {
  return e instanceof BeamdropError;
}

/** Any thrown value as ErrorInfo; unknown errors become `internal` with their message kept. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof BeamdropError) return e.toJSON();
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'internal', message, retryable: false };
}
