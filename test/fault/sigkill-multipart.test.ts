// A real `beamdrop upload` process is killed with SIGKILL in the middle of a multipart upload
// (no chance to clean up or flush anything). The journal holds the upload id and the parts sent;
// nothing is visible at the final key; running the same command again resumes from the parts on
// the server, re-sends at most the parts that were in flight, and ends with a verified object
// whose bytes and SHA-256 tag match the local file.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { GetObjectTaggingCommand, HeadObjectCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobEvent, JobSummary, FileRecord } from '../../src/shared/model.js';
import { createBucket, minioClient } from '../support/minio.js';
import {
  listDataKeys,
  listKeys,
  listUploads,
  MiB,
  removeTemps,
  sha256File,
  sha256Object,
  tempDir,
  waitUntil,
  writeRandomFile,
} from './helpers.js';

const CLI = resolve('bin/beamdrop.js');
const PART = 5 * MiB;
const PART_CONCURRENCY = 2;
const SIZE = 80 * MiB + 12_345;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Run>((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

const jsonLines = (s: string): JobEvent[] =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobEvent);

describe('SIGKILL during a multipart upload', () => {
  const s3 = inject('s3');
  let direct: S3Client;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    direct = minioClient(s3);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    direct.destroy();
    await removeTemps();
  });

  it('resumes from the journaled parts after SIGKILL, re-sending at most the parts in flight, and verifies', async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    const bucket = await createBucket(s3);
    const base = tempDir('bd-sigkill-');
    const home = join(base, 'home');
    const big = join(base, 'data', 'BIGFILE.raw');
    writeRandomFile(big, SIZE);
    const local = await sha256File(big);
    // --profile supplies the upload policy; --to supplies the (ad-hoc) destination.
    const profile = join(base, 'profile.yaml');
    writeFileSync(
      profile,
      [
        'upload:',
        '  multipartThreshold: 8MiB',
        `  partConcurrency: ${PART_CONCURRENCY}`,
        '  partSize:',
        '    min: 5MiB',
        '    max: 5MiB',
        '',
      ].join('\n'),
    );
    const to = `s3+${s3.endpoint}/${bucket}`;
    const args = ['upload', big, '--dataset', 'D', '--to', to, '--profile', profile, '--bwlimit', '8M', '--json'];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: home,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    delete env.BEAMDROP_PROFILE;

    // ---- first run: killed once at least 3 parts are journaled
    const first = start(args, env);
    children.push(first.child);
    const journalFile = join(home, 'journal.sqlite');
    const journaledParts = (): number => {
      if (!existsSync(journalFile)) return 0;
      const db = new Database(journalFile, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM multipart_parts').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    let exitedEarly: Run | null = null;
    void first.done.then((r) => {
      exitedEarly = r;
    });
    await waitUntil(
      '3 journaled parts',
      () => {
        if (exitedEarly) throw new Error(`the upload ended before it could be killed: ${JSON.stringify(exitedEarly)}`);
        return journaledParts() >= 3;
      },
      120_000,
      20,
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');

    const db = new Database(journalFile, { readonly: true, fileMustExist: true });
    let upload: { upload_id: string; remote_key: string; part_size: number };
    let journaled: { part_number: number; etag: string }[];
    try {
      upload = db.prepare('SELECT upload_id, remote_key, part_size FROM multipart_uploads').get() as typeof upload;
      journaled = db.prepare('SELECT part_number, etag FROM multipart_parts ORDER BY part_number').all() as typeof journaled;
    } finally {
      db.close();
    }
    const J = journaled.length;
    expect(J).toBeGreaterThanOrEqual(3);
    expect(upload.remote_key).toBe('D/BIGFILE.raw');
    expect(upload.part_size).toBe(PART);
    const key = upload.remote_key;

    // The server's view: every journaled part is there with the journaled ETag.
    const listed = await direct.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.upload_id }));
    const onServer = new Map((listed.Parts ?? []).map((p) => [p.PartNumber!, p.ETag!]));
    const L = onServer.size;
    for (const p of journaled) expect(onServer.get(p.part_number), `part ${p.part_number}`).toBe(p.etag);
    // Beyond the journaled parts, the server can only hold parts that were in flight.
    expect(L).toBeGreaterThanOrEqual(J);
    expect(L).toBeLessThanOrEqual(J + PART_CONCURRENCY);
    // Nothing at the final key: no object, not even a partial one.
    const head = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => 'exists',
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    expect(head).toBe(404);
    expect(await listKeys(direct, bucket)).toEqual([]);

    // ---- second run: the same command, to completion
    const second = start(args, env);
    children.push(second.child);
    const rerun = await second.done;
    expect(rerun.code, `stderr:\n${rerun.stderr}\nstdout tail:\n${rerun.stdout.slice(-2000)}`).toBe(0);
    const events = jsonLines(rerun.stdout);
    expect(events.find((e) => e.type === 'job-started')).toMatchObject({ resumed: true });
    const finished = events.find((e) => e.type === 'job-finished') as Extract<JobEvent, { type: 'job-finished' }> | undefined;
    const summary = finished!.summary as JobSummary;
    expect(summary.job.state).toBe('done');
    expect(summary.counts).toEqual({ verified: 1 });

    const jdb = new Database(journalFile, { readonly: true, fileMustExist: true });
    let resumedParts: number;
    try {
      const results = (jdb.prepare("SELECT detail FROM events WHERE type = 'upload-result'").all() as { detail: string }[]).map(
        (r) => JSON.parse(r.detail) as { resumedParts: number },
      );
      expect(results).toHaveLength(1);
      resumedParts = results[0]!.resumedParts;
      // The upload is finished: its journal state was cleared.
      expect((jdb.prepare('SELECT COUNT(*) AS n FROM multipart_uploads').get() as { n: number }).n).toBe(0);
    } finally {
      jdb.close();
    }
    console.log(
      `[sigkill] journaled J=${J}, on server L=${L}, resumed=${resumedParts}, bytes sent on rerun=${summary.bytesSent} of ${SIZE}`,
    );
    // Every journaled part was re-used; parts sent before the kill and sent again are at most
    // the ones that were in flight.
    expect(resumedParts).toBeGreaterThanOrEqual(J);
    expect(L - resumedParts).toBeLessThanOrEqual(PART_CONCURRENCY);
    // (A part whose body had fully arrived when the process died may land just after the listing
    // above, so resumedParts may exceed L, but never the journaled parts plus those in flight.)
    expect(resumedParts).toBeLessThanOrEqual(J + PART_CONCURRENCY);
    // Only the missing parts crossed the network again.
    expect(summary.bytesSent).toBe(SIZE - resumedParts * PART);

    // The object: its bytes, read back from MinIO, and its SHA-256 tag match the local file.
    expect(await sha256Object(direct, bucket, key)).toEqual(local);
    const tags = await direct.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    expect(tags.TagSet?.find((t) => t.Key === 'sha256')?.Value).toBe(local.sha256);
    expect(await listDataKeys(direct, bucket)).toEqual([key]);
    expect(await listUploads(direct, bucket)).toEqual([]);

    // `beamdrop status --json`: the job is done with its one file verified.
    const status = await start(['status', '--json'], env).done;
    expect(status.code, status.stderr).toBe(0);
    const jobs = JSON.parse(status.stdout) as { id: number; state: string; counts: Record<string, number> }[];
    expect(jobs).toEqual([expect.objectContaining({ state: 'done', counts: { verified: 1 } })]);
    const detail = await start(['status', String(jobs[0]!.id), '--json'], env).done;
    expect(detail.code, detail.stderr).toBe(0);
    const { files } = JSON.parse(detail.stdout) as { files: FileRecord[] };
    expect(files).toEqual([
      expect.objectContaining({ relpath: 'BIGFILE.raw', state: 'verified', sha256: local.sha256, size: SIZE, remoteKey: key }),
    ]);
  }, 300_000);
});
