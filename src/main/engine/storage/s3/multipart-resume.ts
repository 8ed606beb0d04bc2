// Decides how a multipart upload continues after an interrupted attempt: which journaled upload
// is still alive on the server, which of its parts can be kept (the server's ListParts is the
// truth; the journal only names the upload), or whether the upload was in fact completed.
import { HeadObjectCommand, ListPartsCommand, AbortMultipartUploadCommand, type Part } from '@aws-sdk/client-s3';
import type { MultipartState, UploadContext, UploadSource } from '../destination.js';
import { MAX_PARTS, partCount, partLength } from './part-size.js';
import { s3Call, type S3Target } from './s3-target.js';
import { underlyingCode, underlyingNotFound } from './s3-errors.js';
import { compositeChecksum } from './composite-checksum.js';

export interface KnownPart {
  etag: string;
  checksum: string;
}

export interface MultipartPlan {
  uploadId: string;
  partSize: number;
  /** Parts already on the server: read and compared locally, not sent again. */
  reuse: Map<number, KnownPart>;
  /** CompleteMultipartUpload already succeeded; only the SHA-256 tag is missing. */
  completed: boolean;
}

/** Null when there is nothing to resume (the journal is cleared and a fresh upload starts). */
export async function planResume(
  t: S3Target,
  key: string,
  source: UploadSource,
  ctx: UploadContext,
): Promise<MultipartPlan | null> {
  const state = ctx.multipart.load();
  if (!state) return null;
  const count = partCount(source.size, state.partSize);
  if (state.key !== key || count > MAX_PARTS) {
    // The key template or the file changed since: that upload can never complete at this key.
    await abortQuietly(t, state.key, state.uploadId);
    ctx.multipart.clear();
    return null;
  }
  let listed: Part[];
  try {
    listed = await listParts(t, key, state.uploadId, source.relpath, ctx.signal);
  } catch (e) {
    if (underlyingCode(e) !== 'NoSuchUpload') throw e;
    const done = await completedEarlier(t, key, source, state, ctx.signal);
    if (done) return done;
    // Aborted by cleanup() or expired on the server: start again.
    ctx.multipart.clear();
    return null;
  }
  const reuse = new Map<number, KnownPart>();
  for (const p of listed) {
    const n = p.PartNumber ?? 0;
    // A part of another size belongs to an older layout of the file, and a part without a
    // checksum cannot be compared with the local bytes: both are simply sent again.
    if (n < 1 || n > count || p.Size !== partLength(source.size, state.partSize, n)) continue;
    if (!p.ETag || !p.ChecksumCRC32C) continue;
    reuse.set(n, { etag: p.ETag, checksum: p.ChecksumCRC32C });
  }
  return { uploadId: state.uploadId, partSize: state.partSize, reuse, completed: false };
}

/** Every part of an upload, following ListParts' pages. */
export async function listParts(t: S3Target, key: string, uploadId: string, file: string, signal?: AbortSignal): Promise<Part[]> {
  const parts: Part[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3Call(t, { action: `list the parts of the upload of ${key}`, key, file }, signal, (abortSignal) =>
      t.client.send(new ListPartsCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), {
        abortSignal,
      }),
    );
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated || page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === marker) return parts;
    marker = page.NextPartNumberMarker;
  }
}

/**
 * The upload is gone but the journal still holds it: either Complete succeeded and the process
 * died (or tagging failed) before clear(), or the upload was aborted. Only an object whose
 * composite checksum equals the one of the journaled parts is ours.
 */
async function completedEarlier(
  t: S3Target,
  key: string,
  source: UploadSource,
  state: MultipartState,
  signal: AbortSignal,
): Promise<MultipartPlan | null> {
  const count = partCount(source.size, state.partSize);
  const journaled = new Map(state.parts.map((p) => [p.partNumber, p]));
  const checksums: string[] = [];
  for (let n = 1; n <= count; n++) {
    const p = journaled.get(n);
    if (!p || p.size !== partLength(source.size, state.partSize, n)) return null;
    checksums.push(p.checksum);
  }
  if (!(await objectIsOurs(t, key, source, await compositeChecksum(source, checksums), signal))) return null;
  const reuse = new Map<number, KnownPart>();
  for (const p of journaled.values()) reuse.set(p.partNumber, { etag: p.etag, checksum: p.checksum });
  return { uploadId: state.uploadId, partSize: state.partSize, reuse, completed: true };
}

/** Whether the object at `key` is the assembly of exactly our parts (same size and composite checksum). */
export async function objectIsOurs(
  t: S3Target,
  key: string,
  source: UploadSource,
  composite: string,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    const head = await s3Call(t, { action: `look up ${key}`, key, file: source.relpath }, signal, (abortSignal) =>
      t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key, ChecksumMode: 'ENABLED' }), { abortSignal }),
    );
    return head.ContentLength === source.size && head.ChecksumCRC32C === composite;
  } catch (e) {
    if (underlyingNotFound(e)) return false;
    throw e;
  }
}

/** Best effort: a leftover that cannot be aborted now is found later by cleanup(). */
export async function abortQuietly(t: S3Target, key: string, uploadId: string): Promise<void> {
  try {
    await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId }));
  } catch {
    // NoSuchUpload means it is gone already; anything else is left for cleanup().
  }
}
