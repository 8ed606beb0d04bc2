// Small files: one PUT that carries the whole-file SHA-256 as x-amz-checksum-sha256, so the
// server itself verifies every byte, and If-None-Match: * so an existing object is never replaced.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BeamdropError } from '../../../../shared/errors.js';
import type { UploadContext, UploadResult, UploadSource } from '../destination.js';
import { s3Call, type S3Target } from './s3-target.js';

export async function uploadSingle(t: S3Target, key: string, source: UploadSource, ctx: UploadContext): Promise<UploadResult> {
  const file = source.relpath;
  // One read pass hashes the file; finish() then re-checks it, so a file changed while being
  // read is never sent. The header needs the SHA-256 before the body goes out.
  const data = await source.read(0, source.size);
  const sha256 = await source.finish();
  const checksum = Buffer.from(sha256, 'hex').toString('base64');
  const out = await s3Call(t, { action: `upload ${key}`, key, file }, ctx.signal, (abortSignal) =>
    t.client.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: key,
        Body: data,
        ContentLength: data.length,
        ContentType: 'application/octet-stream',
        ChecksumSHA256: checksum,
        IfNoneMatch: '*',
        // Also kept as metadata: head() and verify() find it without a second request.
        Metadata: { sha256 },
      }),
      { abortSignal },
    ),
  );
  // A server that ignored the header would not echo it; then only verify() can confirm the bytes.
  const serverChecked = out.ChecksumSHA256 !== undefined;
  if (serverChecked && out.ChecksumSHA256 !== checksum) {
    throw new BeamdropError({
      code: 'checksum-mismatch',
      retryable: false,
      file,
      message: `${t.endpoint} reports SHA-256 ${out.ChecksumSHA256} for ${key}, but ${checksum} was sent; check the object on the storage.`,
    });
  }
  source.sent(data.length);
  return { sha256, size: data.length, serverChecked };
}
