// One owner per job (issue 10): a job is run by one process at a time. Real processes all the way:
// - the lease transaction itself, taken by several processes at the same instant on one journal
//   file (exactly one gets it; a dead owner's lease is taken over at once; another host's lease
//   only once its heartbeat is stale; a process that lost its lease never writes over the new one);
// - two `beamdrop upload` of the same dataset (mixed sizes, one multipart file) to MinIO, started
//   0.3 s apart and at the same instant: one runs the job, the other follows it and ends with its
//   end state; 0 false failures, one finalisation, every object read back and re-hashed;
// - the owner SIGKILLed mid-upload: a second process started right after takes the job over at
//   once (no wait for a stale heartbeat), and a follower whose owner is killed takes it over too.
// Every wait is on a condition (the journal, the processes' output), never a fixed sleep.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import { Journal, type NewJob } from '../../src/main/engine/journal/journal.js';
import {
  claimSession,
  endSession,
  heartbeat,
  HEARTBEAT_STALE_MS,
  holdsLease,
  JobBusyError,
  sessionOf,
} from '../../src/main/engine/sync/sync-sessions.js';
import { uploadPolicySchema } from '../../src/shared/profile-schema.js';
import { createBucket, minioClient } from '../support/minio.js';
import {
  listDataKeys,
  listKeys,
  listUploads,
  MiB,
  randomTree,
  removeTemps,
  sha256File,
  sha256Object,
  tempDir,
  waitUntil,
} from './helpers.js';

const CLI = resolve('bin/beamdrop.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Proc {
  child: ChildProcess;
  done: Promise<Run>;
  /** The JSON lines printed so far. */
  lines(): Record<string, unknown>[];
  startedAt: number;
}

const children: ChildProcess[] = [];

function startNode(args: string[], env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe' = 'ignore'): Proc {
  const child = spawn(process.execPath, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Run>((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
  const lines = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, done, lines, startedAt: Date.now() };
}

const beamdrop = (args: string[], env: NodeJS.ProcessEnv) => startNode([CLI, ...args], env);

function query<T>(file: string, sql: string): T[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

const summaryOf = (p: Record<string, unknown>[]) =>
  (p.find((l) => l.type === 'job-finished') as { summary: JobSummary; followed?: boolean } | undefined) ?? null;
const ran = (lines: Record<string, unknown>[]) => lines.some((l) => (l as JobEvent).type === 'job-started');
const followed = (lines: Record<string, unknown>[]) => lines.some((l) => l.type === 'following');

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await removeTemps();
});

// ---------------------------------------------------------------------------------------------
describe('the lease transaction (several processes, one journal file)', () => {
  const options = {
    include: [],
    exclude: [],
    followSymlinks: false,
    keyTemplate: '{dataset}/{relpath}',
    vars: { facility: null, beamline: null, proposal: null, visit: null, dataset: 'ds', date: '2026-12-02' },
    destinationConfig: { kind: 'filesystem', root: '/archive', keyTemplate: '{dataset}/{relpath}' },
    adhoc: false,
    policy: uploadPolicySchema.parse({}),
  };
  const newJob = {
    kind: 'batch',
    dataset: 'ds',
    proposal: null,
    visit: null,
    catalogue: 'local',
    destination: 'archive',
    sources: ['/data'],
    metadata: {},
    options,
  } as unknown as NewJob;

  /**
   * A process that opens the journal, says it is ready and, once the go file exists, claims each of
   * the jobs in turn as fast as it can (many jobs, so that the processes collide on some of them).
   */
  function claimer(file: string, jobIds: number[], go: string): Proc {
    const dist = (p: string) => pathToFileURL(resolve('dist', p)).href;
    const script = `
      import { existsSync } from 'node:fs';
      const { Journal } = await import(${JSON.stringify(dist('main/engine/journal/journal.js'))});
      const { claimSession } = await import(${JSON.stringify(dist('main/engine/sync/sync-sessions.js'))});
      const journal = new Journal(${JSON.stringify(file)});
      process.stdout.write('{"ready":true}\\n');
      while (!existsSync(${JSON.stringify(go)})) {}
      const won = [];
      const refused = [];
      for (const id of ${JSON.stringify(jobIds)}) {
        try {
          claimSession(journal, id, Date.now());
          won.push(id);
        } catch (e) {
          refused.push({ id, code: e.code, sameJob: e.sameJob, owner: e.owner ?? null });
        }
      }
      process.stdout.write(JSON.stringify({ done: true, pid: process.pid, won, refused }) + '\\n');
      // Every claimer stays alive until told to go: the others see the winners' pids running.
      process.stdin.resume();
      process.stdin.on('end', () => { journal.close(); process.exit(0); });
    `;
    return startNode(['--input-type=module', '-e', script], process.env, 'pipe');
  }

  type Claims = {
    pid: number;
    won: number[];
    refused: { id: number; code: string; sameJob: boolean; owner: { pid: number; host: string; jobId: number } }[];
  };

  it('six processes claiming 150 jobs at the same instant: each job has exactly one holder; the others are told who', async () => {
    expect(existsSync('dist/main/engine/sync/sync-sessions.js'), 'run `npx tsc -p tsconfig.node.json` first').toBe(true);
    const dir = tempDir('bd-lease-');
    const file = join(dir, 'journal.sqlite');
    const journal = new Journal(file);
    const ids = Array.from({ length: 150 }, () => journal.createJob(newJob).id);
    const go = join(dir, 'go');
    const procs = Array.from({ length: 6 }, () => claimer(file, ids, go));
    await waitUntil('every claimer ready', () => procs.every((p) => p.lines().some((l) => l.ready)), 60_000);
    writeFileSync(go, '');
    const claims = await waitUntil(
      'every claimer done',
      () => {
        const c = procs.map((p) => p.lines().find((l) => l.done) as Claims | undefined);
        return c.every(Boolean) ? (c as Claims[]) : null;
      },
      120_000,
    );
    for (const id of ids) {
      const holders = claims.filter((c) => c.won.includes(id)).map((c) => c.pid);
      expect(holders, `job ${id}`).toHaveLength(1);
      expect(sessionOf(journal, id), `job ${id}`).toMatchObject({ pid: holders[0], endedAt: null });
      expect(
        journal.events(id, 1000).filter((e) => e.type === 'lease-taken'),
        `job ${id}`,
      ).toHaveLength(1);
      for (const c of claims.filter((x) => !x.won.includes(id)))
        expect(
          c.refused.find((r) => r.id === id),
          `job ${id}`,
        ).toEqual({
          id,
          code: 'job-busy',
          sameJob: true,
          owner: expect.objectContaining({ pid: holders[0], host: hostname(), jobId: id }),
        });
    }
    // How the jobs spread over the processes (they did collide: more than one process won some).
    console.log(`[lease] jobs won per process: ${claims.map((c) => c.won.length).join(', ')}`);

    // A holder dies without a word: its leases are taken over at once on this host (no stale wait).
    const victim = claims.find((c) => c.won.length)!;
    const w = procs.find((p) => p.child.pid === victim.pid)!;
    w.child.kill('SIGKILL');
    await w.done;
    const id = victim.won[0]!;
    const t0 = Date.now();
    claimSession(journal, id, Date.now());
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sessionOf(journal, id)).toMatchObject({ pid: process.pid, endedAt: null });
    expect(journal.events(id).find((e) => e.type === 'lease-taken')?.detail).toMatchObject({
      pid: process.pid,
      from: { pid: victim.pid, host: hostname() },
    });
    for (const p of procs) p.child.stdin?.end();
    await Promise.all(procs.map((p) => p.done));
    journal.close();
  });

  it('six processes opening one new journal at the same instant all open it, migrated once', async () => {
    const dir = tempDir('bd-lease-open-');
    const file = join(dir, 'journal.sqlite');
    const go = join(dir, 'go');
    const journalJs = pathToFileURL(resolve('dist/main/engine/journal/journal.js')).href;
    const script = `
      import { existsSync } from 'node:fs';
      const { Journal } = await import(${JSON.stringify(journalJs)});
      process.stdout.write('{"ready":true}\\n');
      while (!existsSync(${JSON.stringify(go)})) {}
      try {
        new Journal(${JSON.stringify(file)}).close();
        process.stdout.write('{"opened":true}\\n');
      } catch (e) {
        process.stdout.write(JSON.stringify({ opened: false, error: String(e) }) + '\\n');
      }
    `;
    const procs = Array.from({ length: 6 }, () => startNode(['--input-type=module', '-e', script], process.env));
    await waitUntil('every opener ready', () => procs.every((p) => p.lines().some((l) => l.ready)), 60_000);
    writeFileSync(go, '');
    await Promise.all(procs.map((p) => p.done));
    expect(procs.map((p) => p.lines().find((l) => 'opened' in l))).toEqual(procs.map(() => ({ opened: true })));
    const journal = new Journal(file);
    expect(journal.jobs()).toEqual([]);
    journal.close();
  });

  it("another host's lease is refused while its heartbeat is fresh and taken once it is stale; a taken-over holder never writes over it", () => {
    const dir = tempDir('bd-lease-host-');
    const journal = new Journal(join(dir, 'journal.sqlite'));
    const job = journal.createJob(newJob);
    const db = journal.connectionForStores();
    const foreign = (heartbeatAt: number) =>
      db
        .prepare(
          `INSERT INTO sync_sessions (job_id, pid, host, started_at, heartbeat_at, ended_at, rate) VALUES (?, 4242, 'other-host', ?, ?, NULL, 0)
           ON CONFLICT (job_id) DO UPDATE SET pid = 4242, host = 'other-host', started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, ended_at = NULL`,
        )
        .run(job.id, heartbeatAt, heartbeatAt);
    const now = Date.now();
    foreign(now - 1000);
    const refused = (() => {
      try {
        claimSession(journal, job.id, now);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(JobBusyError);
    expect(refused).toMatchObject({ code: 'job-busy', sameJob: true, owner: { pid: 4242, host: 'other-host', jobId: job.id } });
    expect((refused as Error).message).toMatch(/job \d+ is being run by process 4242 on other-host/);

    foreign(now - HEARTBEAT_STALE_MS - 1000);
    claimSession(journal, job.id, now);
    expect(holdsLease(journal, job.id)).toBe(true);

    // The other host comes back and takes the job as stale from us: our heartbeat and our release
    // leave its lease alone, and we no longer hold the job.
    foreign(now + 1);
    heartbeat(journal, job.id, now + 2, 0, null);
    endSession(journal, job.id, now + 3);
    expect(sessionOf(journal, job.id)).toMatchObject({ pid: 4242, host: 'other-host', heartbeatAt: now + 1, endedAt: null });
    expect(holdsLease(journal, job.id)).toBe(false);
    journal.close();
  });
});

// ---------------------------------------------------------------------------------------------
describe('two beamdrop processes on one job (MinIO)', () => {
  const s3 = inject('s3');
  let direct: S3Client;
  const FILES: Record<string, number> = {
    'big.bin': 40 * MiB + 777,
    'mid.bin': 6 * MiB + 3,
    'empty.dat': 0,
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`scans/s${i}.cbf`, 1000 + i * 37_000])),
  };

  beforeAll(() => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npx tsc -p tsconfig.node.json` first').toBe(true);
    direct = minioClient(s3);
  });
  afterAll(() => direct.destroy());

  /** A fresh data folder, bucket and source tree; the same command for every process of a test. */
  async function world(bwlimit: string) {
    const bucket = await createBucket(s3);
    const base = tempDir('bd-two-');
    const home = join(base, 'home');
    const src = randomTree(FILES);
    const profile = join(base, 'profile.yaml');
    writeFileSync(
      profile,
      [
        'upload:',
        '  multipartThreshold: 8MiB',
        '  partConcurrency: 2',
        '  partSize: { min: 5MiB, max: 5MiB }',
        '  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }',
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
    const args = ['upload', src, '--dataset', 'D', '--to', `s3+${s3.endpoint}/${bucket}`, '--profile', profile];
    args.push('--bwlimit', bwlimit, '--json');
    return { bucket, home, src, env, args, journal: join(home, 'journal.sqlite') };
  }
  type World = Awaited<ReturnType<typeof world>>;

  /** The end state, read independently: journal, bucket (every object re-hashed), crates, uploads. */
  async function expectOneJobDone(w: World, leases: number): Promise<void> {
    const jobs = query<{ id: number; state: string; kind: string }>(w.journal, 'SELECT id, state, kind FROM jobs');
    expect(jobs).toEqual([{ id: 1, state: 'done', kind: 'batch' }]);
    const files = query<{ relpath: string; state: string; remote_key: string; last_error: string | null }>(
      w.journal,
      'SELECT relpath, state, remote_key, last_error FROM files WHERE job_id = 1 ORDER BY relpath',
    );
    expect(files.map((f) => f.relpath).sort()).toEqual(Object.keys(FILES).sort());
    expect(files.filter((f) => f.state !== 'verified')).toEqual([]);
    // Exactly one finalisation; the lease was taken `leases` times (once, or once more by a takeover).
    expect(query(w.journal, "SELECT 1 FROM events WHERE type = 'dataset-finished'")).toHaveLength(1);
    expect(query(w.journal, "SELECT 1 FROM events WHERE type = 'lease-taken'")).toHaveLength(leases);
    expect(query(w.journal, "SELECT 1 FROM events WHERE type = 'file-failed'")).toEqual([]);
    // No file was sent twice to completion.
    expect(
      query(w.journal, "SELECT file_id FROM events WHERE type = 'upload-result' GROUP BY file_id HAVING COUNT(*) > 1"),
    ).toEqual([]);

    expect(await listDataKeys(direct, w.bucket)).toEqual(files.map((f) => f.remote_key).sort());
    for (const f of files) {
      const local = await sha256File(join(w.src, ...f.relpath.split('/')));
      expect(await sha256Object(direct, w.bucket, f.remote_key), f.relpath).toEqual(local);
    }
    expect((await listKeys(direct, w.bucket)).filter((k) => k.endsWith(CRATE_SUFFIX))).toHaveLength(1);
    expect(await listUploads(direct, w.bucket)).toEqual([]);
    // The source tree is as it was (nothing of the test leaked into it).
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [relative(w.src, join(d, n))]));
    expect(
      walk(w.src)
        .map((p) => p.split(sep).join('/'))
        .sort(),
    ).toEqual(Object.keys(FILES).sort());
  }

  /** One process ran the job, the other followed it and ended with the same end state (exit 0 both). */
  async function expectRanAndFollowed(a: Proc, b: Proc): Promise<void> {
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const la = a.lines();
    const lb = b.lines();
    const detail = `A (exit ${ra.code}):\n${ra.stderr}${ra.stdout.slice(-1500)}\nB (exit ${rb.code}):\n${rb.stderr}${rb.stdout.slice(-1500)}`;
    expect(ra.code, detail).toBe(0);
    expect(rb.code, detail).toBe(0);
    const [owner, follower] = ran(la) ? [la, lb] : [lb, la];
    expect(ran(owner), detail).toBe(true);
    expect(ran(follower), `the follower ran the job too\n${detail}`).toBe(false);
    expect(followed(follower), detail).toBe(true);
    const following = follower.find((l) => l.type === 'following') as { message: string; jobId: number };
    expect(following.message).toMatch(
      /^job 1 \(dataset "D"\) is being run by process \d+ on .+; following its progress here — Ctrl-C stops following, not the upload\.$/,
    );
    // Nothing of the job failed, transferred or finalised in the follower's output.
    expect(follower.filter((l) => ['file-state', 'retry', 'job-note', 'job-paused'].includes(l.type as string))).toEqual([]);
    const own = summaryOf(owner)!.summary;
    const seen = summaryOf(follower)!;
    expect(seen.followed).toBe(true);
    expect(own.job.state).toBe('done');
    expect(seen.summary.job.state).toBe('done');
    expect(seen.summary.counts).toEqual(own.counts);
    expect(own.counts).toEqual({ verified: Object.keys(FILES).length });
    expect(own.failures).toEqual([]);
  }

  it('two uploads of one dataset started 0.3 s apart: one runs the job, the other follows it; one finalisation, 0 failures', async () => {
    const w = await world('12M');
    const a = beamdrop(w.args, w.env);
    // The operator's 0.3 s between the two commands (the scenario itself, not a wait for a condition).
    await new Promise((r) => setTimeout(r, 300));
    const b = beamdrop(w.args, w.env);
    await expectRanAndFollowed(a, b);
    await expectOneJobDone(w, 1);
  }, 180_000);

  it('two uploads of one dataset started at the same instant: exactly one runs it, the other follows; one finalisation', async () => {
    const w = await world('12M');
    const a = beamdrop(w.args, w.env);
    const b = beamdrop(w.args, w.env);
    await expectRanAndFollowed(a, b);
    await expectOneJobDone(w, 1);
  }, 180_000);

  const parts = (w: World) => query<{ n: number }>(w.journal, 'SELECT COUNT(*) AS n FROM multipart_parts')[0]?.n ?? 0;
  const leaseOf = (w: World) =>
    query<{ pid: number; ended_at: number | null }>(w.journal, 'SELECT pid, ended_at FROM sync_sessions')[0];

  it('the owner SIGKILLed mid-upload: a process started right after takes the job over at once and finishes it, 0 failed', async () => {
    const w = await world('8M');
    const first = beamdrop(w.args, w.env);
    let early: Run | null = null;
    void first.done.then((r) => (early = r));
    await waitUntil(
      '2 journaled parts of big.bin',
      () => {
        if (early) throw new Error(`the first upload ended before it could be killed: ${JSON.stringify(early).slice(0, 2000)}`);
        return parts(w) >= 2;
      },
      120_000,
      20,
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // The lease is still there, unreleased, in the dead process's name.
    expect(leaseOf(w)).toMatchObject({ pid: first.child.pid, ended_at: null });

    const second = beamdrop(w.args, w.env);
    // Taken over at once: its job starts long before a heartbeat could go stale.
    await waitUntil('the second process runs the job', () => ran(second.lines()), 60_000, 20);
    const tookMs = Date.now() - second.startedAt;
    const run = await second.done;
    expect(run.code, `${run.stderr}\n${run.stdout.slice(-2000)}`).toBe(0);
    const lines = second.lines();
    expect(followed(lines)).toBe(false);
    expect(lines.find((l) => l.type === 'job-started')).toMatchObject({ jobId: 1, resumed: true });
    expect(tookMs, 'the takeover waited like a stale heartbeat').toBeLessThan(HEARTBEAT_STALE_MS);
    const taken = query<{ detail: string }>(w.journal, "SELECT detail FROM events WHERE type = 'lease-taken' ORDER BY id");
    expect(JSON.parse(taken.at(-1)!.detail)).toMatchObject({ pid: second.child.pid, from: { pid: first.child.pid } });
    expect(summaryOf(lines)!.summary).toMatchObject({ job: { state: 'done' }, failures: [] });
    await expectOneJobDone(w, 2);
  }, 180_000);

  it('a follower whose owner is SIGKILLed says so, takes the job over and finishes it, 0 failed', async () => {
    const w = await world('8M');
    const owner = beamdrop(w.args, w.env);
    await waitUntil(
      'the owner holds the job and sends big.bin',
      () => leaseOf(w)?.pid === owner.child.pid && parts(w) >= 1,
      120_000,
      20,
    );
    const follower = beamdrop(w.args, w.env);
    await waitUntil('the follower follows', () => followed(follower.lines()), 60_000, 20);
    owner.child.kill('SIGKILL');
    await owner.done;
    const run = await follower.done;
    expect(run.code, `${run.stderr}\n${run.stdout.slice(-2000)}`).toBe(0);
    const lines = follower.lines();
    const gone = lines.find((l) => l.type === 'owner-gone') as { message: string } | undefined;
    expect(gone?.message).toMatch(
      new RegExp(
        `process ${owner.child.pid} on .+ stopped without releasing job 1 \\(it was killed or crashed\\); this process takes the job over`,
      ),
    );
    expect(lines.find((l) => l.type === 'job-started')).toMatchObject({ jobId: 1, resumed: true });
    expect(summaryOf(lines)!.summary).toMatchObject({ job: { state: 'done' }, failures: [] });
    await expectOneJobDone(w, 2);
  }, 180_000);

  it('`beamdrop resume` of the running job follows it too; Ctrl-C stops the following, not the upload', async () => {
    const w = await world('12M');
    const owner = beamdrop(w.args, w.env);
    await waitUntil('the owner holds the job', () => leaseOf(w)?.pid === owner.child.pid, 120_000, 20);
    const follower = beamdrop(['resume', '1', '--json'], w.env);
    await waitUntil('the follower follows', () => followed(follower.lines()), 60_000, 20);
    follower.child.kill('SIGINT');
    const stopped = await follower.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    const lines = follower.lines();
    expect(lines.find((l) => l.type === 'following-stopped')).toMatchObject({
      jobId: 1,
      message: expect.stringMatching(new RegExp(`^Stopped following job 1; process ${owner.child.pid} on .+ keeps running it`)),
    });
    expect(ran(lines)).toBe(false);
    // The owner was not disturbed: it ends done on its own, with every file.
    const run = await owner.done;
    expect(run.code, `${run.stderr}\n${run.stdout.slice(-2000)}`).toBe(0);
    expect(summaryOf(owner.lines())!.summary).toMatchObject({ job: { state: 'done' }, failures: [] });
    await expectOneJobDone(w, 1);
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------
describe('`beamdrop watch --resume` of a live session (local archive)', () => {
  it('follows the session until `beamdrop stop` ends it in its own process, then reports it done (exit 0)', async () => {
    const base = tempDir('bd-two-watch-');
    const src = randomTree({ 'frame1.cbf': 1000, 'run/frame2.cbf': 2000 });
    const archive = join(base, 'archive');
    mkdirSync(archive);
    const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: join(base, 'home') };
    delete env.BEAMDROP_PROFILE;
    const journal = join(base, 'home', 'journal.sqlite');
    const owner = beamdrop(['watch', src, '--dataset', 'W', '--to', archive, '--quiet-period', '300ms', '--json'], env);
    let early: Run | null = null;
    void owner.done.then((r) => (early = r));
    await waitUntil(
      'both frames verified',
      () => {
        if (early) throw new Error(`the watch ended early: ${JSON.stringify(early).slice(0, 2000)}`);
        return owner.lines().filter((l) => l.type === 'file-state' && l.state === 'verified').length === 2;
      },
      60_000,
    );
    const follower = beamdrop(['watch', '--resume', '1', '--json'], env);
    await waitUntil('the follower follows', () => followed(follower.lines()), 60_000, 20);
    expect(follower.lines().find((l) => l.type === 'following')).toMatchObject({
      message: expect.stringMatching(
        /^job 1 \(dataset "W"\) is being run by process \d+ on .+; following its progress here — Ctrl-C stops following, not the watch\.$/,
      ),
    });
    const stop = await beamdrop(['stop', '1', '--json'], env).done;
    expect(stop.code, stop.stderr).toBe(0);
    const [ro, rf] = await Promise.all([owner.done, follower.done]);
    expect(ro.code, ro.stderr).toBe(0);
    expect(rf.code, `${rf.stderr}\n${rf.stdout.slice(-2000)}`).toBe(0);
    const lines = follower.lines();
    expect(ran(lines)).toBe(false);
    expect(summaryOf(lines)).toMatchObject({
      followed: true,
      summary: { job: { id: 1, state: 'done' }, counts: { verified: 2 } },
    });
    expect(query(journal, "SELECT 1 FROM events WHERE type = 'dataset-finished'")).toHaveLength(1);
    expect(query(journal, "SELECT 1 FROM events WHERE type = 'lease-taken'")).toHaveLength(1);
    for (const rel of ['frame1.cbf', 'run/frame2.cbf']) {
      const stored = query<{ remote_key: string }>(journal, `SELECT remote_key FROM files WHERE relpath = '${rel}'`)[0]!;
      expect(await sha256File(join(archive, ...stored.remote_key.split('/'))), rel).toEqual(
        await sha256File(join(src, ...rel.split('/'))),
      );
    }
  }, 120_000);
});
