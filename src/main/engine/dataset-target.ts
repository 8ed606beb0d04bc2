// The part of an upload or watch request that names the dataset, where it goes and which files
// belong to it; and the checks that refuse bad input before any job is created (finding 4: a
// refused start leaves nothing behind in the journal).
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BeamdropError } from '../../shared/errors.js';
import type { JobKind } from '../../shared/model.js';
import type { FacilityProfile, UploadPolicy } from '../../shared/profile-schema.js';
import type { JobOptions } from './jobs/job-options.js';
import { printable } from './keys/remote-key.js';
import { jobFilters } from './scan/filters.js';
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
    // The one glob rule and its defaults, the same for batch and sync (scan/filters.ts); the
    // operator's own patterns are kept apart too, so that a rerun compares them with what is typed.
    ...jobFilters(profile, target),
    own: { include: target.include ?? [], exclude: target.exclude ?? [] },
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

const FLAG = { dataset: '--dataset', proposal: '--proposal', visit: '--visit' } as const;
const NOUN = { dataset: 'dataset name', proposal: 'proposal id', visit: 'visit id' } as const;

/** Why a name cannot be one path segment of the keys, or null when it can. */
function segmentProblem(value: string): string | null {
  if (value.trim() === '') return 'is empty';
  if (value !== value.trim()) return 'starts or ends with a space';
  for (const sep of ['/', '\\']) if (value.includes(sep)) return `contains "${sep}"`;
  if (value === '.' || value === '..') return 'is not a name';
  if (/\p{Cc}/u.test(value)) return 'contains a control character';
  return null;
}

/**
 * Refuses (dataset-name-invalid) a dataset name, proposal or visit that cannot name a dataset:
 * each becomes one folder of the keys, so a "/" or ".." would put files into another dataset.
 */
export function checkDatasetNames(target: Pick<DatasetTarget, 'dataset' | 'proposal' | 'visit'>): void {
  for (const field of ['dataset', 'proposal', 'visit'] as const) {
    const value = target[field];
    // An empty proposal or visit (a form field left blank) is none.
    if (!value && field !== 'dataset') continue;
    const problem = segmentProblem(value ?? '');
    if (!problem) continue;
    throw new BeamdropError({
      code: 'dataset-name-invalid',
      retryable: false,
      field,
      ...(field === 'dataset' ? {} : { dataset: target.dataset }),
      message:
        problem === 'is empty'
          ? `the ${NOUN[field]} is empty; give ${FLAG[field]} ${field === 'dataset' ? 'NAME' : 'ID'}.`
          : `the ${NOUN[field]} "${printable(value ?? '')}" ${problem}; give ${FLAG[field]} as one name with letters, digits, "-", "_" or "." (it becomes one folder of the keys).`,
    });
  }
}

/**
 * Refuses (source-invalid) sources that are missing or of the wrong kind, before a job exists:
 * a batch upload takes files and folders, a watch takes folders. Returns them as absolute paths.
 */
export async function checkSources(kind: JobKind, sources: string[]): Promise<string[]> {
  const watch = kind === 'sync';
  if (!sources.length)
    throw new BeamdropError({
      code: 'source-invalid',
      retryable: false,
      field: 'sources',
      message: watch
        ? 'no folder given; name at least one FOLDER to watch.'
        : 'no files or folders given; name at least one PATH to upload.',
    });
  return Promise.all(
    sources.map(async (s) => {
      const abs = resolve(s);
      const st = await stat(abs).catch((e: NodeJS.ErrnoException) => e);
      const refuse = (what: string) =>
        new BeamdropError({ code: 'source-invalid', retryable: false, field: 'sources', file: abs, message: `${abs}: ${what}` });
      if (st instanceof Error) {
        if (st.code === 'ENOENT' || st.code === 'ENOTDIR')
          throw refuse(
            watch
              ? 'no such folder; check the path (create it first if the detector has not written yet).'
              : 'no such file or folder; check the path.',
          );
        if (st.code === 'EACCES' || st.code === 'EPERM') throw refuse('no permission to look at it; check its permissions.');
        if (st.code === 'ELOOP')
          throw refuse('is a symbolic link that leads back to itself through other links (a loop); fix or remove the link.');
        if (st.code === 'ENAMETOOLONG') throw refuse('the path is longer than the system allows; give a shorter path.');
        throw refuse(`cannot be read (${st.code ?? st.message}).`);
      }
      if (watch && !st.isDirectory())
        throw refuse('is a file, not a folder; `beamdrop watch` takes folders (upload single files with `beamdrop upload`).');
      if (!st.isDirectory() && !st.isFile())
        throw refuse('is neither a file nor a folder (a device, socket or pipe); name files or folders.');
      return abs;
    }),
  );
}
