// What sync mode last saw of one watched folder: each sub-folder's time and the size, mtime and
// inode of each file it takes. Listings and single stats are compared with it, and only the
// differences come out (new or changed files, deletions, new folders), so a check of an unchanged
// tree writes nothing. Seeded from the journal on resume: a file the journal already holds with
// the same size and mtime is not reported again, and one that vanished while nobody watched is.
import path from 'node:path';
import type { ScanNote } from '../../../shared/model.js';
import { KIND, type Listing } from './fs-client.js';
import type { SyncFilter } from './sync-rules.js';

export interface Snap {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface DirNode {
  mtimeMs: number;
  ino: number;
  files: Map<string, Snap>;
  dirs: Set<string>;
  /** Local time of the last difference found in this folder (0: none since the first look). */
  changedAt: number;
  readable: boolean;
}

export interface Observation {
  path: string;
  relpath: string;
  size: number;
  mtimeMs: number;
}

/** What one listing or stat changed; the caller journals it. */
export interface TreeChanges {
  observed: Observation[];
  /** Files that are gone. */
  deleted: { path: string; relpath: string }[];
  /** Relpaths of folders not listed yet. */
  newDirs: string[];
  notes: ScanNote[];
}

export const noChanges = (): TreeChanges => ({ observed: [], deleted: [], newDirs: [], notes: [] });

const join = (rel: string, name: string) => (rel === '' ? name : `${rel}/${name}`);

export class TreeState {
  private readonly dirs = new Map<string, DirNode>();
  /** Paths already reported as notes, so a poll does not repeat them. */
  private readonly noted = new Set<string>();

  private readonly prefix: string;

  constructor(
    readonly root: string,
    private readonly filter: SyncFilter,
    private seed: Map<string, { size: number; mtimeMs: number }> | null = null,
  ) {
    this.prefix = root.endsWith(path.sep) ? root : root + path.sep;
  }

  /** The absolute path of a relpath (string concatenation: this runs for every file of a scan). */
  abs(rel: string): string {
    if (rel === '') return this.root;
    return this.prefix + (path.sep === '/' ? rel : rel.replaceAll('/', path.sep));
  }

  /** The relpath of an absolute path inside this folder, or null. */
  relOf(abs: string): string | null {
    const r = path.relative(this.root, abs);
    if (r === '') return '';
    if (r.startsWith('..') || path.isAbsolute(r)) return null;
    return r.split(path.sep).join('/');
  }

  knownDirs(): string[] {
    return [...this.dirs.keys()];
  }
  dirTime(rel: string): { mtimeMs: number; ino: number; changedAt: number } | null {
    const d = this.dirs.get(rel);
    return d ? { mtimeMs: d.mtimeMs, ino: d.ino, changedAt: d.changedAt } : null;
  }
  /** Files taken and their bytes, as last seen. */
  totals(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const d of this.dirs.values())
      for (const f of d.files.values()) {
        files++;
        bytes += f.size;
      }
    return { files, bytes };
  }
  hasFile(abs: string): boolean {
    const rel = this.relOf(abs);
    if (rel === null || rel === '') return false;
    const slash = rel.lastIndexOf('/');
    return this.dirs.get(slash < 0 ? '' : rel.slice(0, slash))?.files.has(rel.slice(slash + 1)) ?? false;
  }

  /** Folders that changed since `since` (local time), most recent first. */
  changedSince(since: number): { rel: string; changedAt: number }[] {
    const out: { rel: string; changedAt: number }[] = [];
    for (const [rel, d] of this.dirs) if (d.changedAt >= since) out.push({ rel, changedAt: d.changedAt });
    return out.sort((a, b) => b.changedAt - a.changedAt);
  }

  private note(out: TreeChanges, p: string, kind: ScanNote['kind'], detail: string): void {
    if (this.noted.has(p)) return;
    this.noted.add(p);
    out.notes.push({ path: p, kind, detail });
  }

  /** Compares a file with what was seen; reports it when it is new or differs. */
  private seeFile(d: DirNode, rel: string, name: string, size: number, mtimeMs: number, ino: number, out: TreeChanges): boolean {
    const relpath = join(rel, name);
    const old = d.files.get(name);
    if (old && old.size === size && old.mtimeMs === mtimeMs && old.ino === ino) return false;
    d.files.set(name, { size, mtimeMs, ino });
    const abs = this.abs(relpath);
    if (!old && this.seed) {
      const known = this.seed.get(abs);
      this.seed.delete(abs);
      if (known && known.size === size && known.mtimeMs === mtimeMs) return false;
    }
    if (old && old.size === size && old.mtimeMs === mtimeMs) return false; // replaced by an identical copy
    out.observed.push({ path: abs, relpath, size, mtimeMs });
    return true;
  }

  private dropFile(d: DirNode, rel: string, name: string, out: TreeChanges): void {
    if (d.files.delete(name)) {
      const relpath = join(rel, name);
      out.deleted.push({ path: this.abs(relpath), relpath });
    }
  }

  /** Forgets a folder and everything below it; its files are reported deleted. */
  private dropDir(rel: string, out: TreeChanges): void {
    const d = this.dirs.get(rel);
    if (!d) return;
    for (const name of d.files.keys()) {
      const relpath = join(rel, name);
      out.deleted.push({ path: this.abs(relpath), relpath });
    }
    for (const sub of d.dirs) this.dropDir(join(rel, sub), out);
    this.dirs.delete(rel);
    if (rel !== '') {
      const slash = rel.lastIndexOf('/');
      this.dirs.get(slash < 0 ? '' : rel.slice(0, slash))?.dirs.delete(rel.slice(slash + 1));
    }
  }

  /**
   * Applies one folder listing. `initial`: the first look at the folder, where a folder only
   * counts as recently changed if it holds a file modified in the last `activeWindowMs`.
   */
  applyListing(rel: string, l: Listing, now: number, out: TreeChanges, initial = false, activeWindowMs = 600_000): void {
    if (l.error !== null) {
      if ((l.error === 'ENOENT' || l.error === 'ENOTDIR') && rel !== '') {
        this.dropDir(rel, out);
        return;
      }
      // Unreadable or unreachable (a share that went away): keep what was seen, infer nothing.
      const d = this.dirs.get(rel);
      if (d) d.readable = false;
      this.note(
        out,
        this.abs(rel),
        'unreadable',
        `${l.error}: the folder cannot be read; nothing below it is taken until it can (check the disk, share or permissions)`,
      );
      return;
    }
    let d = this.dirs.get(rel);
    const fresh = !d;
    if (!d) {
      d = { mtimeMs: 0, ino: 0, files: new Map(), dirs: new Set(), changedAt: 0, readable: true };
      this.dirs.set(rel, d);
    }
    this.noted.delete(this.abs(rel));
    d.mtimeMs = l.mtimeMs;
    d.ino = l.ino;
    d.readable = true;
    let changed = false;
    let newest = 0;
    const present = fresh ? null : new Set<string>();
    for (let i = 0; i < l.names.length; i++) {
      const name = l.names[i]!;
      const kind = l.kinds[i]!;
      const childRel = join(rel, name);
      if (kind === KIND.dir) {
        if (this.filter.skipsDir(childRel, name)) continue;
        present?.add(name);
        if (!d.dirs.has(name)) {
          d.dirs.add(name);
          out.newDirs.push(childRel);
          changed = true;
        }
        continue;
      }
      if (kind === KIND.gone || !this.filter.takesFile(childRel, name)) continue;
      if (kind === KIND.symlink) {
        this.note(
          out,
          this.abs(childRel),
          'symlink',
          'not followed (symlinks are skipped in sync mode unless --follow-symlinks, and never into folders)',
        );
        continue;
      }
      if (kind === KIND.other) {
        this.note(
          out,
          this.abs(childRel),
          'excluded-special',
          'not a regular file (or it cannot be read); only regular files are uploaded',
        );
        continue;
      }
      present?.add(name);
      newest = Math.max(newest, l.mtimes[i]!);
      if (this.seeFile(d, rel, name, l.sizes[i]!, l.mtimes[i]!, l.inos[i]!, out)) changed = true;
    }
    if (present) {
      for (const name of [...d.files.keys()])
        if (!present.has(name)) {
          this.dropFile(d, rel, name, out);
          changed = true;
        }
      for (const name of [...d.dirs])
        if (!present.has(name)) {
          this.dropDir(join(rel, name), out);
          changed = true;
        }
    }
    if (initial ? newest >= Date.now() - activeWindowMs : changed) d.changedAt = now;
  }

  /** Applies the stat of one path (a watcher's hint): a file, a new folder, or a deletion. */
  applyStat(
    abs: string,
    s: { kind: number; size: number; mtimeMs: number; ino: number; error: string | null },
    now: number,
    out: TreeChanges,
  ): void {
    const rel = this.relOf(abs);
    if (rel === null || rel === '') return;
    const slash = rel.lastIndexOf('/');
    const parentRel = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    const d = this.dirs.get(parentRel);
    // Inside a folder not listed yet: its own listing will find it.
    if (!d || s.error !== null) return;
    const before = out.observed.length + out.deleted.length + out.newDirs.length;
    if (s.kind === KIND.gone) {
      if (d.files.has(name)) this.dropFile(d, parentRel, name, out);
      else if (d.dirs.has(name)) this.dropDir(rel, out);
    } else if (s.kind === KIND.dir) {
      if (d.files.has(name)) this.dropFile(d, parentRel, name, out);
      if (!d.dirs.has(name) && !this.filter.skipsDir(rel, name)) {
        d.dirs.add(name);
        out.newDirs.push(rel);
      }
    } else if (s.kind === KIND.file && this.filter.takesFile(rel, name)) {
      this.seeFile(d, parentRel, name, s.size, s.mtimeMs, s.ino, out);
    }
    if (out.observed.length + out.deleted.length + out.newDirs.length > before) d.changedAt = now;
  }

  /**
   * After the first full listing: files the journal knows that were not found. Only those under
   * a folder that was read are deleted; below an unreadable folder nothing is concluded.
   */
  takeSeedLeftovers(): { path: string; relpath: string }[] {
    const seed = this.seed;
    this.seed = null;
    if (!seed) return [];
    const gone: { path: string; relpath: string }[] = [];
    for (const abs of seed.keys()) {
      const relpath = this.relOf(abs);
      if (relpath === null || relpath === '') continue;
      let rel: string = relpath;
      // The nearest folder still known decides: read → the file is gone; unreadable → unknown.
      for (;;) {
        const slash: number = rel.lastIndexOf('/');
        rel = slash < 0 ? '' : rel.slice(0, slash);
        const d = this.dirs.get(rel);
        if (d) {
          if (d.readable) gone.push({ path: abs, relpath });
          break;
        }
        if (rel === '') break;
      }
    }
    return gone;
  }
}
