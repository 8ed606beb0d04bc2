// The job model end to end on the engine (filesystem destination, local catalogue): one lifecycle
// for batch, sync and dry runs. A stopped sync session is finalised like a batch upload; a dry run
// is a job of its own that records nothing; a rerun says what differs from the unfinished job
// (continues with new metadata, refuses other filters unless --new-job); bad input leaves no job;
// filters that match nothing fail the job; cancel and forget say what happens and refuse the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { destinationSchema } from '../../src/shared/profile-schema.js';
import { syncSchema } from '../../src/shared/profile-sync-schema.js';
import { CRATE_SUFFIX } from '../../src/main/engine/catalogue/ro-crate.js';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.engine.close();
});

const recorder = () => {
  const events: JobEvent[] = [];
  return { events, onEvent: (e: JobEvent) => events.push(e) };
};
const notes = (events: JobEvent[]) => events.flatMap((e) => (e.type === 'job-note' ? [e] : []));

/** A batch job stopped by the operator right after its scan (or after `afterVerified` files): left paused. */
async function pausedUpload(req: Parameters<Harness['engine']['upload']>[1], afterVerified = 0): Promise<JobSummary> {
  const stop = new AbortController();
  let verified = 0;
  const summary = await h.engine.upload(h.profile, {
    destination: 'filesystem',
    policy: { concurrency: 1 },
    ...req,
    signal: stop.signal,
    onEvent: (e) => {
      if (afterVerified === 0 && e.type === 'scan-done') stop.abort();
      if (e.type === 'file-state' && e.state === 'verified' && ++verified === afterVerified) stop.abort();
    },
  });
  expect(summary.job.state).toBe('paused');
  return summary;
}

describe('dry runs', () => {
  it('are jobs of their own that end done, record nothing, and never take the metadata of the real upload', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const req = {
      sources: [src],
      dataset: 'dry-then-real',
      proposal: 'P9',
      destination: 'filesystem',
      metadata: { technique: 'SAXS', sample: 'buf1' },
    };
    const dry = await h.engine.upload(h.profile, { ...req, dryRun: true });
    expect(dry.job).toMatchObject({ kind: 'dry-run', state: 'done' });
    expect(dry.counts).toEqual({ discovered: 2 });
    expect(h.engine.services.catalogue.matching({ name: 'dry-then-real' })).toEqual([]);
    expect(existsSync(join(h.archive, 'P9'))).toBe(false);

    const real = await h.engine.upload(h.profile, req);
    expect(real.job).toMatchObject({ kind: 'batch', state: 'done', metadata: { technique: 'SAXS', sample: 'buf1' } });
    expect(real.job.id).not.toBe(dry.job.id);
    expect(real.counts).toEqual({ verified: 2 });
    expect(h.engine.services.catalogue.dataset({ name: 'dry-then-real', proposal: 'P9' })).toMatchObject({
      technique: 'SAXS',
      samples: ['buf1'],
      status: 'complete',
      files: 2,
    });
    expect(h.engine.services.journal.job(dry.job.id)).toMatchObject({ kind: 'dry-run', state: 'done' });
    await expect(h.engine.resume(dry.job.id)).rejects.toMatchObject({
      code: 'job-state',
      message: expect.stringMatching(/dry run/),
    });
  });
});

describe('a rerun of an unfinished job', () => {
  it('continues with the metadata given now, and says which keys changed', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const req = {
      sources: [src],
      dataset: 'new-meta',
      proposal: 'P1',
      metadata: { technique: 'SAXS', sample: 'buf1', note: 'x' },
    };
    const first = await pausedUpload(req);
    const rec = recorder();
    const again = await h.engine.upload(h.profile, {
      ...req,
      destination: 'filesystem',
      metadata: { technique: 'SAXS', sample: 'buf2', buffer: 'HEPES' },
      onEvent: rec.onEvent,
    });
    expect(again.job).toMatchObject({
      id: first.job.id,
      state: 'done',
      metadata: { technique: 'SAXS', sample: 'buf2', buffer: 'HEPES' },
    });
    const [note] = notes(rec.events);
    expect(note).toMatchObject({ kind: 'options-updated', jobId: first.job.id });
    expect(note!.message).toMatch(/-p buffer: was not set, now "HEPES"/);
    expect(note!.message).toMatch(/-p note: was "x", now not set/);
    expect(note!.message).toMatch(/-p sample: was "buf1", now "buf2"/);
    expect(note!.message).not.toMatch(/technique/);
    // The note comes after the job-started event that names the job.
    expect(rec.events.findIndex((e) => e.type === 'job-started')).toBeLessThan(rec.events.indexOf(note!));
    const ds = h.engine.services.catalogue.dataset({ name: 'new-meta', proposal: 'P1' })!;
    expect(ds).toMatchObject({ samples: ['buf2'], status: 'complete' });
    expect(ds.metadata).toMatchObject({ sample: 'buf2', buffer: 'HEPES' });
  });

  it('is refused when its filters or symlink setting differ, naming each; --new-job cancels the old job and starts anew', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.h5': 'bravo' });
    const req = { sources: [src], dataset: 'new-filter', include: ['*.dat'] };
    const first = await pausedUpload(req);
    const other = { ...req, destination: 'filesystem', include: ['*.h5'], followSymlinks: true };
    const refused = h.engine.upload(h.profile, other);
    await expect(refused).rejects.toMatchObject({ code: 'job-options-differ', dataset: 'new-filter' });
    const message = ((await refused.catch((e: unknown) => e)) as Error).message;
    expect(message).toMatch(/--include: was '\*\.dat', now '\*\.h5'/);
    expect(message).toMatch(/--follow-symlinks: was off, now on/);
    expect(message).toMatch(new RegExp(`beamdrop resume ${first.job.id}`));
    expect(message).toMatch(/--new-job/);
    expect(h.engine.services.journal.job(first.job.id)).toMatchObject({ state: 'paused', options: { include: ['*.dat'] } });

    const rec = recorder();
    const fresh = await h.engine.upload(h.profile, { ...other, newJob: true, onEvent: rec.onEvent });
    expect(fresh.job.id).not.toBe(first.job.id);
    expect(fresh.counts).toEqual({ verified: 1 });
    expect(h.engine.services.journal.job(first.job.id)).toMatchObject({
      state: 'cancelled',
      reason: expect.stringMatching(new RegExp(`replaced by job ${fresh.job.id}`)),
    });
    expect(notes(rec.events).map((n) => n.kind)).toEqual(['job-replaced', 'dataset-finalised']);
    expect(notes(rec.events)[0]!.message).toMatch(/it had stored no file/);
    await expect(h.engine.resume(first.job.id)).rejects.toMatchObject({
      code: 'job-state',
      message: expect.stringMatching(/cancelled/),
    });
  });
});

describe('bad input', () => {
  it('is refused before a job exists, with the code and field', async () => {
    const before = h.engine.services.journal.jobs(1000).length;
    const src = makeTree({ 'a.dat': 'alpha' });
    const upload = (patch: Record<string, unknown>) =>
      h.engine.upload(h.profile, { sources: [src], dataset: 'ok', destination: 'filesystem', ...patch });
    await expect(upload({ sources: ['/definitely/not/here'] })).rejects.toMatchObject({
      code: 'source-invalid',
      file: '/definitely/not/here',
      message: expect.stringMatching(/no such file or folder/),
    });
    await expect(upload({ sources: [] })).rejects.toMatchObject({ code: 'source-invalid', field: 'sources' });
    await expect(upload({ dataset: 'a/b' })).rejects.toMatchObject({
      code: 'dataset-name-invalid',
      field: 'dataset',
      message: expect.stringMatching(/"a\/b" contains "\/"/),
    });
    await expect(upload({ dataset: '  ' })).rejects.toMatchObject({ code: 'dataset-name-invalid', field: 'dataset' });
    await expect(upload({ proposal: '..' })).rejects.toMatchObject({ code: 'dataset-name-invalid', field: 'proposal' });
    await expect(upload({ visit: 'v\n1' })).rejects.toMatchObject({ code: 'dataset-name-invalid', field: 'visit' });
    const watch = (patch: Record<string, unknown>) =>
      h.engine.watch(h.profile, { folders: [src], dataset: 'ok', destination: 'filesystem', ...patch });
    await expect(watch({ folders: [join(src, 'a.dat')] })).rejects.toMatchObject({
      code: 'source-invalid',
      message: expect.stringMatching(/is a file, not a folder/),
    });
    await expect(watch({ folders: ['/definitely/not/here'] })).rejects.toMatchObject({ code: 'source-invalid' });
    await expect(watch({ dataset: 'x/../y' })).rejects.toMatchObject({ code: 'dataset-name-invalid' });
    expect(h.engine.services.journal.jobs(1000)).toHaveLength(before);
  });

  it('filters (or an empty folder) that match nothing fail the job with nothing-matched, naming them', async () => {
    const src = makeTree({ 'a.dat': 'alpha' });
    const refused = h.engine.upload(h.profile, { sources: [src], dataset: 'none', destination: 'filesystem', include: ['*.h5'] });
    await expect(refused).rejects.toMatchObject({ code: 'nothing-matched', field: 'sources' });
    const message = ((await refused.catch((e: unknown) => e)) as Error).message;
    expect(message).toContain(src);
    expect(message).toMatch(/include '\*\.h5'/);
    const job = h.engine.services.journal.jobsNamed('none').at(-1)!;
    expect(job).toMatchObject({ state: 'failed', reason: message });
    const empty = mkdtempSync(join(tmpdir(), 'bd-empty-'));
    await expect(
      h.engine.upload(h.profile, { sources: [empty], dataset: 'none-empty', destination: 'filesystem' }),
    ).rejects.toMatchObject({
      code: 'nothing-matched',
      message: expect.stringMatching(/holds no file/),
    });
    // It stored nothing: it can be forgotten.
    h.engine.forgetJob(job.id);
    expect(h.engine.services.journal.job(job.id)).toBeNull();
  });
});

describe('cancel and forget', () => {
  it('say what happens before anything is done, cancel for good, and forget only what stored nothing', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo', 'c.dat': 'charlie' });
    const paused = await pausedUpload({ sources: [src], dataset: 'to-cancel' }, 1);
    const id = paused.job.id;
    expect(paused.counts.verified).toBe(1);
    const plan = h.engine.cancelPlan(id);
    expect(plan.stored).toBe(1);
    const text = plan.lines.join('\n');
    expect(text).toMatch(/the 1 file\(s\) already stored at "filesystem" stay there and stay recorded in the local catalogue/);
    expect(text).toMatch(/the 2 other file\(s\) of the job are not sent/);
    expect(text).toMatch(/not finalised .* nothing is deleted/);
    expect(h.engine.services.journal.job(id)!.state).toBe('paused'); // the plan changed nothing
    expect(() => h.engine.forgetPlan(id)).toThrow(
      expect.objectContaining({ code: 'job-state', message: expect.stringMatching(/beamdrop cancel/) }),
    );

    expect(h.engine.cancelJob(id)).toMatchObject({ state: 'cancelled' });
    expect(h.engine.services.catalogue.dataset('to-cancel')).toMatchObject({ status: 'acquiring', files: 1 });
    expect(existsSync(join(h.archive, 'to-cancel', 'a.dat'))).toBe(true);
    expect(() => h.engine.cancelPlan(id)).toThrow(expect.objectContaining({ code: 'job-state' }));
    expect(() => h.engine.forgetJob(id)).toThrow(
      expect.objectContaining({ code: 'job-state', message: expect.stringMatching(/verify and fetch/) }),
    );
    await expect(h.engine.resume(id)).rejects.toMatchObject({ code: 'job-state' });

    const dry = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'to-cancel',
      destination: 'filesystem',
      dryRun: true,
    });
    expect(dry.counts).toEqual({ skipped: 1, discovered: 2 });
    expect(h.engine.forgetPlan(dry.job.id).lines.join('\n')).toMatch(/stored nothing/);
    h.engine.forgetJob(dry.job.id);
    expect(h.engine.services.journal.job(dry.job.id)).toBeNull();
    expect(() => h.engine.forgetJob(dry.job.id)).toThrow(expect.objectContaining({ code: 'job-not-found' }));
  });
});

describe('sync sessions', () => {
  it('a stopped session ends done and its dataset is finalised like a batch upload: complete, with its RO-Crate', async () => {
    const src = makeTree({ 'a.cbf': 'alpha', 'run/b.cbf': 'bravo' });
    const profile = {
      ...h.profile,
      sync: syncSchema.parse({ quietPeriod: '300ms', reconcileInterval: '1s', pollInterval: '200ms', stopGrace: '2s' }),
    };
    const rec = recorder();
    const finish = new AbortController();
    let finished: JobSummary | null = null;
    const watching = h.engine.watch(profile, {
      folders: [src],
      dataset: 'sync-final',
      proposal: 'P2',
      destination: 'filesystem',
      metadata: { technique: 'SAXS', sample: 'lys' },
      signal: finish.signal,
      onEvent: rec.onEvent,
      onDatasetFinished: (s) => {
        finished = s;
      },
    });
    await waitUntil(
      'both files verified',
      () => rec.events.filter((e) => e.type === 'file-state' && e.state === 'verified').length === 2,
      30_000,
    );
    writeFileSync(join(src, 'late.cbf'), 'written just before the stop');
    finish.abort();
    const { summary } = await watching;
    expect(summary.job).toMatchObject({ kind: 'sync', state: 'done' });
    expect(summary.counts).toEqual({ verified: 3 });
    expect(finished).not.toBeNull();
    expect(notes(rec.events)).toEqual([expect.objectContaining({ kind: 'dataset-finalised' })]);
    const ds = h.engine.services.catalogue.dataset({ name: 'sync-final', proposal: 'P2' })!;
    expect(ds).toMatchObject({ status: 'complete', files: 3, technique: 'SAXS' });
    expect(ds.crateUri).not.toBeNull();
    expect(existsSync(join(h.archive, 'P2', `sync-final${CRATE_SUFFIX}`))).toBe(true);
    expect(h.engine.services.journal.events(summary.job.id).map((e) => e.type)).toContain('dataset-finished');
    await expect(h.engine.resumeWatch(summary.job.id)).rejects.toMatchObject({ code: 'job-state' });
  }, 60_000);
});

// ---- review findings on the issue-8 change (2, 6, 8, 11, 12)

/** Another connection to the engine's journal file, as another version of Beamdrop would open it. */
function journalFile(): Database.Database {
  return new Database(h.engine.services.paths.journal);
}

/** The harness profile plus a filesystem destination "legacy" with the key template of earlier versions. */
function legacyProfile(root = mkdtempSync(join(tmpdir(), 'bd-legacy-'))) {
  return {
    ...h.profile,
    destinations: {
      ...h.profile.destinations,
      legacy: destinationSchema.parse({ kind: 'filesystem', root, keyTemplate: '{proposal}/{dataset}/{relpath}' }),
    },
  };
}

describe('two datasets never share a storage folder (finding 2)', () => {
  it('refuses, before any job exists, a dataset whose keys would go under the folder another dataset stored into', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bd-legacy-'));
    const profile = legacyProfile(root);
    const v1 = await h.engine.upload(profile, {
      sources: [makeTree({ 'a.cbf': 'visit one', 's.cbf': 'same' })],
      dataset: 'shared',
      proposal: 'P',
      visit: 'v1',
      destination: 'legacy',
    });
    expect(v1.counts).toEqual({ verified: 2 });
    const before = h.engine.services.journal.records(1000).length;
    const src2 = makeTree({ 'a.cbf': 'visit two', 's.cbf': 'same' });
    for (const dryRun of [false, true]) {
      const refused = h.engine.upload(profile, {
        sources: [src2],
        dataset: 'shared',
        proposal: 'P',
        visit: 'v2',
        destination: 'legacy',
        dryRun,
      });
      await expect(refused).rejects.toMatchObject({ code: 'destination-invalid', field: 'keyTemplate', dataset: 'shared' });
      const message = ((await refused.catch((e: unknown) => e)) as Error).message;
      expect(message).toContain('"shared" (proposal P, visit v2)');
      expect(message).toContain(`job ${v1.job.id} already stored files of dataset "shared" (proposal P, visit v1)`);
      expect(message).toContain('"P/shared/"');
      expect(message).toContain('keyTemplate: "{proposal}/{visit}/{dataset}/{relpath}"');
    }
    expect(h.engine.services.journal.records(1000)).toHaveLength(before);
    // Nothing of visit v2 reached visit v1's folder.
    expect(readFileSync(join(root, 'P', 'shared', 'a.cbf'), 'utf8')).toBe('visit one');
    expect(h.engine.services.catalogue.matching({ name: 'shared' })).toHaveLength(1);
  });

  it('the default key template tells visits apart and keeps the keys of datasets without a visit', async () => {
    const up = (visit: string | undefined, text: string) =>
      h.engine.upload(h.profile, {
        sources: [makeTree({ 'a.cbf': text })],
        dataset: 'by-visit',
        proposal: 'PV',
        ...(visit ? { visit } : {}),
        destination: 'filesystem',
      });
    for (const [visit, text] of [
      ['v1', 'one'],
      ['v2', 'two'],
      [undefined, 'none'],
    ] as const)
      expect((await up(visit, text)).counts).toEqual({ verified: 1 });
    expect(readFileSync(join(h.archive, 'PV', 'v1', 'by-visit', 'a.cbf'), 'utf8')).toBe('one');
    expect(readFileSync(join(h.archive, 'PV', 'v2', 'by-visit', 'a.cbf'), 'utf8')).toBe('two');
    expect(readFileSync(join(h.archive, 'PV', 'by-visit', 'a.cbf'), 'utf8')).toBe('none');
  });

  it('jobs keep the key template they were started with, and a dataset keeps its folder when the template changes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bd-legacy-'));
    const old = legacyProfile(root);
    // The same destination once the profile takes the default template (as the local archive did on upgrade).
    const now = {
      ...old,
      destinations: { ...old.destinations, legacy: destinationSchema.parse({ kind: 'filesystem', root }) },
    };
    const src = makeTree({ 'a.cbf': 'alpha', 'b.cbf': 'bravo' });
    const req = { sources: [src], dataset: 'kept-keys', proposal: 'PK', visit: 'v1', destination: 'legacy' };
    const stop = new AbortController();
    const first = await h.engine.upload(old, {
      ...req,
      policy: { concurrency: 1 },
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'file-state' && e.state === 'verified') stop.abort();
      },
    });
    expect(first.job.state).toBe('paused');
    const rec = recorder();
    const again = await h.engine.upload(now, { ...req, onEvent: rec.onEvent });
    expect(again.job).toMatchObject({ id: first.job.id, state: 'done' });
    expect(readdirSync(join(root, 'PK', 'kept-keys')).sort()).toEqual(['a.cbf', 'b.cbf']);
    const kept = notes(rec.events).find((n) => n.kind === 'options-kept');
    expect(kept?.message).toMatch(
      /the key template of "legacy" \(from the profile\): was "\{proposal\}\/\{dataset\}\/\{relpath\}", now "\{proposal\}\/\{visit\}\/\{dataset\}\/\{relpath\}"/,
    );
    expect(h.engine.services.journal.job(first.job.id)!.options.keyTemplate).toBe('{proposal}/{dataset}/{relpath}');

    // A new job of the same dataset: its files join the dataset's folder, with a note.
    writeFileSync(join(src, 'c.cbf'), 'charlie');
    const rec2 = recorder();
    const third = await h.engine.upload(now, { ...req, onEvent: rec2.onEvent });
    expect(third.job.id).not.toBe(first.job.id);
    expect(readdirSync(join(root, 'PK', 'kept-keys')).sort()).toEqual(['a.cbf', 'b.cbf', 'c.cbf']);
    expect(existsSync(join(root, 'PK', 'v1'))).toBe(false);
    expect(notes(rec2.events).find((n) => n.kind === 'options-kept')?.message).toMatch(
      /already has files under "PK\/kept-keys\/" on "legacy" \(job \d+\).*keeps it, so that the dataset stays in one folder/,
    );
  });
});

describe("jobs written before the operator's patterns were stored apart (finding 6)", () => {
  /** Rewrites a job's stored options to what the version before this one wrote (no `own`, no default excludes). */
  function asWrittenBefore(jobId: number, sync = false): void {
    const db = journalFile();
    try {
      const row = db.prepare('SELECT options FROM jobs WHERE id = ?').get(jobId) as { options: string };
      const o = JSON.parse(row.options) as Record<string, unknown> & {
        exclude: string[];
        own?: { exclude: string[] };
        sync?: { folders: { rules: { ignore: string[] }; inner: { rules: { ignore: string[] } }[] }[] };
      };
      o.exclude = [...(o.own?.exclude ?? [])];
      delete o.own;
      if (sync)
        for (const f of o.sync!.folders) {
          f.rules.ignore = ['*.tmp', '*.part', '~*', '.*'];
          for (const i of f.inner) i.rules.ignore = ['*.tmp', '*.part', '~*', '.*'];
        }
      db.prepare('UPDATE jobs SET options = ? WHERE id = ?').run(JSON.stringify(o), jobId);
    } finally {
      db.close();
    }
  }

  it('a paused batch job continues with "the same command again", keeping its selection, and says so', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const req = { sources: [src], dataset: 'pre-upgrade', proposal: 'P6', exclude: ['*.log'] };
    const first = await pausedUpload(req);
    asWrittenBefore(first.job.id);
    const rec = recorder();
    const again = await h.engine.upload(h.profile, { ...req, destination: 'filesystem', onEvent: rec.onEvent });
    expect(again.job).toMatchObject({ id: first.job.id, state: 'done' });
    expect(again.counts).toEqual({ verified: 2 });
    const kept = notes(rec.events).find((n) => n.kind === 'options-kept');
    expect(kept?.message).toMatch(/the profile's default excludes \(job \d+ was started by an earlier version, without them\)/);
    expect(kept?.message).not.toMatch(/--exclude/);
    // Its own excludes stay what it was started with.
    expect(h.engine.services.journal.job(first.job.id)!.options.exclude).toEqual(['*.log']);
  });

  it('an operator pattern that differs is still refused, in words that say the lists were stored as one', async () => {
    const src = makeTree({ 'a.dat': 'alpha' });
    const req = { sources: [src], dataset: 'pre-upgrade-2', exclude: ['*.log'] };
    const first = await pausedUpload(req);
    asWrittenBefore(first.job.id);
    const refused = h.engine.upload(h.profile, { ...req, destination: 'filesystem', exclude: ['*.raw'] });
    await expect(refused).rejects.toMatchObject({ code: 'job-options-differ' });
    expect(((await refused.catch((e: unknown) => e)) as Error).message).toMatch(
      /--exclude \(with the profile's; job \d+ was started by an earlier version that stored them as one list\): was '\*\.log', now '\*\.raw'/,
    );
  });

  it("a changed profile exclude is named as the profile's, and the job continues with the one it was started with", async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const req = { sources: [src], dataset: 'profile-changed' };
    const first = await pausedUpload(req);
    const rec = recorder();
    const again = await h.engine.upload(
      { ...h.profile, exclude: ['*.bak'] },
      { ...req, destination: 'filesystem', onEvent: rec.onEvent },
    );
    expect(again.job).toMatchObject({ id: first.job.id, state: 'done' });
    const kept = notes(rec.events).find((n) => n.kind === 'options-kept');
    expect(kept?.message).toMatch(/the profile's excludes \(with its default excludes\): was '\.\*' .*, now '\.\*' .*'\*\.bak'/);
    expect(kept?.message).toMatch(/--new-job/);
  });

  it("a sync job of the earlier version (defaults in its folders' ignore patterns) continues without a difference", async () => {
    const src = makeTree({ 'a.cbf': 'alpha' });
    const profile = {
      ...h.profile,
      sync: syncSchema.parse({ quietPeriod: '300ms', reconcileInterval: '1s', pollInterval: '200ms', stopGrace: '2s' }),
    };
    const pause = new AbortController();
    let jobId = 0;
    const first = await h.engine.watch(profile, {
      folders: [src],
      dataset: 'pre-upgrade-sync',
      destination: 'filesystem',
      pauseSignal: pause.signal,
      onEvent: (e) => {
        if (e.type === 'job-started') {
          jobId = e.jobId;
          pause.abort();
        }
      },
    });
    expect(first.summary.job).toMatchObject({ id: jobId, state: 'paused' });
    asWrittenBefore(jobId, true);
    const finish = new AbortController();
    const rec = recorder();
    const again = h.engine.watch(profile, {
      folders: [src],
      dataset: 'pre-upgrade-sync',
      destination: 'filesystem',
      signal: finish.signal,
      onEvent: rec.onEvent,
    });
    await waitUntil('the file verified', () => rec.events.some((e) => e.type === 'file-state' && e.state === 'verified'), 30_000);
    finish.abort();
    const { summary } = await again;
    expect(summary.job).toMatchObject({ id: jobId, state: 'done' });
    expect(notes(rec.events).map((n) => n.kind)).toEqual(['dataset-finalised']);
  }, 60_000);
});

describe('dry runs that are stopped (finding 8)', () => {
  it('end cancelled, with words for a dry run, never paused with a resume hint', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const stop = new AbortController();
    const rec = recorder();
    const dry = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'dry-stopped',
      destination: 'filesystem',
      dryRun: true,
      policy: { concurrency: 1 },
      signal: stop.signal,
      onEvent: (e) => {
        rec.onEvent(e);
        if (e.type === 'scan-done') stop.abort();
      },
    });
    expect(dry.job).toMatchObject({ kind: 'dry-run', state: 'cancelled' });
    expect(dry.job.reason).toMatch(/^dry run not finished: it was stopped by the operator/);
    expect(dry.job.reason).toMatch(/never continued; run the dry run again/);
    expect(dry.job.reason).not.toMatch(/resume|same command/);
    expect(rec.events.some((e) => e.type === 'job-paused')).toBe(false);
    // Nothing unfinished is left behind in status.
    expect(h.engine.unfinishedJob(h.profile, 'dry-run', { dataset: 'dry-stopped', destination: 'filesystem' }, [src])).toBeNull();
  });
});

describe('a job whose options cannot be read (finding 11)', () => {
  it('does not block new uploads of its dataset once it has ended', async () => {
    const src = makeTree({ 'a.dat': 'alpha' });
    const req = { sources: [src], dataset: 'unreadable-old', destination: 'filesystem' };
    const first = await h.engine.upload(h.profile, req);
    expect(first.job.state).toBe('done');
    const db = journalFile();
    try {
      db.prepare(`UPDATE jobs SET options = '{"written":"by another version"}' WHERE id = ?`).run(first.job.id);
    } finally {
      db.close();
    }
    expect(() => h.engine.services.journal.job(first.job.id)).toThrow(/cannot be read from the journal/);
    writeFileSync(join(src, 'b.dat'), 'bravo');
    const next = await h.engine.upload(h.profile, req);
    expect(next.job).toMatchObject({ state: 'done' });
    expect(next.job.id).not.toBe(first.job.id);
  });
});

describe('one definition of "stored" (finding 12)', () => {
  it('a file deleted before it was complete is not counted as stored by the note, the plans or the journal', async () => {
    const src = makeTree({ 'a.cbf': 'alpha' });
    const profile = {
      ...h.profile,
      sync: syncSchema.parse({ quietPeriod: '3s', reconcileInterval: '1s', pollInterval: '200ms', stopGrace: '2s' }),
    };
    const finish = new AbortController();
    const rec = recorder();
    const watching = h.engine.watch(profile, {
      folders: [src],
      dataset: 'stored-count',
      destination: 'filesystem',
      signal: finish.signal,
      onEvent: rec.onEvent,
    });
    const { journal } = h.engine.services;
    await waitUntil('the job started', () => rec.events.some((e) => e.type === 'job-started'), 10_000);
    const jobId = rec.events.find((e) => e.type === 'job-started')!.jobId;
    writeFileSync(join(src, 'gone.cbf'), 'half written');
    await waitUntil('gone.cbf discovered', () => journal.files(jobId).some((f) => f.relpath === 'gone.cbf'), 10_000);
    rmSync(join(src, 'gone.cbf'));
    await waitUntil(
      'gone.cbf skipped as deleted',
      () => journal.files(jobId).some((f) => f.relpath === 'gone.cbf' && f.state === 'skipped'),
      15_000,
    );
    await waitUntil(
      'a.cbf verified',
      () => journal.files(jobId).some((f) => f.relpath === 'a.cbf' && f.state === 'verified'),
      15_000,
    );
    finish.abort();
    const { summary } = await watching;
    expect(summary.counts).toEqual({ verified: 1, skipped: 1 });
    expect(journal.storedCount(jobId)).toBe(1);
    expect(notes(rec.events).find((n) => n.kind === 'dataset-finalised')?.message).toMatch(/finalised: 1 file\(s\) stored/);
    expect(() => h.engine.forgetPlan(jobId)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/stored 1 file\(s\)/) }),
    );
  }, 60_000);
});
