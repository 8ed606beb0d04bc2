// Journal schema step 7: the intent of every S3 multipart upload, written before
// CreateMultipartUpload. A process killed between Create and journaling the upload id (or whose
// Create answer was lost) leaves an upload the journal cannot name; its intent still says where
// (key) and when, so the next run finds it by key (ListMultipartUploads) and continues or aborts
// it. A row stays until no upload of ours can be left at its key (completed, aborted, or swept),
// so it is kept on purpose without a foreign key: a cancelled job's rows, and a forgotten job's
// (file and job set to NULL, as row ids are reused), tell the next sweep of the dataset's folder
// where to look. Uploads journaled before this step get theirs.
export const MULTIPART_INTENTS = `
  CREATE TABLE multipart_intents (
    id INTEGER PRIMARY KEY,
    file_id INTEGER,
    job_id INTEGER,
    remote_key TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (file_id, remote_key)
  );
  CREATE INDEX multipart_intents_by_key ON multipart_intents (remote_key);
  CREATE INDEX multipart_intents_by_job ON multipart_intents (job_id);
  INSERT INTO multipart_intents (file_id, job_id, remote_key, part_size, created_at)
    SELECT m.file_id, f.job_id, m.remote_key, m.part_size, m.created_at
    FROM multipart_uploads m JOIN files f ON f.id = m.file_id;
  `;
