// A mounted filesystem (local disk, NFS/SMB mount) as destination: write to a hidden temporary
// name, fsync, then link it to the final name (link fails if the name exists, so nothing is
// ever replaced), and verify by reading the stored bytes back.
import { createReadStream } from 'node:fs';
import { access, constants, link, lstat, mkdir, open, opendir, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, basename, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { BeamdropError } from '../../../../shared/errors.js';
import type { FilesystemDestinationConfig } from '../../../../shared/profile-schema.js';
import type { HashPool } from '../../hash/hash-pool.js';
import { sha256OfStream } from '../../hash/hash-readable.js';
import {
  nothingSwept,
  type Destination,
  type RemoteObject,
  type SweepResult,
  type SweepRules,
  type SweepScope,
  type UploadContext,
  type UploadResult,
  type UploadSource,
  type VerifyResult,
} from '../destination.js';

const TEMP_PREFIX = '.beamdrop-';
const TEMP_SUFFIX = '.part';

export class FilesystemDestination implements Destination {
  readonly kind = 'filesystem' as const;
  private readonly root: string;
  /** Temporary files of uploads running in this process, which a sweep must leave alone. */
  private readonly inFlight = new Set<string>();

  constructor(
    readonly name: string,
    config: FilesystemDestinationConfig,
    private readonly hashes: HashPool,
    /** The embedded local archive may create its root; a facility mount point must exist. */
    private readonly createRoot = false,
  ) {
    this.root = config.root;
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  uri(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  async check(): Promise<void> {
    // A file where the folder should be is a wrong setting, not a share that may come back.
    const kind = await stat(this.root).then(
      (st) => (st.isDirectory() ? 'folder' : 'file'),
      (e: NodeJS.ErrnoException) => (e.code === 'ENOTDIR' ? 'file' : 'missing'),
    );
    if (kind === 'file')
      throw new BeamdropError({
        code: 'destination-invalid',
        retryable: false,
        file: this.root,
        message: `destination "${this.name}": ${this.root} is a file (or lies under one), not a folder; give a folder to upload into.`,
      });
    try {
      if (this.createRoot) await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
    } catch (e) {
      throw new BeamdropError(
        {
          code: 'destination-unreachable',
          retryable: true,
          message: `destination "${this.name}": the folder ${this.root} is missing or not writable (${(e as Error).message}); check that the share is mounted and writable.`,
        },
        { cause: e },
      );
    }
  }

  async *list(prefix: string): AsyncIterable<RemoteObject> {
    const start = this.pathOf(prefix.replace(/\/+$/, ''));
    yield* this.walk(start);
  }

  private async *walk(dir: string): AsyncIterable<RemoteObject> {
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      return;
    }
    for await (const entry of handle) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) yield* this.walk(full);
      else if (entry.isFile() && !isTemp(entry.name)) {
        const st = await stat(full);
        yield {
          key: full
            .slice(this.root.length + 1)
            .split(sep)
            .join('/'),
          size: st.size,
          sha256: null,
        };
      }
    }
  }

  async head(key: string): Promise<RemoteObject | null> {
    try {
      const st = await stat(this.pathOf(key));
      return st.isFile() ? { key, size: st.size, sha256: null } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async upload(key: string, source: UploadSource, ctx: UploadContext): Promise<UploadResult> {
    const final = this.pathOf(key);
    const dir = dirname(final);
    const temp = join(dir, tempNameFor(final));
    this.inFlight.add(temp);
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(temp, 'wx');
      try {
        for await (const chunk of source.chunks()) {
          ctx.signal.throwIfAborted();
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          source.sent(chunk.length);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const sha256 = await source.finish();
      await this.publish(temp, final, key);
      return { sha256, size: source.size, serverChecked: false };
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw mapFsError(e, this.name, key);
    } finally {
      this.inFlight.delete(temp);
    }
  }

  /** Moves the temporary file to its final name without ever replacing an existing file. */
  private async publish(temp: string, final: string, key: string): Promise<void> {
    try {
      await link(temp, final);
      await unlink(temp);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw conflict(this.name, key);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
      // Some network filesystems have no hard links: check, then rename (a narrow race remains).
      if (
        await lstat(final).then(
          () => true,
          () => false,
        )
      )
        throw conflict(this.name, key);
      await rename(temp, final);
    }
    // Make the new directory entry durable too.
    const dh = await open(dirname(final), 'r').catch(() => null);
    if (dh) {
      await dh.sync().catch(() => undefined);
      await dh.close();
    }
  }

  async verify(key: string, expected: { size: number; sha256: string }, _options: { deep: boolean }): Promise<VerifyResult> {
    const obj = await this.head(key);
    if (!obj) return { ok: false, size: null, checked: [], problem: `${key} is missing at ${this.uri(key)}` };
    if (obj.size !== expected.size)
      return {
        ok: false,
        size: obj.size,
        checked: ['size'],
        problem: `size differs: ${obj.size} stored, ${expected.size} expected`,
      };
    // Reading back a local or mounted file is cheap, so the SHA-256 is always re-checked.
    const sha = await this.hashStored(key);
    if (sha !== expected.sha256)
      return {
        ok: false,
        size: obj.size,
        checked: ['size', 'sha256 (read back)'],
        problem: `SHA-256 differs: ${sha} stored, ${expected.sha256} expected`,
      };
    return { ok: true, size: obj.size, checked: ['size', 'sha256 (read back)'] };
  }

  private async hashStored(key: string): Promise<string> {
    return (await sha256OfStream(this.hashes, createReadStream(this.pathOf(key), { highWaterMark: 1024 * 1024 }))).sha256;
  }

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    await stat(path).catch((e) => {
      throw mapFsError(e, this.name, key);
    });
    return createReadStream(path, { highWaterMark: 1024 * 1024 });
  }

  async cleanup(olderThanMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    const visit = async (dir: string): Promise<void> => {
      let handle;
      try {
        handle = await opendir(dir);
      } catch {
        return;
      }
      for await (const entry of handle) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await visit(full);
        else if (isTemp(entry.name) && (await stat(full)).mtimeMs < cutoff) {
          await unlink(full);
          removed++;
        }
      }
    };
    await visit(this.root);
    return removed;
  }

  async sweep(scope: SweepScope, rules: SweepRules): Promise<SweepResult> {
    const result = nothingSwept();
    // Temporary files are never resumed (a write starts over), so every one for a key of the job
    // is a leftover, unless an upload of this process or another live one writes it.
    const removeIfLeftover = async (dir: string, name: string, belongs: (key: string) => boolean): Promise<void> => {
      const full = join(dir, name);
      const target = tempTarget(name);
      if (target === null || this.inFlight.has(full)) return;
      const key = [
        ...relative(this.root, dir)
          .split(sep)
          .filter((s) => s !== ''),
        target,
      ].join('/');
      if (!belongs(key)) return;
      const st = await lstat(full).catch(() => null);
      if (!st?.isFile() || (rules.spareSince !== null && st.mtimeMs >= rules.spareSince)) return;
      try {
        await unlink(full);
        result.temporaries++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw mapFsError(e, this.name, key);
      }
    };
    const visit = async (dir: string, recurse: boolean, belongs: (key: string) => boolean): Promise<void> => {
      let handle;
      try {
        handle = await opendir(dir);
      } catch {
        return;
      }
      for await (const entry of handle) {
        if (entry.isDirectory()) {
          if (recurse) await visit(join(dir, entry.name), true, belongs);
        } else await removeIfLeftover(dir, entry.name, belongs);
      }
    };
    const slash = scope.prefix.lastIndexOf('/');
    const folder = slash < 0 ? this.root : this.pathOf(scope.prefix.slice(0, slash));
    await visit(folder, true, (k) => k.startsWith(scope.prefix));
    if (scope.beside && folder !== this.root) await visit(dirname(folder), false, scope.beside);
    return result;
  }

  async close(): Promise<void> {}
}

const TEMP = /^\.beamdrop-[0-9a-f]{12}\.(.*)\.part$/s;

function isTemp(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX);
}

/** The file name a temporary file was written for, or null if it is not one of ours. */
function tempTarget(name: string): string | null {
  return TEMP.exec(name)?.[1] ?? null;
}

function conflict(destination: string, key: string): BeamdropError {
  return new BeamdropError({
    code: 'conflict',
    retryable: false,
    file: key,
    message: `conflict: ${key} already exists on "${destination}" with different content; it was left untouched. Rename the local file or remove the remote one deliberately.`,
  });
}

function mapFsError(e: unknown, destination: string, key: string): unknown {
  if (e instanceof BeamdropError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BeamdropError(
      {
        code: 'disk-full',
        retryable: true,
        file: key,
        message: `destination "${destination}" is full (${code}); free space or raise the quota, then resume the job.`,
      },
      { cause: e },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new BeamdropError(
      {
        code: 'permission-denied',
        retryable: false,
        file: key,
        message: `destination "${destination}": no permission to write ${key} (${code}); check the archive folder's permissions.`,
      },
      { cause: e },
    );
  }
  if (code === 'ENOENT') {
    return new BeamdropError(
      { code: 'not-found', retryable: false, file: key, message: `${key} is not on destination "${destination}".` },
      { cause: e },
    );
  }
  return e;
}

/** NAME_MAX (255 bytes on ext4, XFS, btrfs): the hidden temporary name must fit in one name too. */
function tempNameFor(final: string): string {
  const head = `${TEMP_PREFIX}${randomBytes(6).toString('hex')}.`;
  const name = [...basename(final)];
  while (name.length > 0 && Buffer.byteLength(head + name.join('') + TEMP_SUFFIX) > 255) name.pop();
  return head + name.join('') + TEMP_SUFFIX;
}
