// Journal schema 1: jobs, files, multipart state, event log.
export const CORE = `
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    dataset TEXT NOT NULL,
    proposal TEXT,
    destination TEXT NOT NULL,
    sources TEXT NOT NULL,
    metadata TEXT NOT NULL,
    options TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    reason TEXT
  );
  CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    relpath TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    sha256 TEXT,
    state TEXT NOT NULL,
    remote_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (job_id, relpath)
  );
  CREATE INDEX files_by_state ON files (job_id, state);
  CREATE TABLE multipart_uploads (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    upload_id TEXT NOT NULL,
    remote_key TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE multipart_parts (
    file_id INTEGER NOT NULL REFERENCES multipart_uploads(file_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksum TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (file_id, part_number)
  );
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    job_id INTEGER,
    file_id INTEGER,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX events_by_job ON events (job_id, id);
  `;
