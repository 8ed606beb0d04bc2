// `beamdrop cleanup` removes what interrupted uploads left, but never an upload a paused job resumes.
import { describe, expect, it } from 'vitest';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { parseAge } from '../../src/main/cli/cleanup-command.js';
import { harness } from '../support/engine-harness.js';
import { minioClient } from '../support/minio.js';

describe('cleanup', () => {
  it('aborts stale multipart uploads except those in the journal', async () => {
    const h = await harness();
    const client = minioClient(inject('s3'));
    try {
      const stale = await client.send(new CreateMultipartUploadCommand({ Bucket: h.bucket, Key: 'x/stale.raw' }));
      const paused = await client.send(new CreateMultipartUploadCommand({ Bucket: h.bucket, Key: 'x/paused.raw' }));
      const job = h.engine.services.journal.createJob({
        kind: 'batch',
        dataset: 'd',
        proposal: null,
        visit: null,
        catalogue: 'local',
        destination: 's3',
        sources: ['/x'],
        metadata: {},
        options: {
          include: [],
          exclude: [],
          followSymlinks: false,
          keyTemplate: '{dataset}/{relpath}',
          vars: { dataset: 'd', date: '2025-03-14' },
          destinationConfig: h.profile.destinations.s3!,
          adhoc: false,
          policy: h.profile.upload,
        },
      });
      h.engine.services.journal.addScannedFiles(job.id, [{ path: '/x/paused.raw', relpath: 'paused.raw', size: 1, mtimeMs: 1 }]);
      h.engine.services.journal
        .multipartStore(h.engine.services.journal.files(job.id)[0]!.id)
        .begin({ uploadId: paused.UploadId!, key: 'x/paused.raw', partSize: 5 * 1024 * 1024 });

      const r = await h.engine.cleanup(h.profile, { destination: 's3' }, 0);
      expect(r).toEqual({ destination: 's3', removed: 1 });
      const left = await client.send(new ListMultipartUploadsCommand({ Bucket: h.bucket }));
      expect((left.Uploads ?? []).map((u) => u.UploadId)).toEqual([paused.UploadId]);
      expect(stale.UploadId).not.toBe(paused.UploadId);
    } finally {
      client.destroy();
      await h.engine.close();
    }
  });

  it('reads ages as minutes, hours or days', () => {
    expect(parseAge('90m')).toBe(90 * 60_000);
    expect(parseAge('7d')).toBe(7 * 86_400_000);
    expect(() => parseAge('soon')).toThrow(/write an age such as 90m, 24h or 7d/);
  });
});
