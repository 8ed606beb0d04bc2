// chokidar as an event source only: it watches the folders where files are being written (the
// watched roots and the recently changed folders, at most MAX_ACTIVE), one level each, and its
// raw events become hints ("something happened to this name in this folder") that are checked
// with a stat. Files are never tracked by chokidar itself: watching a whole 100,000-file tree that
// way costs seconds of start-up, hundreds of MB and an inotify watch per file. What happens in a
// quiet folder is found by the folder checks of folder-scanner.ts instead, so nothing depends on
// an event arriving.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export const MAX_ACTIVE = 256;

export interface DirEventsDeps {
  /** A path to stat (a file or folder that changed), or a folder to list when the name is unknown. */
  onHint(hint: { path: string } | { dir: string }): void;
  /** The watcher failed (e.g. ENOSPC: inotify limit): the caller falls back to polling. */
  onError(e: Error): void;
}

export class DirEvents {
  private watcher: FSWatcher | null = null;
  private readonly active = new Set<string>();
  private closed = false;

  constructor(private readonly d: DirEventsDeps) {}

  private start(): FSWatcher {
    if (this.watcher) return this.watcher;
    const w = watch([], {
      ignoreInitial: true,
      persistent: true,
      depth: 0,
      // Only the active folders themselves are watched; their entries are left to our own stats.
      ignored: (p: string) => !this.active.has(path.resolve(p)),
    });
    w.on('raw', (_event, name: string | null, details: unknown) => {
      const dir = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!dir || this.closed) return;
      this.d.onHint(name ? { path: path.join(dir, name) } : { dir });
    });
    w.on('error', (e: unknown) => {
      if (!this.closed) this.d.onError(e instanceof Error ? e : new Error(String(e)));
    });
    this.watcher = w;
    return w;
  }

  /** Watches exactly these folders (absolute paths) from now on; returns the ones newly watched. */
  setActive(dirs: string[]): string[] {
    if (this.closed) return [];
    const want = new Set(dirs.slice(0, MAX_ACTIVE).map((d) => path.resolve(d)));
    const added = [...want].filter((d) => !this.active.has(d));
    const removed = [...this.active].filter((d) => !want.has(d));
    if (!added.length && !removed.length) return [];
    const w = this.start();
    for (const d of removed) this.active.delete(d);
    if (removed.length) w.unwatch(removed);
    for (const d of added) this.active.add(d);
    if (added.length) w.add(added);
    return added;
  }

  get size(): number {
    return this.active.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.active.clear();
    const w = this.watcher;
    this.watcher = null;
    if (w) await w.close();
  }
}
