// Which process runs a job (a batch upload, a sync session, a dry run), and how other processes
// talk to it through the journal. One process at a time holds a job: its lease is the job's row
// here (pid + host + heartbeat), taken in an IMMEDIATE transaction together with the decision to
// create or continue the job (job-lifecycle.ts), so two processes started at the same instant
// cannot both take it. The holder writes a heartbeat every second; `beamdrop stop JOB` writes a
// stop request that a watcher reads with its heartbeat. A holder killed without a word leaves a
// pid that no longer runs (taken over at once on the same host) or, seen from another host or
// after the pid was reused, a heartbeat older than HEARTBEAT_STALE_MS.
// The rows live in the journal file (table sync_sessions) and this module owns their SQL.
import { hostname } from 'node:os';
import { BeamdropError, type ErrorInfo } from '../../../shared/errors.js';
import { ENDED_JOB_STATES, datasetLabel, jobIdentity, type DatasetIdentity } from '../../../shared/model.js';
import { noSuchJob } from '../jobs/no-such-job.js';
import type { Journal } from '../journal/journal.js';

export type StopMode = 'finish' | 'pause';

export interface SessionRow {
  jobId: number;
  pid: number;
  host: string;
  startedAt: number;
  heartbeatAt: number;
  endedAt: number | null;
  stopRequest: StopMode | null;
  rate: number;
  destinationDown: string | null;
}

/** A heartbeat older than this means the watcher is gone even if its pid was reused. */
export const HEARTBEAT_STALE_MS = 15_000;

const SELECT = `SELECT job_id AS jobId, pid, host, started_at AS startedAt, heartbeat_at AS heartbeatAt, ended_at AS endedAt,
  stop_request AS stopRequest, rate, destination_down AS destinationDown FROM sync_sessions WHERE job_id = ?`;

export function sessionOf(journal: Journal, jobId: number): SessionRow | null {
  return (journal.connectionForStores().prepare(SELECT).get(jobId) as SessionRow | undefined) ?? null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a process is running (or watching) the job right now. */
export function isLive(s: SessionRow | null, now: number): boolean {
  if (!s || s.endedAt !== null || now - s.heartbeatAt > HEARTBEAT_STALE_MS) return false;
  return s.host !== hostname() || pidAlive(s.pid);
}

const isThisProcess = (s: Pick<SessionRow, 'pid' | 'host'>) => s.pid === process.pid && s.host === hostname();

/** The live session of another process, if one runs the job now. */
export function otherRunner(journal: Journal, jobId: number, now: number): SessionRow | null {
  const s = sessionOf(journal, jobId);
  return s && isLive(s, now) && !isThisProcess(s) ? s : null;
}

/** The process that holds a job, as a refusal tells it. */
export interface JobOwner {
  jobId: number;
  pid: number;
  host: string;
  /** When it took the job (ms since the epoch). */
  since: number;
}

/**
 * job-busy, with the process that holds the job, so that a caller may follow that job instead
 * (the CLI does). `sameJob`: the busy job is the very one the request would run (a rerun or
 * resume of it), not another job of the dataset or one the request would replace.
 */
export class JobBusyError extends BeamdropError {
  constructor(
    info: Omit<ErrorInfo, 'code' | 'retryable'>,
    readonly owner: JobOwner,
    readonly sameJob: boolean,
  ) {
    super({ ...info, code: 'job-busy', retryable: true });
  }
}

const ownerOf = (s: SessionRow): JobOwner => ({ jobId: s.jobId, pid: s.pid, host: s.host, since: s.startedAt });

/**
 * Refuses (job-busy) while another live process runs the job; `doing` says what was refused.
 * `sameJob`: the request would run this very job (see JobBusyError).
 */
export function refuseWhileBusy(
  journal: Journal,
  jobId: number,
  now: number,
  doing: string,
  opts: { sameJob?: boolean } = {},
): void {
  const s = otherRunner(journal, jobId, now);
  if (!s) return;
  const kind = journal.record(jobId)?.kind;
  throw new JobBusyError(
    {
      field: 'job',
      message: `cannot ${doing}: job ${jobId} is being run by process ${s.pid} on ${s.host}; ${kind === 'sync' ? `stop it first with \`beamdrop stop ${jobId}\`` : 'stop it first (Ctrl-C in its terminal), or wait until it ends'}.`,
    },
    ownerOf(s),
    opts.sameJob ?? false,
  );
}

/**
 * Refuses (job-busy) while any other job of the same dataset runs, in this process or another: a
 * batch upload into a dataset that a sync session is still acquiring would send files still being
 * written and finalise the dataset mid-acquisition.
 */
export function refuseWhileDatasetBusy(
  journal: Journal,
  identity: DatasetIdentity,
  exceptJobId: number | null,
  now: number,
): void {
  // Records, not options: a job whose stored options no longer parse (another version wrote it)
  // must not block every new upload of its dataset, and the check needs only state and session.
  for (const job of journal.recordsOfDataset(identity)) {
    if (job.id === exceptJobId || job.kind === 'dry-run' || ENDED_JOB_STATES.has(job.state)) continue;
    const s = sessionOf(journal, job.id);
    if (!s || !isLive(s, now)) continue;
    const what = job.kind === 'sync' ? 'acquiring it in a sync session' : 'uploading it';
    const stop =
      job.kind === 'sync' ? `\`beamdrop stop ${job.id}\` ends that session and finalises the dataset` : 'wait until it ends';
    throw new JobBusyError(
      {
        dataset: job.dataset,
        message: `dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })} is busy: job ${job.id} is ${what} (process ${s.pid} on ${s.host}); ${stop}, or upload into another dataset name.`,
      },
      ownerOf(s),
      false,
    );
  }
}

/** How often a lease transaction waits its turn (busy_timeout each) before it gives up. */
const LEASE_TRANSACTION_TRIES = 3;

/**
 * Runs `fn` in one IMMEDIATE transaction: the journal's write lock is taken before anything is
 * read, so what `fn` checks (no other live holder, the unfinished job to continue) still holds
 * when it writes. A deferred transaction would let two processes both read "free". Another
 * process's write in progress is waited for (busy_timeout, then a few more tries).
 */
export function inLeaseTransaction<T>(journal: Journal, fn: () => T): T {
  const db = journal.connectionForStores();
  const tx = db.transaction(fn);
  // Already in a transaction (the caller's): better-sqlite3 nests it as a savepoint of that one.
  if (db.inTransaction) return tx();
  for (let attempt = 1; ; attempt++) {
    try {
      return tx.immediate();
    } catch (e) {
      const busy = String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
      if (!busy) throw e;
      if (attempt >= LEASE_TRANSACTION_TRIES)
        throw new BeamdropError(
          {
            code: 'job-busy',
            retryable: true,
            message: `the journal ${db.name} was kept locked by another Beamdrop process for too long; nothing was started. Try again in a moment (\`beamdrop status\` shows what runs).`,
          },
          { cause: e },
        );
    }
  }
}

/**
 * Takes the job's lease for this process (in the caller's lease transaction, or in one of its
 * own); refuses (job-busy) while another live process holds it. The lease of a process that no
 * longer runs on this host is taken over at once, one seen from another host once its heartbeat
 * is older than HEARTBEAT_STALE_MS.
 */
export function claimSession(journal: Journal, jobId: number, now: number): void {
  const db = journal.connectionForStores();
  inLeaseTransaction(journal, () => {
    refuseWhileBusy(journal, jobId, now, `run job ${jobId}`, { sameJob: true });
    const before = sessionOf(journal, jobId);
    db.prepare(
      `INSERT INTO sync_sessions (job_id, pid, host, started_at, heartbeat_at, ended_at, stop_request, rate, destination_down)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, 0, NULL)
       ON CONFLICT (job_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, ended_at = NULL, stop_request = NULL, rate = 0, destination_down = NULL`,
    ).run(jobId, process.pid, hostname(), now, now);
    // Who held it before, if its lease was never released (killed, crashed): a takeover.
    const from = before && before.endedAt === null && !isThisProcess(before) ? { pid: before.pid, host: before.host } : null;
    journal.event(jobId, null, 'lease-taken', { pid: process.pid, host: hostname(), from });
  });
}

/** Whether this process still holds the job's lease (nobody took it over as stale). */
export function holdsLease(journal: Journal, jobId: number): boolean {
  const s = sessionOf(journal, jobId);
  return !!s && s.endedAt === null && isThisProcess(s);
}

/**
 * Writes the heartbeat and returns the stop request, if another process wrote one. Only the
 * holder's row is touched: a process whose lease was taken over never revives it.
 */
export function heartbeat(
  journal: Journal,
  jobId: number,
  now: number,
  rate: number,
  destinationDown: string | null,
): StopMode | null {
  const db = journal.connectionForStores();
  db.prepare(
    'UPDATE sync_sessions SET heartbeat_at = ?, rate = ?, destination_down = ? WHERE job_id = ? AND pid = ? AND host = ? AND ended_at IS NULL',
  ).run(now, rate, destinationDown, jobId, process.pid, hostname());
  return (
    (db.prepare('SELECT stop_request AS r FROM sync_sessions WHERE job_id = ?').get(jobId) as { r: StopMode | null } | undefined)
      ?.r ?? null
  );
}

/** Releases the job's lease; a lease another process took over stays theirs. */
export function endSession(journal: Journal, jobId: number, now: number): void {
  journal
    .connectionForStores()
    .prepare(
      'UPDATE sync_sessions SET ended_at = ?, heartbeat_at = ?, rate = 0 WHERE job_id = ? AND pid = ? AND host = ? AND ended_at IS NULL',
    )
    .run(now, now, jobId, process.pid, hostname());
}

/**
 * Asks the watcher of a job to stop (from any process). `finish` ends the acquisition: the
 * watcher sends what is complete and finalises the dataset; `pause` stops at once, resumable.
 */
export function requestStop(
  journal: Journal,
  jobId: number,
  mode: StopMode,
  now: number,
): { live: boolean; session: SessionRow | null } {
  const job = journal.record(jobId);
  if (!job) throw noSuchJob(jobId);
  if (job.kind !== 'sync')
    throw new BeamdropError({
      code: 'job-state',
      retryable: false,
      field: 'job',
      message: `job ${jobId} is a ${job.kind === 'dry-run' ? 'dry run' : 'batch upload'}, not a watch; stop it with Ctrl-C in its terminal (or \`beamdrop cancel ${jobId}\` to stop it for good).`,
    });
  // An ended job has nothing to stop: the wrong state for the command (job-state), not a pause.
  if (ENDED_JOB_STATES.has(job.state))
    throw new BeamdropError({
      code: 'job-state',
      retryable: false,
      field: 'job',
      message:
        job.state === 'done'
          ? `job ${jobId} has already finished (its acquisition ended and dataset ${datasetLabel(jobIdentity(job))} was finalised); there is nothing to stop.`
          : `job ${jobId} has already ended (${job.state}${job.reason ? `: ${job.reason}` : ''}); there is nothing to stop. A new \`beamdrop watch\` of the dataset starts a new job.`,
    });
  const s = sessionOf(journal, jobId);
  if (!isLive(s, now)) return { live: false, session: s };
  const db = journal.connectionForStores();
  db.transaction(() => {
    // A pause request is never downgraded to finish by a later plain `stop`.
    db.prepare(
      `UPDATE sync_sessions SET stop_request = CASE WHEN stop_request = 'pause' THEN 'pause' ELSE ? END WHERE job_id = ?`,
    ).run(mode, jobId);
    journal.event(jobId, null, 'sync-stop-requested', { mode, by: process.pid });
  })();
  return { live: true, session: sessionOf(journal, jobId) };
}
