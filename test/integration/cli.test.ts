// The `beamdrop` command as a user runs it: a real child process on the built CLI.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    const done = events.at(-1);
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
    expect(noDataset.status).toBe(1); // commander's own usage error for a missing required option
    expect(noDataset.stderr).toMatch(/--dataset/);
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
