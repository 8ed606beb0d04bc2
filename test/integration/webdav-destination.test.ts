// The WebDAV destination against a real Apache httpd with mod_dav_fs (no mocks): the
// temp-name → PROPPATCH → MOVE (Overwrite: F) upload, its sha256 dead property, zero-byte files,
// conflicts that leave the remote file alone, files changed or cancelled mid-upload leaving
// nothing behind, odd names, credentials and reachability checks, listing and cleanup.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HashPool } from '../../src/main/engine/hash/hash-pool.js';
import { FileSource } from '../../src/main/engine/transfer/file-source.js';
import { WebdavDestination } from '../../src/main/engine/storage/webdav/webdav-destination.js';
import type { MultipartStore, UploadSource } from '../../src/main/engine/storage/destination.js';
import { BeamdropError } from '../../src/shared/errors.js';
import { freePort } from '../support/minio.js';

const MiB = 1024 * 1024;
const dav = inject('webdav');
const pool = new HashPool(2);
const destinations: WebdavDestination[] = [];
let dir: string;

const auth = `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}`;
const noMultipart: MultipartStore = {
  load: () => null,
  intend: () => undefined,
  intents: () => [],
  heldElsewhere: () => new Set(),
  begin: () => undefined,
  partDone: () => undefined,
  clear: () => undefined,
  abandon: () => undefined,
  settled: () => undefined,
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function davFetch(url: string, method: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Response> {
  return fetch(url, { method, headers: { Authorization: auth, ...headers }, ...(body === undefined ? {} : { body }) });
}

/** A fresh sub-collection of the test root per test, and a destination rooted there. */
async function freshCollection(): Promise<{ url: string; disk: string; name: string }> {
  const name = `wd-${randomBytes(5).toString('hex')}`;
  const url = `${dav.url}/${name}`;
  expect((await davFetch(`${url}/`, 'MKCOL')).status).toBe(201);
  return { url, disk: join(dav.root, name), name };
}

function destination(
  url: string,
  credentials: { username: string; password: string } | null = dav,
  name = 'test-dav',
): WebdavDestination {
  const d = new WebdavDestination(
    name,
    { kind: 'webdav', url, keyTemplate: '{relpath}' },
    credentials && { username: credentials.username, password: credentials.password },
    pool,
  );
  destinations.push(d);
  return d;
}

async function fixture(data: Buffer): Promise<string> {
  const path = join(dir, randomBytes(6).toString('hex'));
  await writeFile(path, data);
  return path;
}

async function upload(
  dest: WebdavDestination,
  key: string,
  path: string,
  opts: { signal?: AbortSignal; onSent?: (n: number) => void; wrap?: (s: UploadSource) => UploadSource } = {},
) {
  const st = await stat(path);
  const src = await FileSource.open(
    path,
    key,
    { size: st.size, mtimeMs: st.mtimeMs },
    { hashes: pool, throttle: null, onSent: opts.onSent ?? (() => undefined) },
  );
  try {
    return await dest.upload(key, opts.wrap ? opts.wrap(src) : src, {
      signal: opts.signal ?? new AbortController().signal,
      multipart: noMultipart,
    });
  } finally {
    await src.close();
  }
}

/** A source that runs a hook after handing out each chunk (while the PUT is in flight). */
function afterEachChunk(inner: UploadSource, hook: (index: number) => Promise<void>): UploadSource {
  return {
    relpath: inner.relpath,
    size: inner.size,
    read: (offset, length) => inner.read(offset, length),
    readPart: (offset, length) => inner.readPart(offset, length),
    chunks: async function* (offset) {
      let i = 0;
      for await (const c of inner.chunks(offset)) {
        yield c;
        await hook(i++);
      }
    },
    partChecksum: (data, algorithm) => inner.partChecksum(data, algorithm),
    finish: () => inner.finish(),
    sent: (n) => inner.sent(n),
  };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function rejection(p: Promise<unknown>): Promise<BeamdropError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BeamdropError);
  return e as BeamdropError;
}

/** Every file below a folder on disk (relative paths), without mod_dav_fs's .DAV property stores. */
async function filesOnDisk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !join(e.parentPath, e.name).split('/').includes('.DAV'))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

const accessLog = () => readFile(join(dav.root, '..', 'logs', 'access.log'), 'utf8');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bd-dav-src-'));
});

afterAll(async () => {
  await Promise.all(destinations.map((d) => d.close()));
  await pool.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('WebdavDestination', () => {
  it('uploads through a temporary name, keeps the sha256 property across the MOVE, and reads back', async () => {
    const { url, disk, name } = await freshCollection();
    const dest = destination(url);
    await dest.check();
    const data = randomBytes(3 * MiB + 123);
    let sent = 0;
    const res = await upload(dest, 'run 1/sub/a.bin', await fixture(data), { onSent: (n) => (sent += n) });
    expect(res).toEqual({ sha256: sha256(data), size: data.length, serverChecked: false });
    expect(sent).toBe(data.length);
    expect(dest.uri('run 1/sub/a.bin')).toBe(`${url}/run%201/sub/a.bin`);
    expect((await readFile(join(disk, 'run 1/sub/a.bin'))).equals(data)).toBe(true);
    expect(await filesOnDisk(disk)).toEqual(['run 1/sub/a.bin']);
    expect(await dest.head('run 1/sub/a.bin')).toEqual({ key: 'run 1/sub/a.bin', size: data.length, sha256: sha256(data) });
    // The property was set once, on the temporary name: mod_dav_fs moved it along with the file.
    const log = (await accessLog()).split('\n').filter((l) => l.includes(`/dav/${name}/`));
    const proppatches = log.filter((l) => l.includes('"PROPPATCH '));
    expect(proppatches).toHaveLength(1);
    expect(proppatches[0]).toMatch(new RegExp(`"PROPPATCH /dav/${name}/run%201/sub/\\.beamdrop-[0-9a-f]{12}\\.a\\.bin\\.part `));
    expect(log.filter((l) => /"(PUT|MOVE) /.test(l)).map((l) => l.split(' ')[2])).toEqual(['"PUT', '"MOVE']);
    expect(await dest.verify('run 1/sub/a.bin', { size: data.length, sha256: sha256(data) }, { deep: false })).toEqual({
      ok: true,
      size: data.length,
      checked: ['size', 'sha256 (property)'],
    });
    expect(await dest.verify('run 1/sub/a.bin', { size: data.length, sha256: sha256(data) }, { deep: true })).toEqual({
      ok: true,
      size: data.length,
      checked: ['size', 'sha256 (property)', 'sha256 (read back)'],
    });
    expect((await readAll(await dest.read('run 1/sub/a.bin'))).equals(data)).toBe(true);
    const viaUri = await davFetch(dest.uri('run 1/sub/a.bin'), 'GET');
    expect(Buffer.from(await viaUri.arrayBuffer()).equals(data)).toBe(true);
  });

  it('stores a zero-byte file', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const empty = sha256(Buffer.alloc(0));
    expect(await upload(dest, 'empty.dat', await fixture(Buffer.alloc(0)))).toEqual({
      sha256: empty,
      size: 0,
      serverChecked: false,
    });
    expect((await stat(join(disk, 'empty.dat'))).size).toBe(0);
    expect(await dest.head('empty.dat')).toEqual({ key: 'empty.dat', size: 0, sha256: empty });
    expect((await dest.verify('empty.dat', { size: 0, sha256: empty }, { deep: true })).ok).toBe(true);
  });

  it('creates a new folder once for many files uploaded into it at the same time', async () => {
    const { url, name } = await freshCollection();
    const dest = destination(url);
    const files = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => ({ key: `ds/raw/f${i}.txt`, path: await fixture(Buffer.from(`file ${i}\n`)) })),
    );
    for (let i = 0; i < files.length; i += 8) await Promise.all(files.slice(i, i + 8).map((f) => upload(dest, f.key, f.path)));
    const mkcols = (await accessLog()).split('\n').filter((l) => l.includes(`"MKCOL /dav/${name}/ds`));
    // ds/raw/ answers 409 (parent missing), then ds/ and ds/raw/ are created: three requests in all.
    expect(mkcols).toHaveLength(3);
    const listed = [];
    for await (const o of dest.list('ds/')) listed.push(o.key);
    expect(listed.sort()).toEqual(files.map((f) => f.key).sort());
  });

  it('refuses to replace a different remote file, leaving it untouched', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const theirs = Buffer.from('the file already in the archive\n');
    expect((await davFetch(`${url}/x.txt`, 'PUT', {}, theirs)).status).toBe(201);
    const e = await rejection(upload(dest, 'x.txt', await fixture(Buffer.from('a different local file\n'))));
    expect(e).toMatchObject({ code: 'conflict', retryable: false, file: 'x.txt' });
    expect(e.message).toContain('x.txt');
    expect(e.message).toMatch(/differs and was left untouched/);
    expect((await readFile(join(disk, 'x.txt'))).equals(theirs)).toBe(true);
    expect(await filesOnDisk(disk)).toEqual(['x.txt']);
  });

  it('accepts an identical file already at the key (an earlier MOVE whose answer was lost)', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const data = randomBytes(5000);
    const path = await fixture(data);
    await upload(dest, 'same.bin', path);
    expect(await upload(dest, 'same.bin', path)).toEqual({ sha256: sha256(data), size: data.length, serverChecked: false });
    expect(await filesOnDisk(disk)).toEqual(['same.bin']);
  });

  it('discards an upload whose file was appended to during the PUT, leaving nothing on the server', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const path = await fixture(randomBytes(3 * MiB));
    const e = await rejection(
      upload(dest, 'growing.dat', path, {
        wrap: (s) =>
          afterEachChunk(s, async (i) => {
            if (i === 0) await appendFile(path, 'more data from the detector');
          }),
      }),
    );
    expect(e).toMatchObject({ code: 'changed-during-upload', file: 'growing.dat' });
    expect(await filesOnDisk(disk)).toEqual([]);
    expect(await dest.head('growing.dat')).toBeNull();
  });

  it('leaves nothing behind when the upload is cancelled mid-PUT', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const abort = new AbortController();
    // Four 4 MiB chunks (STREAM_CHUNK): cancelled after the second.
    const path = await fixture(randomBytes(16 * MiB));
    const e = await rejection(
      upload(dest, 'cancelled.bin', path, {
        signal: abort.signal,
        wrap: (s) =>
          afterEachChunk(s, async (i) => {
            if (i === 1) abort.abort();
          }),
      }),
    );
    expect(e).toMatchObject({ code: 'cancelled', file: 'cancelled.bin' });
    // mod_dav_fs receives a PUT into its own .davfs.tmp* file and removes it once it notices the
    // dropped connection, which may be a moment after our DELETE.
    await expect.poll(() => filesOnDisk(disk), { timeout: 5_000 }).toEqual([]);
  });

  it('deletes the complete temporary file when cancelled after the PUT, before the MOVE', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const abort = new AbortController();
    const path = await fixture(randomBytes(MiB));
    const e = await rejection(
      upload(dest, 'late.bin', path, {
        signal: abort.signal,
        wrap: (s) => ({
          ...afterEachChunk(s, async () => undefined),
          finish: async () => {
            abort.abort();
            return s.finish();
          },
        }),
      }),
    );
    expect(e).toMatchObject({ code: 'cancelled', file: 'late.bin' });
    expect(await filesOnDisk(disk)).toEqual([]);
  });

  it('round-trips odd names exactly: upload, list, head, read, uri', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const keys = [
      'with space.txt',
      'hash#tag.txt',
      'per%cent.txt',
      '%20literal.txt',
      'plus+sign.txt',
      'question?mark.txt',
      'amp&and=eq;semi.txt',
      "quote'(paren)!~*@$,[x].txt",
      'café/Grüße ü.txt',
      '日本/データ 1.h5',
      'emoji 🔬🧪.dat',
      'ÄÖÜ/ß/é é.bin',
    ];
    const contents = new Map(keys.map((k) => [k, Buffer.from(`content of ${k}\n`)]));
    for (const [k, data] of contents) await upload(dest, k, await fixture(data));
    expect(await filesOnDisk(disk)).toEqual([...keys].sort());
    const listed = new Map<string, { size: number; sha256: string | null }>();
    for await (const o of dest.list('')) listed.set(o.key, { size: o.size, sha256: o.sha256 });
    expect([...listed.keys()].sort()).toEqual([...keys].sort());
    for (const [k, data] of contents) {
      expect(listed.get(k)).toEqual({ size: data.length, sha256: sha256(data) });
      expect(await dest.head(k)).toEqual({ key: k, size: data.length, sha256: sha256(data) });
      expect((await readAll(await dest.read(k))).equals(data)).toBe(true);
      const path = new URL(dest.uri(k)).pathname.slice(new URL(url).pathname.length + 1);
      expect(path.split('/').map(decodeURIComponent).join('/')).toBe(k);
    }
  });

  it('lists by prefix, skipping temporary files, and finds nothing under a missing folder', async () => {
    const { url } = await freshCollection();
    const dest = destination(url);
    for (const k of ['p/a/1.txt', 'p/a/2.txt', 'p/b/3.txt', 'p.txt', 'q/4.txt'])
      await upload(dest, k, await fixture(Buffer.from(k)));
    expect((await davFetch(`${url}/p/a/.beamdrop-0123456789ab.5.txt.part`, 'PUT', {}, 'partial')).status).toBe(201);
    const keys = async (prefix: string) => {
      const out = [];
      for await (const o of dest.list(prefix)) out.push(o.key);
      return out.sort();
    };
    expect(await keys('p/')).toEqual(['p/a/1.txt', 'p/a/2.txt', 'p/b/3.txt']);
    expect(await keys('p/a/')).toEqual(['p/a/1.txt', 'p/a/2.txt']);
    expect(await keys('p')).toEqual(['p.txt', 'p/a/1.txt', 'p/a/2.txt', 'p/b/3.txt']);
    expect(await keys('nothing/here/')).toEqual([]);
  });

  it('verify reports a wrong size, a wrong property, bytes changed on the server, and a missing file', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    const data = randomBytes(1000);
    await upload(dest, 'v.bin', await fixture(data));
    const wrongSize = await dest.verify('v.bin', { size: 999, sha256: sha256(data) }, { deep: false });
    expect(wrongSize).toMatchObject({ ok: false, size: 1000 });
    const wrongSha = await dest.verify('v.bin', { size: 1000, sha256: sha256(Buffer.from('x')) }, { deep: false });
    expect(wrongSha).toMatchObject({ ok: false, checked: ['size'] });
    expect(wrongSha.problem).toMatch(/sha256 property/);
    // Same size, other bytes, written behind the server's back: only reading back can tell.
    await writeFile(join(disk, 'v.bin'), randomBytes(1000));
    expect((await dest.verify('v.bin', { size: 1000, sha256: sha256(data) }, { deep: false })).ok).toBe(true);
    const deep = await dest.verify('v.bin', { size: 1000, sha256: sha256(data) }, { deep: true });
    expect(deep).toMatchObject({ ok: false, checked: ['size', 'sha256 (property)'] });
    expect(deep.problem).toMatch(/read back/);
    expect(await dest.verify('gone.bin', { size: 1, sha256: sha256(data) }, { deep: false })).toMatchObject({
      ok: false,
      size: null,
    });
    expect(await dest.head('gone.bin')).toBeNull();
  });

  it('removes only stale temporary files on cleanup', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url);
    await upload(dest, 'deep/er/kept.txt', await fixture(Buffer.from('kept')));
    const stale = ['.beamdrop-aaaaaaaaaaaa.old.bin.part', 'deep/er/.beamdrop-bbbbbbbbbbbb.old 2.bin.part'];
    const fresh = 'deep/.beamdrop-cccccccccccc.new.bin.part';
    for (const k of [...stale, fresh]) expect((await davFetch(dest.uri(k), 'PUT', {}, 'partial')).status).toBe(201);
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const k of stale) await utimes(join(disk, k), hourAgo, hourAgo);
    expect(await dest.cleanup(600_000)).toBe(2);
    expect(await filesOnDisk(disk)).toEqual([fresh, 'deep/er/kept.txt'].sort());
  });

  it('check() passes on the root and names the folder when it does not exist', async () => {
    await destination(dav.url).check();
    const missing = `${dav.url}/no-such-${randomBytes(4).toString('hex')}`;
    const e = await rejection(destination(missing).check());
    expect(e).toMatchObject({ code: 'not-found', retryable: false });
    expect(e.message).toContain(missing);
  });

  it('check() reports a wrong password as credentials-rejected', async () => {
    const dest = destination(dav.url, { username: dav.username, password: 'wrong' }, 'facility-dav');
    const e = await rejection(dest.check());
    expect(e).toMatchObject({ code: 'credentials-rejected', retryable: false });
    expect(e.message).toContain('beamdrop credentials set facility-dav');
    const anonymous = await rejection(destination(dav.url, null).check());
    expect(anonymous.code).toBe('credentials-rejected');
  });

  it('learns of a refused PUT before sending the body (Expect: 100-continue)', async () => {
    const { url, disk } = await freshCollection();
    const dest = destination(url, { username: dav.username, password: 'rotated meanwhile' }, 'facility-dav');
    let sent = 0;
    const e = await rejection(upload(dest, 'big.bin', await fixture(randomBytes(8 * MiB)), { onSent: (n) => (sent += n) }));
    expect(e).toMatchObject({ code: 'credentials-rejected', file: 'big.bin' });
    expect(sent).toBe(0);
    expect(await filesOnDisk(disk)).toEqual([]);
  });

  it('check() reports a closed port as destination-unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/dav`;
    const e = await rejection(destination(url).check());
    expect(e).toMatchObject({ code: 'destination-unreachable', retryable: true });
    expect(e.message).toContain(url);
    expect(e.message).toMatch(/network/);
  });

  it('refuses keys that would leave the root', async () => {
    const { url } = await freshCollection();
    const dest = destination(url);
    const e = await rejection(upload(dest, '../escape.txt', await fixture(Buffer.from('x'))));
    expect(e.code).toBe('invalid-key');
  });
});
