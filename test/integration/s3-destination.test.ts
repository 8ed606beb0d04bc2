// The S3 destination against a real MinIO (no mocks): server-verified single PUTs, the own
// multipart loop with its journal, resume after an interruption, conflicts, cleanup, odd names.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile, open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { HashPool } from '../../src/main/engine/hash/hash-pool.js';
import { FileSource } from '../../src/main/engine/transfer/file-source.js';
import { S3Destination, type S3UploadPolicy } from '../../src/main/engine/storage/s3/s3-destination.js';
import type {
  MultipartIntent,
  MultipartPart,
  MultipartState,
  MultipartStore,
  UploadSource,
} from '../../src/main/engine/storage/destination.js';
import type { S3DestinationConfig } from '../../src/shared/profile-schema.js';
import { BeamdropError } from '../../src/shared/errors.js';
import { createBucket, freePort, minioClient } from '../support/minio.js';

const MiB = 1024 * 1024;
const s3 = inject('s3');
const pool = new HashPool(2);
let dir: string;
let bucket: string;
let raw: S3Client;
const destinations: S3Destination[] = [];

const basePolicy: S3UploadPolicy = {
  multipartThreshold: 8 * MiB,
  partSize: { min: 5 * MiB, max: 512 * MiB },
  partConcurrency: 4,
};

function config(over: Partial<S3DestinationConfig> = {}): S3DestinationConfig {
  return { kind: 's3', endpoint: s3.endpoint, region: s3.region, bucket, keyTemplate: '{relpath}', ...over };
}

function destination(
  policy: Partial<S3UploadPolicy> = {},
  over: Partial<S3DestinationConfig> = {},
  secret = s3.secretAccessKey,
): S3Destination {
  const d = new S3Destination(
    'test-s3',
    config(over),
    { accessKeyId: s3.accessKeyId, secretAccessKey: secret },
    { ...basePolicy, ...policy },
    pool,
  );
  destinations.push(d);
  return d;
}

/** The journal's multipart table, in memory. */
class MemoryStore implements MultipartStore {
  state: MultipartState | null = null;
  onPartDone: ((state: MultipartState) => void) | null = null;
  failClear = false;
  intended: MultipartIntent[] = [];
  load(): MultipartState | null {
    return this.state && { ...this.state, parts: [...this.state.parts] };
  }
  intend(i: { key: string; partSize: number }): void {
    this.intended = [{ ...i, at: Date.now() }, ...this.intended.filter((o) => o.key !== i.key)];
  }
  intents(): MultipartIntent[] {
    return [...this.intended];
  }
  heldElsewhere(): ReadonlySet<string> {
    return new Set();
  }
  abandon(): void {
    this.state = null;
  }
  settled(key: string): void {
    this.intended = this.intended.filter((i) => i.key !== key);
  }
  begin(s: { uploadId: string; key: string; partSize: number }): void {
    this.state = { ...s, parts: [] };
  }
  partDone(part: MultipartPart): void {
    this.state!.parts.push(part);
    this.onPartDone?.(this.state!);
  }
  clear(): void {
    if (this.failClear) throw new Error('journal write failed (simulated crash)');
    this.state = null;
    this.intended = [];
  }
}

async function fixture(name: string, data: Buffer): Promise<string> {
  const path = join(dir, name.replaceAll('/', '_'));
  await writeFile(path, data);
  return path;
}

async function source(path: string, relpath: string, onSent?: (n: number) => void): Promise<FileSource> {
  const st = await stat(path);
  return FileSource.open(
    path,
    relpath,
    { size: st.size, mtimeMs: st.mtimeMs },
    { hashes: pool, throttle: null, onSent: onSent ?? (() => undefined) },
  );
}

/** A source that runs a hook before each read (to look at the bucket while parts are in flight). */
function hooked(inner: UploadSource, beforeRead: (offset: number) => Promise<void>): UploadSource {
  return {
    relpath: inner.relpath,
    size: inner.size,
    read: async (offset, length) => {
      await beforeRead(offset);
      return inner.read(offset, length);
    },
    readPart: async (offset, length) => {
      await beforeRead(offset);
      return inner.readPart(offset, length);
    },
    chunks: (offset) => inner.chunks(offset),
    partChecksum: (data, algorithm) => inner.partChecksum(data, algorithm),
    finish: () => inner.finish(),
    sent: (n) => inner.sent(n),
  };
}

/** The source's methods bound to it, to override one of them. */
function bind(s: UploadSource): UploadSource {
  return {
    relpath: s.relpath,
    size: s.size,
    read: (o, l) => s.read(o, l),
    readPart: (o, l) => s.readPart(o, l),
    chunks: (o) => s.chunks(o),
    partChecksum: (d, a) => s.partChecksum(d, a),
    finish: () => s.finish(),
    sent: (n) => s.sent(n),
  };
}

async function upload(
  dest: S3Destination,
  key: string,
  path: string,
  store = new MemoryStore(),
  opts: { signal?: AbortSignal; onSent?: (n: number) => void; wrap?: (s: UploadSource) => UploadSource } = {},
) {
  const src = await source(path, key, opts.onSent);
  try {
    return await dest.upload(key, opts.wrap ? opts.wrap(src) : src, {
      signal: opts.signal ?? new AbortController().signal,
      multipart: store,
    });
  } finally {
    await src.close();
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function rawBody(key: string): Promise<Buffer> {
  const out = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function uploadsOf(key: string): Promise<number> {
  const out = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).length;
}

async function rejection(p: Promise<unknown>): Promise<BeamdropError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BeamdropError);
  return e as BeamdropError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bd-s3-'));
  bucket = await createBucket(s3);
  raw = minioClient(s3);
});

afterAll(async () => {
  await Promise.all(destinations.map((d) => d.close()));
  raw?.destroy();
  await pool.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('S3Destination', () => {
  it('stores a small file in one PUT whose SHA-256 the server verified', async () => {
    const dest = destination();
    const data = randomBytes(MiB + 17);
    let sent = 0;
    const res = await upload(dest, 'small/a.bin', await fixture('a.bin', data), undefined, { onSent: (n) => (sent += n) });
    expect(res).toEqual({ sha256: sha256(data), size: data.length, serverChecked: true });
    expect(sent).toBe(data.length);
    expect(dest.uri('small/a.bin')).toBe(`s3://${bucket}/small/a.bin`);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small/a.bin', ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(head.ChecksumSHA256!, 'base64').toString('hex')).toBe(sha256(data));
    expect(head.Metadata?.['sha256']).toBe(sha256(data));
    expect(await dest.head('small/a.bin')).toEqual({ key: 'small/a.bin', size: data.length, sha256: sha256(data) });
    const v = await dest.verify('small/a.bin', { size: data.length, sha256: sha256(data) }, { deep: true });
    expect(v).toEqual({
      ok: true,
      size: data.length,
      checked: ['size', 'sha256 (metadata)', 'sha256 (server checksum)', 'sha256 (read back)'],
    });
    expect((await readAll(await dest.read('small/a.bin'))).equals(data)).toBe(true);
  });

  // The SDK does not hash bodies for signing (UploadPart: UNSIGNED-PAYLOAD, PutObject: our own
  // SHA-256 as x-amz-content-sha256), so the checksum headers alone must catch altered bytes.
  it('has a corrupted body refused by the server, in one PUT and in parts', async () => {
    const dest = destination();
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      const i = c.length >> 1;
      c.writeUInt8(c.readUInt8(i) ^ 0xff, i);
      return c;
    };
    const small = randomBytes(MiB + 3);
    await expect(
      upload(dest, 'bad/small.bin', await fixture('bad-small.bin', small), undefined, {
        wrap: (s) => ({ ...bind(s), read: async (o, l) => flip(await s.read(o, l)) }),
      }),
    ).rejects.toThrow();
    expect(await dest.head('bad/small.bin')).toBeNull();
    const big = randomBytes(12 * MiB);
    await expect(
      upload(dest, 'bad/big.bin', await fixture('bad-big.bin', big), undefined, {
        wrap: (s) => ({
          ...bind(s),
          readPart: async (o, l) => {
            const { checked } = await s.readPart(o, l);
            return { checked: checked.then((p) => ({ ...p, data: flip(p.data) })) };
          },
        }),
      }),
    ).rejects.toThrow();
    expect(await dest.head('bad/big.bin')).toBeNull();
    // And the same files unaltered go through.
    expect((await upload(dest, 'bad/small.bin', await fixture('bad-small.bin', small))).sha256).toBe(sha256(small));
    expect((await upload(dest, 'bad/big.bin', await fixture('bad-big.bin', big))).sha256).toBe(sha256(big));
  });

  it('stores a zero-byte file', async () => {
    const dest = destination();
    const res = await upload(dest, 'small/empty.dat', await fixture('empty.dat', Buffer.alloc(0)));
    const empty = sha256(Buffer.alloc(0));
    expect(res).toEqual({ sha256: empty, size: 0, serverChecked: true });
    expect(await dest.head('small/empty.dat')).toEqual({ key: 'small/empty.dat', size: 0, sha256: empty });
    expect((await dest.verify('small/empty.dat', { size: 0, sha256: empty }, { deep: true })).ok).toBe(true);
  });

  it('reports what does not match on verify, and a missing object', async () => {
    const dest = destination();
    const data = randomBytes(1000);
    await upload(dest, 'small/v.bin', await fixture('v.bin', data));
    const wrongSha = await dest.verify('small/v.bin', { size: 1000, sha256: sha256(Buffer.from('other')) }, { deep: false });
    expect(wrongSha.ok).toBe(false);
    expect(wrongSha.problem).toMatch(/SHA-256/);
    const wrongSize = await dest.verify('small/v.bin', { size: 999, sha256: sha256(data) }, { deep: false });
    expect(wrongSize).toMatchObject({ ok: false, size: 1000 });
    expect(wrongSize.problem).toMatch(/1000 bytes/);
    expect(await dest.verify('small/nothing.bin', { size: 1, sha256: sha256(data) }, { deep: false })).toMatchObject({
      ok: false,
      size: null,
    });
    expect(await dest.head('small/nothing.bin')).toBeNull();
  });

  it('uploads a large file in parts, shows nothing at the key before Complete, and tags the SHA-256', async () => {
    const dest = destination({ partConcurrency: 3 });
    const data = randomBytes(40 * MiB + 123);
    const key = 'big/forty.bin';
    const store = new MemoryStore();
    const seenDuring: unknown[] = [];
    const journaled: number[] = [];
    store.onPartDone = (s) => journaled.push(s.parts.length);
    let sent = 0;
    const res = await upload(dest, key, await fixture('forty.bin', data), store, {
      onSent: (n) => (sent += n),
      // From the third part on, earlier parts are on the server or in flight: the key must still be empty.
      wrap: (s) =>
        hooked(s, async (offset) => {
          if (offset >= 2 * 5 * MiB) seenDuring.push(await dest.head(key));
        }),
    });
    expect(res).toEqual({ sha256: sha256(data), size: data.length, serverChecked: true, resumedParts: 0 });
    expect(seenDuring.length).toBeGreaterThan(0);
    expect(seenDuring.every((h) => h === null)).toBe(true);
    expect(sent).toBe(data.length);
    expect(journaled).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(store.state).toBeNull();
    expect(await uploadsOf(key)).toBe(0);
    const tags = await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    expect(tags.TagSet).toEqual([{ Key: 'sha256', Value: sha256(data) }]);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32C).toMatch(/^[A-Za-z0-9+/]{6}==-9$/);
    expect(await dest.head(key)).toEqual({ key, size: data.length, sha256: sha256(data) });
    const v = await dest.verify(key, { size: data.length, sha256: sha256(data) }, { deep: true });
    expect(v.ok).toBe(true);
    expect(v.checked).toEqual(['size', 'sha256 (tag)', `part checksums (server, ${head.ChecksumCRC32C})`, 'sha256 (read back)']);
    expect((await rawBody(key)).equals(data)).toBe(true);
  });

  it('never replaces an existing object (single PUT and multipart)', async () => {
    const dest = destination();
    const theirs = Buffer.from('someone else was here');
    for (const [key, size] of [
      ['conflict/small.bin', 1000],
      ['conflict/big.bin', 12 * MiB],
    ] as const) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: theirs }));
      const store = new MemoryStore();
      const e = await rejection(upload(dest, key, await fixture(key, randomBytes(size)), store));
      expect(e).toMatchObject({ code: 'conflict', retryable: false });
      expect(e.message).toContain(key);
      expect((await rawBody(key)).equals(theirs)).toBe(true);
      expect(store.state).toBeNull();
      expect(await uploadsOf(key)).toBe(0);
    }
  });

  it('refuses to complete over an object written while the parts were in flight (If-None-Match on Complete)', async () => {
    const dest = destination();
    const key = 'conflict/race.bin';
    const theirs = Buffer.from('written during the upload');
    const store = new MemoryStore();
    let raced = false;
    const e = await rejection(
      upload(dest, key, await fixture('race.bin', randomBytes(12 * MiB)), store, {
        wrap: (s) =>
          hooked(s, async (offset) => {
            if (offset > 0 && !raced) {
              raced = true;
              await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: theirs }));
            }
          }),
      }),
    );
    expect(raced).toBe(true);
    expect(e).toMatchObject({ code: 'conflict', retryable: false });
    expect((await rawBody(key)).equals(theirs)).toBe(true);
    expect(store.state).toBeNull();
    expect(await uploadsOf(key)).toBe(0);
  });

  it('resumes an interrupted multipart upload, sending only the missing parts', async () => {
    const key = 'resume/r.bin';
    const data = randomBytes(40 * MiB + 5);
    const path = await fixture('r.bin', data);
    const store = new MemoryStore();
    const stop = new AbortController();
    store.onPartDone = (s) => {
      if (s.parts.length === 2) stop.abort();
    };
    let sentFirst = 0;
    const first = await rejection(
      upload(destination({ partConcurrency: 2 }), key, path, store, { signal: stop.signal, onSent: (n) => (sentFirst += n) }),
    );
    expect(first).toMatchObject({ code: 'cancelled', retryable: true });
    expect(store.state!.parts.length).toBeGreaterThanOrEqual(2);
    expect(await destination().head(key)).toBeNull();
    const listed = await raw.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: store.state!.uploadId }));
    const onServer = listed.Parts ?? [];
    expect(onServer.length).toBeGreaterThanOrEqual(2);
    const bytesOnServer = onServer.reduce((a, p) => a + (p.Size ?? 0), 0);

    // A different policy minimum must not matter: the journaled part size (5 MiB) is used.
    let sentSecond = 0;
    const second = await upload(destination({ partSize: { min: 8 * MiB, max: 512 * MiB } }), key, path, store, {
      onSent: (n) => (sentSecond += n),
    });
    expect(second).toEqual({ sha256: sha256(data), size: data.length, serverChecked: true, resumedParts: onServer.length });
    expect(sentSecond).toBe(data.length - bytesOnServer);
    expect(store.state).toBeNull();
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ETag).toMatch(/-9"$/);
    expect(sha256(await rawBody(key))).toBe(sha256(data));
    expect((await destination().head(key))?.sha256).toBe(sha256(data));
  });

  it('discards the unfinished upload when the file changed between attempts', async () => {
    const key = 'resume/changed.bin';
    const data = randomBytes(20 * MiB);
    const path = await fixture('changed.bin', data);
    const store = new MemoryStore();
    const stop = new AbortController();
    store.onPartDone = (s) => {
      if (s.parts.length === 2) stop.abort();
    };
    await rejection(upload(destination({ partConcurrency: 1 }), key, path, store, { signal: stop.signal }));
    const uploadId = store.state!.uploadId;
    // Same size, one byte different in the first part.
    const fh = await openFile(path, 'r+');
    await fh.write(Buffer.from([data[10]! ^ 0xff]), 0, 1, 10);
    await fh.close();
    store.onPartDone = null;
    const e = await rejection(upload(destination(), key, path, store));
    expect(e).toMatchObject({ code: 'changed-during-upload', retryable: true });
    expect(store.state).toBeNull();
    await expect(raw.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
    const changed = Buffer.from(data);
    changed[10] = data[10]! ^ 0xff;
    const again = await upload(destination(), key, path, store);
    expect(again).toMatchObject({ sha256: sha256(changed), resumedParts: 0 });
  });

  it('finishes the tag when Complete succeeded but the journal was not cleared', async () => {
    const key = 'resume/completed.bin';
    const data = randomBytes(12 * MiB);
    const path = await fixture('completed.bin', data);
    const store = new MemoryStore();
    store.failClear = true;
    await expect(upload(destination(), key, path, store)).rejects.toThrow(/simulated crash/);
    store.failClear = false;
    expect(store.state).not.toBeNull();
    let sent = 0;
    const res = await upload(destination(), key, path, store, { onSent: (n) => (sent += n) });
    expect(res).toEqual({ sha256: sha256(data), size: data.length, serverChecked: true, resumedParts: 3 });
    expect(sent).toBe(0);
    expect(store.state).toBeNull();
    expect((await destination().head(key))?.sha256).toBe(sha256(data));
  });

  it('accepts its own object when the answer to Complete was lost and the retry is refused', async () => {
    const key = 'resume/lost-answer.bin';
    const data = randomBytes(12 * MiB);
    const store = new MemoryStore();
    // Complete the upload behind the destination's back just before it completes it itself,
    // as a first Complete whose response never arrived would have.
    const completeFirst = (s: UploadSource): UploadSource => ({
      ...hooked(s, async () => undefined),
      finish: async () => {
        const sha = await s.finish();
        const { uploadId } = store.state!;
        const listed = await raw.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
        const parts = (listed.Parts ?? []).map((p) => ({
          PartNumber: p.PartNumber,
          ETag: p.ETag,
          ChecksumCRC32C: p.ChecksumCRC32C,
        }));
        await raw.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        );
        return sha;
      },
    });
    const res = await upload(destination(), key, await fixture('lost-answer.bin', data), store, { wrap: completeFirst });
    expect(res).toMatchObject({ sha256: sha256(data), resumedParts: 0 });
    expect(store.state).toBeNull();
    expect((await destination().head(key))?.sha256).toBe(sha256(data));
  });

  it('starts afresh when the journaled upload no longer exists on the server', async () => {
    const key = 'resume/gone.bin';
    const data = randomBytes(12 * MiB);
    const store = new MemoryStore();
    store.begin({ uploadId: 'does-not-exist', key, partSize: 5 * MiB });
    const res = await upload(destination(), key, await fixture('gone.bin', data), store);
    expect(res).toMatchObject({ sha256: sha256(data), resumedParts: 0 });
  });

  it('cleanup() aborts stale unfinished uploads only', async () => {
    const own = await createBucket(s3);
    const dest = destination({}, { bucket: own });
    const stale = await raw.send(new CreateMultipartUploadCommand({ Bucket: own, Key: 'stale/x.bin' }));
    expect(await dest.cleanup(3_600_000)).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await dest.cleanup(500)).toBe(1);
    const left = await raw.send(new ListMultipartUploadsCommand({ Bucket: own }));
    expect((left.Uploads ?? []).map((u) => u.UploadId)).not.toContain(stale.UploadId);
  });

  it('round-trips keys with spaces, #, %, +, ?, &, accents, CJK and emoji', async () => {
    const own = await createBucket(s3);
    const dest = destination({ multipartThreshold: 6 * MiB }, { bucket: own });
    const keys = [
      'odd/with space.bin',
      'odd/hash#1.bin',
      'odd/100% done.bin',
      'odd/a+b=c.bin',
      'odd/what?.bin',
      'odd/x&y;z.bin',
      'odd/été/über.bin',
      'odd/日本/データ.bin',
      'odd/🚀 launch 🧪.bin',
      'odd/%2F not a slash.bin',
    ];
    const contents = new Map<string, Buffer>();
    for (const [i, key] of keys.entries()) {
      // One of them multipart, so ListParts / Complete / tagging see the odd name too.
      const data = randomBytes(i === 8 ? 7 * MiB : 100 + i);
      contents.set(key, data);
      await upload(dest, key, await fixture(`odd-${i}`, data));
    }
    const listed: string[] = [];
    for await (const o of dest.list('odd/')) {
      listed.push(o.key);
      expect(o).toEqual({ key: o.key, size: contents.get(o.key)!.length, sha256: null });
    }
    expect(listed.sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const data = contents.get(key)!;
      expect(await dest.head(key)).toEqual({ key, size: data.length, sha256: sha256(data) });
      expect((await readAll(await dest.read(key))).equals(data)).toBe(true);
      expect((await dest.verify(key, { size: data.length, sha256: sha256(data) }, { deep: false })).ok).toBe(true);
    }
  });

  it('check() passes, and explains a wrong secret, a closed port and a missing bucket', async () => {
    await destination().check();
    const creds = await rejection(destination({}, {}, 'wrong-secret').check());
    expect(creds).toMatchObject({ code: 'credentials-rejected', retryable: false });
    expect(creds.message).toContain('beamdrop credentials set test-s3');
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const closed = await rejection(destination({}, { endpoint }).check());
    expect(closed).toMatchObject({ code: 'destination-unreachable', retryable: true });
    expect(closed.message).toContain(endpoint);
    expect(closed.message).toMatch(/network/);
    const missing = await rejection(destination({}, { bucket: 'no-such-bucket-here' }).check());
    expect(missing).toMatchObject({ code: 'not-found', retryable: false });
    expect(missing.message).toContain('no-such-bucket-here');
  });
});
