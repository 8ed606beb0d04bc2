// Connections to S3 that break: a real TCP proxy on loopback stands between the engine and MinIO
// and resets connections. Short outages are ridden out by retries with backoff; a destination
// that stays broken pauses the job without failing files or leaving anything at a final key, and
// the paused job resumes to a complete, verified upload once the network is back. Two narrower
// drops are aimed at single requests: the tagging of a finished multipart object with its SHA-256,
// and the listing of what is already at the destination.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { GetObjectTaggingCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { verifyDataset } from '../../src/main/engine/operations/verify-dataset.js';
import type { JobEvent } from '../../src/shared/model.js';
import { createBucket, minioClient } from '../support/minio.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
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

describe('S3 connection drops', () => {
  const s3 = inject('s3');
  const upstream = new URL(s3.endpoint);
  let proxy: FlakyProxy;
  let direct: S3Client;
  const opened: FaultEngine[] = [];

  beforeAll(async () => {
    proxy = await startFlakyProxy({ host: upstream.hostname, port: Number(upstream.port) });
    direct = minioClient(s3);
  });
  afterAll(async () => {
    for (const f of opened) await f.engine.close();
    await proxy.close();
    direct.destroy();
    await removeTemps();
  });

  /** An engine whose destination "flaky" reaches MinIO only through the proxy. */
  async function flakyEngine(upload: Record<string, unknown>): Promise<FaultEngine & { bucket: string }> {
    const bucket = await createBucket(s3);
    const f = s3Engine({
      name: 'flaky',
      endpoint: proxy.url,
      bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: s3.region,
      upload: { multipartThreshold: '8MiB', partSize: { min: '5MiB', max: '5MiB' }, ...upload },
    });
    opened.push(f);
    return { ...f, bucket };
  }

  /** Every file of the tree is at its key in MinIO (read directly, not through the proxy) with the local SHA-256. */
  async function expectStoredExactly(bucket: string, src: string, files: Record<string, number>, prefix: string): Promise<void> {
    expect(await listDataKeys(direct, bucket)).toEqual(
      Object.keys(files)
        .map((rel) => `${prefix}${rel}`)
        .sort(),
    );
    for (const rel of Object.keys(files)) {
      const local = await sha256File(join(src, rel));
      const remote = await sha256Object(direct, bucket, `${prefix}${rel}`);
      expect(remote, rel).toEqual(local);
    }
  }

  it('retries with backoff through intermittently cut connections and completes with every file verified', async () => {
    const f = await flakyEngine({
      concurrency: 2,
      partConcurrency: 2,
      retries: { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 },
    });
    const files = {
      'big-a.raw': 13 * MiB + 5,
      'big-b.raw': 11 * MiB,
      'small-1.dat': 3 * MiB,
      'small-2.dat': 2 * MiB + 1,
      'tiny.txt': 100,
    };
    const src = randomTree(files);
    // At most 4 requests are in flight (2 files × 2 parts) and each gets one SDK retry, so 12
    // cuts of 256 KiB into a request body force failures through to the engine's own retries.
    proxy.setMode({ kind: 'cut', afterBytes: 256 * 1024, times: 12 });
    const events: JobEvent[] = [];
    const summary = await f.engine.upload(f.profile, { sources: [src], dataset: 'drops', onEvent: (e) => events.push(e) });

    expect(proxy.stats.cuts).toBe(12);
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: Object.keys(files).length });
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries.length).toBeGreaterThan(0);
    for (const r of retries) {
      expect(r).toMatchObject({ error: { retryable: true } });
      expect(r.type === 'retry' && r.delayMs).toBeGreaterThan(0);
    }
    // The engine logged them to the journal too.
    const journaled = f.engine.services.journal.events(summary.job.id, 10_000).filter((e) => e.type === 'file-verified');
    expect(journaled).toHaveLength(Object.keys(files).length);
    await expectStoredExactly(f.bucket, src, files, 'drops/');
  });

  it('pauses when the destination stays unreachable, leaves nothing at a final key, and resumes once healed', async () => {
    const f = await flakyEngine({
      concurrency: 2,
      partConcurrency: 2,
      retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 },
    });
    // Every file is larger than the budget below, so none can be complete when the network breaks.
    const files = { 'run-1.raw': 12 * MiB, 'run-2.raw': 12 * MiB + 3, 'run-3.raw': 12 * MiB + 7 };
    const src = randomTree(files);
    proxy.setMode({ kind: 'pass-then-refuse', afterTotalBytes: 11 * MiB });
    const events: JobEvent[] = [];
    const paused = await f.engine.upload(f.profile, { sources: [src], dataset: 'outage', onEvent: (e) => events.push(e) });

    expect(proxy.mode().kind).toBe('refuse');
    expect(paused.job.state).toBe('paused');
    expect(paused.job.reason).toMatch(/^paused: /);
    expect(paused.job.reason).toContain('"flaky"');
    expect(paused.job.reason).toContain(proxy.url);
    expect(events).toContainEqual({ type: 'job-paused', jobId: paused.job.id, reason: paused.job.reason });
    expect(events.some((e) => e.type === 'retry')).toBe(true);
    // Not a problem of the files: none failed, none was given up.
    expect(paused.counts.failed ?? 0).toBe(0);
    expect(paused.failures).toEqual([]);
    expect(Object.keys(paused.counts).every((s) => ['discovered', 'transferring'].includes(s))).toBe(true);
    // Straight at MinIO: no object of the job exists; unfinished multipart uploads may.
    expect(await listKeys(direct, f.bucket)).toEqual([]);
    // Parts already on the server are what a resume must not send again.
    const partsThere = new Map<string, number>();
    for (const u of await listUploads(direct, f.bucket)) {
      expect(Object.keys(files).map((r) => `outage/${r}`)).toContain(u.key);
      const listed = await direct.send(new ListPartsCommand({ Bucket: f.bucket, Key: u.key, UploadId: u.uploadId }));
      partsThere.set(u.key, listed.Parts?.length ?? 0);
    }

    proxy.setMode({ kind: 'pass' });
    const resumed = await f.engine.resume(paused.job.id, { onEvent: (e) => events.push(e) });
    expect(resumed.failures).toEqual([]);
    expect(resumed.job.state).toBe('done');
    expect(resumed.counts).toEqual({ verified: Object.keys(files).length });
    await expectStoredExactly(f.bucket, src, files, 'outage/');
    // Each interrupted upload continued with the parts the server had: none of them was sent twice.
    const { journal } = f.engine.services;
    const results = journal.events(paused.job.id, 10_000).filter((e) => e.type === 'upload-result');
    expect(results).toHaveLength(Object.keys(files).length);
    for (const r of results) {
      const key = journal.file(r.fileId!)!.remoteKey!;
      expect((r.detail as { resumedParts: number }).resumedParts, key).toBe(partsThere.get(key) ?? 0);
    }
    // Resumed uploads were completed, not left behind.
    expect(await listUploads(direct, f.bucket)).toEqual([]);
  });

  it('keeps the SHA-256 of a multipart object when the connection drops while it is being tagged', async () => {
    const f = await flakyEngine({
      concurrency: 1,
      partConcurrency: 2,
      retries: { attempts: 5, baseDelayMs: 100, maxDelayMs: 400 },
    });
    const files = { 'tagged.raw': 11 * MiB + 9 };
    const src = randomTree(files);
    // The parts and the Complete go through; the request that tags the finished object with its
    // SHA-256 is cut on both of the SDK's attempts, so the engine's own retry has to finish the job.
    proxy.setMode({ kind: 'cut-matching', match: '?tagging', times: 2 });
    const events: JobEvent[] = [];
    const summary = await f.engine.upload(f.profile, { sources: [src], dataset: 'tagging', onEvent: (e) => events.push(e) });
    expect(proxy.stats.cuts).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'retry')).toBe(true);
    expect(summary.failures).toEqual([]);
    expect(summary.counts).toEqual({ verified: 1 });
    // The retry found its completed upload and re-used every part: no byte crossed the network twice.
    expect(summary.bytesSent).toBe(files['tagged.raw']);
    await expectStoredExactly(f.bucket, src, files, 'tagging/');
    // The whole-file SHA-256 is kept with the object, so a plain (not deep) verify can confirm it.
    const local = await sha256File(join(src, 'tagged.raw'));
    const tags = await direct.send(new GetObjectTaggingCommand({ Bucket: f.bucket, Key: 'tagging/tagged.raw' }));
    expect(tags.TagSet?.find((t) => t.Key === 'sha256')?.Value).toBe(local.sha256);
    const verdicts = await verifyDataset(f.engine.operationDeps(), 'tagging', { deep: false });
    expect(verdicts.map((v) => v.result)).toEqual([
      expect.objectContaining({ ok: true, checked: expect.arrayContaining(['sha256 (tag)']) }),
    ]);
    // Nothing of the upload is left behind, on the server or in the journal.
    expect(await listUploads(direct, f.bucket)).toEqual([]);
    expect(f.engine.services.journal.openUploadIds().size).toBe(0);
  });

  it('retries a listing of the destination cut by a dropped connection, and completes', async () => {
    const f = await flakyEngine({ retries: { attempts: 4, baseDelayMs: 100, maxDelayMs: 400 } });
    const files = { 'one.dat': 2 * MiB, 'two.dat': 3 * MiB };
    const src = randomTree(files);
    // The check (HeadBucket) passes; the listing of what is already there fails on both SDK attempts once.
    proxy.setMode({ kind: 'cut-matching', match: 'list-type=2', times: 2 });
    const summary = await f.engine.upload(f.profile, { sources: [src], dataset: 'listing' });
    expect(proxy.stats.cuts).toBeGreaterThanOrEqual(2);
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: 2 });
    await expectStoredExactly(f.bucket, src, files, 'listing/');
  });

  it('pauses (not left running) when the destination cannot be listed, and resumes once healed', async () => {
    const f = await flakyEngine({ retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 } });
    const files = { 'one.dat': 2 * MiB, 'two.dat': 3 * MiB };
    const src = randomTree(files);
    proxy.setMode({ kind: 'cut-matching', match: 'list-type=2' });
    const events: JobEvent[] = [];
    const paused = await f.engine.upload(f.profile, { sources: [src], dataset: 'unlisted', onEvent: (e) => events.push(e) });
    expect(paused.job.state).toBe('paused');
    expect(f.engine.services.journal.job(paused.job.id)?.state).toBe('paused');
    expect(paused.job.reason).toContain('"flaky"');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['job-paused', 'job-finished']));
    expect(paused.counts).toEqual({ discovered: 2 });
    expect(await listKeys(direct, f.bucket)).toEqual([]);

    proxy.setMode({ kind: 'pass' });
    const resumed = await f.engine.resume(paused.job.id);
    expect(resumed.failures).toEqual([]);
    expect(resumed.job.state).toBe('done');
    expect(resumed.counts).toEqual({ verified: 2 });
    await expectStoredExactly(f.bucket, src, files, 'unlisted/');
  });
});
