// A real `beamdrop watch` process is killed with SIGKILL in the middle of an acquisition while the
// detector-imitating writer goes on writing (slow files, a burst, multipart-sized files). The
// same watch is started again with `--resume JOB`: every file written before, during and after
// the outage ends verified at MinIO with the bytes of the final local file, none is missing,
// none is stored twice, no multipart upload is left behind; `beamdrop stop JOB` from another
// process then ends the acquisition and the watcher exits 0. In both discovery modes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createBucket, minioClient } from '../support/minio.js';
import { startWriter } from '../support/detector-writer.js';
import { listKeys, listUploads, MiB, sha256Object, waitUntil } from './helpers.js';

const CLI = resolve('bin/beamdrop.js');

function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) =>
    child.once('close', (code, signal) => res({ code, signal, stderr })),
  );
  return { child, done };
}

/** Reads the watcher's journal from this process (WAL: readers never block the writer). */
function query<T>(journal: string, sql: string): T[] {
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

describe.each(['watch', 'poll'] as const)('SIGKILL of a %s-mode watcher during acquisition', (mode) => {
  const s3 = inject('s3');
  let direct: S3Client;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    direct = minioClient(s3);
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    direct.destroy();
  });

  it('picks up every file written while it was down, and stores each once, intact', async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    const bucket = await createBucket(s3);
    const base = mkdtempSync(join(tmpdir(), `bd-sync-kill-${mode}-`));
    const src = join(base, 'detector');
    const home = join(base, 'home');
    mkdirSync(src);
    const profile = join(base, 'profile.yaml');
    writeFileSync(
      profile,
      [
        'upload:',
        '  multipartThreshold: 8MiB',
        '  partSize: { min: 5MiB, max: 5MiB }',
        'sync:',
        '  quietPeriod: 2s',
        '  reconcileInterval: 2s',
        '  pollInterval: 300ms',
        '  stopGrace: 10s',
        `  mode: ${mode}`,
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: home,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    delete env.BEAMDROP_PROFILE;
    const journal = join(home, 'journal.sqlite');
    const verified = () =>
      query<{ relpath: string }>(journal, `SELECT relpath FROM files WHERE state = 'verified'`).map((r) => r.relpath);

    const watchArgs = ['watch', src, '--dataset', 'D', '--to', `s3+${s3.endpoint}/${bucket}`, '--profile', profile, '--json'];
    const first = startCli(watchArgs, env);
    children.push(first.child);
    await waitUntil('the first watcher running', () => query(journal, 'SELECT job_id FROM sync_sessions').length > 0, 30_000, 50);
    const writer = startWriter({
      out: src,
      steps: [
        {
          kind: 'stream',
          dir: 'scan1',
          prefix: 'img',
          count: 40,
          size: 3 * MiB,
          chunk: MiB,
          chunkPauseMs: 150,
          everyMs: 250,
          tmpEvery: 5,
        },
        { kind: 'burst', dir: 'burst', prefix: 'f', count: 200, size: 2048 },
        {
          kind: 'stream',
          dir: 'big',
          prefix: 'vol',
          count: 4,
          size: 12 * MiB + 7,
          chunk: 2 * MiB,
          chunkPauseMs: 100,
          everyMs: 400,
        },
        { kind: 'stream', dir: 'scan2', prefix: 'img', count: 20, size: MiB, chunk: MiB / 4, chunkPauseMs: 50, everyMs: 200 },
      ],
    });

    // ---- killed mid-acquisition, without a chance to clean up
    await waitUntil('some files verified', () => verified().length >= 8, 60_000, 50);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const atKill = writer.files.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(writer.files.length, 'the writer kept writing while nobody watched').toBeGreaterThan(atKill);

    // ---- resumed by job number while the writer goes on
    const jobId = query<{ id: number }>(journal, `SELECT id FROM jobs WHERE kind = 'sync'`)[0]!.id;
    const second = startCli(['watch', '--resume', String(jobId), '--json'], env);
    children.push(second.child);
    // One watcher per job: a third `watch --resume` follows the running one instead of running it
    // too (two-processes.test.ts); Ctrl-C stops the following, not the watch.
    await waitUntil(
      'the second watcher running',
      () => query<{ pid: number }>(journal, 'SELECT pid FROM sync_sessions')[0]?.pid === second.child.pid,
      30_000,
      50,
    );
    const third = spawn(process.execPath, [CLI, 'watch', '--resume', String(jobId)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(third);
    let thirdOut = '';
    third.stdout!.setEncoding('utf8').on('data', (s: string) => {
      thirdOut += s;
    });
    const thirdExit = new Promise<number | null>((res) => third.once('close', (code) => res(code)));
    await waitUntil(
      'the third following the second',
      () => new RegExp(`job ${jobId} \\(dataset "[^"]+"\\) is being run by process ${second.child.pid} on `).test(thirdOut),
      30_000,
      50,
    );
    third.kill('SIGINT');
    expect(await thirdExit).toBe(130);
    expect(thirdOut).toMatch(new RegExp(`Stopped following job ${jobId}; process ${second.child.pid} on .+ keeps running it`));
    await writer.done;
    const written = new Map(writer.files.map((f) => [f.relpath, f]));
    expect(written.size).toBe(40 + 200 + 4 + 20);
    await waitUntil(
      'every written file verified',
      () => {
        const v = new Set(verified());
        return [...written.keys()].every((r) => v.has(r));
      },
      120_000,
      200,
    );

    // ---- `beamdrop stop` from another process ends the acquisition; the watcher exits 0
    const stop = spawnSync(process.execPath, [CLI, 'stop', String(jobId)], { env, encoding: 'utf8', timeout: 60_000 });
    expect(stop.status, stop.stderr + stop.stdout).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`Job ${jobId} is done`));
    const ended = await second.done;
    expect(ended.code, ended.stderr).toBe(0);
    // A job that has ended is in the wrong state for `stop` (exit 2), not paused.
    const again = spawnSync(process.execPath, [CLI, 'stop', String(jobId)], { env, encoding: 'utf8', timeout: 60_000 });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/has already finished/);

    const keys = await listKeys(direct, bucket, 'D/');
    expect(keys).toEqual([...written.keys()].map((r) => `D/${r}`).sort());
    for (const [relpath, f] of written)
      expect(await sha256Object(direct, bucket, `D/${relpath}`), relpath).toEqual({ sha256: f.sha256, size: f.size });
    expect(await listUploads(direct, bucket)).toEqual([]);
    const twice = query(
      journal,
      `SELECT file_id, COUNT(*) AS n FROM events WHERE type = 'upload-result' GROUP BY file_id HAVING n > 1`,
    );
    expect(twice).toEqual([]);
    expect(query<{ state: string }>(journal, `SELECT state FROM jobs WHERE id = ${jobId}`)).toEqual([{ state: 'done' }]);
    rmSync(base, { recursive: true, force: true });
  }, 240_000);
});
