// Worker thread that lists folders and stats files for sync mode with synchronous calls: on a
// local disk they cost a few microseconds each (several times less than the promise API), and on
// a slow network share they block this thread, never the engine's event loop. Results go back in
// columns (arrays of numbers and names), which structured clone copies cheaply.
// No relative imports: this file is loaded as .ts (tests, Node type stripping) and as .js (dist).
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

/** Entry kinds: file, folder, symlink (not followed), other (FIFO, device, socket), vanished. */
export const KIND = { file: 0, dir: 1, symlink: 2, other: 3, gone: 4 } as const;

type Request =
  { id: number; op: 'list'; dirs: string[]; follow: boolean } | { id: number; op: 'stat'; paths: string[]; follow: boolean };

export interface Listing {
  dir: string;
  /** errno code when the folder could not be read. */
  error: string | null;
  mtimeMs: number;
  ino: number;
  names: string[];
  kinds: number[];
  sizes: number[];
  mtimes: number[];
  inos: number[];
}

export interface StatColumns {
  kinds: number[];
  sizes: number[];
  mtimes: number[];
  inos: number[];
  errors: (string | null)[];
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
}

function kindOf(st: Stats): number {
  if (st.isFile()) return KIND.file;
  if (st.isDirectory()) return KIND.dir;
  if (st.isSymbolicLink()) return KIND.symlink;
  return KIND.other;
}

/** One entry's kind and stats; symlinks to files are followed when asked, never into folders. */
function statEntry(p: string, follow: boolean): [number, number, number, number] {
  let st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return [KIND.gone, 0, 0, 0];
  if (st.isSymbolicLink() && follow) {
    const target = statSync(p, { throwIfNoEntry: false });
    if (target && target.isFile()) st = target;
  }
  return [kindOf(st), st.size, st.mtimeMs, st.ino];
}

function list(dir: string, follow: boolean): Listing {
  const out: Listing = { dir, error: null, mtimeMs: 0, ino: 0, names: [], kinds: [], sizes: [], mtimes: [], inos: [] };
  try {
    // The folder's own time is read before its names: a change during the listing leaves a newer
    // time behind, so the next check reads the folder again.
    const st = statSync(dir);
    out.mtimeMs = st.mtimeMs;
    out.ino = st.ino;
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      out.names.push(d.name);
      if (d.isDirectory()) {
        out.kinds.push(KIND.dir);
        out.sizes.push(0);
        out.mtimes.push(0);
        out.inos.push(0);
        continue;
      }
      let entry: [number, number, number, number];
      try {
        entry = statEntry(prefix + d.name, follow);
      } catch {
        // Unreadable entry: listed as "other" so it is reported, never as a file to send.
        entry = [KIND.other, 0, 0, 0];
      }
      out.kinds.push(entry[0]);
      out.sizes.push(entry[1]);
      out.mtimes.push(entry[2]);
      out.inos.push(entry[3]);
    }
  } catch (e) {
    out.error = code(e);
  }
  return out;
}

function stat(paths: string[], follow: boolean): StatColumns {
  const out: StatColumns = { kinds: [], sizes: [], mtimes: [], inos: [], errors: [] };
  for (const p of paths) {
    let entry: [number, number, number, number] = [KIND.gone, 0, 0, 0];
    let error: string | null = null;
    try {
      entry = statEntry(p, follow);
    } catch (e) {
      error = code(e);
    }
    out.kinds.push(entry[0]);
    out.sizes.push(entry[1]);
    out.mtimes.push(entry[2]);
    out.inos.push(entry[3]);
    out.errors.push(error);
  }
  return out;
}

/** workerData marking the thread FsClient starts (the engine also imports this file, for KIND). */
export const FS_WORKER_ROLE = 'beamdrop-fs-worker';

const port = (workerData as { role?: string } | null)?.role === FS_WORKER_ROLE ? parentPort : null;
port?.on('message', (msg: Request) => {
  try {
    if (msg.op === 'list') port.postMessage({ id: msg.id, listings: msg.dirs.map((d) => list(d, msg.follow)) });
    else port.postMessage({ id: msg.id, stats: stat(msg.paths, msg.follow) });
  } catch (e) {
    port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
