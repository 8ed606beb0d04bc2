// The operator's view of a sync job, computed from the journal: what waits to be complete, the
// backlog (complete, not yet verified) in files and bytes, and the time to drain it at the
// recent rate. Works in the watching process and from any other (`beamdrop status`, the app),
// which read the rate and the destination state from the watcher's heartbeat row.
import type { SyncStatus } from '../../../shared/model.js';
import type { Journal } from '../journal/journal.js';
import { SyncLedger } from './sync-journal.js';
import { isLive, sessionOf } from './sync-sessions.js';

export function computeSyncStatus(
  ledger: SyncLedger,
  jobId: number,
  state: SyncStatus['state'],
  folders: SyncStatus['folders'],
  rate: number,
  destinationDown: string | null,
): SyncStatus {
  const s: SyncStatus = {
    jobId,
    state,
    folders,
    waiting: { files: 0, bytes: 0 },
    backlog: { files: 0, bytes: 0 },
    done: { files: 0, bytes: 0 },
    failed: 0,
    versions: 0,
    changed: 0,
    deletedLocally: 0,
    rate,
    eta: null,
    destinationDown,
  };
  for (const t of ledger.tally()) {
    s.versions += t.versions;
    if (t.deleted) s.deletedLocally += t.files;
    switch (t.state) {
      case 'discovered':
        if (!t.deleted) {
          s.waiting.files += t.files;
          s.waiting.bytes += t.bytes;
        }
        break;
      case 'stable':
      case 'transferring':
      case 'uploaded':
        if (!t.deleted) {
          s.backlog.files += t.files;
          s.backlog.bytes += t.bytes;
        }
        break;
      case 'verified':
      case 'registered':
      case 'skipped':
        s.done.files += t.files;
        s.done.bytes += t.bytes;
        break;
      case 'failed':
        s.failed += t.files;
        break;
      case 'changed':
        s.changed += t.files;
        break;
    }
  }
  s.eta = s.backlog.bytes === 0 ? 0 : rate > 0 ? Math.ceil(s.backlog.bytes / rate) : null;
  return s;
}

/** The status of a sync job as another process sees it (rate from the watcher's heartbeat). */
export function syncStatusOf(journal: Journal, jobId: number, now: number): SyncStatus | null {
  const job = journal.job(jobId);
  if (!job || job.kind !== 'sync') return null;
  const session = sessionOf(journal, jobId);
  const live = isLive(session, now);
  const folders = job.options.sync.folders.map((f) => ({ path: f.path, mode: f.rules.mode }));
  return computeSyncStatus(
    new SyncLedger(journal, jobId),
    jobId,
    job.state,
    folders,
    live ? session!.rate : 0,
    live ? session!.destinationDown : null,
  );
}
