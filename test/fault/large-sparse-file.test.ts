// A file just over 5 GiB (the largest single PUT S3 allows) goes up as a multipart upload and
// verifies; the object streamed back from MinIO hashes to the same SHA-256 as the local file.
// The file is sparse (no 5 GiB of disk for the source) with non-zero blocks at known offsets,
// including ones straddling 4 GiB and 5 GiB, so a part placed at a wrong offset cannot go unseen.
// The object and the file are deleted afterwards.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { minioClient } from '../support/minio.js';
import { harness, type Harness } from '../support/engine-harness.js';
import { listUploads, MiB, removeTemps, sha256File, sha256Object, tempDir } from './helpers.js';

const GiB = 1024 * MiB;
const SIZE = 5 * GiB + 3 * MiB + 17;
const PART = 16 * MiB;
/** Offsets of the non-zero blocks: start, inside, straddling 4 GiB and 5 GiB, after 5 GiB, the very end. */
const BLOCKS = [0, GiB + 12_345, 4 * GiB - 2_048, 5 * GiB - 100, 5 * GiB + MiB, SIZE - 4_096];

describe('a sparse file just over 5 GiB', () => {
  let h: Harness;
  let direct: S3Client;
  let dir: string;
  let key: string | null = null;

  beforeAll(async () => {
    h = await harness({ upload: { partSize: { min: '16MiB', max: '512MiB' } } });
    direct = minioClient(inject('s3'));
    dir = tempDir('bd-sparse-');
  });
  afterAll(async () => {
    // Disk space: remove the object and the file whatever happened.
    if (key) await direct.send(new DeleteObjectCommand({ Bucket: h.bucket, Key: key })).catch(() => undefined);
    await removeTemps();
    direct.destroy();
    await h.engine.close();
  });

  it(
    'uploads as multipart, verifies, and reads back with the local SHA-256',
    async () => {
      const file = join(dir, 'huge.raw');
      const fd = openSync(file, 'w');
      try {
        ftruncateSync(fd, SIZE);
        for (const at of BLOCKS) {
          const block = randomBytes(Math.min(4_096, SIZE - at));
          expect(writeSync(fd, block, 0, block.length, at)).toBe(block.length);
        }
      } finally {
        closeSync(fd);
      }
      expect(statSync(file).size).toBe(SIZE);

      const t0 = Date.now();
      const summary = await h.engine.upload(h.profile, { sources: [dir], dataset: 'sparse', destination: 's3' });
      const uploadMs = Date.now() - t0;
      key = 'sparse/huge.raw';
      expect(summary.failures).toEqual([]);
      expect(summary.counts).toEqual({ verified: 1 });
      expect(summary.bytesSent).toBe(SIZE);

      const head = await direct.send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }));
      expect(head.ContentLength).toBe(SIZE);
      // A multipart object: its ETag names the part count.
      expect(head.ETag?.replaceAll('"', '')).toMatch(new RegExp(`-${Math.ceil(SIZE / PART)}$`));

      const t1 = Date.now();
      const [local, remote] = await Promise.all([sha256File(file), sha256Object(direct, h.bucket, key)]);
      const readBackMs = Date.now() - t1;
      expect(remote).toEqual(local);
      expect(local.size).toBe(SIZE);
      const tags = await direct.send(new GetObjectTaggingCommand({ Bucket: h.bucket, Key: key }));
      expect(tags.TagSet?.find((t) => t.Key === 'sha256')?.Value).toBe(local.sha256);
      const recorded = h.engine.services.catalogue.files('sparse');
      expect(recorded).toEqual([expect.objectContaining({ relpath: 'huge.raw', size: SIZE, sha256: local.sha256 })]);
      expect(await listUploads(direct, h.bucket)).toEqual([]);
      console.log(
        `[sparse] ${SIZE} bytes: upload+verify ${(uploadMs / 1000).toFixed(1)} s, read back + local hash ${(readBackMs / 1000).toFixed(1)} s`,
      );
    },
    15 * 60_000,
  );
});
