// No orphan, ever (issue 10, part 2). Real `beamdrop upload` processes are killed with SIGKILL at
// the windows where an interrupted upload leaves something behind, found by watching the real
// servers: between CreateMultipartUpload and journaling its id (the answer held by a proxy, so the
// upload exists and the process cannot know it), as soon as MinIO lists the upload (several
// times), with a temporary file on Apache's disk between PUT and MOVE or mid-PUT, and mid-write
// on a filesystem destination. After the rerun: every file stored and read back with its SHA-256,
// no unfinished multipart upload (listed bucket-wide and key by key, as MinIO lists only by exact
// key), no temporary file on disk, the journal's multipart rows and intents empty, the job done
// with 0 failed. A cancelled job's upload is aborted by the next job of its dataset, `beamdrop
// cleanup` still spares a paused job's upload, and a sweep spares what another unfinished job resumes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FileRecord, JobEvent } from '../../src/shared/model.js';
import { sweepLeftovers } from '../../src/main/engine/jobs/leftovers.js';
import { createBucket, minioClient, startMinio } from '../support/minio.js';
import { harness } from '../support/engine-harness.js';
import { startHoldingProxy, type HoldingProxy } from './holding-proxy.js';
import {
  listUploads,
  MiB,
  removeTemps,
  sha256File,
  sha256Object,
  sha256Stream,
  tempDir,
  waitUntil,
  writeRandomFile,
} from './helpers.js';

const CLI = resolve('bin/beamdrop.js');
const TEMP_NAME = /^\.beamdrop-[0-9a-f]{12}\..*\.part$/s;
/** Apache mod_dav_fs writes a PUT body to its own hidden name first. */
const DAV_FS_TEMP = /^\.davfs\.tmp/;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Run>((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

const told = (r: Run) => `exit ${r.code ?? r.signal}\nstderr:\n${r.stderr}\nstdout tail:\n${r.stdout.slice(-3000)}`;

const jsonLines = (s: string): JobEvent[] =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobEvent);

/** A read-only look at the journal of a (possibly still running) CLI process. */
function journalRows<T>(home: string, sql: string, ...args: unknown[]): T[] {
  const file = join(home, 'journal.sqlite');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } catch (e) {
    // The table may not exist yet while the first process creates the journal.
    if (/no such table/.test((e as Error).message)) return [];
    throw e;
  } finally {
    db.close();
  }
}

function count(home: string, sql: string, ...args: unknown[]): number {
  const rows = journalRows<{ n: number }>(home, sql, ...args);
  return rows[0]?.n ?? 0;
}

/** Kills with SIGKILL once `cond` holds; fails at once if the process ended by itself first. */
async function killWhen(
  run: { child: ChildProcess; done: Promise<Run> },
  what: string,
  cond: () => boolean | Promise<boolean>,
  everyMs = 10,
): Promise<Run> {
  let ended: Run | null = null;
  void run.done.then((r) => (ended = r));
  await waitUntil(what, async () => ended !== null || (await cond()), 120_000, everyMs);
  const early = ended as Run | null;
  if (early) throw new Error(`the upload ended before ${what}: ${told(early)}`);
  run.child.kill('SIGKILL');
  const r = await run.done;
  expect(r.signal, told(r)).toBe('SIGKILL');
  return r;
}

/** Every file under `dir` (recursively) whose name is a temporary name of Beamdrop or of Apache. */
function tempFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && (TEMP_NAME.test(e.name) || DAV_FS_TEMP.test(e.name))) found.push(join(e.parentPath, e.name));
  }
  return found;
}

interface JobStatus {
  id: number;
  state: string;
  counts: Record<string, number>;
}

async function statusOf(env: NodeJS.ProcessEnv): Promise<{ jobs: JobStatus[]; files: (id: number) => Promise<FileRecord[]> }> {
  const r = await start(['status', '--json'], env).done;
  expect(r.code, told(r)).toBe(0);
  return {
    jobs: JSON.parse(r.stdout) as JobStatus[],
    files: async (id) => {
      const d = await start(['status', String(id), '--json'], env).done;
      expect(d.code, told(d)).toBe(0);
      return (JSON.parse(d.stdout) as { files: FileRecord[] }).files;
    },
  };
}

/** The journal holds no multipart state and no intent: nothing is resumed, nothing is left to find. */
function expectJournalClean(home: string): void {
  expect(count(home, 'SELECT COUNT(*) AS n FROM multipart_uploads')).toBe(0);
  expect(count(home, 'SELECT COUNT(*) AS n FROM multipart_parts')).toBe(0);
  expect(count(home, 'SELECT COUNT(*) AS n FROM multipart_intents')).toBe(0);
}

describe('no orphan, ever', () => {
  const s3 = inject('s3');
  const dav = inject('webdav');
  const upstream = new URL(s3.endpoint);
  let direct: S3Client;
  let proxy: HoldingProxy;

  beforeAll(async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npx tsc -p tsconfig.node.json` first (npm test builds)').toBe(true);
    direct = minioClient(s3);
    proxy = await startHoldingProxy({ host: upstream.hostname, port: Number(upstream.port) });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await proxy.close();
    direct.destroy();
    await removeTemps();
  });

  /** A data folder, a source tree and the upload command for one scenario. */
  function scenario(files: Record<string, number>, to: string, extraEnv: NodeJS.ProcessEnv = {}, bwlimit = '8M') {
    const base = tempDir('bd-orphans-');
    const home = join(base, 'home');
    const src = join(base, 'data');
    for (const [rel, size] of Object.entries(files)) writeRandomFile(join(src, ...rel.split('/')), size);
    const profile = join(base, 'profile.yaml');
    writeFileSync(
      profile,
      ['upload:', '  multipartThreshold: 8MiB', '  partConcurrency: 2', '  partSize:', '    min: 5MiB', '    max: 5MiB', ''].join(
        '\n',
      ),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: home,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      BEAMDROP_WEBDAV_USERNAME: dav.username,
      BEAMDROP_WEBDAV_PASSWORD: dav.password,
      ...extraEnv,
    };
    delete env.BEAMDROP_PROFILE;
    const args = ['upload', src, '--dataset', 'D', '--to', to, '--profile', profile, '--bwlimit', bwlimit, '--json'];
    return { base, home, src, env, args, files };
  }

  /** Runs the same command to the end and checks it finished with every file verified. */
  async function rerunToTheEnd(
    sc: ReturnType<typeof scenario>,
  ): Promise<{ events: JobEvent[]; files: FileRecord[]; job: JobStatus }> {
    const r = await start(sc.args, sc.env).done;
    expect(r.code, told(r)).toBe(0);
    const events = jsonLines(r.stdout);
    const st = await statusOf(sc.env);
    const job = st.jobs.find((j) => j.state === 'done')!;
    expect(job, JSON.stringify(st.jobs)).toBeDefined();
    expect(job.counts.failed ?? 0).toBe(0);
    expect(job.counts.verified).toBe(Object.keys(sc.files).length);
    const files = await st.files(job.id);
    expect(files.map((f) => f.state)).toEqual(Object.keys(sc.files).map(() => 'verified'));
    return { events, files, job };
  }

  /** Each file's object read back from MinIO hashes to the local file; no upload is left, listed either way. */
  async function expectS3Clean(bucket: string, sc: ReturnType<typeof scenario>, files: FileRecord[]): Promise<void> {
    for (const f of files) {
      expect(await sha256Object(direct, bucket, f.remoteKey!), f.relpath).toEqual(await sha256File(f.path));
      const at = await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: f.remoteKey! }));
      expect(at.Uploads ?? [], `uploads at ${f.remoteKey}`).toEqual([]);
    }
    expect(await listUploads(direct, bucket)).toEqual([]);
    expectJournalClean(sc.home);
  }

  const intentsAt = (home: string, key: string) =>
    count(home, 'SELECT COUNT(*) AS n FROM multipart_intents WHERE remote_key = ?', key);
  const journaledIds = (home: string) => journalRows<{ upload_id: string }>(home, 'SELECT upload_id FROM multipart_uploads');
  const uploadsAtKey = async (bucket: string, key: string) =>
    ((await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? []).filter(
      (u) => u.Key === key,
    );

  it('S3: killed between CreateMultipartUpload and journaling its id, the rerun finds the upload by key and continues it', async () => {
    const bucket = await createBucket(s3);
    const sc = scenario({ 'big.raw': 18 * MiB + 333, 'small.txt': 70_000 }, `s3+${proxy.url}/${bucket}`);
    const key = 'D/big.raw';
    proxy.setHold('answer', { method: 'POST', contains: '?uploads' });
    try {
      const first = start(sc.args, sc.env);
      // The server created the upload; the process never got its id, only its intent is journaled.
      await killWhen(first, 'an upload on MinIO whose id is not journaled', async () => {
        if (!proxy.holding || intentsAt(sc.home, key) !== 1) return false;
        return (await uploadsAtKey(bucket, key)).length === 1;
      });
    } finally {
      proxy.setHold('none');
    }
    const [created] = await uploadsAtKey(bucket, key);
    expect(journaledIds(sc.home)).toEqual([]);
    expect(journalRows(sc.home, 'SELECT remote_key, part_size FROM multipart_intents')).toEqual([
      { remote_key: key, part_size: 5 * MiB },
    ]);

    const creates = proxy.matched;
    const { files } = await rerunToTheEnd(sc);
    // The rerun adopted that very upload (found by key) instead of creating another: no Create
    // went through the proxy, and the upload is gone from the server because it was completed.
    expect(proxy.matched).toBe(creates);
    expect(created!.UploadId).toBeTruthy();
    await expectS3Clean(bucket, sc, files);
  }, 180_000);

  it('S3: killed after the intent but before Create reached the server, the rerun finds nothing and starts one upload', async () => {
    const bucket = await createBucket(s3);
    const sc = scenario({ 'big.raw': 12 * MiB + 5 }, `s3+${proxy.url}/${bucket}`);
    const key = 'D/big.raw';
    proxy.setHold('request', { method: 'POST', contains: '?uploads' });
    try {
      await killWhen(
        start(sc.args, sc.env),
        'a journaled intent whose Create is held',
        () => proxy.holding && intentsAt(sc.home, key) === 1,
      );
    } finally {
      proxy.setHold('none');
    }
    expect(await uploadsAtKey(bucket, key)).toEqual([]);
    const creates = proxy.matched;
    const { files } = await rerunToTheEnd(sc);
    expect(proxy.matched).toBe(creates + 1);
    await expectS3Clean(bucket, sc, files);
  }, 180_000);

  it('S3: killed as soon as MinIO lists a new upload, again and again, never more than one upload at a key, and none at the end', async () => {
    const bucket = await createBucket(s3);
    const big: Record<string, number> = {};
    for (let i = 1; i <= 4; i++) big[`big${i}.raw`] = 9 * MiB + i;
    const sc = scenario({ ...big, 'a.txt': 100_000, 'sub/b.txt': 3_000 }, `s3+${s3.endpoint}/${bucket}`);
    const keys = Object.keys(big).map((n) => `D/${n}`);
    const listed = async () => (await Promise.all(keys.map((k) => uploadsAtKey(bucket, k)))).flat();
    const ids = new Set<string>();
    const seen = { idJournaled: 0, idNotJournaled: 0 };
    // Each round is killed the moment MinIO lists an upload this run created (a fresh Create):
    // before or after its id reached the journal, whichever the race gives.
    for (let round = 1; round <= 3; round++) {
      let fresh: string | null = null;
      await killWhen(
        start(sc.args, sc.env),
        `round ${round}: a new upload listed`,
        async () => {
          fresh = (await listed()).map((u) => u.UploadId!).find((id) => !ids.has(id)) ?? null;
          return fresh !== null;
        },
        2,
      );
      ids.add(fresh!);
      if (journaledIds(sc.home).some((r) => r.upload_id === fresh)) seen.idJournaled++;
      else seen.idNotJournaled++;
      for (const k of keys)
        expect((await uploadsAtKey(bucket, k)).length, `round ${round}: uploads at ${k}`).toBeLessThanOrEqual(1);
      // Every upload on the server is one the journal names or intends.
      for (const u of await listed()) expect(intentsAt(sc.home, u.Key!), `round ${round}: intent at ${u.Key}`).toBe(1);
    }
    // Then once more after two parts were journaled.
    const parts = count(sc.home, 'SELECT COUNT(*) AS n FROM multipart_parts');
    await killWhen(
      start(sc.args, sc.env),
      'two more journaled parts',
      () => count(sc.home, 'SELECT COUNT(*) AS n FROM multipart_parts') >= parts + 2,
    );
    for (const k of keys) expect((await uploadsAtKey(bucket, k)).length, `uploads at ${k}`).toBeLessThanOrEqual(1);
    console.log(`[orphans] kills at a new upload: ${seen.idJournaled} with its id journaled, ${seen.idNotJournaled} before`);

    const { files, events } = await rerunToTheEnd(sc);
    const resumed = journalRows<{ detail: string }>(sc.home, "SELECT detail FROM events WHERE type = 'upload-result'")
      .map((r) => JSON.parse(r.detail) as { resumedParts: number })
      .reduce((n, r) => n + r.resumedParts, 0);
    // The parts sent before the kills were kept: uploads were continued, not started again.
    expect(resumed).toBeGreaterThanOrEqual(2);
    expect(events.find((e) => e.type === 'job-started')).toMatchObject({ resumed: true });
    await expectS3Clean(bucket, sc, files);
  }, 240_000);

  it("S3: `beamdrop cleanup` spares a paused job's upload; a cancelled job's upload is aborted by the dataset's next job", async () => {
    const bucket = await createBucket(s3);
    const sc = scenario({ 'big.raw': 16 * MiB + 1 }, `s3+${s3.endpoint}/${bucket}`);
    const key = 'D/big.raw';
    await killWhen(
      start(sc.args, sc.env),
      'a journaled part',
      () => count(sc.home, 'SELECT COUNT(*) AS n FROM multipart_parts') >= 1,
    );
    const [paused] = await uploadsAtKey(bucket, key);
    const cleaned = await start(['cleanup', '--to', `s3+${s3.endpoint}/${bucket}`, '--older-than', '0m'], sc.env).done;
    expect(cleaned.code, told(cleaned)).toBe(0);
    expect(cleaned.stdout).toMatch(/removed 0 leftover/);
    expect((await uploadsAtKey(bucket, key)).map((u) => u.UploadId)).toEqual([paused!.UploadId]);

    const [job] = (await statusOf(sc.env)).jobs;
    const cancelled = await start(['cancel', String(job!.id), '--yes'], sc.env).done;
    expect(cancelled.code, told(cancelled)).toBe(0);
    // Cancelled, the job resumes nothing; its intent stays so that the next sweep finds the upload.
    expect(journaledIds(sc.home)).toEqual([]);
    expect(intentsAt(sc.home, key)).toBe(1);

    const r = await start(sc.args, sc.env).done;
    expect(r.code, told(r)).toBe(0);
    const st = await statusOf(sc.env);
    expect(st.jobs.map((j) => j.state).sort()).toEqual(['cancelled', 'done']);
    const fresh = st.jobs.find((j) => j.state === 'done')!;
    expect(fresh.counts).toEqual({ verified: 1 });
    const removed = journalRows<{ detail: string }>(
      sc.home,
      "SELECT detail FROM events WHERE type = 'leftovers-removed' AND job_id = ?",
      fresh.id,
    );
    expect(removed.map((e) => JSON.parse(e.detail) as unknown)).toContainEqual(
      expect.objectContaining({ phase: 'start', uploads: 1, temporaries: 0 }),
    );
    await expectS3Clean(bucket, sc, await st.files(fresh.id));
  }, 180_000);

  it('S3 restarted: MinIO no longer lists the uploads bucket-wide, and `beamdrop cleanup` still finds them by the journal', async () => {
    const own = await startMinio();
    const client = minioClient(own);
    try {
      const bucket = await createBucket(own);
      const sc = scenario({ 'big1.raw': 16 * MiB + 1, 'big2.raw': 16 * MiB + 2 }, `s3+${own.endpoint}/${bucket}`, {
        AWS_ACCESS_KEY_ID: own.accessKeyId,
        AWS_SECRET_ACCESS_KEY: own.secretAccessKey,
      });
      await killWhen(
        start(sc.args, sc.env),
        'both uploads journaled',
        () => count(sc.home, 'SELECT COUNT(*) AS n FROM multipart_uploads') === 2,
      );
      const [job] = (await statusOf(sc.env)).jobs;
      const cancelled = await start(['cancel', String(job!.id), '--yes'], sc.env).done;
      expect(cancelled.code, told(cancelled)).toBe(0);
      await own.restart();
      const keys = ['D/big1.raw', 'D/big2.raw'];
      const byKey = async () => (await Promise.all(keys.map((k) => uploadsAtKeyOf(client, bucket, k)))).flat();
      expect(await listUploads(client, bucket)).toEqual([]);
      expect((await byKey()).length).toBe(2);

      const cleaned = await start(['cleanup', '--to', `s3+${own.endpoint}/${bucket}`, '--older-than', '0m'], sc.env).done;
      expect(cleaned.code, told(cleaned)).toBe(0);
      expect(cleaned.stdout).toMatch(/removed 2 leftover/);
      expect(await byKey()).toEqual([]);
    } finally {
      client.destroy();
      await own.destroy();
    }
  }, 180_000);

  it('the sweep spares the upload another unfinished job of the dataset resumes, and aborts the orphans at intended keys', async () => {
    const h = await harness();
    try {
      const { journal, clock, log } = h.engine.services;
      const client = minioClient(s3);
      const create = async (key: string) =>
        (await client.send(new CreateMultipartUploadCommand({ Bucket: h.bucket, Key: key }))).UploadId!;
      const options = {
        include: [],
        exclude: [],
        followSymlinks: false,
        keyTemplate: '{dataset}/{relpath}',
        vars: { dataset: 'd', date: '2026-12-02' },
        destinationConfig: h.profile.destinations.s3!,
        adhoc: false,
        policy: h.profile.upload,
      };
      const newJob = (state: 'paused' | 'cancelled' | 'finishing') => {
        const job = journal.createJob({
          kind: 'batch',
          dataset: 'd',
          proposal: null,
          visit: null,
          catalogue: 'local',
          destination: 's3',
          sources: ['/x'],
          metadata: {},
          options,
        });
        journal.setJobState(job.id, state);
        return job;
      };
      const fileOf = (jobId: number, relpath: string) => {
        journal.addScannedFiles(jobId, [{ path: `/x/${relpath}`, relpath, size: 1, mtimeMs: 1 }]);
        return journal.files(jobId).find((f) => f.relpath === relpath)!;
      };
      // Job A (paused) resumes d/a.raw; job C (cancelled) left d/c.raw, its id journaled, and
      // d/lost.raw, its id never journaled; job B is being finalised and left d/b.raw.
      const a = newJob('paused');
      const aUpload = await create('d/a.raw');
      const aStore = journal.multipartStore(fileOf(a.id, 'a.raw').id);
      aStore.intend({ key: 'd/a.raw', partSize: 5 * MiB });
      aStore.begin({ uploadId: aUpload, key: 'd/a.raw', partSize: 5 * MiB });
      const c = newJob('paused');
      const cFile = journal.multipartStore(fileOf(c.id, 'c.raw').id);
      cFile.intend({ key: 'd/c.raw', partSize: 5 * MiB });
      cFile.begin({ uploadId: await create('d/c.raw'), key: 'd/c.raw', partSize: 5 * MiB });
      journal.multipartStore(fileOf(c.id, 'lost.raw').id).intend({ key: 'd/lost.raw', partSize: 5 * MiB });
      await create('d/lost.raw');
      journal.batch(() => {
        journal.dropMultipartState(c.id);
        journal.setJobState(c.id, 'cancelled');
      });
      const b = newJob('finishing');
      const bFile = journal.multipartStore(fileOf(b.id, 'b.raw').id);
      bFile.intend({ key: 'd/b.raw', partSize: 5 * MiB });
      bFile.begin({ uploadId: await create('d/b.raw'), key: 'd/b.raw', partSize: 5 * MiB });
      // Another dataset's upload outside the prefix is never looked at.
      const other = await create('e/other.raw');

      const destination = await h.engine.openDestination(
        { name: 's3', config: h.profile.destinations.s3!, adhoc: false },
        h.profile.upload,
      );
      try {
        const result = await sweepLeftovers({ journal, clock, log }, journal.job(b.id)!, destination, 'end');
        expect(result).toEqual({ uploads: 3, temporaries: 0, remaining: [] });
      } finally {
        await destination.close();
      }
      const left = (await listUploads(client, h.bucket)).map((u) => [u.key, u.uploadId]).sort();
      expect(left).toEqual([
        ['d/a.raw', aUpload],
        ['e/other.raw', other],
      ]);
      for (const k of ['d/b.raw', 'd/c.raw', 'd/lost.raw']) expect(await uploadsAtKeyOf(client, h.bucket, k)).toEqual([]);
      // Only job A's state remains in the journal: its upload and its intent.
      expect(journal.openUploadIds()).toEqual(new Set([aUpload]));
      const db = journal.connectionForStores();
      expect(db.prepare('SELECT job_id, remote_key FROM multipart_intents ORDER BY remote_key').all()).toEqual([
        { job_id: a.id, remote_key: 'd/a.raw' },
      ]);
      expect(db.prepare('SELECT COUNT(*) AS n FROM multipart_uploads').get()).toEqual({ n: 1 });
      client.destroy();
    } finally {
      await h.engine.close();
    }
  });

  it('WebDAV: killed mid-PUT and between PUT and MOVE, the reruns leave no temporary file and every file stored', async () => {
    const sub = `orph-${Date.now().toString(36)}`;
    const auth = 'Basic ' + Buffer.from(`${dav.username}:${dav.password}`).toString('base64');
    // The dataset's folder made beforehand (by the server), so that its disk folder can be watched.
    for (const path of [sub, `${sub}/D`]) {
      const r = await fetch(`${dav.url}/${path}/`, { method: 'MKCOL', headers: { authorization: auth } });
      expect(r.status).toBe(201);
    }
    const folder = join(dav.root, sub, 'D');
    const files: Record<string, number> = { 'big.raw': 6 * MiB + 11 };
    for (let i = 0; i < 24; i++) files[`f${String(i).padStart(2, '0')}.dat`] = 200_000 + i;
    const sc = scenario(files, `webdav+${dav.url}/${sub}`, {}, '4M');

    // Mid-PUT: Apache writes the body to its own temporary name until the PUT is complete.
    await killWhen(start(sc.args, sc.env), 'a PUT in progress', () => readdirSync(folder).some((n) => DAV_FS_TEMP.test(n)), 2);

    // Between PUT and MOVE: the body is complete under our temporary name; the process is frozen
    // the moment the name appears (inotify), then killed. The MOVE may already have been sent, so
    // this is tried until a kill leaves the temporary file behind.
    let left = 0;
    for (let round = 1; round <= 8 && left === 0; round++) {
      const run = start(sc.args, sc.env);
      let watcher: FSWatcher | null = null;
      const frozen = new Promise<void>((res) => {
        watcher = watch(folder, (_event, name) => {
          if (name && TEMP_NAME.test(name) && run.child.signalCode === null) {
            run.child.kill('SIGSTOP');
            res();
          }
        });
      });
      let ended: Run | null = null;
      void run.done.then((r) => (ended = r));
      await Promise.race([frozen, run.done]);
      (watcher as FSWatcher | null)?.close();
      if (ended) break; // it finished every file before a temporary name was caught
      left = readdirSync(folder).filter((n) => TEMP_NAME.test(n)).length;
      run.child.kill('SIGKILL');
      await run.done;
    }
    expect(left, 'a kill between PUT and MOVE left a temporary file').toBeGreaterThan(0);

    // What a kill while the RO-Crate was sent beside the folder leaves, and a temporary name of
    // another dataset (D2) beside it, which is not this job's to remove.
    const crateTemp = `${sub}/.beamdrop-0123456789ab.D-ro-crate-metadata.json.part`;
    const otherTemp = `${sub}/D2/.beamdrop-ba9876543210.x.raw.part`;
    for (const [path, dir] of [
      [crateTemp, null],
      [otherTemp, `${sub}/D2`],
    ] as const) {
      if (dir)
        expect((await fetch(`${dav.url}/${dir}/`, { method: 'MKCOL', headers: { authorization: auth } })).status).toBe(201);
      expect(
        (await fetch(`${dav.url}/${path}`, { method: 'PUT', headers: { authorization: auth }, body: 'partial' })).status,
      ).toBe(201);
    }

    const { files: stored } = await rerunToTheEnd(sc);
    expect(existsSync(join(dav.root, ...crateTemp.split('/')))).toBe(false);
    expect(tempFilesUnder(join(dav.root, sub))).toEqual([join(dav.root, ...otherTemp.split('/'))]);
    for (const f of stored) {
      expect(await sha256File(join(folder, ...f.relpath.split('/'))), f.relpath).toEqual(await sha256File(f.path));
      const r = await fetch(`${dav.url}/${sub}/${f.remoteKey!}`, { headers: { authorization: auth } });
      expect(r.status).toBe(200);
      expect(await sha256Stream(r.body!)).toEqual(await sha256File(f.path));
    }
    const removed = journalRows<{ detail: string }>(sc.home, "SELECT detail FROM events WHERE type = 'leftovers-removed'");
    expect(removed.reduce((n, e) => n + (JSON.parse(e.detail) as { temporaries: number }).temporaries, 0)).toBeGreaterThanOrEqual(
      left,
    );
    expectJournalClean(sc.home);
  }, 240_000);

  it('filesystem: killed mid-write, the rerun removes the temporary file and stores every file', async () => {
    const archive = tempDir('bd-orphans-archive-');
    const sc = scenario({ 'big.raw': 8 * MiB + 3, 'nested/small.txt': 5_000 }, archive, {}, '2M');
    const folder = join(archive, 'D');
    await killWhen(start(sc.args, sc.env), 'a temporary file being written', () => tempFilesUnder(folder).length > 0, 5);
    const left = tempFilesUnder(folder);
    expect(left.length).toBeGreaterThan(0);
    // What a kill while the RO-Crate was written beside the folder leaves, and temporary files of
    // other datasets (D2, Dx) beside it, which are not this job's to remove.
    const crateTemp = join(archive, '.beamdrop-0123456789ab.D-ro-crate-metadata.json.part');
    const others = [
      join(archive, '.beamdrop-0123456789ab.Dx-ro-crate-metadata.json.part'),
      join(archive, 'D2', '.beamdrop-0123456789ab.y.part'),
    ];
    for (const t of [crateTemp, ...others]) {
      mkdirSync(dirname(t), { recursive: true });
      writeFileSync(t, 'partial');
    }

    const { files } = await rerunToTheEnd(sc);
    for (const f of files)
      expect(await sha256File(join(folder, ...f.relpath.split('/'))), f.relpath).toEqual(await sha256File(f.path));
    expect(tempFilesUnder(archive).sort()).toEqual([...others].sort());
    for (const t of left) expect(existsSync(t)).toBe(false);
    expectJournalClean(sc.home);
  }, 180_000);
});

async function uploadsAtKeyOf(client: S3Client, bucket: string, key: string) {
  return ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? []).filter(
    (u) => u.Key === key,
  );
}
