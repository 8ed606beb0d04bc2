// Batch scan: walks the sources (files or folders) and streams what it takes as files and what it
// leaves as notes for the operator. The walk keeps an explicit stack of open folders, reads one
// folder's names at a time (sorted, so two runs list files in the same order) and stats only the
// files it takes, so 100,000 files cost one small array per folder on the current path.
import { lstat, opendir, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import type { ScanNote } from '../../../shared/model.js';
import { createFilter, type PathFilter } from './filters.js';

export interface ScannedFile {
  /** Absolute local path. */
  path: string;
  /** '/'-separated, relative to its source root; for a source that is a single file, its basename. */
  relpath: string;
  size: number;
  mtimeMs: number;
  /** The source folder (for a single-file source, its parent folder). */
  root: string;
}

export type ScanItem = { file: ScannedFile } | { note: ScanNote };

export interface ScanOptions {
  include: string[];
  exclude: string[];
  followSymlinks?: boolean;
  signal?: AbortSignal;
}

type Kind = 'file' | 'dir' | 'symlink' | 'special';

interface Frame {
  dir: string;
  rel: string;
  entries: Dirent[];
  next: number;
  id: string;
  /** Entries already being stat-ed, in name order. */
  ahead: Promise<Visited>[];
}

interface Visited {
  abs: string;
  rel: string;
  out: ScanItem | 'dir' | null;
}

interface Walk {
  root: string;
  filter: PathFilter;
  follow: boolean;
  signal: AbortSignal | undefined;
  /** (dev, ino) of each folder on the current path → its path, to stop symlink and mount loops. */
  ancestors: Map<string, string>;
}

const SYMLINK_SKIPPED = 'not followed (symlinks are skipped by default)';
/**
 * How many entries of a folder are stat-ed at once. One at a time is latency-bound on NFS and SMB
 * shares (one round trip per file); a short window keeps the order and hides most of it.
 */
const LOOKAHEAD = 32;

/** Kind from a Dirent or Stats; null when the file system did not say (some NFS and FUSE mounts). */
function kindOf(s: Dirent | Stats): Kind | null {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isFIFO() || s.isSocket() || s.isCharacterDevice() || s.isBlockDevice()) return 'special';
  return null;
}

function errCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

/** The thing disappeared or changed type between listing and stat: nothing left to take. */
function vanished(e: unknown): boolean {
  return errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR';
}

function unreadable(p: string, e: unknown): { note: ScanNote } {
  const code = errCode(e);
  const detail =
    code === 'EACCES' || code === 'EPERM'
      ? `permission denied (${code}); give the account running Beamdrop read access to it, or exclude it`
      : `${code || 'error'}: ${e instanceof Error ? e.message : String(e)}; check the disk or network share, then scan again`;
  return { note: { path: p, kind: 'unreadable', detail } };
}

function special(p: string, st: Stats): { note: ScanNote } {
  const what = st.isFIFO()
    ? 'a FIFO (named pipe)'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice()
        ? 'a character device'
        : 'a block device';
  // Never opened: reading a FIFO or a device can block forever or never end.
  return {
    note: { path: p, kind: 'excluded-special', detail: `not a regular file but ${what}; only regular files are uploaded` },
  };
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BeamdropError({ code: 'cancelled', retryable: false, message: 'the scan was cancelled' }, { cause: signal.reason });
  }
}

/** Names of one folder sorted by UTF-16 code units: locale-independent, so the order is repeatable. */
async function readSorted(dir: string): Promise<Dirent[]> {
  const entries: Dirent[] = [];
  for await (const d of await opendir(dir, { bufferSize: 256 })) entries.push(d);
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Opens a folder for the walk, or says why not (a loop, or unreadable); null when it vanished. */
async function enter(w: Walk, dir: string, rel: string): Promise<Frame | { note: ScanNote } | null> {
  try {
    // bigint: inode numbers of some file systems do not fit in a double.
    const st = await stat(dir, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    const seen = w.ancestors.get(id);
    if (seen !== undefined) {
      return {
        note: { path: dir, kind: 'loop', detail: `leads back to ${seen}, which is being scanned; skipped so the scan ends` },
      };
    }
    return { dir, rel, entries: await readSorted(dir), next: 0, id, ahead: [] };
  } catch (e) {
    return vanished(e) ? null : unreadable(dir, e);
  }
}

function file(root: string, abs: string, rel: string, st: Stats): { file: ScannedFile } {
  return { file: { path: abs, relpath: rel, size: st.size, mtimeMs: st.mtimeMs, root } };
}

/** What one folder entry becomes: a file, a note, a folder to enter, or nothing. */
async function visit(w: Walk, d: Dirent, abs: string, rel: string): Promise<ScanItem | 'dir' | null> {
  let kind = kindOf(d);
  if (kind === 'dir') return 'dir';
  // Skip the stat of files the include globs do not want.
  if (kind === 'file' && !w.filter.takesFile(rel, d.name)) return null;
  let st: Stats;
  try {
    st = await lstat(abs);
  } catch (e) {
    return vanished(e) ? null : unreadable(abs, e);
  }
  kind = kindOf(st);
  if (kind === 'symlink') {
    if (!w.follow) return { note: { path: abs, kind: 'symlink', detail: SYMLINK_SKIPPED } };
    try {
      st = await stat(abs);
    } catch (e) {
      if (vanished(e))
        return {
          note: { path: abs, kind: 'symlink', detail: 'its target does not exist (broken symlink); fix or remove the link' },
        };
      if (errCode(e) === 'ELOOP')
        return {
          note: {
            path: abs,
            kind: 'loop',
            detail: 'the symlink points to itself through other symlinks; fix or remove the link',
          },
        };
      return unreadable(abs, e);
    }
    kind = kindOf(st);
  }
  if (kind === 'dir') return 'dir';
  if (!w.filter.takesFile(rel, d.name)) return null;
  if (kind === 'file') return file(w.root, abs, rel, st);
  return special(abs, st);
}

/** Starts the stat of the next entries of `frame`, up to LOOKAHEAD, keeping their order. */
function prefetch(w: Walk, frame: Frame): void {
  while (frame.ahead.length < LOOKAHEAD && frame.next < frame.entries.length) {
    const d = frame.entries[frame.next++] as Dirent;
    const rel = frame.rel === '' ? d.name : `${frame.rel}/${d.name}`;
    // An excluded folder is not entered, so nothing below it is taken or reported.
    if (w.filter.excludes(rel, d.name)) continue;
    const abs = path.join(frame.dir, d.name);
    const visited = visit(w, d, abs, rel).then((out) => ({ abs, rel, out }));
    // visit() turns file-system errors into notes; anything else still throws where it is
    // awaited, and is not an unhandled rejection if the consumer stops the scan first.
    visited.catch(() => undefined);
    frame.ahead.push(visited);
  }
}

async function* walk(w: Walk): AsyncGenerator<ScanItem> {
  const stack: Frame[] = [];
  const push = async function* (dir: string, rel: string): AsyncGenerator<ScanItem> {
    const opened = await enter(w, dir, rel);
    if (opened === null) return;
    if ('note' in opened) {
      yield opened;
      return;
    }
    stack.push(opened);
    w.ancestors.set(opened.id, dir);
  };
  yield* push(w.root, '');
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    checkAbort(w.signal);
    prefetch(w, frame);
    const next = frame.ahead.shift();
    if (next === undefined) {
      stack.pop();
      w.ancestors.delete(frame.id);
      continue;
    }
    const { abs, rel, out } = await next;
    if (out === 'dir') yield* push(abs, rel);
    else if (out !== null) yield out;
  }
}

/** Stats every source before anything is yielded, so a typo fails at once and not after an hour. */
async function openSources(sources: string[]): Promise<{ path: string; st: Stats | null; error?: unknown }[]> {
  const unique = [...new Set(sources.map((s) => path.resolve(s)))];
  return Promise.all(
    unique.map(async (p) => {
      try {
        // stat, not lstat: a source the operator chose is followed even if it is a symlink.
        return { path: p, st: await stat(p) };
      } catch (e) {
        if (vanished(e)) {
          throw new BeamdropError(
            { code: 'not-found', retryable: false, file: p, message: `${p}: no such file or folder; check the path` },
            { cause: e },
          );
        }
        return { path: p, st: null, error: e };
      }
    }),
  );
}

/** Walks the sources; yields `{ file }` for each file taken and `{ note }` for what was left. */
export async function* scan(sources: string[], options: ScanOptions): AsyncGenerator<ScanItem> {
  const filter = createFilter({ include: options.include, exclude: options.exclude });
  checkAbort(options.signal);
  for (const source of await openSources(sources)) {
    checkAbort(options.signal);
    if (source.st === null) {
      yield unreadable(source.path, source.error);
    } else if (source.st.isDirectory()) {
      yield* walk({
        root: source.path,
        filter,
        follow: options.followSymlinks ?? false,
        signal: options.signal,
        ancestors: new Map(),
      });
    } else {
      const rel = path.basename(source.path);
      if (filter.excludes(rel) || !filter.takesFile(rel)) continue;
      if (source.st.isFile()) yield file(path.dirname(source.path), source.path, rel, source.st);
      else yield special(source.path, source.st);
    }
  }
}
