// No orphan, ever: what interrupted uploads left in a job's own folder (unfinished S3 multipart
// uploads, hidden WebDAV and filesystem temporary files) is removed when the job starts, by the
// process that holds it, and again just before the dataset is finalised. Temporary files are
// never resumed, so every one is a leftover; an unfinished upload is spared while an unfinished
// job may still resume it (journaled id, or an intent whose id may never have been journaled),
// except at the end, when the job itself resumes nothing any more. A final object is never
// touched. Only the job's key prefix is swept (one job owns a dataset folder: shared-folder.ts).
import type { JobRecord } from '../../../shared/model.js';
import type { Journal, StoredJob } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Destination, SweepResult, SweepScope } from '../storage/destination.js';
import { crateBeside } from '../catalogue/crate-writer.js';
import { isLive, sessionOf } from '../sync/sync-sessions.js';
import type { Clock } from '../transfer/throttle.js';
import { keyPrefix } from './job-runner.js';

export type SweepPhase = 'start' | 'end';

export interface LeftoverDeps {
  journal: Journal;
  clock: Clock;
  log: Logger;
}

/** While another job runs somewhere, what was written this recently may be its upload in progress. */
const RECENT_MS = 10 * 60_000;
/** The last sweep is tried a few times: leftovers it misses stay until `beamdrop cleanup`. */
const END_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;

/**
 * Sweeps the job's folder. Never fails the job: a sweep that cannot finish is logged (the next
 * run of the job, or of another job of the dataset, sweeps again; `beamdrop cleanup` too).
 */
export async function sweepLeftovers(
  d: LeftoverDeps,
  job: StoredJob,
  destination: Destination,
  phase: SweepPhase,
): Promise<SweepResult | null> {
  // A dry run changes nothing anywhere; a job left `finishing` is swept once, before its finalisation.
  if (job.kind === 'dry-run' || (phase === 'start' && job.state === 'finishing')) return null;
  let prefix: string;
  try {
    prefix = keyPrefix(job.options);
  } catch {
    return null; // the job reports its key problem itself, with the file
  }
  // A template without a folder of the dataset's own ("{relpath}") shares the top of the storage:
  // only `beamdrop cleanup`, by age, removes leftovers there.
  if (prefix === '') return null;
  // The RO-Crate lies beside the dataset's folder ("P1/V1/scan-12-ro-crate-metadata.json").
  const folder = prefix.replace(/\/+$/, '');
  const scope: SweepScope = prefix.endsWith('/') && folder ? { prefix, beside: (key) => crateBeside(folder, key) } : { prefix };
  const ending = phase === 'end' ? job.id : null;
  const attempts = phase === 'end' ? END_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      const now = d.clock.now();
      const rules = {
        ...d.journal.leftoverRules(prefix, ending),
        spareSince: anotherJobLive(d.journal, job, now) ? now - RECENT_MS : null,
      };
      const result = await destination.sweep(scope, rules);
      const remaining = new Set(result.remaining);
      d.journal.batch(() => {
        d.journal.settleLeftovers(
          rules.probeKeys.filter((k) => !remaining.has(k)),
          ending,
        );
        if (phase === 'end') d.journal.releaseMultipart(job.id, result.remaining);
        if (result.uploads || result.temporaries)
          d.journal.event(job.id, null, 'leftovers-removed', {
            phase,
            prefix,
            uploads: result.uploads,
            temporaries: result.temporaries,
          });
      });
      if (result.uploads || result.temporaries)
        d.log.info(
          { jobId: job.id, phase, prefix, uploads: result.uploads, temporaries: result.temporaries },
          'leftovers removed',
        );
      return result;
    } catch (e) {
      if (attempt >= attempts) {
        d.log.warn(
          { jobId: job.id, phase, prefix, error: String(e) },
          `leftovers of interrupted uploads under "${prefix}" could not be looked for; the next run of a job of this dataset, or \`beamdrop cleanup\`, removes them`,
        );
        return null;
      }
      await d.clock.sleep(RETRY_DELAY_MS * attempt);
    }
  }
}

/** Whether a process (this one or another) runs another job now, which might write under the same prefix. */
function anotherJobLive(journal: Journal, job: JobRecord, now: number): boolean {
  return journal.unfinishedJobIds().some((id) => id !== job.id && isLive(sessionOf(journal, id), now));
}
