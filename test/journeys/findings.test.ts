// One journey per numbered finding of issue 8 that the matrix and the operator stories do not
// already walk through: 4 (refused starts leave no job; cancel and forget), 5 (wrong outcomes:
// nothing matched, unknown flags, --to a file, fetch of an unknown dataset), 6 (reconcile of
// same-named datasets and of a sync dataset) and 8 (batch and sync pick the same files with the
// same globs and defaults). Findings 1 and 7 are checked by every sync journey of the matrix,
// 2 and 3 by operator-stories.test.ts.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { journalFiles, journalJobs, localCatalogue } from '../support/journey-catalogues.js';
import { finished, killLeftovers, told, until } from '../support/journey-operator.js';
import { closeJourneys, expectStorageHolds, newJourney, type Journey } from '../support/journey-world.js';
import { idArgs, stopWatch, syncAcquisition, uploadBatch, type Watching } from './steps.js';

afterAll(async () => {
  await killLeftovers();
  closeJourneys();
});

interface Report {
  dataset: string;
  jobId: number;
  ok: number;
  findings: { relpath: string; problem: string }[];
}
const reportOf = (stdout: string): Report => JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;

/** Interrupts a slow upload after its first verified file: a paused job with part of its files stored. */
async function interruptedUpload(j: Journey, args: string[]): Promise<number> {
  const first = j.op.start(...args, '--bwlimit', '200k', '--json');
  const jobId = await first.jobId();
  await first.waitFor('a verified file', (e) => e.type === 'file-state' && e.state === 'verified');
  first.interrupt();
  const r = await first.done;
  expect(r.code, told(r)).toBe(130);
  return jobId;
}

describe('journeys · findings of issue 8', () => {
  it('4: a start refused for bad input leaves no job; an unfinished job is cancelled, then forgotten, each stated first', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const src = j.tree({ 'big/volume.raw': 500_000, 'a.cbf': 1000, 'b.cbf': 1001 });

    const missing = await j.op.run(['upload', join(j.base, 'no-such-folder'), '--dataset', 'ds4', '--proposal', 'P4']);
    expect(missing.code, told(missing)).toBe(2);
    expect(missing.stderr).toMatch(/no-such-folder/);
    const slash = await j.op.run(['upload', src.dir, '--dataset', 'a/b', '--proposal', 'P4']);
    expect(slash.code, told(slash)).toBe(2);
    expect(slash.stderr).toMatch(/"a\/b"|a\/b/);
    const watchMissing = await j.op.run(['watch', join(j.base, 'no-such-detector'), '--dataset', 'ds4w', '--proposal', 'P4']);
    expect(watchMissing.code, told(watchMissing)).toBe(2);
    expect(watchMissing.stderr).toMatch(/no-such-detector/);
    expect(journalJobs(j.home), 'refused starts leave no job').toEqual([]);
    expect(await j.dest.reader.keys()).toEqual([]);

    const args = ['upload', src.dir, '--dataset', 'ds4', '--proposal', 'P4'];
    const jobId = await interruptedUpload(j, args);
    const storedBefore = await j.dest.reader.keys();
    expect(storedBefore.length, 'part of the files reached the destination').toBeGreaterThan(0);

    // Without --yes: what would happen to the stored files is said, and nothing is done.
    const ask = await j.op.run(['cancel', String(jobId)]);
    expect(ask.code, told(ask)).toBe(2);
    const said = ask.stdout + ask.stderr;
    expect(said).toMatch(new RegExp(`job ${jobId}`, 'i'));
    expect(said, 'the stored files are counted before anything is done').toMatch(
      new RegExp(`${storedBefore.length} file\\(s\\) already stored`),
    );
    expect(said).toMatch(/--yes/);
    expect(journalJobs(j.home).map((x) => x.state)).toEqual(['paused']);

    const cancel = await j.op.run(['cancel', String(jobId), '--yes']);
    expect(cancel.code, told(cancel)).toBe(0);
    expect(journalJobs(j.home).map((x) => [x.id, x.state])).toEqual([[jobId, 'cancelled']]);
    expect(await j.dest.reader.keys(), 'cancelling leaves the stored files as they are, and finalises nothing').toEqual(
      storedBefore,
    );
    // A cancelled job is never continued: the same upload again is a new job.
    const rerun = await j.op.run([...args, '--json']);
    expect(rerun.code, told(rerun)).toBe(0);
    expect(rerun.events.find((e) => e.type === 'job-started')).toMatchObject({ resumed: false });
    const rerunId = finished(rerun).job.id;
    expect(rerunId).not.toBe(jobId);

    // forget removes only a job that stored nothing: not the cancelled one, but a dry run.
    const keep = await j.op.run(['forget', String(jobId), '--yes']);
    expect(keep.code, told(keep)).toBe(2);
    expect(keep.stderr).toMatch(/stored/);
    const dry = await j.op.run([...args, '--dry-run', '--json']);
    expect(dry.code, told(dry)).toBe(0);
    const dryId = finished(dry).job.id;
    const forgetAsk = await j.op.run(['forget', String(dryId)]);
    expect(forgetAsk.code, told(forgetAsk)).toBe(2);
    expect(forgetAsk.stdout + forgetAsk.stderr).toMatch(/--yes/);
    const forget = await j.op.run(['forget', String(dryId), '--yes']);
    expect(forget.code, told(forget)).toBe(0);
    expect(
      journalJobs(j.home).map((x) => x.id),
      'the dry run is gone from the journal',
    ).toEqual([jobId, rerunId]);
    const status = await j.op.run(['status', '--json']);
    expect((status.events[0]?.items as { id: number }[]).map((x) => x.id).sort()).toEqual([jobId, rerunId].sort());
    const unknown = await j.op.run(['forget', '999', '--yes']);
    expect(unknown.code, told(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/999/);
  });

  it('5: nothing matched, an unknown flag, a missing --dataset, --to a file and an unknown dataset exit 2 saying what to do', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const src = j.tree({ 'a.cbf': 100, 'sub/b.cbf': 100 });

    const nothing = await j.op.run(['upload', src.dir, '--dataset', 'ds5', '--proposal', 'P5', '--include', '*.h5']);
    expect(nothing.code, told(nothing)).toBe(2);
    expect(nothing.stderr).toMatch(/\*\.h5/);
    expect(
      journalJobs(j.home).filter((x) => x.state === 'done'),
      'no job "done" with nothing in it',
    ).toEqual([]);
    expect(await j.dest.reader.keys(), 'nothing stored, no crate of an empty dataset').toEqual([]);

    const flag = await j.op.run(['upload', src.dir, '--dataset', 'ds5', '--bogus']);
    expect(flag.code, told(flag)).toBe(2);
    expect(flag.stderr).toMatch(/--bogus/);
    const noName = await j.op.run(['upload', src.dir]);
    expect(noName.code, told(noName)).toBe(2);
    expect(noName.stderr).toMatch(/--dataset/);
    const toFile = await j.op.run(['upload', src.dir, '--dataset', 'ds5', '--to', j.profile]);
    expect(toFile.code, told(toFile)).toBe(2);
    expect(toFile.stderr).toMatch(/facility\.yaml/);
    const fetch = await j.op.run(['fetch', 'nosuch', join(j.base, 'fetched')]);
    expect(fetch.code, told(fetch)).toBe(2);
    expect(fetch.stderr).toMatch(/beamdrop find/);
    expect(
      journalJobs(j.home).filter((x) => x.state !== 'failed' && x.state !== 'cancelled'),
      'nothing refused is left as a job to resume or as done',
    ).toEqual([]);
  });

  it('6: reconcile tells same-named datasets of two proposals apart, and knows a sync dataset', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const five = (p: string) => Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`${p}/f${i}.cbf`, 1000 + i]));
    const a = await uploadBatch(j, { dataset: 'ds6', proposal: '20170251' }, { files: five('a'), params: ['-p', 'sample=A'] });
    const b = await uploadBatch(j, { dataset: 'ds6', proposal: '99999' }, { files: five('b'), params: ['-p', 'sample=B'] });
    for (const d of [a, b]) {
      const r = await j.op.run(['reconcile', d.dir, '--json']);
      expect(r.code, told(r)).toBe(0);
      const report = reportOf(r.stdout);
      expect(report).toMatchObject({ dataset: 'ds6', jobId: d.jobId, ok: 5, findings: [] });
    }
    const byName = await j.op.run(['reconcile', 'ds6']);
    expect(byName.code, told(byName)).toBe(2);
    expect(byName.stderr).toMatch(/20170251/);
    expect(byName.stderr).toMatch(/99999/);

    const s = await syncAcquisition(
      j,
      { dataset: 'ds6-sync', proposal: '20170251' },
      { params: ['-p', 'sample=C'], stop: 'ctrl-c' },
    );
    const r = await j.op.run(['reconcile', 'ds6-sync', '--json']);
    expect(r.code, told(r)).toBe(0);
    expect(reportOf(r.stdout)).toMatchObject({ dataset: 'ds6-sync', jobId: s.jobId, ok: s.files.size, findings: [] });
  });

  it('8: batch and sync pick the same files with the same globs, and ignore the same files by default', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const src = j.tree({
      'top.h5': 100,
      'sub/deep.h5': 101,
      'sub/deeper/x.h5': 102,
      'sub/notes.txt': 103,
      '.hidden.h5': 104,
      'sub/.cache/y.h5': 105,
      'scratch.tmp': 106,
      'sub/copy.h5.part': 107,
      '~lock.h5': 108,
    });
    const filters = ['--include', '*.h5', '--exclude', 'sub/deeper/**'];
    const expectedFiltered = ['sub/deep.h5', 'top.h5'];
    const expectedDefault = ['sub/deep.h5', 'sub/deeper/x.h5', 'sub/notes.txt', 'top.h5'];

    const picked = async (mode: 'batch' | 'sync', dataset: string, extra: string[], expected: string[]) => {
      const id = { dataset, proposal: 'P8' };
      let jobId: number;
      if (mode === 'batch') {
        const r = await j.op.run(['upload', src.dir, ...idArgs(id), ...extra, '--json']);
        expect(r.code, told(r)).toBe(0);
        jobId = finished(r).job.id;
      } else {
        const bg = j.op.start('watch', src.dir, ...idArgs(id), ...extra, '--json');
        jobId = await bg.jobId();
        const w: Watching = { bg, jobId, dir: src.dir, allVerified: async () => new Map() };
        // Files that are already complete need one quiet period; a file that is never picked up
        // shows in the comparison below rather than as a timeout.
        await until(
          'the expected files verified',
          () =>
            expected.every((rel) =>
              bg.events.some((e) => e.type === 'file-state' && e.state === 'verified' && e.relpath === rel),
            ),
          15_000,
        ).catch(() => undefined);
        await stopWatch(j, w, 'stop-command');
      }
      const inJournal = journalFiles(j.home, jobId)
        .map((f) => f.relpath)
        .sort();
      const stored = (await j.dest.reader.keys())
        .filter((k) => k.startsWith(j.prefix(id)))
        .map((k) => k.slice(j.prefix(id).length))
        .sort();
      return { inJournal, stored };
    };
    for (const [extra, expected, name] of [
      [filters, expectedFiltered, 'glob'],
      [[], expectedDefault, 'default'],
    ] as const) {
      const batch = await picked('batch', `ds8-${name}-batch`, [...extra], [...expected]);
      const sync = await picked('sync', `ds8-${name}-sync`, [...extra], [...expected]);
      expect(batch, `batch with ${name} rules`).toEqual({ inJournal: expected, stored: expected });
      expect(sync, `sync with ${name} rules`).toEqual({ inJournal: expected, stored: expected });
    }
    // Every file picked is stored intact (four datasets, one crate each).
    const hashes = (names: readonly string[]) => new Map(names.map((n) => [n, src.files.get(n)!]));
    await expectStorageHolds(j, [
      { id: { dataset: 'ds8-glob-batch', proposal: 'P8' }, files: hashes(expectedFiltered) },
      { id: { dataset: 'ds8-glob-sync', proposal: 'P8' }, files: hashes(expectedFiltered) },
      { id: { dataset: 'ds8-default-batch', proposal: 'P8' }, files: hashes(expectedDefault) },
      { id: { dataset: 'ds8-default-sync', proposal: 'P8' }, files: hashes(expectedDefault) },
    ]);
  });
});
