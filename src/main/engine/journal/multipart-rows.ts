// The multipart state of S3 uploads in the journal (tables multipart_uploads, multipart_parts and
// multipart_intents): one upload per file, every part journaled as it is confirmed, so a resumed
// job re-sends only the parts the journal does not have; and, written before each
// CreateMultipartUpload, the intent that names the key, so that an upload whose id never reached
// the journal is found again by key. The journal hands out one store per file, and tells a
// leftovers sweep what unfinished jobs still resume.
import type { Statement } from 'better-sqlite3';
import type { MultipartIntent, MultipartPart, MultipartState, MultipartStore } from '../storage/destination.js';
import type { Db } from './open-database.js';

/** What a sweep of one key prefix must spare, and where uploads of ours may be left (see SweepRules). */
export interface LeftoverRules {
  keepUploads: Set<string>;
  keepKeys: Set<string>;
  probeKeys: string[];
}

export class MultipartRows {
  private readonly upload: Statement<unknown[]>;
  private readonly parts: Statement<unknown[]>;
  private readonly remove: Statement<unknown[]>;
  private readonly insert: Statement<unknown[]>;
  private readonly part: Statement<unknown[]>;
  private readonly open: Statement<unknown[]>;
  private readonly intend: Statement<unknown[]>;
  private readonly intentsOf: Statement<unknown[]>;
  private readonly removeIntents: Statement<unknown[]>;
  private readonly removeIntent: Statement<unknown[]>;
  private readonly heldAt: Statement<unknown[]>;
  private readonly keptKeys: Statement<unknown[]>;
  private readonly intendedKeys: Statement<unknown[]>;
  private readonly settleKey: Statement<unknown[]>;
  private readonly releaseUploads: Statement<unknown[]>;
  private readonly intentKeysOfJob: Statement<unknown[]>;
  private readonly releaseIntent: Statement<unknown[]>;
  private readonly ownUploads: Statement<unknown[]>;
  private readonly disownJob: Statement<unknown[]>;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    /** SQL list of the job states that resume nothing, e.g. "('done', 'failed', 'cancelled')". */
    endedStates: string,
  ) {
    this.upload = db.prepare('SELECT upload_id, remote_key, part_size FROM multipart_uploads WHERE file_id = ?');
    this.parts = db.prepare(
      'SELECT part_number AS partNumber, etag, checksum, size FROM multipart_parts WHERE file_id = ? ORDER BY part_number',
    );
    this.remove = db.prepare('DELETE FROM multipart_uploads WHERE file_id = ?');
    this.insert = db.prepare(
      'INSERT INTO multipart_uploads (file_id, upload_id, remote_key, part_size, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.part = db.prepare(
      'INSERT OR REPLACE INTO multipart_parts (file_id, part_number, etag, checksum, size) VALUES (?, ?, ?, ?, ?)',
    );
    this.open = db.prepare(
      `SELECT m.upload_id FROM multipart_uploads m JOIN files f ON f.id = m.file_id JOIN jobs j ON j.id = f.job_id
       WHERE j.state NOT IN ${endedStates}`,
    );
    this.intend = db.prepare(
      `INSERT INTO multipart_intents (file_id, job_id, remote_key, part_size, created_at)
       SELECT id, job_id, ?, ?, ? FROM files WHERE id = ?
       ON CONFLICT (file_id, remote_key) DO UPDATE SET part_size = excluded.part_size, created_at = excluded.created_at`,
    );
    this.intentsOf = db.prepare(
      'SELECT remote_key AS key, part_size AS partSize, created_at AS at FROM multipart_intents WHERE file_id = ? ORDER BY created_at DESC',
    );
    this.removeIntents = db.prepare('DELETE FROM multipart_intents WHERE file_id = ?');
    this.removeIntent = db.prepare('DELETE FROM multipart_intents WHERE file_id = ? AND remote_key = ?');
    this.heldAt = db.prepare(
      `SELECT m.upload_id FROM multipart_uploads m JOIN files f ON f.id = m.file_id JOIN jobs j ON j.id = f.job_id
       WHERE m.remote_key = ? AND m.file_id != ? AND j.state NOT IN ${endedStates}`,
    );
    // `j.id IS NOT ?` with NULL keeps every job; with a job id, leaves that (ending) job out.
    this.keptKeys = db.prepare(
      `SELECT DISTINCT i.remote_key FROM multipart_intents i JOIN jobs j ON j.id = i.job_id
       WHERE j.state NOT IN ${endedStates} AND j.id IS NOT ? AND substr(i.remote_key, 1, length(?)) = ?`,
    );
    this.intendedKeys = db.prepare(
      'SELECT DISTINCT remote_key FROM multipart_intents WHERE substr(remote_key, 1, length(?)) = ? ORDER BY remote_key',
    );
    this.settleKey = db.prepare(
      `DELETE FROM multipart_intents WHERE remote_key = ?
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = multipart_intents.job_id AND j.state NOT IN ${endedStates} AND j.id IS NOT ?)`,
    );
    this.releaseUploads = db.prepare('DELETE FROM multipart_uploads WHERE file_id IN (SELECT id FROM files WHERE job_id = ?)');
    this.disownJob = db.prepare('UPDATE multipart_intents SET job_id = NULL, file_id = NULL WHERE job_id = ?');
    this.intentKeysOfJob = db.prepare('SELECT DISTINCT remote_key FROM multipart_intents WHERE job_id = ?');
    this.releaseIntent = db.prepare('DELETE FROM multipart_intents WHERE job_id = ? AND remote_key = ?');
    this.ownUploads = db.prepare(
      'SELECT m.upload_id FROM multipart_uploads m JOIN files f ON f.id = m.file_id WHERE f.job_id = ?',
    );
  }

  store(fileId: number): MultipartStore {
    return {
      load: (): MultipartState | null => {
        const u = this.upload.get(fileId) as { upload_id: string; remote_key: string; part_size: number } | undefined;
        if (!u) return null;
        const parts = this.parts.all(fileId) as MultipartPart[];
        return { uploadId: u.upload_id, key: u.remote_key, partSize: u.part_size, parts };
      },
      intend: (i) => {
        this.intend.run(i.key, i.partSize, this.now(), fileId);
      },
      intents: () => this.intentsOf.all(fileId) as MultipartIntent[],
      heldElsewhere: (key) => new Set((this.heldAt.all(key, fileId) as { upload_id: string }[]).map((r) => r.upload_id)),
      begin: (s) => {
        this.db.transaction(() => {
          this.remove.run(fileId);
          this.insert.run(fileId, s.uploadId, s.key, s.partSize, this.now());
        })();
      },
      partDone: (p) => {
        this.part.run(fileId, p.partNumber, p.etag, p.checksum, p.size);
      },
      clear: () => {
        this.db.transaction(() => {
          this.remove.run(fileId);
          this.removeIntents.run(fileId);
        })();
      },
      abandon: () => {
        this.remove.run(fileId);
      },
      settled: (key) => {
        this.removeIntent.run(fileId, key);
      },
    };
  }

  /**
   * Upload ids of multipart uploads that unfinished jobs still resume from (`beamdrop cleanup`
   * spares them). A job that ended (done, failed, cancelled) resumes nothing: its uploads may go.
   */
  openUploadIds(): Set<string> {
    return new Set((this.open.all() as { upload_id: string }[]).map((r) => r.upload_id));
  }

  /**
   * What a sweep of `prefix` spares: uploads and intended keys of unfinished jobs, except those of
   * `endingJobId` (a job about to be finalised resumes nothing any more); and every key under the
   * prefix with an intent of any job, ended or not, where an upload of ours may be left.
   */
  leftoverRules(prefix: string, endingJobId: number | null): LeftoverRules {
    const keepKeys = new Set(
      (this.keptKeys.all(endingJobId, prefix, prefix) as { remote_key: string }[]).map((r) => r.remote_key),
    );
    const probeKeys = this.intendedKeysUnder(prefix).filter((k) => !keepKeys.has(k));
    const keepUploads = this.openUploadIds();
    if (endingJobId !== null) {
      for (const r of this.ownUploads.all(endingJobId) as { upload_id: string }[]) keepUploads.delete(r.upload_id);
    }
    return { keepUploads, keepKeys, probeKeys };
  }

  /** Distinct keys of every intent under `prefix` ('' for all). */
  intendedKeysUnder(prefix: string): string[] {
    return (this.intendedKeys.all(prefix, prefix) as { remote_key: string }[]).map((r) => r.remote_key);
  }

  /** After a sweep: nothing of ours is left at these keys, so their intents of jobs that resume nothing go. */
  settleKeys(keys: readonly string[], endingJobId: number | null): void {
    this.db.transaction(() => {
      for (const k of keys) this.settleKey.run(k, endingJobId);
    })();
  }

  /** A job removed from the journal (`beamdrop forget`): its intents stay for the sweep, of no job or file. */
  disown(jobId: number): void {
    this.disownJob.run(jobId);
  }

  /**
   * A finalised job resumes nothing: after its last sweep its upload state and intents go, except
   * intents at `remaining` keys, where the sweep had to spare something (a later sweep looks again).
   */
  releaseJob(jobId: number, remaining: readonly string[] = []): void {
    const kept = new Set(remaining);
    this.db.transaction(() => {
      this.releaseUploads.run(jobId);
      for (const r of this.intentKeysOfJob.all(jobId) as { remote_key: string }[])
        if (!kept.has(r.remote_key)) this.releaseIntent.run(jobId, r.remote_key);
    })();
  }
}
