// Ending a job for good (`beamdrop cancel`) and removing one that stored nothing (`beamdrop
// forget`). Each has a plan, the words said to the operator before anything is done (what happens
// to the stored files and to the catalogue entries), and the act itself; both refuse the same
// way, so the plan never promises what the act then refuses.
import { BeamdropError } from '../../../shared/errors.js';
import { ENDED_JOB_STATES, datasetLabel, type JobRecord } from '../../../shared/model.js';
import type { Journal } from '../journal/journal.js';
import { refuseWhileBusy } from '../sync/sync-sessions.js';
import { noSuchJob } from './no-such-job.js';

export interface RemovalPlan {
  job: JobRecord;
  /** Files the job stored at its destination (they stay there). */
  stored: number;
  /** What will happen, line by line, for the operator. */
  lines: string[];
}

/** The job's record (not its options, so a job whose options no longer parse can still be removed). */
function recordOf(journal: Journal, jobId: number): JobRecord {
  const job = Number.isInteger(jobId) && jobId > 0 ? journal.record(jobId) : null;
  if (!job) throw noSuchJob(jobId);
  return job;
}

const what = (job: JobRecord) =>
  `job ${job.id} (${job.kind === 'sync' ? 'watch' : job.kind === 'dry-run' ? 'dry run' : 'upload'} of dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })} to "${job.destination}")`;

const catalogueWords = (job: JobRecord) =>
  job.catalogue === 'local'
    ? 'recorded in the local catalogue'
    : `recorded in the local catalogue and registered in ${job.catalogue}`;

export function cancelPlan(journal: Journal, jobId: number, now: number): RemovalPlan {
  const job = recordOf(journal, jobId);
  if (ENDED_JOB_STATES.has(job.state))
    throw new BeamdropError({
      code: 'job-state',
      retryable: false,
      field: 'job',
      message: `${what(job)} has already ended (${job.state}); there is nothing to cancel.${journal.storedCount(job.id) === 0 ? ` \`beamdrop forget ${job.id}\` removes it from the journal.` : ''}`,
    });
  refuseWhileBusy(journal, job.id, now, `cancel job ${job.id}`);
  const stored = journal.storedCount(job.id);
  const t = journal.totals(job.id);
  const left = Math.max(0, t.files - stored);
  const lines =
    job.kind === 'dry-run'
      ? [`Cancelling ${what(job)}: it sent nothing and recorded nothing; it ends as cancelled.`]
      : [
          `Cancelling ${what(job)}:`,
          stored
            ? `  - the ${stored} file(s) already stored at "${job.destination}" stay there and stay ${catalogueWords(job)};`
            : `  - no file was stored yet;`,
          ...(left ? [`  - the ${left} other file(s) of the job are not sent;`] : []),
          `  - the dataset is not finalised (not marked complete, no RO-Crate); nothing is deleted anywhere;`,
          `  - the job is never continued: a new upload (or watch) of the dataset starts a new job.`,
        ];
  return { job, stored, lines };
}

/** Cancels the job (state `cancelled`) after the same checks as its plan. */
export function cancelJob(journal: Journal, jobId: number, now: number): JobRecord {
  const plan = cancelPlan(journal, jobId, now);
  endForGood(
    journal,
    jobId,
    `cancelled by the operator; ${plan.stored} stored file(s) stay at "${plan.job.destination}", the dataset was not finalised.`,
  );
  return journal.record(jobId)!;
}

/**
 * The one act of ending a job for good, behind `beamdrop cancel` and `--new-job` alike: the job is
 * `cancelled` and its partial multipart uploads are no longer resumed, so `beamdrop cleanup` may
 * abort them. The stored files stay where they are and stay recorded.
 */
export function endForGood(journal: Journal, jobId: number, reason: string): void {
  journal.batch(() => {
    journal.dropMultipartState(jobId);
    journal.setJobState(jobId, 'cancelled', reason);
  });
}

export function forgetPlan(journal: Journal, jobId: number, now: number): RemovalPlan {
  const job = recordOf(journal, jobId);
  refuseWhileBusy(journal, job.id, now, `forget job ${job.id}`);
  const stored = journal.storedCount(job.id);
  if (stored > 0)
    throw new BeamdropError({
      code: 'job-state',
      retryable: false,
      field: 'job',
      message: `${what(job)} stored ${stored} file(s) at "${job.destination}"; its record stays, because verify and fetch need it. ${ENDED_JOB_STATES.has(job.state) ? `It has ended (${job.state}) and is never continued.` : `\`beamdrop cancel ${job.id}\` stops it for good instead.`}`,
    });
  return {
    job,
    stored,
    lines: [
      `Forgetting ${what(job)}: it stored nothing, so its record, its ${journal.totals(job.id).files} file entr${journal.totals(job.id).files === 1 ? 'y' : 'ies'} and its events are removed from the journal. Nothing at "${job.destination}" or in a catalogue is touched.`,
    ],
  };
}

/** Removes the job from the journal after the same checks as its plan. */
export function forgetJob(journal: Journal, jobId: number, now: number): JobRecord {
  const { job } = forgetPlan(journal, jobId, now);
  journal.deleteJob(jobId);
  return job;
}
