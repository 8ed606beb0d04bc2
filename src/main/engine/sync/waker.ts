// A stoppable wait for the sync loops: sleeps until poked, until a time has passed, or until the
// signal aborts, whichever comes first, and leaves no timer or listener behind. A poke releases
// every waiter (the transfer workers share one); a poke with nobody waiting is kept for the next.
export class Waker {
  private poked = false;
  private readonly waiters = new Set<() => void>();

  wake(): void {
    if (!this.waiters.size) {
      this.poked = true;
      return;
    }
    for (const release of [...this.waiters]) release();
  }

  /** Waits up to `ms` (null: until woken). */
  wait(ms: number | null, signal: AbortSignal): Promise<void> {
    if (this.poked || signal.aborted) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
