import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DatasetIdentity } from '../../src/shared/model.js';
import { uploadPolicySchema } from '../../src/shared/profile-schema.js';
import type { BatchJobOptions } from '../../src/main/engine/jobs/job-options.js';
import { Journal, type NewJob } from '../../src/main/engine/journal/journal.js';
import { PRE_UPGRADE_DRY_RUNS } from '../../src/main/engine/journal/migrations/006-pre-upgrade-dry-runs.js';
import { MIGRATIONS } from '../../src/main/engine/journal/migrations/index.js';
import { openDatabase } from '../../src/main/engine/journal/open-database.js';

const newJournal = () => new Journal(join(mkdtempSync(join(tmpdir(), 'bd-j-')), 'journal.sqlite'));

/** Stored options as the engine writes them for a batch job (dataset-target.ts, job-lifecycle.ts). */
const batchOptions = (vars: Partial<BatchJobOptions['vars']> = {}): BatchJobOptions => ({
  include: [],
  exclude: ['.*'],
  followSymlinks: false,
  keyTemplate: '{proposal}/{dataset}/{relpath}',
  vars: { facility: null, beamline: null, proposal: 'p1', visit: null, dataset: 'ds', date: '2025-03-14', ...vars },
  destinationConfig: { kind: 'filesystem', root: '/archive', keyTemplate: '{proposal}/{dataset}/{relpath}' },
  adhoc: false,
  policy: uploadPolicySchema.parse({}),
});
const LOCAL_DS1: DatasetIdentity = { catalogue: 'local', proposal: 'p1', visit: null, name: 'ds' };
const newJob = (patch: Partial<NewJob> = {}): NewJob =>
  ({
    kind: 'batch',
    dataset: 'ds',
    proposal: 'p1',
    visit: null,
    catalogue: 'local',
    destination: 'd',
    sources: ['/data'],
    metadata: { a: '1' },
    options: batchOptions(),
    ...patch,
  }) as NewJob;
const job = (j: Journal) => j.createJob(newJob());

describe('Journal', () => {
  it('creates the schema in WAL mode at the latest version, and reopens without migrating again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-j-'));
    const file = join(dir, 'journal.sqlite');
    new Journal(file).close();
    const raw = new Database(file);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw.close();
    const again = new Journal(file);
    expect(again.jobs()).toEqual([]);
    again.close();
  });

  it('refuses a database written by a newer version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-j-'));
    const file = join(dir, 'journal.sqlite');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => new Journal(file)).toThrow(/newer Beamdrop/);
  });

  it('keeps jobs with their identity, sources, metadata and typed options, and finds the unfinished one', () => {
    const j = newJournal();
    const a = job(j);
    expect(a).toMatchObject({ sources: ['/data'], metadata: { a: '1' }, visit: null, catalogue: 'local' });
    expect(a.kind === 'batch' && a.options.policy.concurrency).toBe(8);
    const q = { kind: 'batch' as const, identity: LOCAL_DS1, destination: 'd', sources: ['/data'] };
    expect(j.findUnfinished(q)?.id).toBe(a.id);
    // Another proposal, visit or catalogue is another dataset; a sync job is never continued by a batch upload.
    expect(j.findUnfinished({ ...q, identity: { ...LOCAL_DS1, proposal: 'p2' } })).toBeNull();
    expect(j.findUnfinished({ ...q, identity: { ...LOCAL_DS1, visit: 'v1' } })).toBeNull();
    expect(j.findUnfinished({ ...q, identity: { ...LOCAL_DS1, catalogue: 'scicat https://sc' } })).toBeNull();
    expect(j.findUnfinished({ ...q, kind: 'sync' })).toBeNull();
    j.setJobState(a.id, 'done');
    expect(j.findUnfinished(q)).toBeNull();
    expect(j.job(a.id)?.finishedAt).not.toBeNull();
    const c = job(j);
    j.setJobState(c.id, 'cancelled', 'replaced');
    expect(j.findUnfinished(q)).toBeNull();
    expect(j.job(c.id)).toMatchObject({ state: 'cancelled', reason: 'replaced', finishedAt: expect.any(Number) });
  });

  it('lists the jobs of one dataset identity, and every job of a name', () => {
    const j = newJournal();
    const a = job(j);
    const b = j.createJob(newJob({ proposal: 'p2', options: batchOptions({ proposal: 'p2' }) }));
    const v = j.createJob(newJob({ visit: 'v1', options: batchOptions({ visit: 'v1' }) }));
    expect(j.jobsOfDataset(LOCAL_DS1).map((x) => x.id)).toEqual([a.id]);
    expect(j.jobsOfDataset({ ...LOCAL_DS1, visit: 'v1' }).map((x) => x.id)).toEqual([v.id]);
    expect(j.jobsNamed('ds').map((x) => x.id)).toEqual([a.id, b.id, v.id]);
    expect(j.jobsNamed('other')).toEqual([]);
  });

  it('refuses options that do not match the kind, when written and when read, naming the job', () => {
    const j = newJournal();
    expect(() => j.createJob(newJob({ options: { x: 1 } as never }))).toThrow();
    const a = job(j);
    const raw = j.connectionForStores();
    raw.prepare(`UPDATE jobs SET options = json_remove(options, '$.policy') WHERE id = ?`).run(a.id);
    raw.prepare(`UPDATE jobs SET options = json_set(options, '$.followSymlinks', 'yes') WHERE id = ?`).run(a.id);
    let error: unknown;
    try {
      j.job(a.id);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'internal', dataset: 'ds', message: expect.stringMatching(/^job 1 \(dataset "ds"\)/) });
    expect((error as Error).message).toMatch(/options\.followSymlinks/);
    expect(() => j.jobs()).toThrow(/job 1 /);
    // The record stays readable (status, cancel and forget need it).
    expect(j.record(a.id)).toMatchObject({ id: a.id, dataset: 'ds', state: 'scanning' });
    expect(j.records().map((r) => r.id)).toEqual([a.id]);
  });

  it('continues a job with new metadata and options, and forgets one with its files and events', () => {
    const j = newJournal();
    const a = job(j);
    j.updateJob(
      a.id,
      'batch',
      { metadata: { a: '2', b: 'x' }, options: { ...batchOptions(), include: ['*.h5'] } },
      { changed: ['-p a'] },
    );
    const after = j.job(a.id)!;
    expect(after.metadata).toEqual({ a: '2', b: 'x' });
    expect(after.options.include).toEqual(['*.h5']);
    expect(j.events(a.id).map((e) => e.type)).toContain('job-updated');
    j.addScannedFiles(a.id, [{ path: '/data/a', relpath: 'a', size: 1, mtimeMs: 1 }]);
    expect(j.storedCount(a.id)).toBe(0);
    j.setFileState(j.files(a.id)[0]!.id, 'verified', { sha256: 'x' });
    expect(j.storedCount(a.id)).toBe(1);
    j.deleteJob(a.id);
    expect(j.job(a.id)).toBeNull();
    expect(j.files(a.id)).toEqual([]);
    expect(j.events(a.id)).toEqual([]);
  });

  it('migration 004 keeps every job of a journal written by schema 3 and backfills visit and catalogue', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bd-j-')), 'journal.sqlite');
    const old = openDatabase(file, MIGRATIONS.slice(0, 3));
    const insert = old.prepare(
      `INSERT INTO jobs (kind, state, dataset, proposal, destination, sources, metadata, options, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'd', '["/data"]', '{"sample":"s1"}', ?, 1, 2)`,
    );
    // As the previous version wrote them: a local batch job without a visit (and, older, without
    // a catalogue part), a SciCat batch job with a visit, and a sync job for ICAT.
    insert.run('batch', 'done', 'ds1', 'p1', JSON.stringify(batchOptions()));
    const scicat = {
      ...batchOptions({ visit: 'v7' }),
      catalogue: {
        config: {
          kind: 'scicat',
          url: 'https://scicat.example/',
          apiVersion: 'v3',
          loginMethod: 'local',
          allowCreateProposal: false,
          blockFiles: 10000,
          accessGroups: [],
        },
        key: 'bd-0123',
        owner: { username: 'op', email: null, groups: ['g'] },
        technique: 'SAXS',
        scientific: { energy: { value: 12.4, unit: 'keV' } },
        license: 'CC-BY-4.0',
        facility: 'F',
        beamline: 'B',
      },
    };
    insert.run('batch', 'paused', 'ds2', 'p1', JSON.stringify(scicat));
    // It had stored a file (so it is an upload that stays unfinished; see migration 006).
    old
      .prepare(
        `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, updated_at) VALUES (2, '/data/a', 'a', 1, 1, 'verified', 2)`,
      )
      .run();
    const folderRules = {
      quietPeriodMs: 5000,
      exclusiveOpen: 'auto',
      markers: [],
      ignore: ['*.tmp'],
      mode: 'watch',
      pollIntervalMs: 5000,
    };
    const sync = {
      ...batchOptions(),
      catalogue: {
        ...scicat.catalogue,
        config: {
          kind: 'icat',
          url: 'https://icat.example',
          facility: 'F',
          authenticator: 'db',
          allowCreateProposal: false,
          datasetType: 'raw',
          blockFiles: 1000,
          accessGroups: [],
        },
      },
      sync: {
        folders: [
          {
            path: '/data',
            rules: folderRules,
            inner: [
              { rel: 'eiger', rules: { ...folderRules, markers: [{ match: '(.*)_data_\\d+\\.h5', marker: '$1_master.h5' }] } },
            ],
          },
        ],
        settings: {
          onChange: 'version',
          reconcileIntervalMs: 60000,
          rescanIntervalMs: 600000,
          stopGraceMs: 30000,
          technique: null,
        },
      },
    };
    insert.run('sync', 'stopping', 'ds3', null, JSON.stringify(sync));
    old.close();

    const j = new Journal(file);
    const jobs = j.jobs().reverse();
    expect(jobs.map((x) => [x.kind, x.state, x.dataset, x.proposal, x.visit, x.catalogue, x.metadata])).toEqual([
      ['batch', 'done', 'ds1', 'p1', null, 'local', { sample: 's1' }],
      ['batch', 'paused', 'ds2', 'p1', 'v7', 'scicat https://scicat.example', { sample: 's1' }],
      ['sync', 'stopping', 'ds3', null, null, 'icat https://icat.example', { sample: 's1' }],
    ]);
    const s = jobs[2]!;
    expect(s.kind === 'sync' && s.options.sync.folders[0]!.inner[0]!.rules.markers).toEqual([
      { match: '(.*)_data_\\d+\\.h5', marker: '$1_master.h5' },
    ]);
    expect(
      j.findUnfinished({
        kind: 'batch',
        identity: { catalogue: 'scicat https://scicat.example', proposal: 'p1', visit: 'v7', name: 'ds2' },
        destination: 'd',
        sources: ['/data'],
      })?.id,
    ).toBe(jobs[1]!.id);
    j.close();
  });

  it('migration 006 recognises the dry runs of earlier versions, and leaves real uploads and jobs created since alone', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bd-j-')), 'journal.sqlite');
    // Rows as the version before dry runs were a kind wrote them (aaba6c2: journal.ts, job-runner.ts,
    // file-transfer.ts): a `job-created` event without a kind; a dry run records each file's key
    // (a `file-discovered` event), or fails it on a conflict, and never leaves the job `running`.
    const old = openDatabase(file, MIGRATIONS.slice(0, 3));
    const options = JSON.stringify(batchOptions());
    const addJob = (state: string, dataset: string) => {
      const id = Number(
        old
          .prepare(
            `INSERT INTO jobs (kind, state, dataset, proposal, destination, sources, metadata, options, created_at, updated_at)
             VALUES ('batch', ?, ?, 'p1', 'd', '["/data"]', '{}', ?, 1, 2)`,
          )
          .run(state, dataset, options).lastInsertRowid,
      );
      old
        .prepare(`INSERT INTO events (job_id, file_id, at, type, detail) VALUES (?, NULL, 1, 'job-created', ?)`)
        .run(id, JSON.stringify({ dataset, destination: 'd' }));
      return id;
    };
    const addFile = (jobId: number, relpath: string, state: string, remoteKey: string | null, events: string[]) => {
      const id = Number(
        old
          .prepare(
            `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, remote_key, updated_at) VALUES (?, ?, ?, 1, 1, ?, ?, 2)`,
          )
          .run(jobId, `/data/${relpath}`, relpath, state, remoteKey).lastInsertRowid,
      );
      for (const type of events)
        old.prepare(`INSERT INTO events (job_id, file_id, at, type, detail) VALUES (?, ?, 2, ?, NULL)`).run(jobId, id, type);
    };
    // A dry run that looked at every file (one was in conflict): left `running`.
    const dry = addJob('running', 'dry');
    addFile(dry, 'a', 'discovered', 'p1/ds/a', ['file-discovered']);
    addFile(dry, 'b', 'failed', 'p1/ds/b', ['file-discovered', 'file-failed']);
    // A dry run stopped by Ctrl-C (or an upload stopped before its first file): `paused`, nothing sent.
    const stopped = addJob('paused', 'stopped');
    addFile(stopped, 'a', 'discovered', 'p1/ds/a', ['file-discovered']);
    addFile(stopped, 'b', 'discovered', null, []);
    // Real uploads: one killed while sending its first file, one paused after storing one.
    const killed = addJob('running', 'killed');
    addFile(killed, 'a', 'transferring', 'p1/ds/a', ['file-discovered', 'file-transferring']);
    const paused = addJob('paused', 'paused');
    addFile(paused, 'a', 'verified', 'p1/ds/a', ['file-discovered', 'file-transferring', 'file-uploaded', 'file-verified']);
    addFile(paused, 'b', 'discovered', null, []);
    old.close();
    // A job created by this version before step 6 (its job-created event names its kind), killed after its scan.
    const j5 = openDatabase(file, MIGRATIONS.slice(0, MIGRATIONS.indexOf(PRE_UPGRADE_DRY_RUNS)));
    const fresh = Number(
      j5
        .prepare(
          `INSERT INTO jobs (kind, state, dataset, proposal, visit, catalogue, destination, sources, metadata, options, created_at, updated_at)
           VALUES ('batch', 'running', 'fresh', 'p1', NULL, 'local', 'd', '["/data"]', '{}', ?, 1, 2)`,
        )
        .run(options).lastInsertRowid,
    );
    j5.prepare(`INSERT INTO events (job_id, file_id, at, type, detail) VALUES (?, NULL, 1, 'job-created', ?)`).run(
      fresh,
      JSON.stringify({ kind: 'batch', dataset: 'fresh', destination: 'd' }),
    );
    j5.prepare(
      `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, remote_key, updated_at) VALUES (?, '/data/a', 'a', 1, 1, 'discovered', 'p1/ds/a', 2)`,
    ).run(fresh);
    j5.close();

    const j = new Journal(file);
    const state = (id: number) => j.record(id)!;
    expect(state(dry)).toMatchObject({
      kind: 'dry-run',
      state: 'done',
      reason: expect.stringMatching(/a dry run of an earlier version/),
    });
    expect(state(stopped)).toMatchObject({
      kind: 'batch',
      state: 'cancelled',
      reason: expect.stringMatching(/stopped before it sent a file .* it stored nothing, so it is not continued/),
    });
    expect(state(killed)).toMatchObject({ kind: 'batch', state: 'running' });
    expect(state(paused)).toMatchObject({ kind: 'batch', state: 'paused' });
    expect(state(fresh)).toMatchObject({ kind: 'batch', state: 'running' });
    // The next real upload of the dry run's dataset starts a new job instead of continuing it.
    const unfinished = (dataset: string) =>
      j.findUnfinished({
        kind: 'batch',
        identity: { catalogue: 'local', proposal: 'p1', visit: null, name: dataset },
        destination: 'd',
        sources: ['/data'],
      })?.id ?? null;
    expect([unfinished('dry'), unfinished('stopped'), unfinished('killed'), unfinished('paused'), unfinished('fresh')]).toEqual([
      null,
      null,
      killed,
      paused,
      fresh,
    ]);
    expect(j.events(dry).map((e) => e.type)).toContain('job-migrated');
    j.close();
  });

  it('re-queues a rescanned file that changed, but marks an already stored one as changed', () => {
    const j = newJournal();
    const { id } = job(j);
    j.addScannedFiles(id, [
      { path: '/data/a', relpath: 'a', size: 1, mtimeMs: 1 },
      { path: '/data/b', relpath: 'b', size: 1, mtimeMs: 1 },
      { path: '/data/c', relpath: 'c', size: 1, mtimeMs: 1 },
    ]);
    const [a, b] = j.files(id);
    j.setFileState(a!.id, 'transferring');
    j.setFileState(b!.id, 'verified', { sha256: 'x' });
    j.addScannedFiles(id, [
      { path: '/data/a', relpath: 'a', size: 2, mtimeMs: 2 },
      { path: '/data/b', relpath: 'b', size: 2, mtimeMs: 2 },
      { path: '/data/c', relpath: 'c', size: 1, mtimeMs: 1 },
    ]);
    const byName = Object.fromEntries(j.files(id).map((f) => [f.relpath, f]));
    expect(byName.a).toMatchObject({ state: 'discovered', size: 2 });
    expect(byName.b).toMatchObject({ state: 'changed', sha256: null });
    expect(byName.c).toMatchObject({ state: 'discovered', size: 1 });
    expect(j.counts(id)).toEqual({ discovered: 2, changed: 1 });
  });

  it('records every state change in the event log, with the error', () => {
    const j = newJournal();
    const { id } = job(j);
    j.addScannedFiles(id, [{ path: '/data/a', relpath: 'a', size: 1, mtimeMs: 1 }]);
    const f = j.files(id)[0]!;
    j.setFileState(f.id, 'failed', { error: { code: 'vanished', message: 'gone', retryable: false }, incrementAttempts: true });
    expect(j.file(f.id)).toMatchObject({ attempts: 1, lastError: { code: 'vanished' } });
    expect(j.events(id).map((e) => e.type)).toContain('file-failed');
  });

  it('keeps multipart state per file until cleared', () => {
    const j = newJournal();
    const { id } = job(j);
    j.addScannedFiles(id, [{ path: '/data/a', relpath: 'a', size: 1, mtimeMs: 1 }]);
    const store = j.multipartStore(j.files(id)[0]!.id);
    expect(store.load()).toBeNull();
    store.begin({ uploadId: 'u1', key: 'k', partSize: 5 });
    store.partDone({ partNumber: 2, etag: 'e2', checksum: 'c2', size: 5 });
    store.partDone({ partNumber: 1, etag: 'e1', checksum: 'c1', size: 5 });
    expect(store.load()).toEqual({
      uploadId: 'u1',
      key: 'k',
      partSize: 5,
      parts: [
        { partNumber: 1, etag: 'e1', checksum: 'c1', size: 5 },
        { partNumber: 2, etag: 'e2', checksum: 'c2', size: 5 },
      ],
    });
    store.clear();
    expect(store.load()).toBeNull();
  });
});
