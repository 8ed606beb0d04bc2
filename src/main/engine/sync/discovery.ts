// Discovery for one sync job: the folder scanners, the watcher's hints and the timetable of
// folder checks and full rescans, all journaled through the ledger. One control loop does the
// scanning work in order (so a slow share never runs two scans at once); the watcher only adds
// hints to a set that the loop flushes. Nothing here depends on an event arriving: a lost event
// costs at most one folder-check interval, never a file.
import { sep } from 'node:path';
import type { JobEvent, ScanNote } from '../../../shared/model.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../transfer/throttle.js';
import { DirEvents, MAX_ACTIVE } from './dir-events.js';
import { FolderScanner } from './folder-scanner.js';
import { KIND, type FsClient } from './fs-client.js';
import type { SyncLedger } from './sync-journal.js';
import { createSyncFilter, rulesAt, type SyncFolder, type SyncSettings } from './sync-rules.js';
import type { TreeChanges } from './tree-state.js';
import { Waker } from './waker.js';

/** A folder with a file changed within this window is watched with events. */
const ACTIVE_WINDOW_MS = 10 * 60_000;
const HINT_DEBOUNCE_MS = 50;
const ACTIVE_REFRESH_MS = 2000;
/**
 * A folder that starts being watched is listed again after these delays: what was created between
 * its last listing and the moment its watch took effect raised no event.
 */
const RELIST_AFTER_WATCH_MS = [1000, 4000];

export interface DiscoveryDeps {
  jobId: number;
  folders: SyncFolder[];
  filterJob: { include: string[]; exclude: string[] };
  settings: SyncSettings;
  fs: FsClient;
  journal: Journal;
  ledger: SyncLedger;
  clock: Clock;
  log: Logger;
  platform: NodeJS.Platform;
  onEvent(e: JobEvent): void;
  /** New work for the completeness checks. */
  onObserved(): void;
}

export class Discovery {
  readonly scanners: FolderScanner[];
  /** Ends the control loop and the watcher (stop); the scanners keep working for the final scan. */
  private readonly controller = new AbortController();
  /** Aborts any scan in progress (pause, errors). */
  private readonly halted = new AbortController();
  private readonly waker = new Waker();
  private events: DirEvents | null = null;
  private eventsFailed = false;
  private readonly hintPaths = new Set<string>();
  private readonly hintDirs = new Set<string>();
  private hintTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private readonly nextCheck: number[];
  private nextRescan = 0;
  private nextActive = 0;
  /** Folders to list again (absolute path → when), after they started being watched. */
  private readonly relists = new Map<string, number[]>();
  /** Notes of the first scan, for its scan-done event. */
  private initialNotes: ScanNote[] | null = null;

  constructor(
    private readonly d: DiscoveryDeps,
    seed: Map<string, { size: number; mtimeMs: number }>,
  ) {
    const scannerDeps = {
      fs: d.fs,
      now: () => d.clock.now(),
      stopped: () => this.halted.signal.aborted,
      onChanges: (f: FolderScanner, c: TreeChanges) => this.journal(f, c),
    };
    this.scanners = d.folders.map(
      (f) => new FolderScanner(f, createSyncFilter(f, d.filterJob), scannerDeps, seedUnder(seed, f.path)),
    );
    this.nextCheck = d.folders.map(() => 0);
  }

  private get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  scannerOf(path: string): FolderScanner | null {
    let best: FolderScanner | null = null;
    for (const s of this.scanners)
      if (s.tree.relOf(path) !== null && (!best || s.folder.path.length > best.folder.path.length)) best = s;
    return best;
  }

  /** Journals one batch of differences and tells the operator what matters. */
  private journal(scanner: FolderScanner, c: TreeChanges): void {
    const { d } = this;
    const now = d.clock.now();
    let woke = false;
    if (c.observed.length) {
      const quietMs = (relpath: string) => rulesAt(scanner.folder, relpath).quietPeriodMs;
      for (const e of d.ledger.observe(c.observed, now, quietMs, d.settings.onChange)) {
        if (e.kind === 'collision') {
          d.onEvent({
            type: 'sync-note',
            jobId: d.jobId,
            kind: 'name-collision',
            relpath: e.relpath,
            message: `${e.path} is not taken: "${e.relpath}" is already used in this dataset by another file (two watched folders, or a name like NAME.v2.EXT that a new version took); rename it.`,
          });
          continue;
        }
        woke = true;
        if (e.kind === 'version')
          d.onEvent({
            type: 'sync-note',
            jobId: d.jobId,
            kind: 'changed-after-upload',
            relpath: e.previous,
            message: `${e.previous} changed after it was uploaded; the new content will be stored beside it as ${e.relpath}, the first copy is kept.`,
          });
        if (e.kind === 'flagged')
          d.onEvent({
            type: 'sync-note',
            jobId: d.jobId,
            kind: 'changed-after-upload',
            relpath: e.relpath,
            message: e.error.message,
          });
      }
    }
    if (c.deleted.length) {
      for (const e of d.ledger.deleted(c.deleted, now)) {
        if (e.kind === 'deleted-locally')
          d.onEvent({
            type: 'sync-note',
            jobId: d.jobId,
            kind: 'deleted-locally',
            relpath: e.relpath,
            message: `${e.relpath} was deleted locally; the stored copy is kept (sync never deletes at the destination).`,
          });
      }
    }
    for (const n of c.notes) {
      d.journal.event(d.jobId, null, 'scan-note', n);
      this.initialNotes?.push(n);
      if (n.kind === 'unreadable')
        d.onEvent({ type: 'sync-note', jobId: d.jobId, kind: 'folder-unreachable', message: `${n.path}: ${n.detail}` });
    }
    // A new folder is watched at once, not at the next refresh.
    if (c.newDirs.length && this.events) {
      this.nextActive = 0;
      this.waker.wake();
    }
    if (woke) d.onObserved();
  }

  /** The first full scan of every folder (journal compared, deletions while nobody watched noted). */
  async initialScan(): Promise<void> {
    this.initialNotes = [];
    for (const s of this.scanners) {
      if (this.stopped) return;
      await s.fullScan();
    }
    const totals = this.scanners
      .map((s) => s.tree.totals())
      .reduce((a, b) => ({ files: a.files + b.files, bytes: a.bytes + b.bytes }), { files: 0, bytes: 0 });
    this.d.onEvent({ type: 'scan-done', jobId: this.d.jobId, ...totals, notes: this.initialNotes });
    this.initialNotes = null;
    const now = this.d.clock.now();
    this.nextRescan = now + this.d.settings.rescanIntervalMs;
    this.scanners.forEach((_, i) => {
      this.nextCheck[i] = now + this.interval(i);
    });
  }

  /** Starts watching: events where files are written, and the folder-check timetable. A failure of the loop goes to `onError`. */
  start(onError: (e: unknown) => void): void {
    if (this.scanners.some((s) => s.folder.rules.mode === 'watch')) {
      this.events = new DirEvents({
        onHint: (h) => this.hint(h),
        onError: (e) => this.watcherFailed(e),
      });
    }
    this.loop = this.run().catch(onError);
  }

  private interval(i: number): number {
    const rules = this.scanners[i]!.folder.rules;
    return rules.mode === 'poll' || this.eventsFailed ? rules.pollIntervalMs : this.d.settings.reconcileIntervalMs;
  }

  private hint(h: { path: string } | { dir: string }): void {
    if ('path' in h) this.hintPaths.add(h.path);
    else this.hintDirs.add(h.dir);
    this.hintTimer ??= setTimeout(() => {
      this.hintTimer = null;
      this.waker.wake();
    }, HINT_DEBOUNCE_MS);
  }

  private watcherFailed(e: Error): void {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    this.d.log.warn({ jobId: this.d.jobId, code, error: e.message }, 'folder watcher error');
    if (code !== 'ENOSPC' && code !== 'EMFILE' && code !== 'ENFILE') return;
    if (this.eventsFailed) return;
    this.eventsFailed = true;
    this.d.onEvent({
      type: 'sync-note',
      jobId: this.d.jobId,
      kind: 'watch-fallback',
      message: `the system's limit on watched folders was reached (${code}); the folders are now polled every few seconds instead (raise fs.inotify.max_user_watches to use events again).`,
    });
    const events = this.events;
    this.events = null;
    void events?.close();
    this.scanners.forEach((_, i) => {
      this.nextCheck[i] = Math.min(this.nextCheck[i]!, this.d.clock.now() + this.interval(i));
    });
    this.waker.wake();
  }

  private async flushHints(): Promise<void> {
    const now = this.d.clock.now();
    for (const [dir, times] of this.relists) {
      if (times[0]! > now) continue;
      this.hintDirs.add(dir);
      times.shift();
      if (!times.length) this.relists.delete(dir);
    }
    if (!this.hintPaths.size && !this.hintDirs.size) return;
    const paths = [...this.hintPaths];
    const dirs = [...this.hintDirs];
    this.hintPaths.clear();
    this.hintDirs.clear();
    for (const s of this.scanners) {
      if (this.stopped) return;
      const mine = (p: string) => this.scannerOf(p) === s;
      const ps = paths.filter(mine);
      const ds = dirs.filter(mine);
      if (ps.length || ds.length) await s.hints(ps, ds);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.flushHints();
      let now = this.d.clock.now();
      for (let i = 0; i < this.scanners.length && !this.stopped; i++) {
        if (now < this.nextCheck[i]!) continue;
        const s = this.scanners[i]!;
        await s.checkFolders(s.folder.rules.mode === 'poll' || this.eventsFailed ? Math.max(3000, 2 * this.interval(i)) : 3000);
        now = this.d.clock.now();
        this.nextCheck[i] = now + this.interval(i);
      }
      if (!this.stopped && now >= this.nextRescan) {
        for (const s of this.scanners) if (!this.stopped) await s.fullScan();
        now = this.d.clock.now();
        this.nextRescan = now + this.d.settings.rescanIntervalMs;
      }
      if (!this.stopped && this.events && now >= this.nextActive) {
        const since = now - ACTIVE_WINDOW_MS;
        const active = this.scanners.filter((s) => s.folder.rules.mode === 'watch').flatMap((s) => s.activeDirs(since));
        for (const dir of this.events.setActive(active.slice(0, MAX_ACTIVE)))
          this.relists.set(
            dir,
            RELIST_AFTER_WATCH_MS.map((ms) => now + ms),
          );
        this.nextActive = now + ACTIVE_REFRESH_MS;
      }
      if (this.stopped) break;
      const nextRelist = Math.min(...[...this.relists.values()].map((t) => t[0]!));
      const next = Math.min(...this.nextCheck, this.nextRescan, this.events ? this.nextActive : Infinity, nextRelist);
      await this.waker.wait(Math.max(0, next - this.d.clock.now()), this.controller.signal);
    }
  }

  /** After a transfer: compares the file with its row directly (a change seen mid-transfer was left for now). */
  async reobserve(path: string): Promise<void> {
    const s = this.scannerOf(path);
    const rel = s?.tree.relOf(path);
    if (!s || !rel || this.d.ledger.latest(path, rel) === null) return;
    const st = await this.d.fs.stat([path]);
    if (st.errors[0] !== null || st.kinds[0] !== KIND.file) return;
    this.journal(s, {
      observed: [{ path, relpath: rel, size: st.sizes[0]!, mtimeMs: st.mtimes[0]! }],
      deleted: [],
      newDirs: [],
      notes: [],
    });
  }

  /** One last full scan (the acquisition ended: everything written until now is taken). */
  async finalScan(): Promise<void> {
    for (const s of this.scanners) if (!this.halted.signal.aborted) await s.fullScan();
  }

  /** Stops the loop and the watcher; `halt` also abandons a scan in progress. Safe to call twice. */
  async stop(halt = false): Promise<void> {
    if (halt) this.halted.abort();
    this.controller.abort();
    if (this.hintTimer) {
      clearTimeout(this.hintTimer);
      this.hintTimer = null;
    }
    this.waker.wake();
    await this.loop;
    const events = this.events;
    this.events = null;
    await events?.close();
  }
}

function seedUnder(
  seed: Map<string, { size: number; mtimeMs: number }>,
  root: string,
): Map<string, { size: number; mtimeMs: number }> {
  const out = new Map<string, { size: number; mtimeMs: number }>();
  const prefix = root.endsWith(sep) ? root : root + sep;
  for (const [p, v] of seed) if (p.startsWith(prefix)) out.set(p, v);
  return out;
}
