// The S3 destination: small files in one server-verified PUT, large ones through our own
// resumable multipart loop; nothing ever appears at a key before it is complete, and an existing
// object is never replaced.
import type { HashPool } from '../../hash/hash-pool.js';
import type { Readable } from 'node:stream';
import { HeadBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3DestinationConfig } from '../../../../shared/profile-schema.js';
import {
  nothingSwept,
  type Destination,
  type RemoteObject,
  type SweepResult,
  type SweepRules,
  type SweepScope,
  type UploadContext,
  type UploadResult,
  type UploadSource,
  type VerifyResult,
} from '../destination.js';
import { createS3Client, type S3Credentials } from './s3-client.js';
import { s3Call, type S3Target } from './s3-target.js';
import { abortUpload, listUploads, uploadsAt, type ListedUpload } from './upload-listing.js';
import { MAX_SINGLE_PUT } from './part-size.js';
import { uploadSingle } from './single-put.js';
import { uploadMultipart } from './multipart-upload.js';
import { objectInfo, readObject, remoteObject, verifyObject } from './object-info.js';

export interface S3UploadPolicy {
  multipartThreshold: number;
  partSize: { min: number; max: number };
  partConcurrency: number;
}

export class S3Destination implements Destination, S3Target {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly endpoint: string;
  readonly bucket: string;

  constructor(
    readonly name: string,
    config: S3DestinationConfig,
    credentials: S3Credentials,
    private readonly policy: S3UploadPolicy,
    private readonly hashes: HashPool,
  ) {
    this.endpoint = config.endpoint;
    this.bucket = config.bucket;
    this.client = createS3Client(config, credentials, policy.partConcurrency);
  }

  async check(): Promise<void> {
    await s3Call(this, { action: 'check the bucket' }, undefined, () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.bucket })),
    );
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async *list(prefix: string): AsyncIterable<RemoteObject> {
    let token: string | undefined;
    do {
      const page = await s3Call(this, { action: `list ${prefix || 'the bucket'}` }, undefined, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, sha256: null };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<RemoteObject | null> {
    const info = await objectInfo(this, key);
    return info && remoteObject(key, info);
  }

  upload(key: string, source: UploadSource, ctx: UploadContext): Promise<UploadResult> {
    const size = source.size;
    // A journaled upload of this key (or one intended there, whose id may never have been
    // journaled) is resumed even if the threshold was raised meanwhile.
    const journaled = size > 0 && (ctx.multipart.load()?.key === key || ctx.multipart.intents().some((i) => i.key === key));
    if (size > 0 && (size >= this.policy.multipartThreshold || size > MAX_SINGLE_PUT || journaled)) {
      return uploadMultipart(this, key, source, ctx, this.policy);
    }
    return uploadSingle(this, key, source, ctx);
  }

  verify(key: string, expected: { size: number; sha256: string }, options: { deep: boolean }): Promise<VerifyResult> {
    return verifyObject(this, key, expected, options.deep, this.hashes);
  }

  read(key: string): Promise<Readable> {
    return readObject(this, key);
  }

  async cleanup(olderThanMs: number, keep: ReadonlySet<string> = new Set(), probeKeys: readonly string[] = []): Promise<number> {
    const before = Date.now() - olderThanMs;
    const found = new Map<string, ListedUpload>();
    // MinIO lists, bucket-wide, only the uploads it started since it last started; by key, all.
    for (const u of await listUploads(this, undefined)) found.set(u.uploadId, u);
    for (const key of probeKeys) for (const u of await uploadsAt(this, key)) found.set(u.uploadId, u);
    let aborted = 0;
    for (const u of found.values()) {
      if (u.initiated === null || u.initiated >= before || keep.has(u.uploadId)) continue;
      // Completed or aborted by someone else since the listing: nothing left to remove.
      if (await abortUpload(this, u.key, u.uploadId)) aborted++;
    }
    return aborted;
  }

  async sweep(scope: SweepScope, rules: SweepRules): Promise<SweepResult> {
    const { prefix } = scope;
    const result = nothingSwept();
    const seen = new Set<string>();
    const remaining = new Set<string>();
    const consider = async (u: ListedUpload): Promise<void> => {
      if (seen.has(u.uploadId)) return;
      seen.add(u.uploadId);
      if (!(u.key.startsWith(prefix) || scope.beside?.(u.key)) || rules.keepUploads.has(u.uploadId) || rules.keepKeys.has(u.key))
        return;
      if (rules.spareSince !== null && (u.initiated === null || u.initiated >= rules.spareSince)) {
        remaining.add(u.key);
        return;
      }
      if (await abortUpload(this, u.key, u.uploadId)) result.uploads++;
    };
    // By folder (S3), then key by key where the journal says one of ours may be (MinIO lists only those).
    for (const u of await listUploads(this, prefix)) await consider(u);
    for (const key of rules.probeKeys) {
      if (rules.keepKeys.has(key)) continue;
      for (const u of await uploadsAt(this, key)) await consider(u);
    }
    result.remaining = [...remaining];
    return result;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
