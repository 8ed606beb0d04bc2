// Our own multipart loop (lib-storage cannot resume): parts are read strictly in order from the
// source (one read pass feeds the whole-file SHA-256 and each part's CRC32C), sent up to
// `partConcurrency` at a time, and journaled one by one so a killed process resumes part by part.
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { BeamdropError } from '../../../../shared/errors.js';
import type { UploadContext, UploadResult, UploadSource } from '../destination.js';
import { choosePartSize, partCount, partLength } from './part-size.js';
import { s3Call, errorContext, type S3Target } from './s3-target.js';
import { mapS3Error, underlyingCode, underlyingNotFound } from './s3-errors.js';
import { compositeChecksum } from './composite-checksum.js';
import { abortOrAbandon, objectIsOurs, planResume, type MultipartPlan } from './multipart-resume.js';

export interface MultipartPolicy {
  partSize: { min: number; max: number };
  partConcurrency: number;
}

export async function uploadMultipart(
  t: S3Target,
  key: string,
  source: UploadSource,
  ctx: UploadContext,
  policy: MultipartPolicy,
): Promise<UploadResult> {
  const file = source.relpath;
  const plan = (await planResume(t, key, source, ctx)) ?? (await createUpload(t, key, source, ctx, policy));
  try {
    const { parts, resumed } = await sendParts(t, key, source, ctx, plan, policy.partConcurrency);
    // finish() re-checks the file before Complete, so a file changed meanwhile never becomes an object.
    const sha256 = await source.finish();
    if (!plan.completed) await complete(t, key, source, ctx, plan, parts);
    // Multipart objects only have composite checksums, so the whole-file SHA-256 is kept as a
    // tag (metadata cannot be added after Create, and the SHA-256 is only known at the end).
    await s3Call(t, { action: `tag ${key} with its SHA-256`, key, file }, ctx.signal, (abortSignal) =>
      t.client.send(
        new PutObjectTaggingCommand({ Bucket: t.bucket, Key: key, Tagging: { TagSet: [{ Key: 'sha256', Value: sha256 }] } }),
        { abortSignal },
      ),
    );
    ctx.multipart.clear();
    return { sha256, size: source.size, serverChecked: true, resumedParts: resumed };
  } catch (e) {
    // S3 calls are mapped where they are made; what remains is a cancel (an AbortError from a
    // read or a wait) or a bug, which stays as it is for the engine to report as internal.
    const err = ctx.signal.aborted ? mapS3Error(e, errorContext(t, { action: `upload ${key}`, key, file }), ctx.signal) : e;
    // The upload is kept for a later resume after network, server, credential or cancel errors;
    // it is dropped when its bytes can never be completed at this key: the local file changed,
    // vanished or cannot be read, or another object took the key.
    if (err instanceof BeamdropError && ['conflict', 'changed-during-upload', 'vanished', 'unreadable'].includes(err.code)) {
      if (plan.completed) ctx.multipart.clear();
      else await abortOrAbandon(t, key, plan.uploadId, ctx);
    }
    throw err;
  }
}

async function createUpload(
  t: S3Target,
  key: string,
  source: UploadSource,
  ctx: UploadContext,
  policy: MultipartPolicy,
): Promise<MultipartPlan> {
  const file = source.relpath;
  // Complete refuses an existing key anyway (If-None-Match); asking first saves sending a
  // whole large file only to be refused at the end.
  const existing = await s3Call(t, { action: `look up ${key}`, key, file }, ctx.signal, (abortSignal) =>
    t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }), { abortSignal }),
  ).catch((e: unknown) => {
    if (underlyingNotFound(e)) return null;
    throw e;
  });
  if (existing) throw conflict(t, key, file);
  const partSize = choosePartSize(source.size, policy.partSize);
  // Journaled before Create: if this process dies before the id is journaled (or the answer is
  // lost), the next attempt finds the upload by this key instead of leaving it behind.
  ctx.multipart.intend({ key, partSize });
  const created = await s3Call(t, { action: `start the upload of ${key}`, key, file }, ctx.signal, (abortSignal) =>
    t.client.send(
      new CreateMultipartUploadCommand({
        Bucket: t.bucket,
        Key: key,
        ChecksumAlgorithm: 'CRC32C',
        ChecksumType: 'COMPOSITE',
        ContentType: 'application/octet-stream',
      }),
      { abortSignal },
    ),
  );
  const uploadId = created.UploadId!;
  ctx.multipart.begin({ uploadId, key, partSize });
  return { uploadId, partSize, reuse: new Map(), completed: false };
}

interface SentPart {
  PartNumber: number;
  ETag: string;
  ChecksumCRC32C: string;
}

/**
 * Reads every part in order and sends the missing ones. At most `concurrency` part buffers are
 * alive: the next part is read only when a slot is free, so memory stays bounded.
 */
async function sendParts(
  t: S3Target,
  key: string,
  source: UploadSource,
  ctx: UploadContext,
  plan: MultipartPlan,
  concurrency: number,
): Promise<{ parts: SentPart[]; resumed: number }> {
  const count = partCount(source.size, plan.partSize);
  const parts: SentPart[] = new Array<SentPart>(count);
  let resumed = 0;
  // One failed part stops its siblings at once instead of letting them finish uselessly.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort();
  };
  const inflight = new Set<Promise<void>>();

  const onePart = async (n: number, checked: Promise<{ data: Buffer; crc32c: string }>): Promise<void> => {
    const { data, crc32c: checksum } = await checked;
    const known = plan.reuse.get(n);
    if (known) {
      if (known.checksum !== checksum) throw changedSinceEarlierAttempt(source.relpath, n);
      resumed++;
      parts[n - 1] = { PartNumber: n, ETag: known.etag, ChecksumCRC32C: checksum };
      return;
    }
    if (plan.completed) throw new Error(`part ${n} missing from a completed upload`);
    const out = await s3Call(
      t,
      { action: `upload part ${n} of ${count} of ${key}`, key, file: source.relpath },
      signal,
      (abortSignal) =>
        t.client.send(
          new UploadPartCommand({
            Bucket: t.bucket,
            Key: key,
            UploadId: plan.uploadId,
            PartNumber: n,
            Body: data,
            ContentLength: data.length,
            ChecksumCRC32C: checksum,
          }),
          { abortSignal },
        ),
    );
    if (out.ChecksumCRC32C !== undefined && out.ChecksumCRC32C !== checksum) {
      throw new BeamdropError({
        code: 'checksum-mismatch',
        retryable: true,
        file: source.relpath,
        message: `${t.endpoint} stored part ${n} of ${key} with CRC32C ${out.ChecksumCRC32C}, not ${checksum}; it will be sent again.`,
      });
    }
    const part = { PartNumber: n, ETag: out.ETag!, ChecksumCRC32C: checksum };
    ctx.multipart.partDone({ partNumber: n, etag: part.ETag, checksum, size: data.length });
    parts[n - 1] = part;
    // Only bytes that crossed the network count: re-used parts are not progress of this attempt.
    source.sent(data.length);
  };

  try {
    for (let n = 1; n <= count && !failure; n++) {
      while (inflight.size >= concurrency && !failure) await Promise.race(inflight);
      if (failure) break;
      signal.throwIfAborted();
      const { checked } = await source.readPart((n - 1) * plan.partSize, partLength(source.size, plan.partSize, n));
      if (failure) break;
      const task: Promise<void> = onePart(n, checked)
        .catch(fail)
        .finally(() => inflight.delete(task));
      inflight.add(task);
    }
  } catch (e) {
    fail(e);
  }
  await Promise.all(inflight);
  if (failure) throw (failure as { error: unknown }).error;
  return { parts, resumed };
}

async function complete(
  t: S3Target,
  key: string,
  source: UploadSource,
  ctx: UploadContext,
  plan: MultipartPlan,
  parts: SentPart[],
): Promise<void> {
  const file = source.relpath;
  const expected = await compositeChecksum(
    source,
    parts.map((p) => p.ChecksumCRC32C),
  );
  // MinIO (and AWS) honour If-None-Match on Complete: 412 if the key exists, checked atomically
  // with the commit, so a racing writer is never overwritten (mapped to 'conflict').
  let out;
  try {
    out = await s3Call(t, { action: `complete the upload of ${key}`, key, file }, ctx.signal, (abortSignal) =>
      t.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: t.bucket,
          Key: key,
          UploadId: plan.uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: parts as CompletedPart[] },
        }),
        { abortSignal },
      ),
    );
  } catch (e) {
    const gone = underlyingCode(e) === 'NoSuchUpload';
    if (!gone && (e as BeamdropError).code !== 'conflict') throw e;
    // The SDK retries a Complete whose answer was lost; the retry then finds our own object
    // (412) or no upload any more. Only an object with our composite checksum is ours.
    if (await objectIsOurs(t, key, source, expected, ctx.signal)) return;
    if (!gone) throw e;
    ctx.multipart.clear();
    throw new BeamdropError(
      {
        code: 'transfer-failed',
        retryable: true,
        file,
        message: `the unfinished upload of ${key} was removed from ${t.endpoint} (cleanup or expiry) before it could be completed; the file will be sent again.`,
      },
      { cause: e },
    );
  }
  // Servers that report a full-object CRC or none at all are checked by the part count in the ETag.
  const ok = out.ChecksumCRC32C?.includes('-')
    ? out.ChecksumCRC32C === expected
    : (out.ETag ?? '').replaceAll('"', '').endsWith(`-${parts.length}`);
  if (!ok) {
    // The object is ours and wrong: remove it so the retry can write the right one.
    await t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: key })).catch(() => undefined);
    ctx.multipart.clear();
    throw new BeamdropError({
      code: 'checksum-mismatch',
      retryable: true,
      file,
      message: `${t.endpoint} assembled ${key} with checksum ${out.ChecksumCRC32C ?? out.ETag}, expected ${expected}; the object was removed and the file will be sent again.`,
    });
  }
}

function conflict(t: S3Target, key: string, file: string): BeamdropError {
  return new BeamdropError({
    code: 'conflict',
    retryable: false,
    file,
    message: `s3://${t.bucket}/${key} already exists; it was not overwritten. Remove or rename it on the storage, or change the key template, then retry.`,
  });
}

function changedSinceEarlierAttempt(file: string, n: number): BeamdropError {
  return new BeamdropError({
    code: 'changed-during-upload',
    retryable: true,
    file,
    message: `${file}: part ${n} differs from the bytes sent by an earlier attempt, so the file changed since; the unfinished upload was discarded and the file will be sent again from the start.`,
  });
}
