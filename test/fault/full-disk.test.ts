// The destination runs out of space, for real: MinIO with its drive on a small tmpfs and Apache
// mod_dav serving a small tmpfs, each filled with a filler file until only a few MiB are free.
// The job pauses with a reason naming the destination and "out of space", probes it with one
// small file and a backoff, marks no file failed, and goes on by itself once the filler is
// deleted (batch and sync); a batch job that waits longer than upload.outOfSpace.waitMs ends
// paused and a resume finishes it. Every file is then read back and re-hashed; nothing partial
// (multipart upload, temporary name) is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { EXIT } from '../../src/main/cli/exit-codes.js';
import { Engine } from '../../src/main/engine/engine.js';
import { summarise } from '../../src/main/engine/jobs/job-runner.js';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import type { SyncSession } from '../../src/main/engine/sync/sync-session.js';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { syncSchema } from '../../src/shared/profile-sync-schema.js';
import { startApacheDav, type DavServer } from '../support/apache-dav.js';
import { createBucket, minioClient, startMinio, type MinioServer } from '../support/minio.js';
import {
  listKeys,
  listUploads,
  MiB,
  randomTree,
  removeTemps,
  s3Engine,
  sha256File,
  sha256Object,
  tempDir,
  waitUntil,
  writeRandomFile,
  type FaultEngine,
} from './helpers.js';
import { jsonEvents, startCli } from './cli-process.js';
import { mountSmallDisk, type SmallDisk } from './small-disk.js';

/** Out-of-space timing for the tests: probes every 0.3–1.5 s instead of 10 s–5 min. */
const OUT_OF_SPACE = { baseDelayMs: 300, maxDelayMs: 1_500, waitMs: 120_000 };
const UPLOAD = {
  concurrency: 2,
  partConcurrency: 2,
  multipartThreshold: '8MiB',
  partSize: { min: '5MiB', max: '5MiB' },
  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
  outOfSpace: OUT_OF_SPACE,
};

/** What a full-destination run saw: the pause, the probes, the journal while paused, no failure. */
function watcher(f: FaultEngine, onProbe: (probesSincePause: number) => void) {
  const seen = {
    paused: [] as string[],
    stateWhilePaused: null as { state: string; reason: string | null } | null,
    probes: 0,
    back: [] as string[],
    failed: [] as string[],
    outOfSpaceErrors: new Set<string>(),
  };
  const onEvent = (e: JobEvent) => {
    f.events.push(e);
    if (e.type === 'job-paused') {
      seen.paused.push(e.reason);
      const job = f.engine.services.journal.job(e.jobId)!;
      seen.stateWhilePaused ??= { state: job.state, reason: job.reason };
    }
    if (e.type === 'retry' && e.error.code === 'disk-full') {
      seen.outOfSpaceErrors.add(e.error.message);
      if (seen.paused.length) onProbe(++seen.probes);
    }
    if (e.type === 'job-note' && e.kind === 'destination-back') seen.back.push(e.message);
    if (e.type === 'file-state' && e.state === 'failed') seen.failed.push(`${e.relpath}: ${e.error?.message}`);
  };
  return { seen, onEvent };
}

/** Every data file of the job, as the journal has it (key, local path). */
function storedFiles(f: FaultEngine, jobId: number): { relpath: string; path: string; key: string; state: string }[] {
  return f.engine.services.journal
    .files(jobId)
    .map((x) => ({ relpath: x.relpath, path: x.path, key: x.remoteKey ?? '', state: x.state }));
}

describe('destination out of space (S3: MinIO on a small tmpfs)', () => {
  let disk: SmallDisk;
  /** Holds the mount point and MinIO's log. */
  let base: string;
  let server: MinioServer;
  let direct: S3Client;
  const opened: FaultEngine[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'bd-full-minio-'));
    disk = mountSmallDisk(256 * MiB, join(base, 'data'));
    // MinIO's log goes beside the drive (in base), not onto the small disk.
    server = await startMinio({ dataDir: disk.path });
    direct = minioClient(server);
  });
  afterAll(async () => {
    for (const f of opened) await f.engine.close();
    direct?.destroy();
    await server?.destroy();
    disk?.release();
    disk?.unmount();
    if (base) rmSync(base, { recursive: true, force: true });
    await removeTemps();
  });

  const engineFor = async (upload: Record<string, unknown>) => {
    const bucket = await createBucket(server);
    const f = s3Engine({
      name: 'full-s3',
      endpoint: server.endpoint,
      bucket,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: server.region,
      upload,
    });
    opened.push(f);
    return { f, bucket };
  };

  const expectAllStored = async (f: FaultEngine, bucket: string, summary: JobSummary, count: number) => {
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: count });
    const files = storedFiles(f, summary.job.id);
    expect(files).toHaveLength(count);
    for (const x of files) {
      expect(x.state, x.relpath).toBe('verified');
      expect(await sha256Object(direct, bucket, x.key), x.relpath).toEqual(await sha256File(x.path));
    }
    // Nothing else at the destination: the data, its RO-Crate, no multipart upload left.
    const keys = await listKeys(direct, bucket);
    expect(keys.filter((k) => !k.endsWith(CRATE_SUFFIX))).toEqual(files.map((x) => x.key).sort());
    expect(keys.filter((k) => k.endsWith(CRATE_SUFFIX))).toHaveLength(1);
    expect(await listUploads(direct, bucket)).toEqual([]);
  };

  it('a batch upload pauses with the reason, probes, fails no file, and goes on by itself when space is back', async () => {
    const { f, bucket } = await engineFor(UPLOAD);
    const files: Record<string, number> = {
      'a/small-1.dat': 1 * MiB,
      'a/scan-1.raw': 6 * MiB,
      'a/scan-2.raw': 6 * MiB + 17,
      'b/multi.raw': 16 * MiB + 3,
      'b/scan-3.raw': 5 * MiB,
      'c/scan-4.raw': 6 * MiB,
    };
    const src = randomTree(files);
    disk.fill(4 * MiB);
    let whileFull: Promise<{ uploads: string[]; journaled: string[] }> | null = null;
    const w = watcher(f, (probes) => {
      if (probes !== 2 || whileFull) return;
      // Two probes found it still full. Nothing is in flight: every multipart upload on the server
      // is one the journal holds (and resumes); then the admins free space.
      whileFull = (async () => {
        const uploads = (await listUploads(direct, bucket)).map((u) => u.uploadId).sort();
        const journaled = [...f.engine.services.journal.openUploadIds()].sort();
        disk.release();
        return { uploads, journaled };
      })();
    });
    const summary = await f.engine.upload(f.profile, { sources: [src], dataset: 'full-batch', onEvent: w.onEvent });
    expect(whileFull).not.toBeNull();
    const held = await whileFull!;
    for (const id of held.uploads) expect(held.journaled, `multipart upload ${id} while full`).toContain(id);
    console.log(
      `[full-disk s3] MinIO answered: ${[...w.seen.outOfSpaceErrors].join(' | ')}; ${w.seen.probes} probe(s); back: ${w.seen.back.join(' ')}`,
    );
    expect(w.seen.failed).toEqual([]);
    expect(w.seen.paused.length).toBeGreaterThanOrEqual(1);
    expect(w.seen.paused[0]).toMatch(/out of space/);
    expect(w.seen.paused[0]).toContain('"full-s3"');
    expect(w.seen.paused[0]).toMatch(/goes on by itself/);
    expect(w.seen.stateWhilePaused).toEqual({ state: 'paused', reason: w.seen.paused[0] });
    expect(w.seen.probes).toBeGreaterThanOrEqual(2);
    expect(w.seen.back).toHaveLength(w.seen.paused.length);
    await expectAllStored(f, bucket, summary, Object.keys(files).length);
  });

  it('the drive fills while files are being written (MinIO answers mid-write): paused, no file failed, all stored after', async () => {
    const { f, bucket } = await engineFor({ ...UPLOAD, bandwidth: '24M' });
    const files: Record<string, number> = {};
    for (let i = 0; i < 8; i++) files[`run/img-${i}.raw`] = 4 * MiB + i;
    files['run/multi.raw'] = 14 * MiB;
    const src = randomTree(files);
    let filled = false;
    const w = watcher(f, (probes) => {
      if (probes === 2) disk.release();
    });
    const summary = await f.engine.upload(f.profile, {
      sources: [src],
      dataset: 'full-mid-write',
      onEvent: (e) => {
        // The first file is stored, others are being written: the drive fills now.
        if (!filled && e.type === 'file-state' && e.state === 'verified') {
          filled = true;
          disk.fill(MiB);
        }
        w.onEvent(e);
      },
    });
    console.log(`[full-disk s3, mid-write] MinIO answered: ${[...w.seen.outOfSpaceErrors].join(' | ')}`);
    expect(filled).toBe(true);
    expect(w.seen.failed).toEqual([]);
    expect(w.seen.paused[0]).toMatch(/out of space/);
    expect(w.seen.probes).toBeGreaterThanOrEqual(2);
    await expectAllStored(f, bucket, summary, Object.keys(files).length);
  });

  it('`beamdrop upload` that waits longer than outOfSpace.waitMs exits paused (3), no file failed; `beamdrop resume` finishes it', async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    // The engine is only read from once the commands have ended (the same data folder).
    const { f, bucket } = await engineFor(UPLOAD);
    const profile = join(f.home, 'profile.yaml');
    writeFileSync(
      profile,
      [
        'facility: TESTFAC',
        'destinations:',
        `  full-s3: { kind: s3, endpoint: "${server.endpoint}", region: ${server.region}, bucket: ${bucket}, credentials: { accessKeyId: ${server.accessKeyId} } }`,
        'defaultDestination: full-s3',
        'upload:',
        '  concurrency: 2',
        '  multipartThreshold: 8MiB',
        '  partSize: { min: 5MiB, max: 5MiB }',
        '  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }',
        '  outOfSpace: { baseDelayMs: 300, maxDelayMs: 1500, waitMs: 1500 }',
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: f.home,
      [envName('full-s3', 'SECRET_ACCESS_KEY')]: server.secretAccessKey,
    };
    delete env.BEAMDROP_PROFILE;
    const files: Record<string, number> = { 'x/one.raw': 5 * MiB, 'x/two.raw': 5 * MiB + 1, 'x/big.raw': 12 * MiB };
    const src = randomTree(files);
    disk.fill(2 * MiB);
    const first = await startCli(['upload', src, '--dataset', 'full-gives-up', '--profile', profile, '--json'], env).done;
    const events = jsonEvents(first.stdout);
    expect(first.code, first.stderr).toBe(EXIT.paused);
    expect(first.stderr).not.toMatch(/unexpected error|\n\s+at /);
    const paused = events.filter((e) => e.type === 'job-paused').map((e) => (e as { reason: string }).reason);
    // First "waiting for space" (while it probes), then the final pause with what to do.
    expect(paused).toHaveLength(2);
    expect(paused[0]).toMatch(/^waiting for space: destination "full-s3" is out of space/);
    expect(paused[1]).toMatch(/out of space/);
    expect(paused[1]).toMatch(/beamdrop resume \d+/);
    expect(events.filter((e) => e.type === 'retry' && e.error.code === 'disk-full').length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.type === 'file-state' && e.state === 'failed')).toEqual([]);
    const finished = events.find((e) => e.type === 'job-finished') as Extract<JobEvent, { type: 'job-finished' }>;
    expect(finished.summary.job.state).toBe('paused');
    expect(finished.summary.failures).toEqual([]);

    disk.release();
    const jobId = finished.summary.job.id;
    const second = await startCli(['resume', String(jobId), '--json'], env).done;
    expect(second.code, second.stderr).toBe(EXIT.ok);
    expect(jsonEvents(second.stdout).filter((e) => e.type === 'file-state' && e.state === 'failed')).toEqual([]);
    await expectAllStored(f, bucket, summarise(f.engine.services.journal, jobId, 0, 0), Object.keys(files).length);
  });

  it('a sync session holds the transfers back while full, fails no file, and sends them all once space is back', async () => {
    const { f, bucket } = await engineFor(UPLOAD);
    const src = tempDir('bd-full-sync-');
    const profile = {
      ...f.profile,
      sync: syncSchema.parse({
        quietPeriod: '300ms',
        reconcileInterval: '1s',
        pollInterval: '300ms',
        stopGrace: '3s',
        mode: 'poll',
      }),
    };
    disk.fill(3 * MiB);
    const finish = new AbortController();
    let session: SyncSession | null = null;
    const notes: string[] = [];
    const failed: string[] = [];
    const verified = new Set<string>();
    const watching = f.engine.watch(profile, {
      folders: [src],
      dataset: 'full-sync',
      signal: finish.signal,
      onEvent: (e) => {
        if (e.type === 'sync-note' && e.kind === 'destination-down') notes.push(e.message);
        if (e.type === 'file-state' && e.state === 'failed') failed.push(e.relpath);
        if (e.type === 'file-state' && e.state === 'verified') verified.add(e.relpath);
      },
      onSession: (s) => {
        session = s;
      },
    });
    await waitUntil('the watch running', () => session, 30_000);
    const names = ['run/img-1.raw', 'run/img-2.raw', 'run/img-3.raw', 'run/img-4.raw'];
    for (const n of names) writeRandomFile(join(src, n), 4 * MiB + names.indexOf(n));
    const down = await waitUntil('the out-of-space note', () => notes.find((n) => /out of space/.test(n)), 60_000);
    expect(down).toContain('"full-s3"');
    expect(down).toMatch(/No file is marked failed/);
    await waitUntil('the status saying so', () => /out of space/.test(session!.status().destinationDown ?? ''), 10_000);
    const held = session!.status();
    expect(held.failed).toBe(0);
    expect(held.backlog.files + held.done.files).toBe(names.length);

    disk.release();
    await waitUntil('every file verified', () => names.every((n) => verified.has(n)), 60_000, 100);
    expect(session!.status().destinationDown).toBeNull();
    finish.abort();
    const result = await watching;
    expect(failed).toEqual([]);
    expect(result.summary.failures).toEqual([]);
    expect(result.summary.job.state).toBe('done');
    expect(result.summary.counts).toEqual({ verified: names.length });
    for (const x of storedFiles(f, result.summary.job.id))
      expect(await sha256Object(direct, bucket, x.key), x.relpath).toEqual(await sha256File(x.path));
    expect(await listUploads(direct, bucket)).toEqual([]);
  });
});

describe('destination out of space (WebDAV: Apache mod_dav on a small tmpfs)', () => {
  let disk: SmallDisk;
  let dav: DavServer;
  let engine: Engine | null = null;

  beforeAll(async () => {
    disk = mountSmallDisk(48 * MiB);
    dav = await startApacheDav({ root: disk.path });
  });
  afterAll(async () => {
    await engine?.close();
    await dav?.destroy();
    disk?.release();
    disk?.unmount();
    await removeTemps();
  });

  /** Every file under the DAV root on disk, except mod_dav_fs's .DAV property folders and the fillers. */
  const onDisk = (dir: string, prefix = ''): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (e.name === '.DAV' || e.name.startsWith('.filler-')) return [];
      return e.isDirectory() ? onDisk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`];
    });

  it('a batch upload pauses on HTTP 507, fails no file, leaves no temporary file, and goes on when space is back', async () => {
    const home = tempDir('bd-full-dav-home-');
    const profile = profileSchema.parse({
      facility: 'TESTFAC',
      destinations: { 'full-dav': { kind: 'webdav', url: dav.url, credentials: { username: dav.username } } },
      defaultDestination: 'full-dav',
      upload: UPLOAD,
    });
    engine = Engine.open({ home, env: { ...process.env, [envName('full-dav', 'PASSWORD')]: dav.password } });
    const f: FaultEngine = { home, engine, profile, events: [] };
    const files: Record<string, number> = {
      'a/one.raw': 3 * MiB,
      'a/two.raw': 5 * MiB + 1,
      'b/three.raw': 6 * MiB,
      'b/four.raw': 4 * MiB + 7,
      'c/five.raw': 5 * MiB,
    };
    const src = randomTree(files);
    disk.fill(4 * MiB);
    let leftWhileFull: string[] | null = null;
    const w = watcher(f, (probes) => {
      if (probes !== 2) return;
      // While it waits, nothing partial stays on the server: only the files that fitted.
      leftWhileFull = onDisk(disk.path);
      disk.release();
    });
    const summary = await engine.upload(profile, { sources: [src], dataset: 'full-dav', onEvent: w.onEvent });
    console.log(`[full-disk webdav] Apache answered: ${[...w.seen.outOfSpaceErrors].join(' | ')}; ${w.seen.probes} probe(s)`);
    expect(w.seen.failed).toEqual([]);
    expect(w.seen.paused[0]).toMatch(/out of space/);
    expect(w.seen.paused[0]).toContain('"full-dav"');
    expect(w.seen.paused[0]).toContain('507');
    expect(w.seen.stateWhilePaused).toEqual({ state: 'paused', reason: w.seen.paused[0] });
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: Object.keys(files).length });

    const stored = storedFiles(f, summary.job.id);
    const keys = stored.map((x) => x.key).sort();
    expect(leftWhileFull).not.toBeNull();
    for (const k of leftWhileFull!) expect(keys, `${k} on the server while it was full`).toContain(k);
    for (const x of stored) expect(await sha256File(join(disk.path, x.key)), x.relpath).toEqual(await sha256File(x.path));
    // The data and its RO-Crate, nothing else: no temporary upload name left behind.
    const all = onDisk(disk.path);
    expect(all.filter((k) => !k.endsWith(CRATE_SUFFIX)).sort()).toEqual(keys);
    expect(all.filter((k) => k.endsWith(CRATE_SUFFIX))).toHaveLength(1);
  });
});
