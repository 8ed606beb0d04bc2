// The journal: the local record of every job and file, written before each next step starts, so
// that a killed process resumes exactly where it stopped. Synchronous better-sqlite3 calls: each
// is a small indexed write in WAL mode (tens of microseconds), cheaper than a thread hop. The
// journal owns the SQL on its tables; the stores that keep their own tables in the same file
// (sync ledger, sync sessions, catalogue outbox) get the connection through `connectionForStores`.
import type { Statement } from 'better-sqlite3';
import { BeamdropError, type ErrorInfo } from '../../../shared/errors.js';
import type { DatasetIdentity, FileRecord, FileState, JobKind, JobRecord, JobState, StateCounts } from '../../../shared/model.js';
import { OPTIONS_SCHEMAS, type OptionsByKind } from '../jobs/job-options.js';
import type { MultipartStore } from '../storage/destination.js';
import { MIGRATIONS } from './migrations/index.js';
import { MultipartRows, type LeftoverRules } from './multipart-rows.js';
import { openDatabase, type Db } from './open-database.js';

/** A job as read from the journal: its record and its options, typed by its kind. */
export type StoredJob = { [K in JobKind]: JobRecord & { kind: K; options: OptionsByKind[K] } }[JobKind];
export type StoredJobOf<K extends JobKind> = Extract<StoredJob, { kind: K }>;

/** A job to create: its record's identity and inputs, and everything needed to continue it exactly. */
export type NewJob = {
  [K in JobKind]: Pick<JobRecord, 'dataset' | 'proposal' | 'visit' | 'catalogue' | 'destination' | 'sources' | 'metadata'> & {
    kind: K;
    options: OptionsByKind[K];
  };
}[JobKind];

/** Finds the one job a rerun continues: same kind, dataset identity, destination and sources. */
export interface UnfinishedQuery {
  kind: JobKind;
  identity: DatasetIdentity;
  destination: string;
  sources: string[];
}

export interface ScannedFileRow {
  path: string;
  relpath: string;
  size: number;
  mtimeMs: number;
}

export interface FilePatch {
  sha256?: string | null;
  remoteKey?: string | null;
  error?: ErrorInfo | null;
  incrementAttempts?: boolean;
  size?: number;
  mtimeMs?: number;
}

type JobRow = {
  id: number;
  kind: JobKind;
  state: JobState;
  dataset: string;
  proposal: string | null;
  visit: string | null;
  catalogue: string;
  destination: string;
  sources: string;
  metadata: string;
  options: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  reason: string | null;
};
type FileRow = {
  id: number;
  job_id: number;
  path: string;
  relpath: string;
  size: number;
  mtime_ms: number;
  sha256: string | null;
  state: FileState;
  remote_key: string | null;
  attempts: number;
  last_error: string | null;
  updated_at: number;
};

const KINDS: readonly JobKind[] = ['batch', 'sync', 'dry-run'];

const toRecord = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  dataset: r.dataset,
  proposal: r.proposal,
  visit: r.visit,
  catalogue: r.catalogue,
  destination: r.destination,
  sources: JSON.parse(r.sources) as string[],
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  reason: r.reason,
});

function unreadable(r: Pick<JobRow, 'id' | 'kind' | 'dataset'>, what: string): BeamdropError {
  return new BeamdropError({
    code: 'internal',
    retryable: false,
    dataset: r.dataset,
    field: 'options',
    message: `job ${r.id} (dataset "${r.dataset}") cannot be read from the journal: ${what}. It was probably written by another version of Beamdrop; run that version to continue it, or \`beamdrop cancel ${r.id}\` to stop it for good.`,
  });
}

/** Parses the stored options with the schema of the job's kind: a mismatch is an error naming the job, never a silent loss. */
function parseOptions(r: Pick<JobRow, 'id' | 'kind' | 'dataset' | 'options'>): OptionsByKind[JobKind] {
  if (!KINDS.includes(r.kind)) throw unreadable(r, `its kind "${String(r.kind)}" is unknown`);
  let raw: unknown;
  try {
    raw = JSON.parse(r.options);
  } catch {
    throw unreadable(r, 'its stored options are not JSON');
  }
  const parsed = OPTIONS_SCHEMAS[r.kind].safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${['options', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw unreadable(r, `its stored options do not match a ${r.kind} job (${issues})`);
  }
  return parsed.data;
}

const toJob = (r: JobRow): StoredJob => ({ ...toRecord(r), options: parseOptions(r) }) as StoredJob;

const toFile = (r: FileRow): FileRecord => ({
  id: r.id,
  jobId: r.job_id,
  path: r.path,
  relpath: r.relpath,
  size: r.size,
  mtimeMs: r.mtime_ms,
  sha256: r.sha256,
  state: r.state,
  remoteKey: r.remote_key,
  attempts: r.attempts,
  lastError: r.last_error ? (JSON.parse(r.last_error) as ErrorInfo) : null,
  updatedAt: r.updated_at,
});

/** Job states a rerun does not continue. */
const ENDED = `('done', 'failed', 'cancelled')`;

/**
 * The one definition of a file a job "stored" (SQL on `files f`): at its destination and
 * recorded, whether sent (uploaded, verified, registered), found there already with the same
 * SHA-256 (skipped without an error), or changed locally after it was stored. Not a file a sync
 * job skipped because it was deleted before it was complete (skipped with an error), and nothing
 * of a dry run (callers join the job's kind). The lifecycle's notes, the cancel and forget plans,
 * the shared-folder check and `storedCount` all use it.
 */
export const STORED_FILE_SQL = `(f.state IN ('uploaded', 'verified', 'registered', 'changed') OR (f.state = 'skipped' AND f.last_error IS NULL))`;

/** What the shared-folder check needs of a job that stored files: where its keys went. */
export interface StoredPlace {
  job: JobRecord;
  /** Raw from the stored options (not parsed: one unreadable job must not block others); null when absent. */
  keyTemplate: string | null;
  vars: Record<string, unknown> | null;
  destinationConfig: Record<string, unknown> | null;
}

export class Journal {
  private readonly db: Db;

  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openDatabase(file, MIGRATIONS);
    this.multipart = new MultipartRows(this.db, now, ENDED);
  }

  private readonly multipart: MultipartRows;

  close(): void {
    this.db.close();
  }

  /**
   * The connection, for the stores that own their own tables in the journal file: the sync ledger
   * (sync-journal.ts), sync sessions (sync-sessions.ts) and the catalogue outbox (outbox-store.ts).
   * Nothing else writes SQL against the journal: jobs, files and events go through this class.
   */
  connectionForStores(): Db {
    return this.db;
  }

  private readonly statements = new Map<string, Statement<unknown[]>>();
  /** Prepared statements are cached: the same few run for every file. */
  private sql(text: string): Statement<unknown[]> {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare<unknown[]>(text);
      this.statements.set(text, s);
    }
    return s;
  }

  // ---- jobs

  createJob(job: NewJob): StoredJob {
    const t = this.now();
    const options = OPTIONS_SCHEMAS[job.kind].parse(job.options);
    const info = this.sql(
      `INSERT INTO jobs (kind, state, dataset, proposal, visit, catalogue, destination, sources, metadata, options, created_at, updated_at)
       VALUES (?, 'scanning', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      job.kind,
      job.dataset,
      job.proposal,
      job.visit,
      job.catalogue,
      job.destination,
      JSON.stringify(job.sources),
      JSON.stringify(job.metadata),
      JSON.stringify(options),
      t,
      t,
    );
    const id = Number(info.lastInsertRowid);
    this.event(id, null, 'job-created', { kind: job.kind, dataset: job.dataset, destination: job.destination });
    return this.job(id)!;
  }

  job(id: number): StoredJob | null {
    const r = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  /** The job's record without its options: readable even when the options are not (cancel, forget, status). */
  record(id: number): JobRecord | null {
    const r = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r ? toRecord(r) : null;
  }

  /** The newest jobs' records, without options: listing never fails on a job whose options cannot be read. */
  records(limit = 50): JobRecord[] {
    return (this.sql('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]).map(toRecord);
  }

  /** Every job record of one dataset (all four fields of its identity), oldest first; options are not read. */
  recordsOfDataset(identity: DatasetIdentity): JobRecord[] {
    return this.datasetRows(identity).map(toRecord);
  }

  /**
   * Where every job that stored at least one file (not a dry run) put its keys: its record, key
   * template, key variables and destination config, read from the stored options without parsing
   * them, so that one unreadable job never blocks the start of another.
   */
  storedPlaces(): StoredPlace[] {
    const rows = this.sql(
      `SELECT j.*, json_extract(j.options, '$.keyTemplate') AS key_template, json_extract(j.options, '$.vars') AS vars_json,
         json_extract(j.options, '$.destinationConfig') AS dest_json
       FROM jobs j WHERE j.kind != 'dry-run' AND json_valid(j.options)
         AND EXISTS (SELECT 1 FROM files f WHERE f.job_id = j.id AND ${STORED_FILE_SQL})
       ORDER BY j.id`,
    ).all() as (JobRow & { key_template: unknown; vars_json: unknown; dest_json: unknown })[];
    const object = (v: unknown): Record<string, unknown> | null => {
      if (typeof v !== 'string') return null;
      try {
        const o: unknown = JSON.parse(v);
        return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
      } catch {
        return null;
      }
    };
    return rows.map((r) => ({
      job: toRecord(r),
      keyTemplate: typeof r.key_template === 'string' ? r.key_template : null,
      vars: object(r.vars_json),
      destinationConfig: object(r.dest_json),
    }));
  }

  jobs(limit = 50): StoredJob[] {
    return (this.sql('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]).map(toJob);
  }

  /** Every job of one dataset (all four fields of its identity), oldest first. */
  jobsOfDataset(identity: DatasetIdentity): StoredJob[] {
    return this.datasetRows(identity).map(toJob);
  }

  private datasetRows(identity: DatasetIdentity): JobRow[] {
    return this.sql('SELECT * FROM jobs WHERE dataset = ? AND proposal IS ? AND visit IS ? AND catalogue = ? ORDER BY id').all(
      identity.name,
      identity.proposal,
      identity.visit,
      identity.catalogue,
    ) as JobRow[];
  }

  /** Every job of datasets with this name, in any proposal, visit or catalogue, oldest first (callers disambiguate). */
  jobsNamed(name: string): StoredJob[] {
    return (this.sql('SELECT * FROM jobs WHERE dataset = ? ORDER BY id').all(name) as JobRow[]).map(toJob);
  }

  /** The unfinished job of the same kind, dataset identity, destination and sources, which a rerun continues. */
  findUnfinished(q: UnfinishedQuery): StoredJob | null {
    const r = this.sql(
      `SELECT * FROM jobs WHERE kind = ? AND dataset = ? AND proposal IS ? AND visit IS ? AND catalogue = ?
         AND destination = ? AND sources = ? AND state NOT IN ${ENDED} ORDER BY id DESC LIMIT 1`,
    ).get(
      q.kind,
      q.identity.name,
      q.identity.proposal,
      q.identity.visit,
      q.identity.catalogue,
      q.destination,
      JSON.stringify(q.sources),
    ) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  /** A rerun continues the job with what the operator gave now: new metadata, new options (of the job's kind). */
  updateJob<K extends JobKind>(
    id: number,
    kind: K,
    patch: { metadata?: Record<string, string>; options?: OptionsByKind[K] },
    detail: unknown = null,
  ): void {
    const t = this.now();
    if (patch.metadata)
      this.sql('UPDATE jobs SET metadata = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(patch.metadata), t, id);
    if (patch.options)
      this.sql('UPDATE jobs SET options = ?, updated_at = ? WHERE id = ? AND kind = ?').run(
        JSON.stringify(OPTIONS_SCHEMAS[kind].parse(patch.options)),
        t,
        id,
        kind,
      );
    this.event(id, null, 'job-updated', detail);
  }

  setJobState(id: number, state: JobState, reason: string | null = null): void {
    const t = this.now();
    this.sql('UPDATE jobs SET state = ?, reason = ?, updated_at = ?, finished_at = ? WHERE id = ?').run(
      state,
      reason,
      t,
      state === 'done' || state === 'failed' || state === 'cancelled' ? t : null,
      id,
    );
    this.event(id, null, `job-${state}`, reason ? { reason } : null);
  }

  /**
   * Removes a job with its files, multipart state, session and events (`beamdrop forget`); the
   * caller checks it stored nothing. Its multipart intents stay, of no job (ids are reused), for
   * the next leftovers sweep of the dataset's folder.
   */
  deleteJob(id: number): void {
    this.db.transaction(() => {
      this.multipart.disown(id);
      this.sql('DELETE FROM events WHERE job_id = ?').run(id);
      this.sql('DELETE FROM jobs WHERE id = ?').run(id);
    })();
  }

  // ---- files

  /**
   * Records scanned files. On a rescan of a resumed job, a file whose size or mtime changed is
   * queued again unless it was already stored, in which case it is marked `changed`: the stored
   * copy is never silently replaced.
   */
  addScannedFiles(jobId: number, files: ScannedFileRow[]): void {
    const t = this.now();
    const get = this.sql('SELECT id, size, mtime_ms, state FROM files WHERE job_id = ? AND relpath = ?');
    const insert = this.sql(
      `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, updated_at) VALUES (?, ?, ?, ?, ?, 'discovered', ?)`,
    );
    const requeue = this.sql(
      `UPDATE files SET size = ?, mtime_ms = ?, path = ?, state = ?, sha256 = NULL, updated_at = ? WHERE id = ?`,
    );
    this.db.transaction(() => {
      for (const f of files) {
        const old = get.get(jobId, f.relpath) as { id: number; size: number; mtime_ms: number; state: FileState } | undefined;
        if (!old) {
          insert.run(jobId, f.path, f.relpath, f.size, f.mtimeMs, t);
          continue;
        }
        if (old.size === f.size && old.mtime_ms === f.mtimeMs) continue;
        const stored = old.state === 'verified' || old.state === 'registered' || old.state === 'uploaded';
        requeue.run(f.size, f.mtimeMs, f.path, stored ? 'changed' : 'discovered', t, old.id);
      }
    })();
  }

  file(id: number): FileRecord | null {
    const r = this.sql('SELECT * FROM files WHERE id = ?').get(id) as FileRow | undefined;
    return r ? toFile(r) : null;
  }

  files(jobId: number, opts: { states?: FileState[]; limit?: number; offset?: number } = {}): FileRecord[] {
    const states = opts.states ?? [];
    const where = states.length ? `AND state IN (${states.map(() => '?').join(',')})` : '';
    const rows = this.sql(`SELECT * FROM files WHERE job_id = ? ${where} ORDER BY id LIMIT ? OFFSET ?`).all(
      jobId,
      ...states,
      opts.limit ?? -1,
      opts.offset ?? 0,
    ) as FileRow[];
    return rows.map(toFile);
  }

  setFileState(id: number, state: FileState, patch: FilePatch = {}): void {
    const sets = ['state = ?', 'updated_at = ?'];
    const args: unknown[] = [state, this.now()];
    if (patch.sha256 !== undefined) {
      sets.push('sha256 = ?');
      args.push(patch.sha256);
    }
    if (patch.remoteKey !== undefined) {
      sets.push('remote_key = ?');
      args.push(patch.remoteKey);
    }
    if (patch.error !== undefined) {
      sets.push('last_error = ?');
      args.push(patch.error ? JSON.stringify(patch.error) : null);
    }
    if (patch.incrementAttempts) sets.push('attempts = attempts + 1');
    if (patch.size !== undefined) {
      sets.push('size = ?');
      args.push(patch.size);
    }
    if (patch.mtimeMs !== undefined) {
      sets.push('mtime_ms = ?');
      args.push(patch.mtimeMs);
    }
    const r = this.sql(`UPDATE files SET ${sets.join(', ')} WHERE id = ? RETURNING job_id`).get(...args, id) as
      { job_id: number } | undefined;
    this.event(
      r?.job_id ?? null,
      id,
      `file-${state}`,
      patch.error ? { code: patch.error.code, message: patch.error.message } : null,
    );
  }

  /** Puts the failed files of a job back to `discovered`, in one transaction; returns how many. `changed` files stay. */
  requeueFailed(jobId: number): number {
    const failed = this.files(jobId, { states: ['failed'] });
    this.batch(() => {
      for (const f of failed) this.setFileState(f.id, 'discovered', { error: null });
    });
    return failed.length;
  }

  /** Runs several journal writes as one transaction: all of them land, or none. */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Files the job stored at its destination (STORED_FILE_SQL); 0 for a dry run. */
  storedCount(jobId: number): number {
    const r = this.sql(
      `SELECT COUNT(*) AS n FROM files f JOIN jobs j ON j.id = f.job_id WHERE f.job_id = ? AND j.kind != 'dry-run' AND ${STORED_FILE_SQL}`,
    ).get(jobId) as { n: number };
    return r.n;
  }

  /**
   * Forgets the multipart uploads of a cancelled job's files, so that `beamdrop cleanup` may abort
   * them. Their intents stay: the next leftovers sweep of the dataset's folder aborts them by key.
   */
  dropMultipartState(jobId: number): number {
    return this.sql('DELETE FROM multipart_uploads WHERE file_id IN (SELECT id FROM files WHERE job_id = ?)').run(jobId).changes;
  }

  /** Ids of the job's files above `afterId`, ascending (the app's file table pages by id). */
  fileIdsAfter(jobId: number, afterId: number): number[] {
    return this.sql('SELECT id FROM files WHERE job_id = ? AND id > ? ORDER BY id').pluck().all(jobId, afterId) as number[];
  }

  counts(jobId: number): StateCounts {
    const rows = this.sql('SELECT state, COUNT(*) AS n FROM files WHERE job_id = ? GROUP BY state').all(jobId) as {
      state: FileState;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  totals(jobId: number): { files: number; bytes: number; doneFiles: number; doneBytes: number } {
    return this.sql(
      `SELECT COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes,
        COALESCE(SUM(state IN ('verified','registered','skipped','failed','changed')), 0) AS doneFiles,
        COALESCE(SUM(CASE WHEN state IN ('verified','registered','skipped') THEN size ELSE 0 END), 0) AS doneBytes
       FROM files WHERE job_id = ?`,
    ).get(jobId) as { files: number; bytes: number; doneFiles: number; doneBytes: number };
  }

  // ---- multipart state, one per file (multipart-rows.ts)

  multipartStore(fileId: number): MultipartStore {
    return this.multipart.store(fileId);
  }

  /** Upload ids that unfinished jobs still resume from (`beamdrop cleanup` spares them). */
  openUploadIds(): Set<string> {
    return this.multipart.openUploadIds();
  }

  /** What a leftovers sweep of `prefix` spares and where it looks (jobs/leftovers.ts); `endingJobId`: the job being finalised. */
  leftoverRules(prefix: string, endingJobId: number | null): LeftoverRules {
    return this.multipart.leftoverRules(prefix, endingJobId);
  }

  /** After a sweep found nothing of ours left at these keys: their intents of jobs that resume nothing go. */
  settleLeftovers(keys: readonly string[], endingJobId: number | null): void {
    this.multipart.settleKeys(keys, endingJobId);
  }

  /** After the last sweep of a job being finalised: its multipart state goes (but intents at `remaining` keys). */
  releaseMultipart(jobId: number, remaining: readonly string[] = []): void {
    this.multipart.releaseJob(jobId, remaining);
  }

  /** Every key where the journal intends (or intended) a multipart upload: `beamdrop cleanup` looks there too. */
  intendedKeys(): string[] {
    return this.multipart.intendedKeysUnder('');
  }

  /** Ids of jobs that are not ended (a sweep spares what their live processes may be writing). */
  unfinishedJobIds(): number[] {
    return this.sql(`SELECT id FROM jobs WHERE state NOT IN ${ENDED} AND kind != 'dry-run'`).pluck().all() as number[];
  }

  // ---- event log

  event(jobId: number | null, fileId: number | null, type: string, detail: unknown): void {
    this.sql('INSERT INTO events (job_id, file_id, at, type, detail) VALUES (?, ?, ?, ?, ?)').run(
      jobId,
      fileId,
      this.now(),
      type,
      detail === null || detail === undefined ? null : JSON.stringify(detail),
    );
  }

  events(jobId: number, limit = 100): { at: number; type: string; fileId: number | null; detail: unknown }[] {
    return (
      this.sql('SELECT at, type, file_id, detail FROM events WHERE job_id = ? ORDER BY id DESC LIMIT ?').all(jobId, limit) as {
        at: number;
        type: string;
        file_id: number | null;
        detail: string | null;
      }[]
    ).map((e) => ({ at: e.at, type: e.type, fileId: e.file_id, detail: e.detail ? JSON.parse(e.detail) : null }));
  }
}
