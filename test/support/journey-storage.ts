// A fresh destination per journey (a folder, a MinIO bucket, a WebDAV collection on Apache) and
// an independent reader for it that shares no code with Beamdrop: objects are listed and read
// back with the server's own protocol (fs; @aws-sdk/client-s3 ListObjectsV2 / GetObject /
// ListMultipartUploads; plain fetch with PROPFIND and GET) and re-hashed with node:crypto.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createBucket, minioClient } from './minio.js';

export type DestinationKind = 'filesystem' | 's3' | 'webdav';

export interface Hashed {
  size: number;
  sha256: string;
}

export interface StorageReader {
  kind: DestinationKind;
  /** Every object under the destination root, sorted (data files and RO-Crates alike). */
  keys(): Promise<string[]>;
  read(key: string): Promise<Buffer>;
  /** Reads the object back and hashes it here. */
  hash(key: string): Promise<Hashed>;
  /** What an interrupted upload leaves: S3 multipart uploads not completed, hidden temporary names. */
  leftovers(): Promise<string[]>;
  /** The key a storage URI (as a catalogue or crate records it) points to, or null if it is not in this destination. */
  keyOfUri(uri: string): string | null;
}

export interface JourneyDestination {
  kind: DestinationKind;
  /** The destination's name in the profile (also the default destination). */
  name: string;
  /** Its entry under `destinations:` in the profile. */
  config: Record<string, unknown>;
  /** What the operator exports for headless credentials. */
  env: Record<string, string>;
  reader: StorageReader;
  close(): void;
}

export const sha256Of = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function hashStream(s: AsyncIterable<unknown>): Promise<Hashed> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of s) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

const isHiddenTemp = (name: string) => name.startsWith('.');

function filesystemReader(root: string): StorageReader {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [relative(root, join(dir, e.name)).split(sep).join('/')],
    );
  return {
    kind: 'filesystem',
    keys: async () => walk(root).sort(),
    read: async (key) => readFileSync(join(root, ...key.split('/'))),
    hash: (key) => hashStream(createReadStream(join(root, ...key.split('/')))),
    leftovers: async () => walk(root).filter((k) => isHiddenTemp(k.split('/').at(-1)!)),
    keyOfUri: (uri) => {
      if (!uri.startsWith('file:')) return null;
      const rel = relative(root, fileURLToPath(uri));
      return rel.startsWith('..') ? null : rel.split(sep).join('/');
    },
  };
}

function s3Reader(client: S3Client, bucket: string, endpoint: string): StorageReader {
  const keys = async (): Promise<string[]> => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  };
  const body = async (key: string) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  return {
    kind: 's3',
    keys,
    read: async (key) => {
      const chunks: Buffer[] = [];
      for await (const c of await body(key)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    hash: async (key) => hashStream(await body(key)),
    leftovers: async () => {
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (out.Uploads ?? []).map((u) => `multipart upload ${u.UploadId} of ${u.Key}`);
    },
    keyOfUri: (uri) => {
      for (const base of [`s3://${bucket}/`, `${endpoint}/${bucket}/`])
        if (uri.startsWith(base)) return decodeURIComponent(uri.slice(base.length));
      return null;
    },
  };
}

function webdavReader(base: string, auth: string): StorageReader {
  const root = new URL(`${base}/`);
  const segs = (href: string) =>
    href
      .replace(/^[a-z]+:\/\/[^/]*/i, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
  const rootSegs = segs(root.pathname);
  const keyOfHref = (href: string) => segs(href).slice(rootSegs.length).join('/');
  const urlOf = (key: string) => root.href + key.split('/').map(encodeURIComponent).join('/');
  /** PROPFIND Depth 1, folder by folder (Apache refuses Depth: infinity by default). */
  const list = async (key: string): Promise<{ files: string[]; folders: string[] }> => {
    const r = await fetch(key === '' ? root.href : `${urlOf(key)}/`, {
      method: 'PROPFIND',
      headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>',
    });
    if (r.status !== 207) throw new Error(`PROPFIND ${key || '/'}: HTTP ${r.status} ${await r.text()}`);
    const xml = await r.text();
    const files: string[] = [];
    const folders: string[] = [];
    for (const m of xml.matchAll(/<(?:\w+:)?response\b[^>]*>([\s\S]*?)<\/(?:\w+:)?response>/g)) {
      const part = m[1]!;
      const href = /<(?:\w+:)?href>([^<]*)<\/(?:\w+:)?href>/.exec(part)?.[1];
      if (href === undefined) continue;
      const k = keyOfHref(href);
      if (k === key) continue;
      if (/<(?:\w+:)?collection\s*\/>/.test(part)) folders.push(k);
      else files.push(k);
    }
    return { files, folders };
  };
  const walk = async (key: string): Promise<string[]> => {
    const { files, folders } = await list(key);
    return [...files, ...(await Promise.all(folders.map(walk))).flat()];
  };
  const get = async (key: string) => {
    const r = await fetch(urlOf(key), { headers: { authorization: auth } });
    if (r.status !== 200) throw new Error(`GET ${key}: HTTP ${r.status}`);
    return r;
  };
  return {
    kind: 'webdav',
    keys: async () => (await walk('')).sort(),
    read: async (key) => Buffer.from(await (await get(key)).arrayBuffer()),
    hash: async (key) => {
      const b = Buffer.from(await (await get(key)).arrayBuffer());
      return { size: b.length, sha256: sha256Of(b) };
    },
    leftovers: async () => (await walk('')).filter((k) => isHiddenTemp(k.split('/').at(-1)!)),
    keyOfUri: (uri) => (uri.startsWith(root.href) ? keyOfHref(uri) : null),
  };
}

/** A new, empty destination of this kind for one journey, named after its kind. */
export async function freshDestination(kind: DestinationKind, base: string): Promise<JourneyDestination> {
  const envKey = (name: string, what: string) => `BEAMDROP_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;
  if (kind === 'filesystem') {
    const root = join(base, 'archive');
    mkdirSync(root, { recursive: true });
    return {
      kind,
      name: 'nas',
      config: { kind: 'filesystem', root },
      env: {},
      reader: filesystemReader(root),
      close: () => undefined,
    };
  }
  if (kind === 's3') {
    const s3 = inject('s3');
    const bucket = await createBucket(s3);
    const client = minioClient(s3);
    return {
      kind,
      name: 'objectstore',
      config: { kind: 's3', endpoint: s3.endpoint, region: s3.region, bucket, credentials: { accessKeyId: s3.accessKeyId } },
      env: { [envKey('objectstore', 'SECRET_ACCESS_KEY')]: s3.secretAccessKey },
      reader: s3Reader(client, bucket, s3.endpoint),
      close: () => client.destroy(),
    };
  }
  const dav = inject('webdav');
  const auth = `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}`;
  const url = `${dav.url}/j-${randomBytes(5).toString('hex')}`;
  const made = await fetch(`${url}/`, { method: 'MKCOL', headers: { authorization: auth } });
  if (made.status !== 201) throw new Error(`MKCOL ${url}: HTTP ${made.status}`);
  return {
    kind,
    name: 'dav',
    config: { kind: 'webdav', url, credentials: { username: dav.username } },
    env: { [envKey('dav', 'PASSWORD')]: dav.password },
    reader: webdavReader(url, auth),
    close: () => undefined,
  };
}

/** The storage URI of a local file, as the filesystem destination records it. */
export const fileUri = (path: string): string => pathToFileURL(path).href;
