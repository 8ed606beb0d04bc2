// What the app backend needs from its host but cannot do itself: native dialogs and the login
// item live in Electron (src/main/app), and the end-to-end harness supplies its own. Kept this
// small so the backend runs, and is tested, in plain Node.
export interface ShellPort {
  /** Asks the operator for files or folders (a native dialog); [] when cancelled. */
  pickPaths(kind: 'files' | 'folders'): Promise<string[]>;
  /** Registers (or removes) the app as a login item. */
  setStartAtLogin(enabled: boolean): void;
}

/** Timers behind an interface, so batching is tested with a fake clock. */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): () => void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};
