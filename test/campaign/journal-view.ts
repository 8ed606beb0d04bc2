// The campaign's read-only view of a BEAMDROP_HOME's journal, with SQL of its own (none of
// Beamdrop's classes): a dataset's jobs, files, multipart state and registration, read after a
// SIGKILL (the dead process wrote nothing more, so this is the journal at the moment of the kill)
// and at the end of a round.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface JobRow {
  id: number;
  kind: string;
  state: string;
  reason: string | null;
}

export interface FileRow {
  id: number;
  relpath: string;
  state: string;
  size: number;
  sha256: string | null;
  remote_key: string | null;
}

export interface RegistrationRow {
  id: number;
  catalogue: string;
  state: string;
  remote_id: string | null;
  finish_wanted: number;
  finished_at: number | null;
  last_error: string | null;
}

export interface DatasetJournal {
  jobs: JobRow[];
  /** The dataset's latest job (a round has one; more is a defect). */
  job: JobRow | null;
  files: FileRow[];
  /** The files of every job of the dataset (a rerun of a finished upload is a new job). */
  allFiles: (FileRow & { job_id: number })[];
  /** dataset-finished events of every job of the dataset. */
  finalisations: number;
  /** Multipart uploads of the job's files, with the number of parts journaled. */
  multipart: { file_id: number; part_size: number; parts: number }[];
  registrations: RegistrationRow[];
  /** Blocks of files sent to the catalogue whose answer was not journaled. */
  sendingBlocks: number;
  /** The files the registration holds (relpath, size, SHA-256), for the journal–catalogue comparison. */
  registeredFiles: { relpath: string; size: number; sha256: string; storage_uri: string }[];
  /** Events of the job by type. */
  eventCounts: Record<string, number>;
  /** Files with more than one upload-result event (sent to the destination twice). */
  sentTwice: string[];
}

const EMPTY: DatasetJournal = {
  jobs: [],
  job: null,
  files: [],
  allFiles: [],
  finalisations: 0,
  multipart: [],
  registrations: [],
  sendingBlocks: 0,
  registeredFiles: [],
  eventCounts: {},
  sentTwice: [],
};

export function readDatasetJournal(home: string, dataset: string): DatasetJournal {
  const file = join(home, 'journal.sqlite');
  if (!existsSync(file)) return EMPTY;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return EMPTY;
  }
  try {
    const all = <T>(sql: string, ...args: unknown[]): T[] => {
      try {
        return db.prepare(sql).all(...args) as T[];
      } catch {
        return []; // a table the journal does not have yet (killed before its first migration)
      }
    };
    const jobs = all<JobRow>(
      "SELECT id, kind, state, reason FROM jobs WHERE dataset = ? AND kind != 'dry-run' ORDER BY id",
      dataset,
    );
    const job = jobs.at(-1) ?? null;
    const registrations = all<RegistrationRow>(
      'SELECT id, catalogue, state, remote_id, finish_wanted, finished_at, last_error FROM registrations WHERE dataset = ? ORDER BY id',
      dataset,
    );
    const regIds = registrations.map((r) => r.id);
    const inRegs = regIds.length ? `(${regIds.join(',')})` : '(NULL)';
    if (!job) return { ...EMPTY, jobs, registrations };
    const events = all<{ type: string; n: number }>(
      'SELECT type, COUNT(*) AS n FROM events WHERE job_id = ? GROUP BY type',
      job.id,
    );
    const jobIds = `(${jobs.map((j) => j.id).join(',')})`;
    return {
      jobs,
      job,
      allFiles: all(
        `SELECT id, job_id, relpath, state, size, sha256, remote_key FROM files WHERE job_id IN ${jobIds} ORDER BY job_id, relpath`,
      ),
      finalisations:
        all<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE type = 'dataset-finished' AND job_id IN ${jobIds}`)[0]?.n ?? 0,
      files: all<FileRow>(
        'SELECT id, relpath, state, size, sha256, remote_key FROM files WHERE job_id = ? ORDER BY relpath',
        job.id,
      ),
      multipart: all(
        `SELECT m.file_id, m.part_size, (SELECT COUNT(*) FROM multipart_parts p WHERE p.file_id = m.file_id) AS parts
           FROM multipart_uploads m JOIN files f ON f.id = m.file_id WHERE f.job_id = ?`,
        job.id,
      ),
      registrations,
      sendingBlocks:
        all<{ n: number }>(
          `SELECT COUNT(*) AS n FROM registration_blocks WHERE state = 'sending' AND registration_id IN ${inRegs}`,
        )[0]?.n ?? 0,
      registeredFiles: all(
        `SELECT relpath, size, sha256, storage_uri FROM registration_files WHERE registration_id IN ${inRegs} ORDER BY relpath`,
      ),
      eventCounts: Object.fromEntries(events.map((e) => [e.type, e.n])),
      sentTwice: all<{ relpath: string }>(
        `SELECT f.relpath FROM events e JOIN files f ON f.id = e.file_id
          WHERE e.job_id = ? AND e.type = 'upload-result' GROUP BY e.file_id HAVING COUNT(*) > 1`,
        job.id,
      ).map((r) => r.relpath),
    };
  } finally {
    db.close();
  }
}

/** Multipart uploads the journal still holds for unfinished jobs anywhere in this home (they will be resumed). */
export function journaledUploadKeys(home: string): Set<string> {
  const file = join(home, 'journal.sqlite');
  if (!existsSync(file)) return new Set();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT m.remote_key FROM multipart_uploads m JOIN files f ON f.id = m.file_id JOIN jobs j ON j.id = f.job_id
          WHERE j.state NOT IN ('done', 'failed', 'cancelled')`,
      )
      .all() as { remote_key: string }[];
    return new Set(rows.map((r) => r.remote_key));
  } catch {
    return new Set();
  } finally {
    db.close();
  }
}
