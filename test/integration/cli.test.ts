// The `beamdrop` command as a user runs it: a real child process on the built CLI.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JobEvent } from '../../src/shared/model.js';
import { makeTree } from '../support/engine-harness.js';

const home = mkdtempSync(join(tmpdir(), 'bd-cli-'));
const beamdrop = (...args: string[]) =>
  spawnSync(process.execPath, [resolve('bin/beamdrop.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, BEAMDROP_HOME: home },
    timeout: 60_000,
  });
const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobEvent);

describe('beamdrop CLI', () => {
  it('uploads to the embedded local archive with --json events, then reports status and skips on rerun', () => {
    const src = makeTree({ 'run1/a.cbf': 'aaa', 'run1/b.cbf': 'bbbb', 'notes.txt': 'n', 'scratch.tmp': 't' });
    const up = beamdrop(
      'upload',
      src,
      '--dataset',
      'cli-ds',
      '--proposal',
      'MX42',
      '--exclude',
      '**/*.tmp',
      '-p',
      'sample=lysozyme',
      '--json',
    );
    expect(up.status, up.stderr).toBe(0);
    const events = jsonLines(up.stdout);
    expect(events[0]).toMatchObject({ type: 'job-started', dataset: 'cli-ds', destination: 'local-archive', resumed: false });
    expect(events.filter((e) => e.type === 'file-state' && e.state === 'verified')).toHaveLength(3);
    const done = events.find((e) => e.type === 'job-finished');
    // After the job: the dataset is finalised (the same note ends batch uploads and sync sessions).
    expect(events.at(-1)).toMatchObject({ type: 'job-note', kind: 'dataset-finalised' });
    expect(done).toMatchObject({
      type: 'job-finished',
      summary: { counts: { verified: 3 }, job: { state: 'done', metadata: { sample: 'lysozyme' } } },
    });

    const status = beamdrop('status', '--json');
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ dataset: 'cli-ds', state: 'done', counts: { verified: 3 } }),
    ]);
    const files = beamdrop('status', '1', '--state', 'verified');
    expect(files.stdout).toMatch(/run1\/a\.cbf\s+sha256:[0-9a-f]{64}/);

    const again = beamdrop('upload', src, '--dataset', 'cli-ds', '--proposal', 'MX42', '--exclude', '**/*.tmp');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/files: 3 skipped/);
  });

  it('exits 2 with the field and what to write for bad input', () => {
    const noDataset = beamdrop('upload', '/tmp');
    expect(noDataset.status).toBe(2); // commander's own usage error for a missing required option
    expect(noDataset.stderr).toMatch(/required option '--dataset <name>' not specified/);
    const badMeta = beamdrop('upload', '/tmp', '--dataset', 'x', '-p', 'novalue');
    expect(badMeta.status).toBe(2);
    expect(badMeta.stderr).toMatch(/-p novalue: write metadata as KEY=VALUE/);
    const badBw = beamdrop('upload', '/tmp', '--dataset', 'x', '--bwlimit', 'Mon-8,1M');
    expect(badBw.status).toBe(2);
    expect(badBw.stderr).toMatch(/--bwlimit: .*HH:MM/);
    const badDest = beamdrop('upload', '/tmp', '--dataset', 'x', '--destination', 'tape');
    expect(badDest.status).toBe(2);
    expect(badDest.stderr).toMatch(/no destination named "tape" in the profile; use one of: local-archive/);
    expect(beamdrop('status', '99').stderr).toMatch(/there is no job 99/);
  });

  it('exits 2 for every argument commander refuses, with its message (and a JSON line with --json)', () => {
    const unknown = beamdrop('upload', '/tmp', '--dataset', 'x', '--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/error: unknown option '--bogus'/);
    const json = beamdrop('status', '--json', '--bogus');
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout.trim())).toEqual({
      type: 'error',
      error: { code: 'usage', message: "unknown option '--bogus'", retryable: false },
    });
    const command = beamdrop('uplaod', '/tmp');
    expect(command.status).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'uplaod'[\s\S]*upload/);
    const missingArg = beamdrop('verify');
    expect(missingArg.status).toBe(2);
    expect(missingArg.stderr).toMatch(/missing required argument/);
    expect(beamdrop('--version')).toMatchObject({ status: 0, stdout: '0.1.0\n' });
    expect(beamdrop('upload', '--help')).toMatchObject({ status: 0, stdout: expect.stringMatching(/--dataset <name>/) });
  });

  it('refuses --to naming a file with exit 2, naming the file, before any job exists', () => {
    const src = makeTree({ 'a.dat': 'a' });
    const file = join(home, 'not-a-folder.txt');
    writeFileSync(file, 'x');
    const r = beamdrop('upload', src, '--dataset', 'to-a-file', '--to', file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file} is a file, not a folder`);
    const json = beamdrop('upload', src, '--dataset', 'to-a-file', '--to', `file://${file}`, '--json');
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      type: 'error',
      error: { code: 'destination-invalid', file, field: 'to' },
    });
    const jobs = JSON.parse(beamdrop('status', '--json').stdout) as { dataset: string }[];
    expect(jobs.filter((j) => j.dataset === 'to-a-file')).toEqual([]);
  });

  it('started by a Node older than 24, says which Node it needs and where to find it, and exits 2', () => {
    // The system Node when it is older (v20 on the dev machine); otherwise this Node made to report v20,
    // which runs the same check in bin/beamdrop.js.
    const system = '/usr/bin/node';
    const old =
      existsSync(system) &&
      Number(spawnSync(system, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0]) < 24;
    const pretend =
      'data:text/javascript,for (const [k, v] of [["versions", { ...process.versions, node: "20.20.0" }], ["version", "v20.20.0"]]) Object.defineProperty(process, k, { value: v });';
    const r = spawnSync(
      old ? system : process.execPath,
      [...(old ? [] : ['--import', pretend]), resolve('bin/beamdrop.js'), 'status'],
      {
        encoding: 'utf8',
        env: { ...process.env, BEAMDROP_HOME: home },
        timeout: 60_000,
      },
    );
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^beamdrop: needs Node\.js 24 or newer, but was started by Node\.js v20\./);
    expect(r.stderr).toContain(resolve('node_modules/.bin/node'));
    expect(r.stderr).toContain('npm link');
    expect(r.stdout).toBe('');
  });

  it('`config check` lists every problem with its field and line', () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(
      file,
      'destinations:\n  a:\n    kind: s3\n    bucket: ok-bucket\n    endpoint: nope\nupload:\n  bandwidth: fast\n',
    );
    const r = beamdrop('config', 'check', file);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/destinations\.a\.endpoint \(line 5\): write the S3 endpoint URL/);
    const good = join(home, 'good.yaml');
    writeFileSync(good, 'destinations:\n  nas: { kind: filesystem, root: /mnt/nas }\n');
    expect(beamdrop('config', 'check', good).stdout).toMatch(/OK — destinations: nas \(filesystem\)/);
  });
});
