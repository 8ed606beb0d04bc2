// The campaign's last look, over everything rather than one round: no multipart upload anywhere
// in the bucket, no temporary name anywhere in the WebDAV folder on disk, no message left in the
// ICAT+ buffer folder, and no dataset message that arrived twice after its round was checked.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { minioClient } from '../support/minio.js';
import type { CampaignWorld } from './campaign-world.js';

function tempNames(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => {
    const p = join(root, e.name);
    if (e.isDirectory()) return e.name === '.DAV' ? [] : tempNames(p);
    return e.name.startsWith('.') ? [p] : [];
  });
}

export async function finalSweep(
  world: CampaignWorld,
  icatPlusMessages: Map<string, number>,
  /** Duplicate messages already counted by the rounds' checks, by dataset. */
  counted: Map<string, number>,
): Promise<{ duplicated: string[]; orphaned: string[] }> {
  const duplicated: string[] = [];
  const orphaned: string[] = [];
  const s3 = minioClient(world.minio);
  try {
    const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: world.bucket }));
    for (const u of out.Uploads ?? []) orphaned.push(`end: unfinished multipart upload ${u.UploadId} of ${u.Key}`);
  } finally {
    s3.destroy();
  }
  for (const p of tempNames(world.davRoot)) orphaned.push(`end: temporary file ${p} in the WebDAV root`);
  const buffer = join(world.home, 'icat-plus-buffer');
  if (existsSync(buffer))
    for (const e of readdirSync(buffer, { withFileTypes: true }))
      if (e.isFile() && e.name.endsWith('.xml')) orphaned.push(`end: ICAT+ message ${e.name} never sent (left in the buffer)`);
  for (const [dataset, n] of icatPlusMessages) {
    const late = Math.max(0, n - 1) - (counted.get(dataset) ?? 0);
    if (late > 0) duplicated.push(`${dataset}: ${late} more ICAT+ dataset message(s) after its round`);
  }
  return { duplicated, orphaned };
}
