// Journal schema step 2: sync mode. Per file: when its current size and mtime were first seen
// (the quiet period counts from there), when it is next checked, its version (a file changed
// after upload is stored again as a new row, NAME.vN.EXT, linked to the first) and when its
// local deletion was noticed (never propagated to the destination). Per sync job: the process
// watching it (heartbeat, so a crashed watcher is told from a live one), the stop request that
// `beamdrop stop` writes for it, and the recent rate that the backlog's drain time is based on.
export const SYNC = `
  ALTER TABLE files ADD COLUMN seen_at INTEGER;
  ALTER TABLE files ADD COLUMN check_at INTEGER;
  ALTER TABLE files ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE files ADD COLUMN version_of INTEGER;
  ALTER TABLE files ADD COLUMN deleted_at INTEGER;
  CREATE INDEX files_versions ON files (version_of) WHERE version_of IS NOT NULL;
  CREATE INDEX files_due ON files (job_id, state, check_at);
  CREATE TABLE sync_sessions (
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    ended_at INTEGER,
    stop_request TEXT,
    rate REAL NOT NULL DEFAULT 0,
    destination_down TEXT
  );
  `;
