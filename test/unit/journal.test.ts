import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Journal } from '../../src/main/engine/journal/journal.js';
import { MIGRATIONS } from '../../src/main/engine/journal/migrations/index.js';

const newJournal = () => new Journal(join(mkdtempSync(join(tmpdir(), 'bd-j-')), 'journal.sqlite'));
const job = (j: Journal) =>
  j.createJob({
    kind: 'batch',
    dataset: 'ds',
    proposal: 'p1',
    destination: 'd',
    sources: ['/data'],
    metadata: { a: '1' },
    options: { x: 1 },
  });

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

  it('keeps jobs with their sources, metadata and options, and finds the unfinished one', () => {
    const j = newJournal();
    const a = job(j);
    expect(a.sources).toEqual(['/data']);
    expect(a.metadata).toEqual({ a: '1' });
    expect(j.findUnfinished('ds', 'd', ['/data'])?.id).toBe(a.id);
    j.setJobState(a.id, 'done');
    expect(j.findUnfinished('ds', 'd', ['/data'])).toBeNull();
    // A sync job of the same dataset is never resumed by a batch upload.
    j.createJob({ kind: 'sync', dataset: 'ds', proposal: 'p1', destination: 'd', sources: ['/data'], metadata: {}, options: {} });
    expect(j.findUnfinished('ds', 'd', ['/data'])).toBeNull();
    expect(j.job(a.id)?.finishedAt).not.toBeNull();
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
