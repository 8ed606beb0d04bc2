// The local disk under Beamdrop's data folder is full: SQLite says SQLITE_FULL when the journal or
// the local catalogue cannot grow, and the log or a local RO-Crate copy get ENOSPC. No file's
// fault and nothing the destination can fix: the process stops cleanly (every state change
// written so far is in the journal, each in its own transaction) and the next run, once space is
// freed, continues from there.
import { isAbsolute, relative, resolve } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';

const SQLITE_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);
const ERRNO_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Whether `e` (as thrown by better-sqlite3 or node:fs, or a BeamdropError made here) says the local disk is full. */
export function isLocalDiskFull(e: unknown): boolean {
  if (e instanceof BeamdropError) return e.code === 'local-disk-full';
  const err = e as { name?: unknown; code?: unknown } | null;
  if (typeof err?.code !== 'string') return false;
  if (err.name === 'SqliteError') return SQLITE_FULL_CODES.has(err.code);
  // A raw ENOSPC is local: a destination's own (a mounted archive) arrives as a 'disk-full' BeamdropError.
  return ERRNO_FULL_CODES.has(err.code);
}

/**
 * The error a command ends with when the local disk is full, naming the journal and what to do;
 * `e` itself if it is something else.
 */
export function localDiskFull(e: unknown, paths: { root: string; journal: string }): unknown {
  if (!isLocalDiskFull(e) || e instanceof BeamdropError) return e;
  const err = e as { code: string; path?: unknown };
  const path = typeof err.path === 'string' ? resolve(err.path) : null;
  const inDataFolder = err.code.startsWith('SQLITE') || (path !== null && isInside(resolve(paths.root), path));
  const what = err.code.startsWith('SQLITE')
    ? `the journal ${paths.journal} (or the local catalogue beside it) could not be written (${err.code})`
    : `${path ?? 'a file'} could not be written (${err.code})`;
  const disk = inDataFolder ? `the disk holding Beamdrop's data folder ${paths.root}` : 'a local disk';
  return new BeamdropError(
    {
      code: 'local-disk-full',
      retryable: true,
      ...(inDataFolder ? { field: 'data folder' } : {}),
      message:
        `${disk} is full: ${what}. Beamdrop stopped here; nothing is lost — every file already verified stays ` +
        'recorded, and the files in flight are sent or checked again. ' +
        `Free space on that disk (see \`df -h ${inDataFolder ? paths.root : (path ?? '.')}\`), then run the same command again: it continues where it stopped.`,
    },
    { cause: e },
  );
}

function isInside(folder: string, path: string): boolean {
  const r = relative(folder, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}
