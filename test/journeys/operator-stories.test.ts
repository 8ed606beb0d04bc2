// Operator stories across the seams of issue 8, each ending with every system's state read back:
// a dry run and then the real upload (finding 2), the same dataset name in two proposals
// (finding 3), reruns of an unfinished job with changed metadata and with a changed filter, and
// a sync session paused in the middle of a burst and resumed (everything stored once, the
// dataset finalised once).
import { afterAll, describe, expect, it } from 'vitest';
import {
  icatPlusCatalogue,
  journalFiles,
  journalJobs,
  localCatalogue,
  localDatasets,
  takeIcatPlusMessages,
  uploadedTwice,
} from '../support/journey-catalogues.js';
import { finished, killLeftovers, told, until } from '../support/journey-operator.js';
import type { Hashed } from '../support/journey-storage.js';
import {
  closeJourneys,
  expectCrate,
  expectJournalDone,
  expectLocalDataset,
  expectStorageHolds,
  newJourney,
  storedCrates,
} from '../support/journey-world.js';
import { expectIcatPlusMessage } from './expect-catalogues.js';
import { idArgs, startWriter, uploadBatch } from './steps.js';

afterAll(async () => {
  await killLeftovers();
  closeJourneys();
});

describe('journeys · operator stories', () => {
  it('a dry run, then the real upload with -p values and a filter: both are used (finding 2)', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const id = { dataset: 'ds-buf1', proposal: '20170251' };
    const src = j.tree({ 'frames/f_0001.h5': 2000, 'frames/f_0002.h5': 2100, 'logs/run.log': 300, 'notes.txt': 40 });
    const dry = await j.op.run(['upload', src.dir, ...idArgs(id), '--dry-run', '--json']);
    expect(dry.code, told(dry)).toBe(0);
    const dryJob = finished(dry).job;
    expect(
      journalJobs(j.home).map((x) => ({ id: x.id, kind: x.kind })),
      'a dry run is a job of its own kind',
    ).toEqual([{ id: dryJob.id, kind: 'dry-run' }]);
    expect(['running', 'scanning'], 'a dry run does not stay unfinished').not.toContain(journalJobs(j.home)[0]!.state);
    expect(await j.dest.reader.keys(), 'a dry run sends nothing').toEqual([]);
    expect(localDatasets(j.home, id.dataset), 'a dry run records nothing').toEqual([]);

    const real = await j.op.run([
      'upload',
      src.dir,
      ...idArgs(id),
      '--exclude',
      '*.log',
      '-p',
      'technique=SAXS',
      '-p',
      'sample=buf1',
      '--json',
    ]);
    expect(real.code, told(real)).toBe(0);
    expect(
      real.events.find((e) => e.type === 'job-started'),
      'the real upload is a job of its own',
    ).toMatchObject({ resumed: false });
    const s = finished(real);
    expect(s.job.id).not.toBe(dryJob.id);
    expect(s.job.metadata).toEqual({ technique: 'SAXS', sample: 'buf1' });
    expect(s.counts).toEqual({ verified: 3 });
    const out = { id, files: new Map([...src.files].filter(([rel]) => !rel.endsWith('.log'))) };
    await expectStorageHolds(j, [out]);
    expectLocalDataset(j, out, { technique: 'SAXS', sample: 'buf1', metadata: { technique: 'SAXS', sample: 'buf1' } });
    await expectCrate(j, out, { technique: 'SAXS', sample: 'buf1' });
    expectJournalDone(j, s.job.id, out, 'verified');
    expect(journalJobs(j.home).find((x) => x.id === dryJob.id)?.kind, 'the dry run stays a dry run').toBe('dry-run');
  });

  it('the same dataset name in two proposals: two datasets, each crate with its own proposal, visit, sample and files (finding 3)', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const a = await uploadBatch(
      j,
      { dataset: 'ds1', proposal: '20170251', visit: 'v1' },
      { files: { 'a/1.cbf': 1000, 'a/2.cbf': 1001, 'a/3.cbf': 1002 }, params: ['-p', 'sample=sample-A'] },
    );
    const b = await uploadBatch(
      j,
      { dataset: 'ds1', proposal: '99999', visit: 'v7' },
      { files: { 'b/1.cbf': 2000, 'b/2.cbf': 2001, 'b/3.cbf': 2002 }, params: ['-p', 'sample=sample-B'] },
    );
    await expectStorageHolds(j, [a, b]);
    await expectCrate(j, a, { sample: 'sample-A', absent: ['99999', 'v7', 'sample-B'] });
    await expectCrate(j, b, { sample: 'sample-B', absent: ['20170251', 'v1', 'sample-A'] });
    expect(localDatasets(j.home, 'ds1')).toHaveLength(2);
    expectLocalDataset(j, a, { sample: 'sample-A' });
    expectLocalDataset(j, b, { sample: 'sample-B' });
    expectJournalDone(j, a.jobId, a, 'verified');
    expectJournalDone(j, b.jobId, b, 'verified');
    const jobs = journalJobs(j.home);
    expect(jobs.map((x) => [x.proposal, x.visit])).toEqual([
      ['20170251', 'v1'],
      ['99999', 'v7'],
    ]);
  });

  it('a rerun of an interrupted upload with changed metadata continues the job, uses the new metadata and says so', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const id = { dataset: 'rerun-meta', proposal: 'P77' };
    const src = j.tree({ 'big/volume.raw': 500_000, 'a.cbf': 1000, 'b.cbf': 1001 });
    const args = ['upload', src.dir, ...idArgs(id), '--bwlimit', '200k', '--json'];
    const first = j.op.start(...args, '-p', 'sample=old-sample');
    const jobId = await first.jobId();
    await first.waitFor('a verified file', (e) => e.type === 'file-state' && e.state === 'verified');
    first.interrupt();
    const r1 = await first.done;
    expect(r1.code, told(r1)).toBe(130);
    expect(journalJobs(j.home).map((x) => x.state)).toEqual(['paused']);

    const again = await j.op.run([...args, '-p', 'sample=new-sample', '-p', 'technique=SAXS']);
    expect(again.code, told(again)).toBe(0);
    expect(again.events.find((e) => e.type === 'job-started')).toMatchObject({ jobId, resumed: true });
    expect(again.stdout + again.stderr, 'the rerun says what changed').toMatch(/sample[^\n]*old-sample[^\n]*new-sample/);
    const s = finished(again);
    expect(s.job.metadata).toEqual({ sample: 'new-sample', technique: 'SAXS' });
    expect(s.counts).toEqual({ verified: 3 });
    const out = { id, files: src.files };
    await expectStorageHolds(j, [out]);
    expectLocalDataset(j, out, {
      sample: 'new-sample',
      technique: 'SAXS',
      metadata: { sample: 'new-sample', technique: 'SAXS' },
    });
    await expectCrate(j, out, { sample: 'new-sample', technique: 'SAXS', absent: ['old-sample'] });
    expectJournalDone(j, jobId, out, 'verified');
    expect(journalJobs(j.home)).toHaveLength(1);
  });

  it('a rerun with a changed filter is refused naming the difference, and becomes a new job with --new-job', async () => {
    const j = await newJourney({ destination: 's3', catalogue: localCatalogue() });
    const id = { dataset: 'rerun-filter', proposal: 'P78' };
    const src = j.tree({ 'big/volume.raw': 500_000, 'a.cbf': 1000, 'b.cbf': 1001 });
    const args = ['upload', src.dir, ...idArgs(id), '-p', 'sample=s1', '--bwlimit', '200k', '--json'];
    const first = j.op.start(...args);
    const jobId = await first.jobId();
    await first.waitFor('a verified file', (e) => e.type === 'file-state' && e.state === 'verified');
    first.interrupt();
    expect((await first.done).code).toBe(130);
    const before = journalJobs(j.home);
    expect(before.map((x) => x.state)).toEqual(['paused']);

    const refused = await j.op.run([...args, '--exclude', '*.cbf']);
    expect(refused.code, told(refused)).toBe(2);
    const said = refused.stdout + refused.stderr;
    expect(said).toMatch(new RegExp(`job ${jobId}`));
    expect(said).toMatch(/exclude/);
    expect(said).toMatch(/\*\.cbf/);
    expect(said).toMatch(/--new-job/);
    expect(journalJobs(j.home), 'nothing changed in the journal').toEqual(before);

    const fresh = await j.op.run([...args, '--exclude', '*.cbf', '--new-job']);
    expect(fresh.code, told(fresh)).toBe(0);
    const s = finished(fresh);
    expect(s.job.id).not.toBe(jobId);
    expect(s.job.state).toBe('done');
    expect(journalFiles(j.home, s.job.id).map((f) => [f.relpath, f.state])).toEqual([['big/volume.raw', 'verified']]);
    expect(journalJobs(j.home).find((x) => x.id === jobId)?.state, 'the replaced job is cancelled, not continued').toBe(
      'cancelled',
    );
    const big = src.files.get('big/volume.raw')!;
    expect(await j.dest.reader.hash(`${j.prefix(id)}big/volume.raw`)).toEqual(big);
    expect(await j.dest.reader.leftovers()).toEqual([]);
    expect(uploadedTwice(j.home)).toEqual([]);
  });

  it('a sync session paused during a burst and resumed: every file stored once, the dataset finalised once', async () => {
    const catalogue = icatPlusCatalogue();
    const j = await newJourney({ destination: 'webdav', catalogue });
    await j.login();
    const id = { dataset: 'burst-resume', proposal: 'MX2400' };
    const { dir } = j.tree({});
    // 64 KiB/s: the burst of 120 × 4 KiB takes over seven seconds to drain, so the pause lands in it.
    const watch = ['watch', dir, ...idArgs(id), '-p', 'sample=crystal-9', '--bwlimit', '64k', '--json'];
    const first = j.op.start(...watch);
    const jobId = await first.jobId();
    await first.waitFor('the first scan', (e) => e.type === 'scan-done');
    const writer = startWriter({
      out: dir,
      steps: [
        { kind: 'burst', dir: 'burst', prefix: 'frame', count: 120, size: 4096 },
        { kind: 'sleep', ms: 1500 },
        { kind: 'stream', dir: 'late', prefix: 'img', count: 3, size: 40_000, chunk: 10_000, chunkPauseMs: 50, everyMs: 300 },
      ],
    });
    const verified = () =>
      new Set(
        journalFiles(j.home, jobId)
          .filter((f) => f.state === 'verified' || f.state === 'registered')
          .map((f) => f.relpath),
      );
    await until('some of the burst verified', () => verified().size >= 10, 60_000, 20);

    // Paused from another terminal in the middle of the burst: not finalised.
    const pause = await j.op.run(['stop', String(jobId), '--pause']);
    expect(pause.stdout + pause.stderr, told(pause)).toMatch(new RegExp(`[Jj]ob ${jobId} is paused`));
    await first.done;
    expect(journalJobs(j.home).find((x) => x.id === jobId)?.state).toBe('paused');
    expect(verified().size, 'the pause came during the burst').toBeLessThan(120);
    expect(await storedCrates(j), 'no crate for a paused session').toEqual([]);
    expect(await takeIcatPlusMessages(catalogue.queue, 0, 500), 'no message for a paused session').toEqual([]);

    const second = j.op.start('watch', '--resume', String(jobId), '--json');
    expect(await second.waitFor('job-started', (e) => e.type === 'job-started')).toMatchObject({ jobId, resumed: true });
    await writer.done;
    const files = new Map(writer.files.map((f): [string, Hashed] => [f.relpath, { size: f.size, sha256: f.sha256 }]));
    expect(files.size).toBe(123);
    await until('every written file verified', () => [...files.keys()].every((r) => verified().has(r)), 90_000);
    const stop = await j.op.run(['stop', String(jobId)]);
    expect(stop.code, told(stop)).toBe(0);
    const end = await second.done;
    expect(end.code, told(end)).toBe(0);

    const out = { id, files };
    await expectStorageHolds(j, [out]);
    await expectIcatPlusMessage(j, catalogue.queue, out, { sample: 'crystal-9' });
    await expectCrate(j, out, { sample: 'crystal-9' });
    expectLocalDataset(j, out, { sample: 'crystal-9' });
    expectJournalDone(j, jobId, out, 'registered');
  });
});
