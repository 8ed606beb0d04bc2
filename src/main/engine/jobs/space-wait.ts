// A batch job whose destination is out of space waits for space instead of failing files or
// exiting at once: it probes with one real transfer (the smallest file still to send, so that a
// probe costs little and leaves nothing behind that a real upload would not), with a backoff
// longer than a network blip's, and goes on by itself as soon as a probe is stored. A job that
// stores nothing for `waitMs` gives up and pauses (the command exits 3; a rerun continues it).
import type { ErrorInfo } from '../../../shared/errors.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { Clock } from '../transfer/throttle.js';
import { backoffDelay } from './classify-error.js';

/** What one probe transfer found: stored (space is back), still full, another destination problem, or stopped. */
export type ProbeOutcome =
  { kind: 'stored' } | { kind: 'full'; info: ErrorInfo } | { kind: 'down'; info: ErrorInfo } | { kind: 'stopped' };

export type WaitOutcome =
  | { kind: 'back' }
  | { kind: 'stopped' }
  | { kind: 'gave-up'; info: ErrorInfo; waitedMs: number }
  | { kind: 'down'; info: ErrorInfo };

export interface SpaceWaitDeps {
  clock: Clock;
  timing: UploadPolicy['outOfSpace'];
  /** The operator's stop: ends a wait at once. */
  signal: AbortSignal | undefined;
  /** The wait starts (the job is paused with this reason until space is back). */
  onWaiting(info: ErrorInfo, giveUpInMs: number): void;
  /** The next probe, in delayMs. */
  onProbeScheduled(attempt: number, delayMs: number, info: ErrorInfo): void;
  onBack(waitedMs: number): void;
}

/** Sleeps are cut into steps so that a stop is seen within a second, and no long timer outlives it. */
const SLEEP_STEP_MS = 1_000;

export class SpaceWait {
  /** When the job last stored a file, or began waiting: what waitMs is counted from. */
  private since: number | null = null;
  private attempt = 0;

  constructor(private readonly d: SpaceWaitDeps) {}

  /** A file was stored: space is there, the next wait starts afresh. */
  stored(): void {
    this.since = null;
    this.attempt = 0;
  }

  async wait(info: ErrorInfo, probe: () => Promise<ProbeOutcome>): Promise<WaitOutcome> {
    const { clock, timing } = this.d;
    const began = clock.now();
    this.since ??= began;
    const deadline = this.since + timing.waitMs;
    let last = info;
    if (timing.waitMs === 0 || began >= deadline) return { kind: 'gave-up', info, waitedMs: began - this.since };
    this.d.onWaiting(info, deadline - began);
    for (;;) {
      const left = deadline - clock.now();
      if (left <= 0) return { kind: 'gave-up', info: last, waitedMs: clock.now() - this.since };
      const delay = Math.min(left, backoffDelay(++this.attempt, timing.baseDelayMs, timing.maxDelayMs));
      this.d.onProbeScheduled(this.attempt, delay, last);
      if (!(await this.sleep(delay))) return { kind: 'stopped' };
      const p = await probe();
      if (p.kind === 'stored') {
        this.d.onBack(clock.now() - began);
        this.stored();
        return { kind: 'back' };
      }
      if (p.kind === 'stopped') return p;
      if (p.kind === 'down') return p;
      last = p.info;
    }
  }

  /** False if the operator stopped the job meanwhile. */
  private async sleep(ms: number): Promise<boolean> {
    const { clock, signal } = this.d;
    const until = clock.now() + ms;
    for (;;) {
      if (signal?.aborted) return false;
      const left = until - clock.now();
      if (left <= 0) return true;
      await clock.sleep(Math.min(left, SLEEP_STEP_MS));
    }
  }
}
