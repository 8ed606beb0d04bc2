// Decides how a multipart upload continues after an interrupted attempt: which journaled upload
// is still alive on the server, which of its parts can be kept (the server's ListParts is the
// truth; the journal only names the upload), or whether the upload was in fact completed. An
// upload whose id never reached the journal (killed right after CreateMultipartUpload, or its
// answer lost) is found by the key its intent names; every other upload of ours at a key is
// aborted, so no interrupted attempt leaves an upload behind.
import { HeadObjectCommand, ListPartsCommand, type Part } from '@aws-sdk/client-s3';
import type { MultipartIntent, MultipartState, UploadContext, UploadSource } from '../destination.js';
import { MAX_PARTS, partCount, partLength } from './part-size.js';
import { s3Call, type S3Target } from './s3-target.js';
import { underlyingCode, underlyingNotFound } from './s3-errors.js';
import { compositeChecksum } from './composite-checksum.js';
import { abortUpload, uploadsAt } from './upload-listing.js';

/**
 * An upload started up to this long before its intent was written is still covered by it: the
 * server's clock (Initiated) and ours may differ a little.
 */
const CLOCK_SKEW_MS = 15 * 60_000;

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
  await releaseOtherKeys(t, key, ctx);
  const state = ctx.multipart.load();
  if (!state) return adoptIntended(t, key, source, ctx);
  const count = partCount(source.size, state.partSize);
  if (state.key !== key || count > MAX_PARTS) {
    // The key template or the file changed since: that upload can never complete at this key.
    await abortOrAbandon(t, state.key, state.uploadId, ctx);
    return null;
  }
  let listed: Part[];
  try {
    listed = await listParts(t, key, state.uploadId, source.relpath, ctx.signal);
  } catch (e) {
    if (underlyingCode(e) !== 'NoSuchUpload') throw e;
    const done = await completedEarlier(t, key, source, state, ctx.signal);
    if (done) return done;
    // Aborted by cleanup() or expired on the server. Another upload of ours may still be at the
    // key (created under the same intent, its id lost): adopt or abort it before starting again.
    ctx.multipart.abandon();
    return adoptIntended(t, key, source, ctx);
  }
  return {
    uploadId: state.uploadId,
    partSize: state.partSize,
    reuse: reusableParts(listed, source, state.partSize),
    completed: false,
  };
}

/**
 * The journal has an intent at `key` but no upload id: the process died between
 * CreateMultipartUpload and journaling its id (or Create's answer was lost). The newest upload
 * at the key that the intent covers and whose parts can be listed is continued; every other
 * upload there (except those other unfinished jobs resume) is aborted.
 */
async function adoptIntended(t: S3Target, key: string, source: UploadSource, ctx: UploadContext): Promise<MultipartPlan | null> {
  const intent = ctx.multipart.intents().find((i) => i.key === key);
  if (!intent) return null;
  const held = ctx.multipart.heldElsewhere(key);
  const fits = partCount(source.size, intent.partSize) <= MAX_PARTS;
  let plan: MultipartPlan | null = null;
  for (const u of await uploadsAt(t, key, ctx.signal)) {
    if (held.has(u.uploadId)) continue;
    if (!plan && fits && covers(intent, u.initiated)) {
      const listed = await listParts(t, key, u.uploadId, source.relpath, ctx.signal).catch((e: unknown) => {
        if (underlyingCode(e) === 'NoSuchUpload') return null;
        throw e;
      });
      if (listed) {
        ctx.multipart.begin({ uploadId: u.uploadId, key, partSize: intent.partSize });
        plan = {
          uploadId: u.uploadId,
          partSize: intent.partSize,
          reuse: reusableParts(listed, source, intent.partSize),
          completed: false,
        };
        continue;
      }
    }
    // Errors other than "gone already" fail this attempt; the retry looks again.
    await abortUpload(t, key, u.uploadId, ctx.signal);
  }
  // Nothing of ours is left at the key: a fresh upload writes a new intent.
  if (!plan) ctx.multipart.settled(key);
  return plan;
}

function covers(intent: MultipartIntent, initiated: number | null): boolean {
  return initiated === null || initiated >= intent.at - CLOCK_SKEW_MS;
}

/** Intents at other keys (the key template changed, an abort that failed): whatever is there can never complete. */
async function releaseOtherKeys(t: S3Target, key: string, ctx: UploadContext): Promise<void> {
  for (const intent of ctx.multipart.intents()) {
    if (intent.key === key) continue;
    const held = ctx.multipart.heldElsewhere(intent.key);
    try {
      for (const u of await uploadsAt(t, intent.key, ctx.signal))
        if (!held.has(u.uploadId)) await abortUpload(t, intent.key, u.uploadId, ctx.signal);
      ctx.multipart.settled(intent.key);
    } catch (e) {
      // Not this file's key: the job's leftovers sweep tries again; only a cancel stops here.
      if (ctx.signal.aborted) throw e;
    }
  }
}

/** Parts already on the server that can be kept: of the size the layout gives them, with a checksum to compare. */
function reusableParts(listed: Part[], source: UploadSource, partSize: number): Map<number, KnownPart> {
  const count = partCount(source.size, partSize);
  const reuse = new Map<number, KnownPart>();
  for (const p of listed) {
    const n = p.PartNumber ?? 0;
    // A part of another size belongs to an older layout of the file, and a part without a
    // checksum cannot be compared with the local bytes: both are simply sent again.
    if (n < 1 || n > count || p.Size !== partLength(source.size, partSize, n)) continue;
    if (!p.ETag || !p.ChecksumCRC32C) continue;
    reuse.set(n, { etag: p.ETag, checksum: p.ChecksumCRC32C });
  }
  return reuse;
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

/** Best effort: true if the upload is gone (aborted now or before); false if it could not be aborted now. */
export async function abortQuietly(t: S3Target, key: string, uploadId: string): Promise<boolean> {
  try {
    await abortUpload(t, key, uploadId);
    return true;
  } catch {
    return false;
  }
}

/**
 * Drops an upload that can never complete: aborted, its journal state goes; not abortable now
 * (network, server), its intent stays so that the next attempt or the leftovers sweep finds it.
 */
export async function abortOrAbandon(t: S3Target, key: string, uploadId: string, ctx: UploadContext): Promise<void> {
  if (await abortQuietly(t, key, uploadId)) ctx.multipart.clear();
  else ctx.multipart.abandon();
}
