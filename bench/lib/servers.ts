// The two servers every tool is measured against in one run: the test stack's MinIO and Apache
// mod_dav (test/support), started on loopback ports, plus the clean-up that keeps the disk free
// between measurements. Nothing here is timed.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createBucket, minioClient, startMinio, type MinioServer } from '../../test/support/minio.js';
import { startApacheDav, type DavServer } from '../../test/support/apache-dav.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';

/** Beamdrop writes a dataset's RO-Crate beside its files: not part of the measured workload. */
const isCrate = (name: string): boolean => name.endsWith(CRATE_SUFFIX);

export interface BenchServers {
  minio: MinioServer;
  dav: DavServer;
  bucket: string;
  s3: S3Client;
  /** Removes every object under the prefix (a folder of the bucket). */
  clearS3(prefix: string): Promise<void>;
  /** Removes a folder of the WebDAV root, on disk (the bench runs on the server's machine). */
  clearDav(folder: string): Promise<void>;
  /**
   * Objects and bytes stored under a prefix, RO-Crates left out: proof that a tool really
   * uploaded what it was timed for.
   */
  storedS3(prefix: string): Promise<{ files: number; bytes: number }>;
  /** Files and bytes under a path of the WebDAV root (mod_dav's .DAV property folders left out). */
  storedDav(path: string): Promise<{ files: number; bytes: number }>;
  stop(): Promise<void>;
}

export async function startServers(): Promise<BenchServers> {
  const [m, d] = await Promise.allSettled([startMinio(), startApacheDav()]);
  if (m.status === 'rejected' || d.status === 'rejected') {
    if (m.status === 'fulfilled') await m.value.destroy();
    if (d.status === 'fulfilled') await d.value.destroy();
    const why = [m, d].flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    throw new Error(`the servers did not start (run scripts/provision-test-servers.sh):\n${why.join('\n')}`);
  }
  const minio = m.value;
  const dav = d.value;
  const bucket = await createBucket(minio, 'bench');
  const s3 = minioClient(minio);
  return {
    minio,
    dav,
    bucket,
    s3,
    clearS3: async (prefix) => {
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, MaxKeys: 1000 }));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (!keys.length) return;
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      }
    },
    clearDav: (folder) => rm(join(dav.root, folder), { recursive: true, force: true }),
    storedS3: async (prefix) => {
      const out = { files: 0, bytes: 0 };
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || isCrate(o.Key)) continue;
          out.files++;
          out.bytes += o.Size ?? 0;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    storedDav: (path) => diskTotals(join(dav.root, path)),
    stop: async () => {
      s3.destroy();
      await Promise.all([minio.destroy(), dav.destroy()]);
    },
  };
}

async function diskTotals(path: string): Promise<{ files: number; bytes: number }> {
  const st = await stat(path).catch(() => null);
  if (!st) return { files: 0, bytes: 0 };
  if (!st.isDirectory()) return { files: 1, bytes: st.size };
  const out = { files: 0, bytes: 0 };
  for (const e of await readdir(path)) {
    if (e === '.DAV' || isCrate(e)) continue;
    const t = await diskTotals(join(path, e));
    out.files += t.files;
    out.bytes += t.bytes;
  }
  return out;
}
