// Sync mode end to end, in both discovery modes (events and polling): a detector-imitating writer
// process fills a folder (slow multi-MiB files, files held open, NAME.tmp renamed at the end, a
// burst of hundreds, a marker rule, an HDF5 set whose master comes last) while Engine.watch sends
// them to a real MinIO. Checked: every stored object equals the final local file (nothing was sent
// early), nothing is missed, nothing is sent twice; a file changed after upload is stored as a
// new version beside the first; a local deletion is noted and never propagated; stopping
// finalises the dataset and leaves no watcher, worker or timer behind.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { syncSchema } from '../../src/shared/profile-sync-schema.js';
import type { SyncSession } from '../../src/main/engine/sync/sync-session.js';
import { harness, type Harness } from '../support/engine-harness.js';
import { startWriter, type Plan } from '../support/detector-writer.js';
import { minioClient } from '../support/minio.js';
import { listKeys, sha256Object, waitUntil } from '../fault/helpers.js';

const MiB = 1024 * 1024;

/** Events, verified times and the upload count per file of one watch. */
function recorder() {
  const events: JobEvent[] = [];
  const verifiedAt = new Map<string, number>();
  return {
    events,
    verifiedAt,
    onEvent: (e: JobEvent) => {
      events.push(e);
      if (e.type === 'file-state' && e.state === 'verified') verifiedAt.set(e.relpath, Date.now());
    },
  };
}

const resources = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe.each(['watch', 'poll'] as const)('sync mode (%s)', (mode) => {
  let h: Harness;
  let s3: S3Client;
  beforeAll(async () => {
    h = await harness();
    s3 = minioClient(inject('s3'));
  });
  afterAll(async () => {
    s3.destroy();
    await h.engine.close();
  });

  const profileWith = (sync: Record<string, unknown>) => ({
    ...h.profile,
    sync: syncSchema.parse({ quietPeriod: '2s', reconcileInterval: '2s', pollInterval: '300ms', stopGrace: '3s', mode, ...sync }),
  });

  it('uploads every file once it is complete, never earlier, none missed, none twice', async () => {
    const src = mkdtempSync(join(tmpdir(), `bd-sync-${mode}-`));
    const dataset = `detector-${mode}`;
    const profile = profileWith({ markers: [{ match: '(.*)\\.h5', marker: '$1.done' }], techniques: {}, folders: [] });
    // The HDF5 set is in its own folder, where the master-file rule replaces the .done rule.
    profile.sync.folders.push({ path: join(src, 'eiger'), markers: [{ match: '(.*)_data_\\d+\\.h5', marker: '$1_master.h5' }] });
    const rec = recorder();
    const finish = new AbortController();
    let session: SyncSession | null = null;
    let finished: JobSummary | null = null;
    const watching = h.engine.watch(profile, {
      folders: [src],
      dataset,
      proposal: 'P1',
      destination: 's3',
      signal: finish.signal,
      onEvent: rec.onEvent,
      onSession: (s) => {
        session = s;
      },
      onDatasetFinished: (s) => {
        finished = s;
      },
    });
    await waitUntil('the first scan', () => rec.events.some((e) => e.type === 'scan-done'), 30_000);

    const plan: Plan = {
      out: src,
      steps: [
        // Chunk pauses (100 ms) stay well under the 2 s quiet period; every 3rd file is held open
        // 1.5 s after its last byte, every 4th is written as NAME.tmp and renamed at the end.
        {
          kind: 'stream',
          dir: 'run1',
          prefix: 'img',
          count: 8,
          size: 5 * MiB + 123,
          chunk: MiB / 2,
          chunkPauseMs: 100,
          everyMs: 150,
          holdEvery: 3,
          holdOpenMs: 1500,
          tmpEvery: 4,
        },
        { kind: 'burst', dir: 'burst', prefix: 'frame', count: 300, size: 4096 },
        { kind: 'marker', dir: 'run2', name: 'scan.h5', size: 2 * MiB, chunk: MiB, chunkPauseMs: 50, markerDelayMs: 2500 },
        { kind: 'h5set', dir: 'eiger', prefix: 'series1', dataFiles: 3, size: MiB, masterDelayMs: 2500 },
      ],
    };
    const writer = startWriter(plan);
    await writer.done;
    const written = new Map(writer.files.map((f) => [f.relpath, f]));
    written.set('run2/scan.done', {
      event: 'closed',
      relpath: 'run2/scan.done',
      at: 0,
      size: 0,
      sha256: createHash('sha256').digest('hex'),
    });
    expect(written.size).toBe(8 + 300 + 1 + 1 + 4);

    await waitUntil('every written file verified', () => [...written.keys()].every((r) => rec.verifiedAt.has(r)), 90_000, 100);
    const s = session!.status();
    expect(s.waiting.files + s.backlog.files).toBe(0);

    // Markers were respected: the data files were stored only after their marker appeared.
    for (const m of writer.markers) {
      const guarded =
        m.relpath === 'run2/scan.done'
          ? ['run2/scan.h5']
          : ['eiger/series1_data_000001.h5', 'eiger/series1_data_000002.h5', 'eiger/series1_data_000003.h5'];
      for (const g of guarded) expect(rec.verifiedAt.get(g)!, `${g} after ${m.relpath}`).toBeGreaterThanOrEqual(m.at);
    }

    // Changed after upload: stored again as a new version beside the first.
    const changedPath = join(src, 'burst', 'frame_00007.cbf');
    const newContent = randomBytes(6000);
    writeFileSync(changedPath, newContent);
    // Deleted locally: noted, kept at the destination.
    unlinkSync(join(src, 'burst', 'frame_00008.cbf'));
    await waitUntil('the new version verified', () => rec.verifiedAt.has('burst/frame_00007.v2.cbf'), 60_000, 100);
    await waitUntil(
      'the deletion noted',
      () =>
        rec.events.some((e) => e.type === 'sync-note' && e.kind === 'deleted-locally' && e.relpath === 'burst/frame_00008.cbf'),
      60_000,
      100,
    );
    expect(rec.events).toContainEqual(
      expect.objectContaining({ type: 'sync-note', kind: 'changed-after-upload', relpath: 'burst/frame_00007.cbf' }),
    );

    finish.abort();
    const result = await watching;
    expect(result.summary.job.state).toBe('done');
    expect(result.summary.failures).toEqual([]);
    expect(finished).not.toBeNull();
    expect(result.status).toMatchObject({ waiting: { files: 0 }, backlog: { files: 0 }, versions: 1, deletedLocally: 1 });

    // The destination holds exactly the final files (plus the one new version), byte for byte.
    const keys = await listKeys(s3, h.bucket, `P1/${dataset}/`);
    const expected = [...written.keys(), 'burst/frame_00007.v2.cbf'].map((r) => `P1/${dataset}/${r}`).sort();
    expect(keys).toEqual(expected);
    for (const [relpath, f] of written) {
      expect(await sha256Object(s3, h.bucket, `P1/${dataset}/${relpath}`), relpath).toEqual({ sha256: f.sha256, size: f.size });
    }
    expect(await sha256Object(s3, h.bucket, `P1/${dataset}/burst/frame_00007.v2.cbf`)).toEqual({
      sha256: createHash('sha256').update(newContent).digest('hex'),
      size: 6000,
    });
    expect(keys.some((k) => k.endsWith('.tmp'))).toBe(false);

    // None sent twice: at most one completed upload per file row.
    const uploads = new Map<number | null, number>();
    for (const e of h.engine.services.journal.events(result.summary.job.id, 1_000_000))
      if (e.type === 'upload-result') uploads.set(e.fileId, (uploads.get(e.fileId) ?? 0) + 1);
    expect([...uploads].filter(([, n]) => n > 1)).toEqual([]);
    // Both versions are in the catalogue.
    const catalogued = h.engine.services.catalogue.files(dataset).map((f) => f.relpath);
    expect(catalogued).toEqual(expect.arrayContaining(['burst/frame_00007.cbf', 'burst/frame_00007.v2.cbf']));
    rmSync(src, { recursive: true, force: true });
  }, 180_000);

  it(`finds files in folders created during the watch without waiting for a rescan (${mode === 'watch' ? 'by events' : 'by polling'})`, async () => {
    const src = mkdtempSync(join(tmpdir(), 'bd-sync-events-'));
    // Folder checks and rescans once an hour: only events (watch mode) or the poll (poll mode,
    // every 300 ms) can find these files in time.
    const profile = profileWith({ reconcileInterval: '1h', rescanInterval: '1h' });
    const rec = recorder();
    const finish = new AbortController();
    const watching = h.engine.watch(profile, {
      folders: [src],
      dataset: `new-folders-${mode}`,
      destination: 's3',
      signal: finish.signal,
      onEvent: rec.onEvent,
    });
    await waitUntil('the first scan', () => rec.events.some((e) => e.type === 'scan-done'), 30_000);
    const writer = startWriter({
      out: src,
      steps: [
        {
          kind: 'stream',
          dir: 'new/run1',
          prefix: 'img',
          count: 30,
          size: 256 * 1024,
          chunk: 64 * 1024,
          chunkPauseMs: 20,
          everyMs: 100,
        },
        {
          kind: 'stream',
          dir: 'new/run2',
          prefix: 'img',
          count: 10,
          size: 64 * 1024,
          chunk: 64 * 1024,
          chunkPauseMs: 0,
          everyMs: 50,
        },
      ],
    });
    await writer.done;
    await waitUntil(`every file verified (${mode})`, () => writer.files.every((f) => rec.verifiedAt.has(f.relpath)), 60_000, 100);
    finish.abort();
    expect((await watching).summary.counts).toEqual({ verified: 40 });
    rmSync(src, { recursive: true, force: true });
  }, 120_000);

  it('only flags a file changed after upload when the profile says so, and reports files never complete at stop', async () => {
    const src = mkdtempSync(join(tmpdir(), `bd-sync-flag-${mode}-`));
    writeFileSync(join(src, 'a.cbf'), 'first');
    const profile = profileWith({ onChange: 'flag', markers: [{ match: '(.*)\\.h5', marker: '$1.done' }] });
    const rec = recorder();
    // The engine's hash workers run already (first test): what starts now must be gone at the end.
    const before = { fsWatch: resources('FSEventWrap'), ports: resources('MessagePort'), timers: resources('Timeout') };
    const finish = new AbortController();
    const watching = h.engine.watch(profile, {
      folders: [src],
      dataset: `flag-${mode}`,
      destination: 's3',
      signal: finish.signal,
      onEvent: rec.onEvent,
    });
    await waitUntil('a.cbf verified', () => rec.verifiedAt.has('a.cbf'), 30_000, 50);
    // While it runs: the folder-reader thread, and in watch mode the folder watch.
    expect(resources('MessagePort')).toBeGreaterThan(before.ports);
    if (mode === 'watch') await waitUntil('the folder watch', () => resources('FSEventWrap') > before.fsWatch, 10_000);
    writeFileSync(join(src, 'a.cbf'), 'second, longer');
    writeFileSync(join(src, 'orphan.h5'), 'its marker never comes');
    await waitUntil(
      'a.cbf flagged',
      () => rec.events.some((e) => e.type === 'sync-note' && e.kind === 'changed-after-upload'),
      30_000,
      50,
    );
    finish.abort();
    const { summary } = await watching;
    expect(summary.counts).toEqual({ changed: 1, failed: 1 });
    expect(summary.failures).toEqual(
      expect.arrayContaining([
        {
          relpath: 'a.cbf',
          error: expect.objectContaining({
            code: 'conflict',
            message: expect.stringMatching(/changed after it was uploaded .* stored copy was kept/),
          }),
        },
        {
          relpath: 'orphan.h5',
          error: expect.objectContaining({
            code: 'not-found',
            message: expect.stringMatching(/waiting for its marker .*orphan\.done/),
          }),
        },
      ]),
    );
    expect(await listKeys(s3, h.bucket, `flag-${mode}/`)).toEqual([`flag-${mode}/a.cbf`]);
    expect(await sha256Object(s3, h.bucket, `flag-${mode}/a.cbf`)).toMatchObject({ size: 5 });
    // dispose: no folder watch, no folder-reader thread, no timer of the session is left behind.
    await waitUntil(
      'handles released',
      () =>
        resources('FSEventWrap') <= before.fsWatch &&
        resources('MessagePort') <= before.ports &&
        resources('Timeout') <= before.timers,
      10_000,
    );
    rmSync(src, { recursive: true, force: true });
  }, 120_000);
});
