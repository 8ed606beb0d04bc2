// Whether a file that sync mode found is complete yet: the pure decision, so that each rule and
// their combination is unit-tested without a writer. stability-check.ts gathers the inputs (a
// fresh stat, the markers, the open probe) and applies the verdict to the journal.
//
// The quiet period is measured between two observations on the local clock, never against the
// file's mtime: a network share's clock can be minutes off, and a file copied with its old mtime
// (cp -p) would otherwise look finished while it is still being written.

export interface Observed {
  size: number;
  mtimeMs: number;
}

/** What opening the file told us: `busy` means another program still holds it (not an error). */
export type OpenProbe = 'free' | 'busy' | 'gone' | 'not-checked';

export interface CompletenessInput {
  now: number;
  quietPeriodMs: number;
  /** The size and mtime in the journal and when (local clock) they were first seen. */
  recorded: Observed & { seenAt: number };
  current: Observed;
  /** The markers this file needs (from the marker rules) and whether each exists. */
  markers: { name: string; present: boolean }[];
  open: OpenProbe;
}

export type WaitReason = 'changed' | 'quiet' | 'marker' | 'held-open';

export type Verdict = { complete: true } | { complete: false; why: WaitReason; detail: string; recheckInMs: number };

/** How soon a file that is still changing is looked at again: often enough to see it settle. */
export function changingRecheckMs(quietPeriodMs: number): number {
  return Math.min(quietPeriodMs, Math.max(250, Math.round(quietPeriodMs / 4)));
}

/** Markers and held-open files are checked at a steady pace, not in a tight loop. */
export function waitingRecheckMs(quietPeriodMs: number): number {
  return Math.min(5000, Math.max(500, Math.round(quietPeriodMs / 2)));
}

export function decideCompleteness(i: CompletenessInput): Verdict {
  if (i.current.size !== i.recorded.size || i.current.mtimeMs !== i.recorded.mtimeMs) {
    return {
      complete: false,
      why: 'changed',
      detail: `still being written (${i.recorded.size} → ${i.current.size} bytes)`,
      recheckInMs: changingRecheckMs(i.quietPeriodMs),
    };
  }
  const quietFor = i.now - i.recorded.seenAt;
  if (quietFor < i.quietPeriodMs) {
    return {
      complete: false,
      why: 'quiet',
      detail: `unchanged for ${quietFor} ms of the ${i.quietPeriodMs} ms quiet period`,
      recheckInMs: i.quietPeriodMs - quietFor,
    };
  }
  const missing = i.markers.filter((m) => !m.present).map((m) => m.name);
  if (missing.length) {
    return {
      complete: false,
      why: 'marker',
      detail: `waiting for its marker ${missing.join(', ')}`,
      recheckInMs: waitingRecheckMs(i.quietPeriodMs),
    };
  }
  if (i.open === 'busy') {
    return {
      complete: false,
      why: 'held-open',
      detail: 'still held open by the program writing it',
      recheckInMs: waitingRecheckMs(i.quietPeriodMs),
    };
  }
  if (i.open === 'gone') {
    return {
      complete: false,
      why: 'changed',
      detail: 'it disappeared while being checked',
      recheckInMs: changingRecheckMs(i.quietPeriodMs),
    };
  }
  return { complete: true };
}

/**
 * What an error from opening a file means for sync mode. On Windows a writer holding the file
 * makes open fail with EBUSY (sharing violation) or EPERM/EACCES: "not yet", never a failure.
 */
export function openVerdict(code: string | null | undefined): OpenProbe {
  if (!code) return 'free';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'gone';
  // Anything else (EBUSY, EPERM, EACCES, ETXTBSY, EAGAIN, an EIO on a share) is worth another look
  // later; a file that stays unopenable is reported when the acquisition is stopped.
  return 'busy';
}

/** Whether the exclusive-open check runs on this platform for a folder's setting. */
export function exclusiveOpenApplies(setting: 'auto' | 'always' | 'never', platform: NodeJS.Platform): boolean {
  return setting === 'always' || (setting === 'auto' && platform === 'win32');
}
