// How jobs end when the destination misbehaves or a job is replaced, against real MinIO (directly
// and through the cutting proxy): a crate the destination refuses reaches the operator as a
// job-note while the job still ends done and finalised; a dry run whose destination goes down ends
// cancelled with words for a dry run (never paused); `--new-job` releases the replaced job's
// partial multipart upload exactly as `beamdrop cancel` does, so the new job's leftovers sweep of
// the dataset's folder aborts it (and `beamdrop cleanup` finds nothing left).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobEvent } from '../../src/shared/model.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { createBucket, minioClient } from '../support/minio.js';
import {
  listDataKeys,
  listKeys,
  listUploads,
  MiB,
  randomTree,
  removeTemps,
  s3Engine,
  waitUntil,
  type FaultEngine,
} from './helpers.js';

describe('how jobs end', () => {
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

  async function engine(through: 'proxy' | 'direct'): Promise<FaultEngine & { bucket: string }> {
    const bucket = await createBucket(s3);
    const f = s3Engine({
      name: 'store',
      endpoint: through === 'proxy' ? proxy.url : s3.endpoint,
      bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      region: s3.region,
      upload: {
        multipartThreshold: '8MiB',
        partSize: { min: '5MiB', max: '5MiB' },
        partConcurrency: 1,
        concurrency: 1,
        retries: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
      },
    });
    opened.push(f);
    return { ...f, bucket };
  }

  it('a crate the destination refuses is a job-note; the job still ends done and the dataset finalised', async () => {
    const f = await engine('proxy');
    proxy.setMode({ kind: 'pass' });
    const src = randomTree({ 'a.dat': 1000, 'b.dat': 2000 });
    const events: JobEvent[] = [];
    try {
      const summary = await f.engine.upload(f.profile, {
        sources: [src],
        dataset: 'no-crate',
        proposal: 'P4',
        onEvent: (e) => {
          events.push(e);
          // Every file is stored: from now on the destination refuses whatever names the crate.
          if (
            e.type === 'file-state' &&
            e.state === 'verified' &&
            events.filter((x) => x.type === 'file-state' && x.state === 'verified').length === 2
          )
            proxy.setMode({ kind: 'cut-matching', match: '-ro-crate-metadata.json' }, { dropExisting: false });
        },
      });
      expect(summary.job.state).toBe('done');
      expect(summary.counts).toEqual({ verified: 2 });
      const notes = events.flatMap((e) => (e.type === 'job-note' ? [e] : []));
      expect(notes.map((n) => n.kind)).toEqual(['crate-not-written', 'dataset-finalised']);
      expect(notes[0]!.message).toMatch(
        /the RO-Crate of dataset "no-crate" \(proposal P4\) was not written beside the data on "store"/,
      );
      expect(notes[0]!.message).toMatch(/a copy is kept at .*no-crate-ro-crate-metadata\.json/);
      expect(notes[0]!.message).toMatch(/Upload the same files into the dataset again/);
      expect(proxy.stats.cuts).toBeGreaterThan(0);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    expect(await listDataKeys(direct, f.bucket)).toEqual(['P4/no-crate/a.dat', 'P4/no-crate/b.dat']);
    expect(await listKeys(direct, f.bucket)).toEqual(['P4/no-crate/a.dat', 'P4/no-crate/b.dat']);
    expect(f.engine.services.catalogue.dataset({ name: 'no-crate', proposal: 'P4' })).toMatchObject({ status: 'complete' });

    // The same upload again once the destination takes it: nothing is sent twice, the crate is written.
    const again = await f.engine.upload(f.profile, { sources: [src], dataset: 'no-crate', proposal: 'P4' });
    expect(again.counts).toEqual({ skipped: 2 });
    expect(again.bytesSent).toBe(0);
    expect(await listKeys(direct, f.bucket)).toEqual([
      'P4/no-crate-ro-crate-metadata.json',
      'P4/no-crate/a.dat',
      'P4/no-crate/b.dat',
    ]);
  });

  it('a dry run whose destination goes down ends cancelled, said for a dry run, never paused', async () => {
    const f = await engine('proxy');
    const src = randomTree({ 'a.dat': 1000 });
    proxy.setMode({ kind: 'cut-matching', match: 'list-type=2' });
    const events: JobEvent[] = [];
    try {
      const dry = await f.engine.upload(f.profile, {
        sources: [src],
        dataset: 'dry-down',
        dryRun: true,
        onEvent: (e) => events.push(e),
      });
      expect(dry.job).toMatchObject({ kind: 'dry-run', state: 'cancelled' });
      expect(dry.job.reason).toMatch(/^dry run not finished: .*"store".* Run it again when the destination is back\./);
      expect(dry.job.reason).not.toMatch(/resume|same command/);
      expect(events.some((e) => e.type === 'job-paused')).toBe(false);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
  });

  it("--new-job releases the replaced job's partial multipart upload, so the new job's sweep aborts it", async () => {
    const f = await engine('direct');
    const src = randomTree({ 'big.raw': 20 * MiB });
    const req = { sources: [src], dataset: 'replaced' };
    const stop = new AbortController();
    let read = 0;
    const paused = await f.engine.upload(f.profile, {
      ...req,
      signal: stop.signal,
      onRead: (n) => {
        read += n;
        if (read > 7 * MiB) stop.abort();
      },
    });
    expect(paused.job.state).toBe('paused');
    const { journal } = f.engine.services;
    const [before] = await waitUntil('the partial upload listed', async () => {
      const u = await listUploads(direct, f.bucket);
      return u.length ? u : null;
    });
    expect(journal.openUploadIds()).toEqual(new Set([before!.uploadId]));

    const fresh = await f.engine.upload(f.profile, { ...req, newJob: true });
    expect(fresh.job.id).not.toBe(paused.job.id);
    expect(fresh.counts).toEqual({ verified: 1 });
    expect(journal.record(paused.job.id)).toMatchObject({ state: 'cancelled', reason: expect.stringMatching(/--new-job/) });
    // The replaced job resumes nothing: its upload is no longer spared, and the new job's sweep
    // of the dataset's folder aborted it when it started.
    expect(journal.openUploadIds()).toEqual(new Set());
    expect(await listUploads(direct, f.bucket)).toEqual([]);
    expect(journal.events(fresh.job.id)).toContainEqual(
      expect.objectContaining({ type: 'leftovers-removed', detail: expect.objectContaining({ phase: 'start', uploads: 1 }) }),
    );
    expect(await f.engine.cleanup(f.profile, { destination: 'store' }, 0)).toEqual({ destination: 'store', removed: 0 });
    expect(before!.key).toBe('replaced/big.raw');
    expect(await listDataKeys(direct, f.bucket)).toEqual(['replaced/big.raw']);
  });
});
