// Sync mode as a kind of job: the options a sync job stores (its folders with their resolved
// rules, and the job's sync settings) and the runner that drives a SyncSession until it is
// stopped. Creating or continuing the job, holding it for this process and finalising the dataset
// once the acquisition ended are the job lifecycle's, the same as for a batch upload
// (jobs/job-lifecycle.ts).
import type { JobEvent, JobSummary } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import { mergeRules, type SyncRuleSet } from '../../../shared/profile-sync-schema.js';
import type { DatasetTarget } from '../dataset-target.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { BatchJobOptions, SyncJobOptions } from '../jobs/job-options.js';
import type { KindRunner } from '../jobs/job-lifecycle.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import { parseBandwidthSchedule } from '../transfer/bandwidth-schedule.js';
import { Throttle, type Clock } from '../transfer/throttle.js';
import { resolveSyncFolders, syncSettings } from './sync-rules.js';
import { SyncSession, type WatchResult } from './sync-session.js';
import { syncStatusOf } from './sync-status.js';

export interface WatchRunOptions {
  /** Aborting it ends the acquisition: finish what is complete, then finalise the dataset. */
  signal?: AbortSignal;
  /** Aborting it pauses at once (transfers in flight stay journaled); resumable. */
  pauseSignal?: AbortSignal;
  onEvent?: (e: JobEvent) => void;
  /** Called once the dataset was finalised (after the catalogue's own finalisation). */
  onDatasetFinished?: (summary: JobSummary) => void | Promise<void>;
  /** Hands out the running session (e.g. to show its status). */
  onSession?: (session: SyncSession) => void;
}

export interface WatchRequest extends WatchRunOptions, DatasetTarget {
  folders: string[];
  /** Sync rules of this technique from the profile (sync.techniques). */
  technique?: string;
  /** Overrides of every folder's rules from the command line (--poll, --quiet-period). */
  rules?: SyncRuleSet;
  /** Cancel the unfinished sync job of the same dataset, destination and folders, and start a new one. */
  newJob?: boolean;
}

/** What a sync session needs from the engine besides what the lifecycle hands it. */
export interface WatchHost {
  journal: Journal;
  hashes: HashPool;
  clock: Clock;
  log: Logger;
}

/** The options a new sync job stores: the batch ones plus each folder's resolved rules and the job's settings. */
export function syncJobOptions(
  profile: FacilityProfile,
  req: Pick<WatchRequest, 'technique' | 'rules'>,
): (base: BatchJobOptions, folders: string[]) => SyncJobOptions {
  return (base, folders) => {
    const technique = req.technique ?? null;
    const resolved = resolveSyncFolders(profile, folders, technique).map((f) => ({
      ...f,
      rules: mergeRules(f.rules, req.rules),
    }));
    return { ...base, sync: { folders: resolved, settings: syncSettings(profile, technique) } };
  };
}

/** Runs a sync job: a SyncSession until `signal` (finish) or `pauseSignal` (pause). */
export function syncRunner(host: WatchHost, req: WatchRunOptions): KindRunner<'sync', WatchResult> {
  return {
    kind: 'sync',
    // The session's heartbeat also reads the stop requests of `beamdrop stop`.
    ownHeartbeat: true,
    async run({ job, resumed, destination, policy, sink, onEvent }) {
      const session = new SyncSession({
        job,
        options: job.options,
        resumed,
        journal: host.journal,
        hashes: host.hashes,
        destination,
        clock: host.clock,
        log: host.log,
        policy,
        sink,
        throttle: policy.bandwidth === 'off' ? null : new Throttle(parseBandwidthSchedule(policy.bandwidth), host.clock),
        onEvent,
      });
      req.onSession?.(session);
      const finish = () => session.requestStop('finish');
      const pause = () => session.requestStop('pause');
      if (req.signal?.aborted) finish();
      else req.signal?.addEventListener('abort', finish, { once: true });
      if (req.pauseSignal?.aborted) pause();
      else req.pauseSignal?.addEventListener('abort', pause, { once: true });
      host.log.info(
        { jobId: job.id, folders: job.options.sync.folders.map((f) => ({ path: f.path, mode: f.rules.mode })) },
        'watch started',
      );
      try {
        return await session.run();
      } finally {
        req.signal?.removeEventListener('abort', finish);
        req.pauseSignal?.removeEventListener('abort', pause);
      }
    },
    ended: (summary) => ({ summary, status: syncStatusOf(host.journal, summary.job.id, host.clock.now())! }),
  };
}
