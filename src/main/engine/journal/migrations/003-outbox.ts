// Journal schema step 3: the catalogue outbox. One registration per dataset and catalogue, keyed
// by a stable idempotency key; the files waiting to be registered; and the blocks they were sent
// in. A block is written as 'sending' before the catalogue is called and 'sent' after, so a
// crash in between is detected and checked against the catalogue instead of re-posted blindly.
// A lease per catalogue keeps two processes (the app and a CLI upload) from sending at once.
export const OUTBOX = `
  CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    catalogue TEXT NOT NULL,
    dataset TEXT NOT NULL,
    proposal TEXT,
    idem_key TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    remote_id TEXT,
    remote_extra TEXT,
    finish_wanted INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX registrations_by_dataset ON registrations (dataset);
  CREATE TABLE registration_blocks (
    id INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    files INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
  );
  CREATE INDEX registration_blocks_by_registration ON registration_blocks (registration_id, state);
  CREATE TABLE registration_files (
    id INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    file_id INTEGER,
    relpath TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    mtime_ms REAL NOT NULL,
    storage_uri TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    block_id INTEGER REFERENCES registration_blocks(id),
    UNIQUE (registration_id, relpath)
  );
  CREATE INDEX registration_files_by_block ON registration_files (registration_id, block_id);
  CREATE TABLE outbox_leases (
    catalogue TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `;
