// Token bucket shared by all transfers of a job. The rate is read from the timetable at every
// take(), so a limit that starts at 08:00 applies to transfers already running. Bytes are paid
// for before they are handed on, so over any window the average never exceeds the limit.
import type { BandwidthSchedule } from './bandwidth-schedule.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Burst allowance: this many seconds' worth of the current rate. */
const BURST_SECONDS = 0.1;
/** Waits are cut into steps so that a schedule change or a new limit takes effect quickly. */
const MAX_SLEEP_MS = 250;

export class Throttle {
  private tokens = 0;
  private last: number;
  private override: number | null | undefined;

  constructor(
    private readonly schedule: BandwidthSchedule,
    private readonly clock: Clock = systemClock,
  ) {
    this.last = clock.now();
  }

  /** Sets a limit in bytes/s that replaces the timetable (null = unlimited, undefined = timetable). */
  setOverride(rate: number | null | undefined): void {
    this.override = rate;
  }

  rateNow(): number | null {
    return this.override !== undefined ? this.override : this.schedule.rateAt(new Date(this.clock.now()));
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const rate = this.rateNow();
      const now = this.clock.now();
      if (rate === null) {
        this.tokens = 0;
        this.last = now;
        return;
      }
      this.tokens = Math.min(rate * BURST_SECONDS, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
      if (this.tokens >= bytes || (bytes > rate * BURST_SECONDS && this.tokens >= rate * BURST_SECONDS)) {
        // Large requests go into debt and the debt is paid below before returning.
        this.tokens -= bytes;
        while (this.tokens < 0) {
          signal?.throwIfAborted();
          const r = this.rateNow();
          if (r === null) {
            this.tokens = 0;
            this.last = this.clock.now();
            return;
          }
          await this.clock.sleep(Math.min(MAX_SLEEP_MS, Math.ceil((-this.tokens / r) * 1000)));
          const t = this.clock.now();
          this.tokens += ((t - this.last) / 1000) * r;
          this.last = t;
        }
        return;
      }
      signal?.throwIfAborted();
      await this.clock.sleep(Math.min(MAX_SLEEP_MS, Math.max(1, Math.ceil(((bytes - this.tokens) / rate) * 1000))));
    }
  }
}
