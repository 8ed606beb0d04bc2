// A real `beamdrop` process is killed with SIGKILL while it finalises a dataset: every file is
// stored, and the RO-Crate is being written (a named pipe stands where the crate's local copy is
// written, so the write blocks until the test has killed the process; a stalled disk or share does
// the same). The job is left `finishing`, not `done`; the catalogue was told first (the outbox has
// the finish); the same `beamdrop upload` again (batch, SciCat) and `beamdrop watch --resume JOB` (sync, the
// local catalogue) then finalise it without sending anything again: done, the dataset-finished
// event, complete in the local catalogue, archivable in SciCat, the RO-Crate beside the data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { JobEvent } from '../../src/shared/model.js';
import { localCratePath } from '../../src/main/engine/catalogue/crate-writer.js';
import { LocalCatalogue } from '../../src/main/engine/catalogue/local-catalogue.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from './helpers.js';

const CLI = resolve('bin/beamdrop.js');
const USER = { username: 'ingestor', password: 'pw-finalise', email: 'ingestor@facility.example', groups: ['p-77'] };

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
  return { child, done: new Promise((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr }))) };
}

const events = (stdout: string): JobEvent[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobEvent);

function query<T>(home: string, sql: string): T | undefined {
  const file = join(home, 'journal.sqlite');
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get() as T | undefined;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** A named pipe where the crate's local copy is written: opening it for writing blocks until someone reads. */
function stallCrate(home: string, identity: { catalogue: string; name: string }): string {
  const tmp = `${localCratePath(home, { ...identity, proposal: null, visit: null })}.tmp`;
  mkdirSync(dirname(tmp), { recursive: true });
  const r = spawnSync('mkfifo', [tmp]);
  expect(r.status, String(r.stderr)).toBe(0);
  return tmp;
}

describe('SIGKILL while a dataset is finalised', () => {
  let server: ScicatContractServer;
  const children: ChildProcess[] = [];
  let base: string;
  let env: NodeJS.ProcessEnv;
  let scicatProfile: string;
  let localProfile: string;
  const archive = () => join(base, 'archive');

  beforeAll(async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    server = await startScicatContractServer({ users: [USER] });
    base = mkdtempSync(join(tmpdir(), 'bd-fin-kill-'));
    mkdirSync(archive());
    const common = [
      'facility: TESTFAC',
      'destinations:',
      `  archive: { kind: filesystem, root: "${archive()}" }`,
      'defaultDestination: archive',
      'upload:',
      '  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }',
      'sync:',
      '  quietPeriod: 300ms',
      '  reconcileInterval: 1s',
      '  stopGrace: 5s',
    ];
    scicatProfile = join(base, 'scicat.yaml');
    writeFileSync(
      scicatProfile,
      [...common, 'catalogue:', '  kind: scicat', `  url: ${server.url}`, '  apiVersion: v3', ''].join('\n'),
    );
    localProfile = join(base, 'local.yaml');
    writeFileSync(localProfile, [...common, ''].join('\n'));
    env = { ...process.env, BEAMDROP_HOME: join(base, 'home'), BEAMDROP_CATALOGUE_PASSWORD: USER.password };
    delete env.BEAMDROP_PROFILE;
    const login = await start(['login', '--profile', scicatProfile, '--username', USER.username], env).done;
    expect(login.code, login.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await start(['logout', '--profile', scicatProfile], env).done;
    await server.close();
  });

  it('a batch upload (SciCat) is left finishing with the finish queued, and the same command again finalises it', async () => {
    const home = env.BEAMDROP_HOME!;
    const src = makeTree({ 'scan/a.h5': 'alpha', 'scan/b.h5': 'bravo', 'c.txt': 'charlie' });
    const fifo = stallCrate(home, { catalogue: `scicat ${server.url.replace(/\/+$/, '')}`, name: 'fin-batch' });
    const first = start(['upload', src, '--dataset', 'fin-batch', '--profile', scicatProfile, '--json'], env);
    children.push(first.child);
    const job = await Promise.race([
      waitUntil(
        'the job finishing',
        () => query<{ id: number }>(home, "SELECT id FROM jobs WHERE dataset = 'fin-batch' AND state = 'finishing'"),
        30_000,
      ),
      first.done.then((r) => {
        throw new Error(`upload ended before its finalisation: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      }),
    ]);
    // The catalogue was told before the crate: the outbox holds the finish.
    await waitUntil('the finish queued', () =>
      query<{ n: number }>(home, "SELECT finish_wanted AS n FROM registrations WHERE dataset = 'fin-batch'")?.n === 1 ? 1 : null,
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    rmSync(fifo);
    expect(query<{ state: string }>(home, `SELECT state FROM jobs WHERE id = ${job.id}`)).toEqual({ state: 'finishing' });
    expect(
      query<{ n: number }>(home, `SELECT COUNT(*) AS n FROM events WHERE job_id = ${job.id} AND type = 'dataset-finished'`),
    ).toEqual({ n: 0 });

    const resumed = await start(['upload', src, '--dataset', 'fin-batch', '--profile', scicatProfile, '--json'], env).done;
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const told = events(resumed.stdout);
    expect(told.flatMap((e) => (e.type === 'job-note' ? [e.kind] : []))).toEqual(['finalising', 'dataset-finalised']);
    expect(told.filter((e) => e.type === 'file-state')).toEqual([]);
    expect(told.find((e) => e.type === 'job-finished')).toMatchObject({
      summary: { job: { id: job.id, state: 'done' }, bytesSent: 0, bytesTotal: 17 },
    });
    expect(
      query<{ n: number }>(home, `SELECT COUNT(*) AS n FROM events WHERE job_id = ${job.id} AND type = 'dataset-finished'`),
    ).toEqual({ n: 1 });
    // Independent reads: the SciCat server, the local catalogue file, the archive folder.
    await waitUntil('archivable in SciCat', () =>
      [...server.datasets.values()].find(
        (d) => d.datasetName === 'fin-batch' && (d.datasetlifecycle as { archivable?: boolean })?.archivable === true,
      ),
    );
    const catalogue = new LocalCatalogue(join(home, 'catalogue.sqlite'));
    try {
      expect(catalogue.dataset('fin-batch')).toMatchObject({ status: 'complete', files: 3 });
    } finally {
      catalogue.close();
    }
    expect(readdirSync(archive()).filter((f) => f.endsWith(CRATE_SUFFIX))).toEqual([`fin-batch${CRATE_SUFFIX}`]);
  }, 120_000);

  it('a stopped sync session is left finishing, and `beamdrop watch --resume` finalises it without watching again', async () => {
    const home = env.BEAMDROP_HOME!;
    const src = makeTree({ 'a.cbf': 'alpha', 'run/b.cbf': 'bravo' });
    const fifo = stallCrate(home, { catalogue: 'local', name: 'fin-sync' });
    const watch = start(['watch', src, '--dataset', 'fin-sync', '--profile', localProfile, '--json'], env);
    children.push(watch.child);
    const job = await waitUntil(
      'both files verified',
      () =>
        query<{ id: number; n: number }>(
          home,
          "SELECT j.id, COUNT(f.id) AS n FROM jobs j JOIN files f ON f.job_id = j.id WHERE j.dataset = 'fin-sync' AND f.state = 'verified' GROUP BY j.id HAVING n = 2",
        ),
      30_000,
    );
    const stop = await start(['stop', String(job.id), '--no-wait'], env).done;
    expect(stop.code, stop.stderr).toBe(0);
    await Promise.race([
      waitUntil(
        'the session finishing',
        () => query<{ state: string }>(home, `SELECT state FROM jobs WHERE id = ${job.id} AND state = 'finishing'`),
        30_000,
      ),
      watch.done.then((r) => {
        throw new Error(`watch ended before its finalisation: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      }),
    ]);
    watch.child.kill('SIGKILL');
    expect((await watch.done).signal).toBe('SIGKILL');
    rmSync(fifo);

    const resumed = await start(['watch', '--resume', String(job.id), '--json'], env).done;
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const told = events(resumed.stdout);
    expect(told.flatMap((e) => (e.type === 'job-note' ? [e.kind] : []))).toEqual(['finalising', 'dataset-finalised']);
    expect(told.find((e) => e.type === 'job-note' && e.kind === 'finalising')).toMatchObject({
      message: expect.stringMatching(/A new `beamdrop watch` of the dataset starts a new session/),
    });
    expect(query<{ state: string }>(home, `SELECT state FROM jobs WHERE id = ${job.id}`)).toEqual({ state: 'done' });
    const catalogue = new LocalCatalogue(join(home, 'catalogue.sqlite'));
    try {
      expect(catalogue.dataset('fin-sync')).toMatchObject({ status: 'complete', files: 2 });
    } finally {
      catalogue.close();
    }
    expect(existsSync(join(archive(), `fin-sync${CRATE_SUFFIX}`))).toBe(true);
    // Finalised once: a further resume is refused as the job has ended.
    const again = await start(['watch', '--resume', String(job.id), '--json'], env).done;
    expect(again.code).toBe(2);
  }, 120_000);
});
