// Unfinished multipart uploads as the server lists them (ListMultipartUploads), and aborting one.
// S3 lists by key prefix; MinIO lists by exact object name only (and, without a prefix, only the
// uploads it created since it started), so an upload is looked for both under a folder and at
// each key where the journal says one of ours may be.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { s3Call, type S3Target } from './s3-target.js';
import { underlyingCode } from './s3-errors.js';

export interface ListedUpload {
  key: string;
  uploadId: string;
  /** When the server started it (ms since the epoch), null if it does not say. */
  initiated: number | null;
}

/** Every unfinished upload whose key starts with `prefix` ('' or undefined: the whole bucket), following the pages. */
export async function listUploads(t: S3Target, prefix: string | undefined, signal?: AbortSignal): Promise<ListedUpload[]> {
  const found: ListedUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3Call(
      t,
      { action: `list unfinished uploads${prefix ? ` under ${prefix}` : ''}` },
      signal,
      (abortSignal) =>
        t.client.send(
          new ListMultipartUploadsCommand({
            Bucket: t.bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
          { abortSignal },
        ),
    );
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      if (prefix && !u.Key.startsWith(prefix)) continue;
      found.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ? u.Initiated.getTime() : null });
    }
    if (!page.IsTruncated || (page.NextKeyMarker === keyMarker && page.NextUploadIdMarker === uploadIdMarker)) return found;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/** The unfinished uploads at exactly `key`, newest first. */
export async function uploadsAt(t: S3Target, key: string, signal?: AbortSignal): Promise<ListedUpload[]> {
  const at = (await listUploads(t, key, signal)).filter((u) => u.key === key);
  return at.sort((a, b) => (b.initiated ?? 0) - (a.initiated ?? 0));
}

/** Aborts one upload; false if it was gone already (completed or aborted meanwhile). Other errors are thrown. */
export async function abortUpload(t: S3Target, key: string, uploadId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await s3Call(t, { action: `abort the unfinished upload of ${key}`, key }, signal, (abortSignal) =>
      t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: key, UploadId: uploadId }), { abortSignal }),
    );
    return true;
  } catch (e) {
    if (underlyingCode(e) === 'NoSuchUpload') return false;
    throw e;
  }
}
