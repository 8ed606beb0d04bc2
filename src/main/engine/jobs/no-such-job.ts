// The one answer to a job number the journal does not know.
import { BeamdropError } from '../../../shared/errors.js';

export function noSuchJob(jobId: number): BeamdropError {
  return new BeamdropError({
    code: 'job-not-found',
    retryable: false,
    field: 'job',
    message: `there is no job ${String(jobId)}; \`beamdrop status\` lists the jobs.`,
  });
}
