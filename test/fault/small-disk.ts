// A small real filesystem for the full-disk tests: a tmpfs of a few MiB mounted on a temporary
// folder (the tests run as root; CI too). It is filled with a filler file so that only a given
// number of bytes stay free, and "space comes back" is deleting the filler. A mount that is not
// permitted fails the test loudly: these tests must never skip.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  path: string;
  /** Bytes free for an unprivileged writer right now. */
  free(): number;
  /** Writes a filler file so that about `leaveBytes` stay free (0: until the disk is full); returns its path. */
  fill(leaveBytes: number): string;
  /** Deletes every filler file: the space comes back. */
  release(): void;
  unmount(): void;
}

const CHUNK = 1024 * 1024;

/** Mounts a tmpfs of `sizeBytes` at `dir` (or a new temp folder). */
export function mountSmallDisk(sizeBytes: number, dir: string = mkdtempSync(join(tmpdir(), 'bd-small-disk-'))): SmallDisk {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `cannot mount a ${sizeBytes}-byte tmpfs on ${dir} (${err.stderr?.toString().trim() || err.message}); ` +
        'the full-disk tests need root (CI runs them as root) and are never skipped.',
      { cause: e },
    );
  }
  const fillers: string[] = [];
  const free = () => {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    path: dir,
    free,
    fill(leaveBytes) {
      const file = join(dir, `.filler-${fillers.length}`);
      fillers.push(file);
      const fd = openSync(file, 'w');
      const zeros = Buffer.alloc(CHUNK);
      try {
        for (;;) {
          const room = free() - leaveBytes;
          if (room <= 0) break;
          try {
            writeSync(fd, zeros, 0, Math.min(CHUNK, room));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw e;
          }
        }
      } finally {
        closeSync(fd);
      }
      return file;
    },
    release() {
      while (fillers.length) unlinkSync(fillers.pop()!);
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
