// After its checks, a round's data is removed (local folder, objects, crate) so that a campaign
// of a thousand rounds does not fill the disk; the journal, the catalogue records and the queue
// tally stay. Removed with the servers' own means (S3 DeleteObjects, the WebDAV folder on disk).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { minioClient } from '../support/minio.js';
import { PROPOSAL, VISIT, type CampaignWorld } from './campaign-world.js';
import type { RoundResult } from './round.js';

export async function purgeRound(world: CampaignWorld, r: RoundResult): Promise<void> {
  await rm(r.sourceDir, { recursive: true, force: true });
  const prefix = `${PROPOSAL}/${VISIT}/${r.dataset}`;
  if (r.plan.config.destination === 'webdav') {
    const folder = join(world.davRoot, PROPOSAL, VISIT);
    await rm(join(folder, r.dataset), { recursive: true, force: true });
    await rm(join(folder, `${r.dataset}-ro-crate-metadata.json`), { force: true });
    return;
  }
  const s3 = minioClient(world.minio);
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: world.bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length) await s3.send(new DeleteObjectsCommand({ Bucket: world.bucket, Delete: { Objects: keys } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.destroy();
  }
}
