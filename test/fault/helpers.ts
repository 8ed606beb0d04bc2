// Shared pieces of the fault tests: an Engine on a fresh data folder with one named destination,
// files of random bytes, SHA-256 of local files and of objects read straight from MinIO, and a
// condition poller (the tests wait on conditions, never on fixed sleeps).
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import type { JobEvent } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';

export const MiB = 1024 * 1024;

const temps: string[] = [];

/** A new temporary folder, removed by removeTemps(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Removes every folder made by tempDir() (the fault tests write tens of MiB each). */
export async function removeTemps(): Promise<void> {
  while (temps.length) await rm(temps.pop()!, { recursive: true, force: true });
}

export interface FaultEngine {
  home: string;
  engine: Engine;
  profile: FacilityProfile;
  events: JobEvent[];
}

/** An Engine on a fresh data folder whose profile names one S3 destination `name` at `endpoint`. */
export function s3Engine(opts: {
  name: string;
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  upload?: Record<string, unknown>;
}): FaultEngine {
  const home = tempDir('bd-fault-home-');
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    destinations: {
      [opts.name]: {
        kind: 's3',
        endpoint: opts.endpoint,
        region: opts.region ?? 'us-east-1',
        bucket: opts.bucket,
        credentials: { accessKeyId: opts.accessKeyId },
      },
    },
    defaultDestination: opts.name,
    upload: opts.upload ?? {},
  });
  const env = { ...process.env, [envName(opts.name, 'SECRET_ACCESS_KEY')]: opts.secretAccessKey };
  const engine = Engine.open({ home, env });
  return { home, engine, profile, events: [] };
}

/** Writes `size` random bytes to `path` (parents created), 4 MiB at a time. */
export function writeRandomFile(path: string, size: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    const buf = Buffer.allocUnsafe(4 * MiB);
    for (let at = 0; at < size;) {
      const n = Math.min(buf.length, size - at);
      randomFillSync(buf, 0, n);
      at += writeSync(fd, buf, 0, n, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** A new temp folder with files of random bytes, relpath → size. */
export function randomTree(files: Record<string, number>): string {
  const root = tempDir('bd-fault-src-');
  for (const [rel, size] of Object.entries(files)) writeRandomFile(join(root, ...rel.split('/')), size);
  return root;
}

export async function sha256Stream(stream: AsyncIterable<unknown>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  return sha256Stream(createReadStream(path, { highWaterMark: 4 * MiB }));
}

/** Streams an object out of the server with GetObject and hashes it. */
export async function sha256Object(client: S3Client, bucket: string, key: string): Promise<{ sha256: string; size: number }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256Stream(out.Body as Readable);
}

export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** The keys of data files: without the RO-Crate metadata a finished dataset gets beside its data. */
export async function listDataKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  return (await listKeys(client, bucket, prefix)).filter((k) => !k.endsWith(CRATE_SUFFIX));
}

export async function listUploads(client: S3Client, bucket: string): Promise<{ key: string; uploadId: string }[]> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (out.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
}

/** Polls `cond` every `everyMs` until it returns a truthy value; rejects after timeoutMs naming `what`. */
export async function waitUntil<T>(
  what: string,
  cond: () => T | Promise<T>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
