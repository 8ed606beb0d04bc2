// Finds what changed in one watched folder, with three kinds of look, each costed for trees of
// 100,000 files: a full scan (every folder listed, every file stat-ed: at start, then every
// rescanInterval); a folder check (one stat per folder; only folders whose time moved, or that
// changed in the last few seconds, are listed again — cheap enough to poll a network share); and
// hints from the watcher (one stat per changed name). Differences go to the caller as they come.
import type { SyncFolder, SyncFilter } from './sync-rules.js';
import type { FsClient } from './fs-client.js';
import { KIND } from './fs-client.js';
import { noChanges, TreeState, type TreeChanges } from './tree-state.js';

/** Folders listed per request to the worker, and requests kept in flight. */
const LIST_BATCH = 64;
const STAT_BATCH = 4096;

export interface ScannerDeps {
  fs: FsClient;
  now: () => number;
  stopped: () => boolean;
  /** Receives each batch of differences (journal them); awaited, so the walk keeps pace. */
  onChanges(folder: FolderScanner, changes: TreeChanges): void;
}

export class FolderScanner {
  readonly tree: TreeState;

  constructor(
    readonly folder: SyncFolder,
    filter: SyncFilter,
    private readonly d: ScannerDeps,
    seed: Map<string, { size: number; mtimeMs: number }> | null,
  ) {
    this.tree = new TreeState(folder.path, filter, seed);
  }

  /** Lists the given folders (relpaths) and every new folder found below them. */
  private async listAll(start: string[], initial: boolean): Promise<void> {
    const queue = [...start];
    // One request more than there are threads: they list the next batches while this thread journals.
    const inFlight: { rels: string[]; reply: ReturnType<FsClient['list']> }[] = [];
    const launch = () => {
      while (inFlight.length <= this.d.fs.parallelism && queue.length) {
        const rels = queue.splice(0, LIST_BATCH);
        const reply = this.d.fs.list(rels.map((r) => this.tree.abs(r)));
        reply.catch(() => undefined);
        inFlight.push({ rels, reply });
      }
    };
    launch();
    while (inFlight.length) {
      const { rels, reply } = inFlight.shift()!;
      const listings = await reply;
      if (this.d.stopped()) return;
      const out = noChanges();
      const now = this.d.now();
      listings.forEach((l, i) => this.tree.applyListing(rels[i]!, l, now, out, initial));
      queue.push(...out.newDirs);
      launch();
      this.d.onChanges(this, out);
    }
  }

  /** Every folder listed and every file stat-ed. The first one also settles the journal's view. */
  async fullScan(): Promise<void> {
    const first = this.tree.knownDirs().length === 0;
    await this.listAll(first ? [''] : this.tree.knownDirs(), first);
    if (first && !this.d.stopped()) {
      const gone = this.tree.takeSeedLeftovers();
      if (gone.length) this.d.onChanges(this, { ...noChanges(), deleted: gone });
    }
  }

  /** One stat per folder; lists again those whose time moved or that changed within `hotMs`. */
  async checkFolders(hotMs: number): Promise<void> {
    const rels = this.tree.knownDirs();
    if (!rels.length) {
      await this.fullScan();
      return;
    }
    const now = this.d.now();
    const relist: string[] = [];
    for (let i = 0; i < rels.length && !this.d.stopped(); i += STAT_BATCH) {
      const part = rels.slice(i, i + STAT_BATCH);
      const st = await this.d.fs.stat(part.map((r) => this.tree.abs(r)));
      part.forEach((rel, j) => {
        const known = this.tree.dirTime(rel);
        if (!known) return;
        // Folder times can be coarse (1 s on SMB, 2 s on FAT): a folder that changed lately is
        // listed again even if its time did not move, so a second file in the same tick is seen.
        const moved =
          st.errors[j] !== null || st.kinds[j] !== KIND.dir || st.mtimes[j] !== known.mtimeMs || st.inos[j] !== known.ino;
        if (moved || now - known.changedAt < hotMs) relist.push(rel);
      });
    }
    if (relist.length && !this.d.stopped()) await this.listAll(relist, false);
  }

  /** Stats the hinted paths (and lists hinted folders); reports what changed. */
  async hints(paths: string[], dirs: string[]): Promise<void> {
    const out = noChanges();
    if (paths.length) {
      const st = await this.d.fs.stat(paths);
      const now = this.d.now();
      paths.forEach((p, i) =>
        this.tree.applyStat(
          p,
          { kind: st.kinds[i]!, size: st.sizes[i]!, mtimeMs: st.mtimes[i]!, ino: st.inos[i]!, error: st.errors[i] ?? null },
          now,
          out,
        ),
      );
    }
    if (this.d.stopped()) return;
    this.d.onChanges(this, out);
    const relist = [...new Set([...dirs.map((p) => this.tree.relOf(p)).filter((r): r is string => r !== null), ...out.newDirs])];
    if (relist.length) await this.listAll(relist, false);
  }

  /**
   * Absolute paths of the folders worth watching with events: the root, the folders changed since
   * `since` (most recent first) and their parents, so that a new folder next to the current
   * acquisition folder is seen at once too.
   */
  activeDirs(since: number): string[] {
    const rels = new Set<string>(['']);
    for (const c of this.tree.changedSince(since)) {
      for (let rel = c.rel; rel !== '' && !rels.has(rel); rel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '')
        rels.add(rel);
    }
    return [...rels].map((r) => this.tree.abs(r));
  }
}
