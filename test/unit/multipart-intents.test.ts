// The journal's multipart intents (schema step 7): written before CreateMultipartUpload, kept
// until no upload of ours can be left at the key, backfilled for uploads journaled before the
// step, and what a leftovers sweep of a job's folder spares, probes and settles.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadPolicySchema } from '../../src/shared/profile-schema.js';
import type { JobState } from '../../src/shared/model.js';
import { Journal, type NewJob } from '../../src/main/engine/journal/journal.js';
import { MIGRATIONS } from '../../src/main/engine/journal/migrations/index.js';
import { MULTIPART_INTENTS } from '../../src/main/engine/journal/migrations/007-multipart-intents.js';
import { openDatabase } from '../../src/main/engine/journal/open-database.js';

const MiB = 1024 * 1024;
const journalFile = () => join(mkdtempSync(join(tmpdir(), 'bd-intents-')), 'journal.sqlite');

const newJob = (dataset = 'ds'): NewJob => ({
  kind: 'batch',
  dataset,
  proposal: null,
  visit: null,
  catalogue: 'local',
  destination: 'd',
  sources: ['/data'],
  metadata: {},
  options: {
    include: [],
    exclude: [],
    followSymlinks: false,
    keyTemplate: '{dataset}/{relpath}',
    vars: { facility: null, beamline: null, proposal: null, visit: null, dataset, date: '2026-12-02' },
    destinationConfig: {
      kind: 's3',
      endpoint: 'http://s3',
      bucket: 'bucket',
      region: 'us-east-1',
      keyTemplate: '{dataset}/{relpath}',
    },
    adhoc: false,
    policy: uploadPolicySchema.parse({}),
  },
});

function jobWithFile(j: Journal, state: JobState, relpath: string) {
  const job = j.createJob(newJob());
  j.setJobState(job.id, state);
  j.addScannedFiles(job.id, [{ path: `/data/${relpath}`, relpath, size: 10 * MiB, mtimeMs: 1 }]);
  const file = j.files(job.id)[0]!;
  return { job, file, store: j.multipartStore(file.id) };
}

const intentRows = (j: Journal) =>
  j.connectionForStores().prepare('SELECT job_id, file_id, remote_key FROM multipart_intents ORDER BY remote_key').all();

describe('multipart intents', () => {
  it('are written before Create, stay when an upload is abandoned, and go when it is cleared or settled', () => {
    const j = new Journal(journalFile(), () => 1_000);
    const { store } = jobWithFile(j, 'running', 'a.raw');
    store.intend({ key: 'ds/a.raw', partSize: 5 * MiB });
    expect(store.load()).toBeNull();
    expect(store.intents()).toEqual([{ key: 'ds/a.raw', partSize: 5 * MiB, at: 1_000 }]);
    store.begin({ uploadId: 'U1', key: 'ds/a.raw', partSize: 5 * MiB });
    store.partDone({ partNumber: 1, etag: 'e1', checksum: 'c1', size: 5 * MiB });
    // Aborting failed: the resume state goes, the intent stays for the next attempt or the sweep.
    store.abandon();
    expect(store.load()).toBeNull();
    expect(store.intents().map((i) => i.key)).toEqual(['ds/a.raw']);
    store.intend({ key: 'ds/other.raw', partSize: 5 * MiB });
    store.settled('ds/other.raw');
    expect(store.intents().map((i) => i.key)).toEqual(['ds/a.raw']);
    store.begin({ uploadId: 'U2', key: 'ds/a.raw', partSize: 5 * MiB });
    store.clear();
    expect(store.load()).toBeNull();
    expect(store.intents()).toEqual([]);
    j.close();
  });

  it('are backfilled for uploads journaled before schema step 7', () => {
    const file = journalFile();
    const old = openDatabase(file, MIGRATIONS.slice(0, MIGRATIONS.indexOf(MULTIPART_INTENTS)));
    const jobId = Number(
      old
        .prepare(
          `INSERT INTO jobs (kind, state, dataset, proposal, visit, catalogue, destination, sources, metadata, options, created_at, updated_at)
           VALUES ('batch', 'paused', 'ds', NULL, NULL, 'local', 'd', '["/data"]', '{}', ?, 1, 2)`,
        )
        .run(JSON.stringify(newJob().options)).lastInsertRowid,
    );
    const fileId = Number(
      old
        .prepare(
          `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, remote_key, updated_at) VALUES (?, '/data/a.raw', 'a.raw', 1, 1, 'transferring', 'ds/a.raw', 2)`,
        )
        .run(jobId).lastInsertRowid,
    );
    old
      .prepare('INSERT INTO multipart_uploads (file_id, upload_id, remote_key, part_size, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(fileId, 'U-old', 'ds/a.raw', 5 * MiB, 7);
    old.close();
    const j = new Journal(file);
    expect(intentRows(j)).toEqual([{ job_id: jobId, file_id: fileId, remote_key: 'ds/a.raw' }]);
    expect(j.multipartStore(fileId).intents()).toEqual([{ key: 'ds/a.raw', partSize: 5 * MiB, at: 7 }]);
    j.close();
  });

  it('tell a sweep what unfinished jobs resume, and outlive a cancelled or forgotten job until swept', () => {
    const j = new Journal(journalFile());
    const paused = jobWithFile(j, 'paused', 'a.raw');
    paused.store.intend({ key: 'ds/a.raw', partSize: 5 * MiB });
    paused.store.begin({ uploadId: 'UA', key: 'ds/a.raw', partSize: 5 * MiB });
    const cancelled = jobWithFile(j, 'paused', 'c.raw');
    cancelled.store.intend({ key: 'ds/c.raw', partSize: 5 * MiB });
    cancelled.store.begin({ uploadId: 'UC', key: 'ds/c.raw', partSize: 5 * MiB });
    j.batch(() => {
      j.dropMultipartState(cancelled.job.id);
      j.setJobState(cancelled.job.id, 'cancelled');
    });
    const forgotten = jobWithFile(j, 'paused', 'f.raw');
    forgotten.store.intend({ key: 'ds/f.raw', partSize: 5 * MiB });
    j.deleteJob(forgotten.job.id);
    const ending = jobWithFile(j, 'finishing', 'e.raw');
    ending.store.intend({ key: 'ds/e.raw', partSize: 5 * MiB });
    ending.store.begin({ uploadId: 'UE', key: 'ds/e.raw', partSize: 5 * MiB });
    const elsewhere = jobWithFile(j, 'paused', 'x.raw');
    elsewhere.store.intend({ key: 'other/x.raw', partSize: 5 * MiB });

    // At the start of the finishing job's run, everything an unfinished job resumes is spared.
    expect(j.leftoverRules('ds/', null)).toEqual({
      keepUploads: new Set(['UA', 'UE']),
      keepKeys: new Set(['ds/a.raw', 'ds/e.raw']),
      probeKeys: ['ds/c.raw', 'ds/f.raw'],
    });
    // Just before its finalisation, the job resumes nothing any more.
    const rules = j.leftoverRules('ds/', ending.job.id);
    expect(rules).toEqual({
      keepUploads: new Set(['UA']),
      keepKeys: new Set(['ds/a.raw']),
      probeKeys: ['ds/c.raw', 'ds/e.raw', 'ds/f.raw'],
    });
    expect(paused.store.heldElsewhere('ds/a.raw')).toEqual(new Set());
    expect(ending.store.heldElsewhere('ds/a.raw')).toEqual(new Set(['UA']));

    // After the sweep: the swept keys' intents go, except where something had to be spared.
    j.batch(() => {
      j.settleLeftovers(
        rules.probeKeys.filter((k) => k !== 'ds/f.raw'),
        ending.job.id,
      );
      j.releaseMultipart(ending.job.id, ['ds/f.raw']);
    });
    expect(intentRows(j)).toEqual([
      { job_id: paused.job.id, file_id: paused.file.id, remote_key: 'ds/a.raw' },
      // Forgotten: of no job (its id is used again by the next job), until a sweep finds its key clean.
      { job_id: null, file_id: null, remote_key: 'ds/f.raw' },
      { job_id: elsewhere.job.id, file_id: elsewhere.file.id, remote_key: 'other/x.raw' },
    ]);
    expect(j.openUploadIds()).toEqual(new Set(['UA']));
    j.close();
  });
});
