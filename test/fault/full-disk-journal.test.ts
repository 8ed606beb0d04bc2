// The local disk under Beamdrop's data folder fills up during a real `beamdrop upload`: the data
// folder (BEAMDROP_HOME: journal, local catalogue, logs) is a small tmpfs that the test fills to
// the last byte while files are being sent, so SQLite answers SQLITE_FULL. The process stops
// cleanly: exit code 5, a message naming the journal and what to do, no stack trace; the journal
// it leaves is consistent (every file it calls verified is stored with its SHA-256; none is
// failed). Once space is freed, the same command continues the same job to done: every file
// stored once and re-hashed equal, no multipart upload left.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import { EXIT } from '../../src/main/cli/exit-codes.js';
import { createBucket, minioClient } from '../support/minio.js';
import { listKeys, listUploads, MiB, randomTree, removeTemps, sha256File, sha256Object, tempDir, waitUntil } from './helpers.js';
import { startCli } from './cli-process.js';
import { mountSmallDisk, type SmallDisk } from './small-disk.js';

interface FileRow {
  relpath: string;
  path: string;
  remote_key: string | null;
  state: string;
  sha256: string | null;
}

/** The journal as another process reads it (read-only), or [] while it does not exist yet. */
function journalRows<T>(journal: string, sql: string): T[] {
  if (!existsSync(journal)) return [];
  const db = new Database(journal, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

describe('the disk under the journal fills up during an upload (SQLITE_FULL)', () => {
  let disk: SmallDisk;
  let direct: S3Client;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    disk = mountSmallDisk(24 * MiB);
    direct = minioClient(inject('s3'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    direct?.destroy();
    disk?.release();
    disk?.unmount();
    await removeTemps();
  });

  /** A bucket, a profile naming it, and the environment of a `beamdrop` whose data folder is the small disk. */
  async function setup(dataset: string, uploadLines: string[] = [], topLines: string[] = []) {
    const s3 = inject('s3');
    const bucket = await createBucket(s3);
    const profile = join(tempDir('bd-full-journal-'), 'profile.yaml');
    writeFileSync(
      profile,
      [
        'facility: TESTFAC',
        'destinations:',
        `  s3: { kind: s3, endpoint: "${s3.endpoint}", region: ${s3.region}, bucket: ${bucket}, credentials: { accessKeyId: ${s3.accessKeyId} } }`,
        'defaultDestination: s3',
        'upload:',
        '  concurrency: 4',
        '  multipartThreshold: 8MiB',
        '  partSize: { min: 5MiB, max: 5MiB }',
        '  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }',
        ...uploadLines,
        ...topLines,
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: disk.path,
      [envName('s3', 'SECRET_ACCESS_KEY')]: s3.secretAccessKey,
    };
    delete env.BEAMDROP_PROFILE;
    return { bucket, env, profile, args: (src: string) => ['upload', src, '--dataset', dataset, '--profile', profile] };
  }

  /** Every file of the dataset's job verified, stored once with its SHA-256, with its RO-Crate, no multipart upload left. */
  async function expectDone(journal: string, bucket: string, dataset: string, count: number) {
    const jobs = journalRows<{ id: number; state: string }>(journal, `SELECT id, state FROM jobs WHERE dataset = '${dataset}'`);
    expect(jobs).toEqual([{ id: jobs[0]!.id, state: 'done' }]);
    const all = journalRows<FileRow>(
      journal,
      `SELECT relpath, path, remote_key, state, sha256 FROM files WHERE job_id = ${jobs[0]!.id}`,
    );
    expect(all).toHaveLength(count);
    for (const f of all) {
      expect(f.state, f.relpath).toBe('verified');
      expect(await sha256Object(direct, bucket, f.remote_key!), f.relpath).toEqual(await sha256File(f.path));
    }
    const keys = await listKeys(direct, bucket);
    expect(keys.filter((k) => !k.endsWith(CRATE_SUFFIX))).toEqual(all.map((f) => f.remote_key!).sort());
    expect(keys.filter((k) => k.endsWith(CRATE_SUFFIX))).toHaveLength(1);
    expect(await listUploads(direct, bucket)).toEqual([]);
  }

  it('stops with exit code 5 and the journal named, loses nothing, and the same command then finishes the job', async () => {
    const { bucket, args: upload, env } = await setup('journal-full', ['  bandwidth: 4M']);
    const tree: Record<string, number> = { 'big/multi.raw': 9 * MiB + 5 };
    for (let i = 0; i < 300; i++) tree[`frames/f${String(i).padStart(4, '0')}.cbf`] = 8192 + i;
    const src = randomTree(tree);
    const journal = join(disk.path, 'journal.sqlite');
    const args = upload(src);

    const began = Date.now();
    const first = startCli(args, env);
    children.push(first.child);
    await Promise.race([
      waitUntil(
        'some files verified',
        () => journalRows<{ n: number }>(journal, "SELECT count(*) AS n FROM files WHERE state = 'verified'")[0]!.n >= 20,
        60_000,
      ),
      first.done.then((r) => {
        throw new Error(`the upload ended before the disk was filled: ${r.code} ${r.stderr}`);
      }),
    ]);
    console.log(`[full journal] 20 files verified after ${Date.now() - began} ms; filling the disk`);
    disk.fill(0);
    const r1 = await first.done;
    const verifiedAfterStop = journalRows<FileRow>(journal, 'SELECT relpath, path, remote_key, state, sha256 FROM files').filter(
      (f) => f.state === 'verified',
    );
    console.log(
      `[full journal] exit ${r1.code}; ${verifiedAfterStop.length} of ${Object.keys(tree).length} verified when it stopped; stderr: ${r1.stderr.trim()}`,
    );
    expect(r1.code, r1.stderr).toBe(EXIT.localDiskFull);
    expect(r1.stderr).toContain(journal);
    expect(r1.stderr).toMatch(/is full/);
    expect(r1.stderr).toMatch(/Free space/);
    expect(r1.stderr).not.toMatch(/unexpected error|\n\s+at |SqliteError/);

    // What the journal says after the stop holds: no file failed, every verified one is stored as hashed.
    const rows = journalRows<FileRow>(journal, 'SELECT relpath, path, remote_key, state, sha256 FROM files');
    expect(rows.filter((f) => f.state === 'failed')).toEqual([]);
    expect(verifiedAfterStop.length).toBeLessThan(Object.keys(tree).length);
    for (const f of verifiedAfterStop) {
      const local = await sha256File(f.path);
      expect(f.sha256, f.relpath).toBe(local.sha256);
      expect(await sha256Object(direct, bucket, f.remote_key!), f.relpath).toEqual(local);
    }

    // Space comes back: the same command continues the same job to the end.
    disk.release();
    const second = startCli(args, env);
    children.push(second.child);
    const rerunAt = Date.now();
    const r2 = await second.done;
    console.log(`[full journal] rerun: exit ${r2.code} in ${Date.now() - rerunAt} ms`);
    expect(r2.code, r2.stderr + r2.stdout.slice(-2000)).toBe(EXIT.ok);
    await expectDone(journal, bucket, 'journal-full', Object.keys(tree).length);
  }, 180_000);

  it('a disk already full when the command starts: exit 5, nothing recorded wrongly, then the same command does it all', async () => {
    const { bucket, args, env } = await setup('journal-full-at-start');
    const journal = join(disk.path, 'journal.sqlite');
    const tree: Record<string, number> = { 'a.raw': 3 * MiB, 'b/c.raw': 9 * MiB + 1 };
    for (let i = 0; i < 40; i++) tree[`frames/f${i}.cbf`] = 4096 + i;
    const src = randomTree(tree);
    disk.fill(0);
    const r1 = await startCli(args(src), env).done;
    expect(r1.code, r1.stderr).toBe(EXIT.localDiskFull);
    expect(r1.stderr).toContain(journal);
    expect(r1.stderr).not.toMatch(/unexpected error|\n\s+at |SqliteError/);
    // Whatever it got to record is consistent: no file failed, none verified that is not stored.
    const rows = journalRows<FileRow>(
      journal,
      "SELECT f.relpath, f.path, f.remote_key, f.state, f.sha256 FROM files f JOIN jobs j ON j.id = f.job_id WHERE j.dataset = 'journal-full-at-start'",
    );
    expect(rows.filter((f) => f.state === 'failed')).toEqual([]);
    for (const f of rows.filter((x) => x.state === 'verified'))
      expect(await sha256Object(direct, bucket, f.remote_key!), f.relpath).toEqual(await sha256File(f.path));

    disk.release();
    const r2 = await startCli(args(src), env).done;
    expect(r2.code, r2.stderr + r2.stdout.slice(-2000)).toBe(EXIT.ok);
    await expectDone(journal, bucket, 'journal-full-at-start', Object.keys(tree).length);
  }, 120_000);

  it('a watch (sync) stops with exit 5 when the journal cannot grow; `watch --resume` then sends the rest and finishes', async () => {
    const dataset = 'journal-full-watch';
    const { bucket, env, profile } = await setup(
      dataset,
      ['  bandwidth: 2M'],
      ['sync:', '  quietPeriod: 300ms', '  reconcileInterval: 1s', '  pollInterval: 300ms', '  stopGrace: 3s'],
    );
    const journal = join(disk.path, 'journal.sqlite');
    const tree: Record<string, number> = {};
    for (let i = 0; i < 200; i++) tree[`run/img${String(i).padStart(3, '0')}.cbf`] = 8192 + i;
    const src = randomTree(tree);
    const verified = () =>
      journalRows<{ n: number }>(
        journal,
        `SELECT count(*) AS n FROM files f JOIN jobs j ON j.id = f.job_id WHERE j.dataset = '${dataset}' AND f.state = 'verified'`,
      )[0]?.n ?? 0;
    const first = startCli(['watch', src, '--dataset', dataset, '--profile', profile, '--poll'], env);
    children.push(first.child);
    await Promise.race([
      waitUntil('some files verified', () => verified() >= 10, 60_000),
      first.done.then((r) => {
        throw new Error(`the watch ended before the disk was filled: ${r.code} ${r.stderr}`);
      }),
    ]);
    disk.fill(0);
    const r1 = await first.done;
    console.log(`[full journal, watch] exit ${r1.code}; ${verified()} of 200 verified when it stopped`);
    expect(r1.code, r1.stderr).toBe(EXIT.localDiskFull);
    expect(r1.stderr).toContain(journal);
    expect(r1.stderr).not.toMatch(/unexpected error|\n\s+at |SqliteError/);
    const rows = journalRows<FileRow>(
      journal,
      `SELECT f.relpath, f.path, f.remote_key, f.state, f.sha256 FROM files f JOIN jobs j ON j.id = f.job_id WHERE j.dataset = '${dataset}'`,
    );
    expect(rows.filter((f) => f.state === 'failed')).toEqual([]);
    for (const f of rows.filter((x) => x.state === 'verified'))
      expect(await sha256Object(direct, bucket, f.remote_key!), f.relpath).toEqual(await sha256File(f.path));

    disk.release();
    const [job] = journalRows<{ id: number }>(journal, `SELECT id FROM jobs WHERE dataset = '${dataset}'`);
    const second = startCli(['watch', '--resume', String(job!.id), '--json'], env);
    children.push(second.child);
    await Promise.race([
      waitUntil('every file verified', () => verified() === 200, 90_000, 200),
      second.done.then((r) => {
        throw new Error(`the resumed watch ended early: ${r.code} ${r.stderr}`);
      }),
    ]);
    // Ctrl-C: the acquisition is over; the dataset is finalised.
    second.child.kill('SIGINT');
    const r2 = await second.done;
    expect(r2.code, r2.stderr).toBe(EXIT.ok);
    await expectDone(journal, bucket, dataset, 200);
  }, 180_000);
});
