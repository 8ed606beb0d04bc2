// The `finishing` state: every file of the job is settled (a batch upload that looked at every
// file, a sync session whose acquisition ended and whose backlog drained) and the dataset is being
// finalised. The runner writes it; the lifecycle finalises the dataset (local catalogue complete,
// the facility catalogue told, the RO-Crate beside the data) and only then ends the job `done`.
// A process killed in between (a second Ctrl-C, a crash) leaves the job `finishing`, which is
// unfinished: `beamdrop resume`, `watch --resume` or the same command again finalise it without
// sending or watching anything again.
import type { JobRecord } from '../../../shared/model.js';
import type { Journal } from '../journal/journal.js';

/** How to finish a job whose finalisation was interrupted. */
export function resumeCommand(job: Pick<JobRecord, 'id' | 'kind'>): string {
  return job.kind === 'sync' ? `beamdrop watch --resume ${job.id}` : `beamdrop resume ${job.id}`;
}

export function markFinishing(journal: Journal, job: Pick<JobRecord, 'id' | 'kind'>): void {
  journal.setJobState(
    job.id,
    'finishing',
    `every file is settled; the dataset is being finalised (local catalogue, facility catalogue, RO-Crate). If that was interrupted, \`${resumeCommand(job)}\` (or the same command again) finishes it without sending anything again.`,
  );
}
