// Exit codes scripts can rely on, and which one each error code ends a command with. The map is a
// Record over every ErrorCode, so a new code does not compile until someone decides its exit code.
import type { ErrorCode } from '../../shared/errors.js';

export const EXIT = {
  ok: 0,
  /** Some files failed (each with its reason in the summary). */
  filesFailed: 1,
  /** An unexpected error, a bug in Beamdrop: its message and stack go to stderr. */
  internal: 1,
  /** Refused before anything was done: arguments, profile, unknown job or dataset, a job busy or in the wrong state. */
  usage: 2,
  /** The job paused: destination unreachable, credentials rejected, disk full. */
  paused: 3,
  /** Verification or fetch found a mismatch. */
  mismatch: 4,
  /** The disk under Beamdrop's data folder is full: stopped cleanly, nothing lost; free space and run the command again. */
  localDiskFull: 5,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a command that ends with a BeamdropError of this code. */
export const EXIT_OF_ERROR: Readonly<Record<ErrorCode, ExitCode>> = {
  usage: EXIT.usage,
  'profile-invalid': EXIT.usage,
  'profile-not-found': EXIT.usage,
  'metadata-invalid': EXIT.usage,
  'dataset-name-invalid': EXIT.usage,
  'source-invalid': EXIT.usage,
  'destination-invalid': EXIT.usage,
  'destination-unknown': EXIT.usage,
  'nothing-matched': EXIT.usage,
  'job-options-differ': EXIT.usage,
  'job-busy': EXIT.usage,
  'job-state': EXIT.usage,
  'job-not-found': EXIT.usage,
  'dataset-not-found': EXIT.usage,
  'dataset-ambiguous': EXIT.usage,
  'confirmation-required': EXIT.usage,
  'credentials-missing': EXIT.usage,
  'invalid-key': EXIT.usage,
  'not-found': EXIT.usage,

  'destination-unreachable': EXIT.paused,
  'credentials-rejected': EXIT.paused,
  'permission-denied': EXIT.paused,
  'disk-full': EXIT.paused,
  'transfer-failed': EXIT.paused,

  'checksum-mismatch': EXIT.mismatch,
  'size-mismatch': EXIT.mismatch,

  vanished: EXIT.filesFailed,
  unreadable: EXIT.filesFailed,
  'changed-during-upload': EXIT.filesFailed,
  conflict: EXIT.filesFailed,
  'symlink-skipped': EXIT.filesFailed,
  internal: EXIT.internal,

  cancelled: EXIT.interrupted,
  'local-disk-full': EXIT.localDiskFull,
};
