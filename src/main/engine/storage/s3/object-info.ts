// What S3 knows about one object: its size and where its whole-file SHA-256 is kept (metadata
// for single PUTs, a tag for multipart uploads, the server's full-object checksum), and the
// checks behind verify().
import type { HashPool } from '../../hash/hash-pool.js';
import { sha256OfStream } from '../../hash/hash-readable.js';
import type { Readable } from 'node:stream';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import type { RemoteObject, VerifyResult } from '../destination.js';
import { s3Call, type S3Target } from './s3-target.js';
import { underlyingNotFound } from './s3-errors.js';

const HEX64 = /^[0-9a-f]{64}$/;

export interface ObjectInfo {
  size: number;
  /** SHA-256 we kept with the object (metadata or tag), hex. */
  kept: { sha256: string; where: 'metadata' | 'tag' } | null;
  /** The server's full-object SHA-256 (single PUT with x-amz-checksum-sha256), hex. */
  serverSha256: string | null;
  /** Composite part checksum (multipart), e.g. "uSkZQA==-3". */
  composite: string | null;
}

export async function objectInfo(t: S3Target, key: string): Promise<ObjectInfo | null> {
  let head: HeadObjectCommandOutput;
  try {
    head = await s3Call(t, { action: `look up ${key}`, key }, undefined, () =>
      t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key, ChecksumMode: 'ENABLED' })),
    );
  } catch (e) {
    if (underlyingNotFound(e)) return null;
    throw e;
  }
  const meta = head.Metadata?.['sha256']?.toLowerCase();
  let kept: ObjectInfo['kept'] = meta && HEX64.test(meta) ? { sha256: meta, where: 'metadata' } : null;
  // Only multipart uploads carry the tag; a GetObjectTagging for every single PUT would be wasted.
  kept ??= await taggedSha256(t, key);
  const full =
    head.ChecksumSHA256 && !head.ChecksumSHA256.includes('-') ? Buffer.from(head.ChecksumSHA256, 'base64').toString('hex') : null;
  const anyComposite = [head.ChecksumCRC32C, head.ChecksumCRC32, head.ChecksumSHA256, head.ChecksumSHA1].find((c) =>
    c?.includes('-'),
  );
  return { size: head.ContentLength ?? 0, kept, serverSha256: full, composite: anyComposite ?? null };
}

async function taggedSha256(t: S3Target, key: string): Promise<ObjectInfo['kept']> {
  try {
    const out = await s3Call(t, { action: `read the tags of ${key}`, key }, undefined, () =>
      t.client.send(new GetObjectTaggingCommand({ Bucket: t.bucket, Key: key })),
    );
    const v = out.TagSet?.find((tag) => tag.Key === 'sha256')?.Value?.toLowerCase();
    return v && HEX64.test(v) ? { sha256: v, where: 'tag' } : null;
  } catch (e) {
    if (underlyingNotFound(e)) return null;
    throw e;
  }
}

export function remoteObject(key: string, info: ObjectInfo): RemoteObject {
  return { key, size: info.size, sha256: info.kept?.sha256 ?? info.serverSha256 };
}

export async function readObject(t: S3Target, key: string): Promise<Readable> {
  const out = await s3Call(t, { action: `read ${key}`, key }, undefined, () =>
    t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key })),
  );
  return out.Body as Readable;
}

export async function verifyObject(
  t: S3Target,
  key: string,
  expected: { size: number; sha256: string },
  deep: boolean,
  hashes: HashPool,
): Promise<VerifyResult> {
  const uri = `s3://${t.bucket}/${key}`;
  const info = await objectInfo(t, key);
  if (!info) return { ok: false, size: null, checked: [], problem: `${uri} is missing on the storage.` };
  const checked: string[] = [];
  const fail = (problem: string): VerifyResult => ({ ok: false, size: info.size, checked, problem });
  if (info.size !== expected.size) return fail(`${uri} has ${info.size} bytes, the local file ${expected.size}.`);
  checked.push('size');
  const want = expected.sha256.toLowerCase();
  if (info.kept) {
    if (info.kept.sha256 !== want)
      return fail(`${uri} was stored with SHA-256 ${info.kept.sha256} (${info.kept.where}), the local file has ${want}.`);
    checked.push(`sha256 (${info.kept.where})`);
  }
  if (info.serverSha256) {
    if (info.serverSha256 !== want)
      return fail(`the storage computed SHA-256 ${info.serverSha256} for ${uri}, the local file has ${want}.`);
    checked.push('sha256 (server checksum)');
  }
  // The server checked every part's CRC32C on arrival and its composite at completion.
  if (info.composite) checked.push(`part checksums (server, ${info.composite})`);
  if (deep) {
    const back = await sha256OfStream(hashes, (await readObject(t, key)) as AsyncIterable<Buffer>);
    if (back.size !== expected.size)
      return fail(`reading ${uri} back gave ${back.size} bytes, the local file has ${expected.size}.`);
    if (back.sha256 !== want) return fail(`reading ${uri} back gave SHA-256 ${back.sha256}, the local file has ${want}.`);
    checked.push('sha256 (read back)');
  } else if (!info.kept && !info.serverSha256) {
    return fail(
      `${uri} has the right size but no SHA-256 is kept with it (no metadata, tag or server checksum); verify it deeply to read it back.`,
    );
  }
  return { ok: true, size: info.size, checked };
}
