// Bad input and faults of single files: each ends in a clear state while the rest go on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JobEvent } from '../../src/shared/model.js';
import { collect, harness, KINDS, makeTree, randomBytesOf, type Harness } from '../support/engine-harness.js';

const CLI = resolve('bin/beamdrop.js');
const isRoot = process.getuid?.() === 0;

describe('bad input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.engine.close();
  });

  it('fails an unreadable file with the reason and uploads the rest', () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    const base = mkdtempSync(join(tmpdir(), 'bd-unr-'));
    chmodSync(base, 0o755);
    const src = join(base, 'data');
    mkdirSync(src);
    writeFileSync(join(src, 'ok-1.txt'), 'readable');
    writeFileSync(join(src, 'ok-2.txt'), 'readable too');
    writeFileSync(join(src, 'secret.raw'), 'nobody may read this');
    chmodSync(join(src, 'secret.raw'), 0o000);
    const home = join(base, 'home');
    mkdirSync(home);
    // As root every file is readable, so the CLI runs as "nobody", for whom the permission holds.
    if (isRoot) chownSync(home, 65534, 65534);
    const cmd = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    const run = spawnSync(cmd[0]!, [...cmd.slice(1), CLI, 'upload', src, '--dataset', 'unreadable', '--json'], {
      env: { ...process.env, BEAMDROP_HOME: home },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const events = run.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JobEvent);
    const finished = events.find((e) => e.type === 'job-finished');
    expect(run.status, run.stderr).toBe(1);
    expect(finished?.type === 'job-finished' && finished.summary.counts).toEqual({ verified: 2, failed: 1 });
    const failed = events.find((e) => e.type === 'file-state' && e.state === 'failed');
    expect(failed).toMatchObject({
      relpath: 'secret.raw',
      error: { code: 'unreadable', message: expect.stringMatching(/no permission to read .*secret\.raw.*chmod/) },
    });
  });

  it('fails a file deleted after the scan as vanished', async () => {
    const src = makeTree({ 'stays.txt': 'here', 'goes.txt': 'soon gone' });
    const summary = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'vanish',
      destination: 'filesystem',
      onEvent: (e) => {
        if (e.type === 'scan-done') unlinkSync(join(src, 'goes.txt'));
      },
    });
    expect(summary.counts).toEqual({ verified: 1, failed: 1 });
    expect(summary.failures).toEqual([
      {
        relpath: 'goes.txt',
        error: expect.objectContaining({
          code: 'vanished',
          message: expect.stringMatching(/^vanished: .*goes\.txt was deleted or moved/),
        }),
      },
    ]);
  });

  it.each(KINDS)('discards an upload to %s when the file changes while being sent, and sends it again', async (kind) => {
    const src = makeTree({ 'growing.raw': randomBytesOf(3 * 1024 * 1024, 3) });
    const file = join(src, 'growing.raw');
    let appended = false;
    const events: JobEvent[] = [];
    const summary = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: `changing-${kind}`,
      destination: kind,
      onEvent: (e) => events.push(e),
      onRead: () => {
        if (!appended) {
          appended = true;
          appendFileSync(file, 'written after the scan');
        }
      },
    });
    expect(summary.counts).toEqual({ verified: 1 });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'retry',
        relpath: 'growing.raw',
        error: expect.objectContaining({ code: 'changed-during-upload' }),
      }),
    );
    const dest = await h.engine.openDestination(
      { name: kind, config: h.profile.destinations[kind]!, adhoc: false },
      h.profile.upload,
    );
    try {
      const chunks: Buffer[] = [];
      for await (const c of await dest.read(`changing-${kind}/growing.raw`)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(readFileSync(file))).toBe(true);
      // Nothing else (no temporary or partial copy) was left beside it.
      expect((await collect(dest.list(`changing-${kind}/`))).map((o) => o.key)).toEqual([`changing-${kind}/growing.raw`]);
    } finally {
      await dest.close();
    }
  });

  it('reports symlinks without following them, and follows them loop-safely when asked', async () => {
    const src = makeTree({ 'real/data.bin': 'payload', 'other.txt': 'x' });
    symlinkSync(join(src, 'real/data.bin'), join(src, 'link-to-file'));
    symlinkSync(join(src, 'real'), join(src, 'link-to-dir'));
    symlinkSync(src, join(src, 'real', 'loop'));
    const events: JobEvent[] = [];
    const summary = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'links',
      destination: 'filesystem',
      onEvent: (e) => events.push(e),
    });
    expect(summary.counts).toEqual({ verified: 2 });
    const notes = events.flatMap((e) => (e.type === 'scan-done' ? e.notes : []));
    expect(notes.map((n) => [n.kind, n.path.slice(src.length + 1)]).sort()).toEqual([
      ['symlink', 'link-to-dir'],
      ['symlink', 'link-to-file'],
      ['symlink', 'real/loop'],
    ]);

    const followed: JobEvent[] = [];
    const again = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'links-followed',
      destination: 'filesystem',
      followSymlinks: true,
      onEvent: (e) => followed.push(e),
    });
    expect(again.counts.failed ?? 0).toBe(0);
    expect(again.counts.verified).toBeGreaterThanOrEqual(4);
    expect(followed.flatMap((e) => (e.type === 'scan-done' ? e.notes : [])).some((n) => n.kind === 'loop')).toBe(true);
  });

  it('pauses, not leaves "scanning", a job stopped during its scan', async () => {
    const src = makeTree(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`d${i % 30}/f${i}.dat`, 'x'])));
    const stop = new AbortController();
    const summary = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'stopped-scan',
      destination: 'filesystem',
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'scan-progress') stop.abort();
      },
    });
    expect(summary.job).toMatchObject({ state: 'paused', reason: expect.stringMatching(/during the scan/) });
    const again = await h.engine.upload(h.profile, { sources: [src], dataset: 'stopped-scan', destination: 'filesystem' });
    expect(again.job.id).toBe(summary.job.id);
    expect(again.counts).toEqual({ verified: 3000 });
  });

  it('names the field when the dataset or the sources are missing', async () => {
    await expect(h.engine.upload(h.profile, { sources: [], dataset: 'x' })).rejects.toMatchObject({
      code: 'source-invalid',
      field: 'sources',
    });
    await expect(h.engine.upload(h.profile, { sources: ['/tmp'], dataset: '  ' })).rejects.toMatchObject({
      code: 'dataset-name-invalid',
      field: 'dataset',
    });
    await expect(
      h.engine.upload(h.profile, { sources: ['/definitely/not/here'], dataset: 'missing', destination: 'filesystem' }),
    ).rejects.toMatchObject({ code: 'source-invalid', message: expect.stringMatching(/\/definitely\/not\/here/) });
  });
});

describe('bandwidth limit on a real transfer', () => {
  it('never sends faster than the limit in force', async () => {
    const h = await harness({ upload: { bandwidth: '1M' } });
    try {
      const size = 3 * 1024 * 1024;
      const src = makeTree({ 'slow.raw': randomBytesOf(size, 9) });
      const samples: { t: number; total: number }[] = [];
      let total = 0;
      const t0 = Date.now();
      const summary = await h.engine.upload(h.profile, {
        sources: [src],
        dataset: 'throttled',
        destination: 'filesystem',
        onRead: (n) => {
          total += n;
          samples.push({ t: Date.now(), total });
        },
      });
      const elapsed = (Date.now() - t0) / 1000;
      expect(summary.counts).toEqual({ verified: 1 });
      const rate = 1024 * 1024;
      const burst = rate * 0.1 + 1024 * 1024; // one bucket plus one read chunk in flight
      for (const s of samples) expect(s.total).toBeLessThanOrEqual(rate * ((s.t - t0) / 1000) + burst);
      expect(elapsed).toBeGreaterThanOrEqual((size - burst) / rate);
    } finally {
      await h.engine.close();
    }
  });
});
