// The S3 server restarts in the middle of a job (a real MinIO process, stopped and started again
// on the same port and data). The job rides it out through retries, or pauses and is resumed;
// either way every file ends verified and reads back with its local SHA-256.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { createBucket, minioClient, startMinio, type MinioServer } from '../support/minio.js';
import {
  listDataKeys,
  listKeys,
  listUploads,
  MiB,
  randomTree,
  removeTemps,
  s3Engine,
  sha256File,
  sha256Object,
  type FaultEngine,
} from './helpers.js';

describe('S3 server restart', () => {
  let server: MinioServer;
  let direct: S3Client;
  const opened: FaultEngine[] = [];

  beforeAll(async () => {
    server = await startMinio();
    direct = minioClient(server);
  });
  afterAll(async () => {
    for (const f of opened) await f.engine.close();
    direct?.destroy();
    await server?.destroy();
    await removeTemps();
  });

  it('completes a multi-file upload across a restart of MinIO (through retries, or pause and resume), all verified', async () => {
    const bucket = await createBucket(server);
    const f = s3Engine({
      name: 'restarting',
      endpoint: server.endpoint,
      bucket,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: server.region,
      upload: {
        concurrency: 2,
        partConcurrency: 2,
        multipartThreshold: '8MiB',
        partSize: { min: '5MiB', max: '5MiB' },
        // Throttled so the job is still sending when the server goes down.
        bandwidth: '12M',
        retries: { attempts: 6, baseDelayMs: 250, maxDelayMs: 2_000 },
      },
    });
    opened.push(f);
    const files: Record<string, number> = {
      'a/first.dat': 1 * MiB,
      'a/scan-1.raw': 12 * MiB,
      'a/scan-2.raw': 14 * MiB + 11,
      'b/scan-3.raw': 12 * MiB + 1,
      'b/small-1.dat': 2 * MiB,
      'b/small-2.dat': 3 * MiB + 5,
      'c/scan-4.raw': 10 * MiB,
    };
    const src = randomTree(files);
    const pidBefore = server.pid;
    const events: JobEvent[] = [];
    let restart: Promise<void> | null = null;
    let verifiedWhenDown = -1;
    const verified = () => events.filter((e) => e.type === 'file-state' && e.state === 'verified').length;
    const onEvent = (e: JobEvent) => {
      events.push(e);
      // The first file is stored: the rest are on their way. Stop the server, then start it again.
      if (!restart && e.type === 'file-state' && e.state === 'verified') {
        restart = server.stop().then(() => {
          verifiedWhenDown = verified();
          return server.restart();
        });
      }
    };

    let summary: JobSummary = await f.engine.upload(f.profile, { sources: [src], dataset: 'restart', onEvent });
    expect(restart, 'the restart was triggered during the job').not.toBeNull();
    await restart;
    expect(server.pid).not.toBe(pidBefore);
    const felt = events.filter((e) => e.type === 'retry' || e.type === 'job-paused').length;
    console.log(
      `[restart] first run: ${summary.job.state} ${JSON.stringify(summary.counts)}; ${verifiedWhenDown} file(s) verified when MinIO went down; ${felt} retry/pause event(s)`,
    );
    // The server went down while the job still had files to send (the throttle guarantees it).
    expect(verifiedWhenDown).toBeGreaterThanOrEqual(1);
    expect(verifiedWhenDown).toBeLessThan(Object.keys(files).length);
    expect(summary.failures).toEqual([]);
    if (summary.job.state === 'paused') {
      expect(summary.job.reason).toContain('"restarting"');
      // The server is back (restart() waited for its health check): resume with the stored settings.
      summary = await f.engine.resume(summary.job.id, { onEvent: (e) => events.push(e) });
    }
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: Object.keys(files).length });

    expect(await listDataKeys(direct, bucket)).toEqual(
      Object.keys(files)
        .map((r) => `restart/${r}`)
        .sort(),
    );
    for (const rel of Object.keys(files)) {
      expect(await sha256Object(direct, bucket, `restart/${rel}`), rel).toEqual(await sha256File(join(src, rel)));
    }
    expect(await listUploads(direct, bucket)).toEqual([]);
  });

  it('pauses while MinIO is down, leaving nothing at a final key, and resumes to all verified once it is back', async () => {
    const bucket = await createBucket(server);
    const f = s3Engine({
      name: 'restarting',
      endpoint: server.endpoint,
      bucket,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: server.region,
      upload: {
        concurrency: 2,
        partConcurrency: 2,
        multipartThreshold: '8MiB',
        partSize: { min: '5MiB', max: '5MiB' },
        bandwidth: '12M',
        retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 },
      },
    });
    opened.push(f);
    const files: Record<string, number> = {
      'x/lead.dat': 512 * 1024,
      'x/scan-1.raw': 12 * MiB,
      'y/scan-2.raw': 11 * MiB + 3,
      'y/tail.dat': 3 * MiB,
    };
    const src = randomTree(files);
    const events: JobEvent[] = [];
    let stopped: Promise<void> | null = null;
    const paused = await f.engine.upload(f.profile, {
      sources: [src],
      dataset: 'down',
      onEvent: (e) => {
        events.push(e);
        // Stop (not restart) the server once the first file is stored: it stays down until the job gave up.
        if (!stopped && e.type === 'file-state' && e.state === 'verified') stopped = server.stop();
      },
    });
    await stopped;
    const stored = events
      .filter((e) => e.type === 'file-state' && e.state === 'verified')
      .map((e) => e.type === 'file-state' && e.relpath);
    expect(paused.job.state).toBe('paused');
    expect(paused.job.reason).toContain('"restarting"');
    expect(paused.job.reason).toContain(server.endpoint);
    expect(paused.failures).toEqual([]);
    expect(paused.counts.verified ?? 0).toBe(stored.length);

    await server.restart();
    // Only the files verified before the outage are at their final keys; nothing partial beside them.
    expect(await listKeys(direct, bucket)).toEqual(stored.map((r) => `down/${r}`).sort());
    const resumed = await f.engine.resume(paused.job.id, { onEvent: (e) => events.push(e) });
    expect(resumed.failures).toEqual([]);
    expect(resumed.job.state).toBe('done');
    expect(resumed.counts).toEqual({ verified: Object.keys(files).length });
    expect(await listDataKeys(direct, bucket)).toEqual(
      Object.keys(files)
        .map((r) => `down/${r}`)
        .sort(),
    );
    for (const rel of Object.keys(files)) {
      expect(await sha256Object(direct, bucket, `down/${rel}`), rel).toEqual(await sha256File(join(src, rel)));
    }
    expect(await listUploads(direct, bucket)).toEqual([]);
  });
});
