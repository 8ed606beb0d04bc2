// The job commands as an operator runs them: real `beamdrop` child processes on the built CLI and
// the embedded local archive. A live watch is refused by cancel and by a second watch (job-busy),
// `beamdrop stop` finalises it (done, complete in the local catalogue, RO-Crate beside the data);
// cancel and forget say what happens first and need --yes without a terminal; bad input and
// filters that match nothing leave no running job behind.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ErrorInfo } from '../../src/shared/errors.js';
import type { JobEvent } from '../../src/shared/model.js';
import { LocalCatalogue } from '../../src/main/engine/catalogue/local-catalogue.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import { dataPaths } from '../../src/main/engine/profile/data-dir.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const CLI = resolve('bin/beamdrop.js');
const home = mkdtempSync(join(tmpdir(), 'bd-jobcmd-'));
const env = { ...process.env, BEAMDROP_HOME: home };
const beamdrop = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });
const errorOf = (stdout: string): ErrorInfo | undefined =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; error?: ErrorInfo })
    .find((l) => l.type === 'error')?.error;
const jobs = () =>
  JSON.parse(beamdrop('status', '--json').stdout) as { id: number; kind: string; state: string; dataset: string }[];

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** A `beamdrop watch --json` in the background, with its events as they come. */
function watcher(folder: string, dataset: string) {
  const child = spawn(process.execPath, [CLI, 'watch', folder, '--dataset', dataset, '--quiet-period', '300ms', '--json'], {
    env,
  });
  children.push(child);
  const events: JobEvent[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) if (l.trim()) events.push(JSON.parse(l) as JobEvent);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const verified = () => events.filter((e) => e.type === 'file-state' && e.state === 'verified').length;
  const jobId = () => events.find((e) => e.type === 'job-started')?.jobId;
  return { child, events, exited, verified, jobId };
}

describe('job commands', () => {
  it('a live watch refuses cancel and a second watch (job-busy); `beamdrop stop` ends it done and finalised', async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npx tsc -p tsconfig.node.json` first').toBe(true);
    const src = makeTree({ 'a.cbf': 'alpha', 'run/b.cbf': 'bravo' });
    const w = watcher(src, 'live');
    await waitUntil('both files verified', () => w.verified() === 2, 30_000);
    const id = String(w.jobId());

    const cancel = beamdrop('cancel', id, '--yes', '--json');
    expect(cancel.status).toBe(2);
    expect(errorOf(cancel.stdout)).toMatchObject({
      code: 'job-busy',
      message: expect.stringMatching(/being run by process \d+/),
    });
    const second = beamdrop('watch', src, '--dataset', 'live', '--quiet-period', '300ms', '--json');
    expect(second.status).toBe(2);
    expect(errorOf(second.stdout)).toMatchObject({ code: 'job-busy' });
    expect(jobs().filter((j) => j.dataset === 'live')).toHaveLength(1);

    const stop = beamdrop('stop', id);
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`Job ${id} is done`));
    expect(await w.exited).toBe(0);
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'job-note', kind: 'dataset-finalised' }));

    // Independent reads: the local catalogue file and the archive folder.
    const paths = dataPaths(home);
    const catalogue = new LocalCatalogue(paths.catalogue);
    try {
      expect(catalogue.dataset('live')).toMatchObject({ status: 'complete', files: 2 });
    } finally {
      catalogue.close();
    }
    expect(readdirSync(paths.archive).filter((f) => f.endsWith(CRATE_SUFFIX))).toEqual([`live${CRATE_SUFFIX}`]);
    expect(jobs().find((j) => String(j.id) === id)).toMatchObject({ kind: 'sync', state: 'done' });
    // Stopping it again: the job is in the wrong state for the command (exit 2), not paused (3).
    const again = beamdrop('stop', id, '--json');
    expect(again.status).toBe(2);
    expect(errorOf(again.stdout)).toMatchObject({ code: 'job-state', message: expect.stringMatching(/already finished/) });
  }, 90_000);

  it('cancel says what happens, needs --yes without a terminal, and ends a paused watch for good', async () => {
    const src = makeTree({ 'one.cbf': 'one' });
    const w = watcher(src, 'to-cancel');
    await waitUntil('the file verified', () => w.verified() === 1, 30_000);
    const id = String(w.jobId());
    expect(beamdrop('stop', id, '--pause').status).toBe(3);
    await w.exited;

    const asked = beamdrop('cancel', id);
    expect(asked.status).toBe(2);
    expect(asked.stdout).toMatch(/the 1 file\(s\) already stored at "local-archive" stay there and stay recorded/);
    expect(asked.stdout).toMatch(/the dataset is not finalised/);
    expect(asked.stderr).toMatch(/nothing was done: .*add --yes/);
    expect(jobs().find((j) => String(j.id) === id)).toMatchObject({ state: 'paused' });

    const done = beamdrop('cancel', id, '--yes');
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`Job ${id} cancelled`));
    expect(jobs().find((j) => String(j.id) === id)).toMatchObject({ state: 'cancelled' });
    const resumed = beamdrop('watch', '--resume', id, '--json');
    expect(resumed.status).toBe(2);
    expect(errorOf(resumed.stdout)).toMatchObject({ code: 'job-state' });
    const stopped = beamdrop('stop', id, '--json');
    expect(stopped.status).toBe(2);
    expect(errorOf(stopped.stdout)).toMatchObject({ code: 'job-state', message: expect.stringMatching(/ended \(cancelled/) });
    const forget = beamdrop('forget', id, '--yes', '--json');
    expect(forget.status).toBe(2);
    expect(errorOf(forget.stdout)).toMatchObject({
      code: 'job-state',
      message: expect.stringMatching(/verify and fetch need it/),
    });
  }, 60_000);

  it("a second dataset whose keys would share the first one's folder exits 2 before any job exists", () => {
    const root = mkdtempSync(join(tmpdir(), 'bd-jobcmd-legacy-'));
    const profile = join(root, 'profile.yaml');
    mkdirSync(join(root, 'archive'));
    writeFileSync(
      profile,
      [
        'destinations:',
        `  legacy: { kind: filesystem, root: "${join(root, 'archive')}", keyTemplate: "{proposal}/{dataset}/{relpath}" }`,
        '',
      ].join('\n'),
    );
    const upload = (visit: string, text: string) =>
      beamdrop(
        'upload',
        makeTree({ 'a.cbf': text }),
        '--dataset',
        'shared',
        '--proposal',
        'P',
        '--visit',
        visit,
        '--profile',
        profile,
        '--json',
      );
    expect(upload('v1', 'one').status).toBe(0);
    const before = jobs().length;
    const second = upload('v2', 'two');
    expect(second.status).toBe(2);
    expect(errorOf(second.stdout)).toMatchObject({
      code: 'destination-invalid',
      field: 'keyTemplate',
      message: expect.stringMatching(
        /"shared" \(proposal P, visit v2\).*"shared" \(proposal P, visit v1\).*\{proposal\}\/\{visit\}\/\{dataset\}\/\{relpath\}/s,
      ),
    });
    expect(jobs()).toHaveLength(before);
    expect(readFileSync(join(root, 'archive', 'P', 'shared', 'a.cbf'), 'utf8')).toBe('one');
  });

  it('bad input leaves no job; filters that match nothing fail the job, which forget then removes', () => {
    const before = jobs().length;
    const missing = beamdrop('upload', '/definitely/not/here', '--dataset', 'x', '--json');
    expect(missing.status).toBe(2);
    expect(errorOf(missing.stdout)).toMatchObject({ code: 'source-invalid', file: '/definitely/not/here' });
    const src = makeTree({ 'a.dat': 'alpha' });
    const slash = beamdrop('upload', src, '--dataset', 'a/b', '--json');
    expect(slash.status).toBe(2);
    expect(errorOf(slash.stdout)).toMatchObject({ code: 'dataset-name-invalid', field: 'dataset' });
    expect(jobs()).toHaveLength(before);

    const none = beamdrop('upload', src, '--dataset', 'nothing', '--include', '*.h5', '--json');
    expect(none.status).toBe(2);
    expect(errorOf(none.stdout)).toMatchObject({ code: 'nothing-matched', message: expect.stringContaining("'*.h5'") });
    const failed = jobs().find((j) => j.dataset === 'nothing')!;
    expect(failed.state).toBe('failed');

    expect(beamdrop('forget', String(failed.id)).status).toBe(2); // no terminal to ask on
    const forgot = beamdrop('forget', String(failed.id), '--yes');
    expect(forgot.status, forgot.stderr).toBe(0);
    expect(forgot.stdout).toMatch(/it stored nothing/);
    expect(jobs().find((j) => j.id === failed.id)).toBeUndefined();
    expect(errorOf(beamdrop('cancel', '999', '--yes', '--json').stdout)).toMatchObject({ code: 'job-not-found' });
  });
});
