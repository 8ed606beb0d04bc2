// The part of an upload or watch request that names the dataset, where it goes and which files
// belong to it.
import type { FacilityProfile, UploadPolicy } from '../../shared/profile-schema.js';
import type { JobOptions } from './jobs/job-runner.js';
import type { ResolvedDestination } from './storage/resolve-destination.js';

export interface DatasetTarget {
  dataset: string;
  proposal?: string;
  visit?: string;
  destination?: string;
  to?: string;
  include?: string[];
  exclude?: string[];
  metadata?: Record<string, string>;
  followSymlinks?: boolean;
  /** Overrides of the profile's upload policy (CLI flags). */
  policy?: Partial<Pick<UploadPolicy, 'concurrency' | 'partConcurrency' | 'bandwidth'>>;
}

/** The options a new job stores so that it can be re-run exactly: filters, key template, key variables. */
export function datasetJobOptions(
  profile: FacilityProfile,
  target: DatasetTarget,
  resolved: ResolvedDestination,
  now: number,
): JobOptions {
  return {
    include: [...profile.include, ...(target.include ?? [])],
    exclude: [...profile.exclude, ...(target.exclude ?? [])],
    followSymlinks: target.followSymlinks ?? false,
    keyTemplate: resolved.config.keyTemplate,
    vars: {
      facility: profile.facility || null,
      beamline: profile.beamline || null,
      proposal: target.proposal ?? null,
      visit: target.visit ?? null,
      // Fixed when the job starts, so a job resumed after midnight keeps its keys.
      dataset: target.dataset,
      date: new Date(now).toISOString().slice(0, 10),
    },
  };
}
