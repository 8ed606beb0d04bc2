// One local file, read once: every byte read is fed in order to the whole-file SHA-256, paid for
// at the bandwidth throttle, and handed to the destination. finish() re-checks the file, so a
// file changed or deleted while it was being sent is never recorded as uploaded. Each buffer read
// is lent to the hash worker and handed out once hashed (no copy per byte); readPart() gets an S3
// part's CRC32C from that same pass, and chunks() reads and hashes a few chunks ahead.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { BeamdropError } from '../../../shared/errors.js';
import type { UploadSource } from '../storage/destination.js';
import type { HashPool, Lent, Sha256Stream } from '../hash/hash-pool.js';
import type { Throttle } from './throttle.js';

/** The unit in which the throttle is paid (and the largest single disk read). */
export const CHUNK = 1024 * 1024;
/** Chunk size for streaming destinations: fewer, larger messages to the hash worker. */
export const STREAM_CHUNK = 4 * CHUNK;
/** Chunks read and hashing ahead of the one the destination is sending. */
const LOOKAHEAD = 3;

export interface FileSourceDeps {
  hashes: HashPool;
  throttle: Throttle | null;
  /** Bytes accepted by the destination. */
  onSent?: (bytes: number) => void;
  /** Bytes read from disk (tests count these to prove one read pass). */
  onRead?: (bytes: number) => void;
  signal?: AbortSignal;
}

interface Identity {
  size: number;
  mtimeMs: number;
  ino: number;
}

export class FileSource implements UploadSource {
  private position = 0;
  private finished = false;

  private constructor(
    readonly path: string,
    readonly relpath: string,
    readonly size: number,
    private readonly identity: Identity,
    private readonly handle: FileHandle,
    private readonly sha: Sha256Stream,
    private readonly deps: FileSourceDeps,
  ) {}

  /** Opens the file and checks it is still the one that was scanned (size and mtime). */
  static async open(
    path: string,
    relpath: string,
    expected: { size: number; mtimeMs: number },
    deps: FileSourceDeps,
  ): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw fileError(e, path, relpath);
    }
    try {
      const st = await handle.stat();
      if (st.size !== expected.size || Math.trunc(st.mtimeMs) !== Math.trunc(expected.mtimeMs)) {
        throw changed(relpath, `its size or modification time differs from the scan (${expected.size} → ${st.size} bytes)`);
      }
      return new FileSource(
        path,
        relpath,
        st.size,
        { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
        handle,
        deps.hashes.sha256Stream(),
        deps,
      );
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const { done } = await this.lend(offset, length, false);
    return (await done).data;
  }

  async readPart(offset: number, length: number): Promise<{ checked: Promise<{ data: Buffer; crc32c: string }> }> {
    const { done } = await this.lend(offset, length, true);
    return { checked: done.then(({ data, crc32c }) => ({ data, crc32c: crc32c! })) };
  }

  /** Reads the next bytes and lends them to the hash worker; resolves once the next read may start. */
  private async lend(offset: number, length: number, crc32c: boolean): Promise<{ done: Promise<Lent> }> {
    const buf = await this.readBytes(offset, length);
    // Counted before lending: a lent buffer is detached here (its length reads 0).
    this.position += buf.length;
    const { queued, done } = this.sha.lend(buf, { crc32c });
    await queued;
    return { done };
  }

  private async readBytes(offset: number, length: number): Promise<Buffer> {
    if (offset !== this.position) throw new Error(`FileSource.read out of order: at ${this.position}, asked ${offset}`);
    const want = Math.min(length, this.size - offset);
    // A buffer of its own memory, so it can move to the hash worker and back without a copy.
    const buf = Buffer.allocUnsafeSlow(want);
    let got = 0;
    while (got < want) {
      this.deps.signal?.throwIfAborted();
      const step = Math.min(CHUNK, want - got);
      if (this.deps.throttle) await this.deps.throttle.take(step, this.deps.signal);
      const { bytesRead } = await this.handle.read(buf, got, step, offset + got);
      if (bytesRead === 0)
        throw changed(this.relpath, `it became shorter while being read (${offset + got} of ${this.size} bytes)`);
      got += bytesRead;
    }
    this.deps.onRead?.(want);
    return buf;
  }

  async *chunks(offset = 0): AsyncIterable<Buffer> {
    // Reads stay sequential; hashing of the next chunks overlaps the sending of this one.
    const ahead: Promise<Lent>[] = [];
    let at = offset;
    while (at < this.size || ahead.length) {
      while (at < this.size && ahead.length < LOOKAHEAD) {
        const length = Math.min(STREAM_CHUNK, this.size - at);
        ahead.push((await this.lend(at, length, false)).done);
        at += length;
      }
      yield (await ahead.shift()!).data;
    }
  }

  partChecksum(data: Buffer, algorithm: 'crc32c' | 'sha256'): Promise<string> {
    return this.deps.hashes.checksum(data, algorithm);
  }

  sent(bytes: number): void {
    this.deps.onSent?.(bytes);
  }

  async finish(): Promise<string> {
    if (this.position !== this.size) throw new Error(`FileSource.finish before the end: ${this.position} of ${this.size}`);
    const viaHandle = await this.handle.stat();
    let viaPath;
    try {
      viaPath = await stat(this.path);
    } catch (e) {
      throw fileError(e, this.path, this.relpath);
    }
    for (const st of [viaHandle, viaPath]) {
      if (st.size !== this.identity.size || st.mtimeMs !== this.identity.mtimeMs || st.ino !== this.identity.ino) {
        throw changed(this.relpath, 'it was modified while being sent');
      }
    }
    this.finished = true;
    return this.sha.digest();
  }

  async close(): Promise<void> {
    if (!this.finished) this.sha.drop();
    await this.handle.close();
  }
}

function changed(relpath: string, why: string): BeamdropError {
  return new BeamdropError({
    code: 'changed-during-upload',
    retryable: true,
    file: relpath,
    message: `${relpath}: ${why}; the upload was discarded and the file will be sent again.`,
  });
}

/** Maps an fs error on a local file to what the operator should know. */
export function fileError(e: unknown, path: string, relpath: string): BeamdropError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new BeamdropError(
      { code: 'vanished', retryable: false, file: relpath, message: `vanished: ${path} was deleted or moved after the scan.` },
      { cause: e },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new BeamdropError(
      {
        code: 'unreadable',
        retryable: false,
        file: relpath,
        message: `unreadable: no permission to read ${path}; fix its permissions (chmod/ACL) and retry the job.`,
      },
      { cause: e },
    );
  }
  if (code === 'EBUSY') {
    return new BeamdropError(
      {
        code: 'unreadable',
        retryable: true,
        file: relpath,
        message: `${path} is held open by another program (sharing violation); it will be tried again.`,
      },
      { cause: e },
    );
  }
  if (code === 'EISDIR') {
    return new BeamdropError(
      { code: 'unreadable', retryable: false, file: relpath, message: `unreadable: ${path} is a folder, not a file.` },
      { cause: e },
    );
  }
  return new BeamdropError(
    { code: 'unreadable', retryable: false, file: relpath, message: `unreadable: ${path}: ${(e as Error).message}` },
    { cause: e },
  );
}
