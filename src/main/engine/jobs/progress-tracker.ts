// Rate and ETA for the operator: bytes over a sliding window of recent seconds, so the ETA
// reacts to a link that slows down without jumping at every chunk.
const WINDOW_MS = 5000;

export class ProgressTracker {
  private samples: { at: number; bytes: number }[] = [];
  private sent = 0;

  constructor(private readonly now: () => number = Date.now) {}

  add(bytes: number): void {
    this.sent += bytes;
    const at = this.now();
    this.samples.push({ at, bytes: this.sent });
    const cutoff = at - WINDOW_MS;
    while (this.samples.length > 2 && this.samples[0]!.at < cutoff) this.samples.shift();
  }

  get bytesSent(): number {
    return this.sent;
  }

  /** Bytes per second over the window. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at === first.at) return 0;
    const span = Math.max(this.now(), last.at) - first.at;
    return span > 0 ? ((last.bytes - first.bytes) / span) * 1000 : 0;
  }

  eta(remainingBytes: number): number | null {
    const r = this.rate();
    return r > 0 ? Math.ceil(remainingBytes / r) : null;
  }
}
