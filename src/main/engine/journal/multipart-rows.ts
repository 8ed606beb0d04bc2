// The multipart state of S3 uploads in the journal (tables multipart_uploads and multipart_parts):
// one upload per file, every part journaled as it is confirmed, so a resumed job re-sends only the
// parts the journal does not have. The journal hands out one store per file.
import type { Statement } from 'better-sqlite3';
import type { MultipartPart, MultipartState, MultipartStore } from '../storage/destination.js';
import type { Db } from './open-database.js';

export class MultipartRows {
  private readonly upload: Statement<unknown[]>;
  private readonly parts: Statement<unknown[]>;
  private readonly remove: Statement<unknown[]>;
  private readonly insert: Statement<unknown[]>;
  private readonly part: Statement<unknown[]>;
  private readonly open: Statement<unknown[]>;

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
  }

  store(fileId: number): MultipartStore {
    return {
      load: (): MultipartState | null => {
        const u = this.upload.get(fileId) as { upload_id: string; remote_key: string; part_size: number } | undefined;
        if (!u) return null;
        const parts = this.parts.all(fileId) as MultipartPart[];
        return { uploadId: u.upload_id, key: u.remote_key, partSize: u.part_size, parts };
      },
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
        this.remove.run(fileId);
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
}
