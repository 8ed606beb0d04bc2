// Journal schema step 5: a registration whose request changed after the catalogue received it (a
// rerun with other -p values, `catalogue retry -p`) waits for its metadata update to be sent
// (update_wanted); the outbox clears it once the catalogue took the request as it is now.
export const OUTBOX_REVISIONS = `
  ALTER TABLE registrations ADD COLUMN update_wanted INTEGER NOT NULL DEFAULT 0;
  `;
