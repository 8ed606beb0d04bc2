// Journal schema step 6: dry runs written before dry runs were a kind of their own. Those versions
// stored a dry run as a `batch` job and left it `running` (or `paused`, when stopped), so the
// next real upload of the dataset continued it. Their rows are recognised without guessing:
// - written before step 4's code: their `job-created` event has no `kind` (every later version
//   writes one), so no job created since is touched;
// - they never started sending a file: no file event or state beyond discovered/stable/failed,
//   which a dry run never writes (a real upload marks each file `transferring` before its first
//   byte, or `skipped`/`verified` when it is already there).
// A job that ran to the end that way (`running`, every file looked at: its key recorded, or
// failed) was a dry run: it becomes a `dry-run` that ended `done`. Any other such job (paused,
// scanning, stopped part-way) may have been a dry run or an upload stopped before its first file;
// it stored nothing either way, so continuing it gains nothing and could continue a dry run as a
// real upload: it is `cancelled`, with a reason that says why. A new upload starts a new job.
const OLD_UNFINISHED_BATCH_THAT_SENT_NOTHING = `
  kind = 'batch' AND state NOT IN ('done', 'failed', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = jobs.id AND e.type = 'job-created'
                  AND json_valid(e.detail) AND json_extract(e.detail, '$.kind') IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = jobs.id
                  AND e.type IN ('file-transferring', 'file-uploaded', 'file-verified', 'file-registered', 'file-skipped', 'file-changed'))
  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.job_id = jobs.id AND f.state NOT IN ('discovered', 'stable', 'failed'))
  AND NOT EXISTS (SELECT 1 FROM multipart_uploads m JOIN files f ON f.id = m.file_id WHERE f.job_id = jobs.id)`;

const NOW_MS = `CAST(strftime('%s', 'now') AS INTEGER) * 1000`;

export const PRE_UPGRADE_DRY_RUNS = `
  CREATE TEMP TABLE migrating_dry_runs AS SELECT id FROM jobs WHERE ${OLD_UNFINISHED_BATCH_THAT_SENT_NOTHING}
    AND state = 'running'
    AND EXISTS (SELECT 1 FROM files f WHERE f.job_id = jobs.id)
    AND NOT EXISTS (SELECT 1 FROM files f WHERE f.job_id = jobs.id AND f.remote_key IS NULL AND f.state != 'failed');
  CREATE TEMP TABLE migrating_stopped AS SELECT id FROM jobs WHERE ${OLD_UNFINISHED_BATCH_THAT_SENT_NOTHING}
    AND id NOT IN (SELECT id FROM migrating_dry_runs);
  UPDATE jobs SET kind = 'dry-run', state = 'done', finished_at = updated_at,
    reason = 'a dry run of an earlier version of Beamdrop (recognised on upgrade): it sent and recorded nothing and is never continued.'
    WHERE id IN (SELECT id FROM migrating_dry_runs);
  UPDATE jobs SET state = 'cancelled', finished_at = ${NOW_MS}, updated_at = ${NOW_MS},
    reason = 'written by an earlier version of Beamdrop and stopped before it sent a file (it may have been a dry run, which that version kept as an upload); it stored nothing, so it is not continued: a new upload of the dataset starts a new job.'
    WHERE id IN (SELECT id FROM migrating_stopped);
  INSERT INTO events (job_id, file_id, at, type, detail)
    SELECT id, NULL, ${NOW_MS}, 'job-migrated', json_object('to', 'dry-run', 'state', 'done') FROM migrating_dry_runs;
  INSERT INTO events (job_id, file_id, at, type, detail)
    SELECT id, NULL, ${NOW_MS}, 'job-migrated', json_object('state', 'cancelled') FROM migrating_stopped;
  DROP TABLE migrating_dry_runs;
  DROP TABLE migrating_stopped;
  `;
