// Exit codes scripts can rely on.
export const EXIT = {
  ok: 0,
  /** Some files failed (each with its reason in the summary). */
  filesFailed: 1,
  /** Bad input: arguments, profile, unknown job or dataset. */
  usage: 2,
  /** The job paused: destination unreachable, credentials rejected, disk full. */
  paused: 3,
  /** Verification or fetch found a mismatch. */
  mismatch: 4,
  interrupted: 130,
} as const;
