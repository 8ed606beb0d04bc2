// A second `beamdrop upload` or `resume` of a job that another process runs does not run it: it
// follows it. It says who runs the job, shows its progress from the journal, waits until that
// process releases the job and ends with the job's end state and its exit code. Ctrl-C stops the
// following, never the upload. If the owner dies without releasing the job (killed, crashed),
// the command is run again here, which takes the job over (a dead owner's lease is free at once).
import { datasetLabel, type JobProgress, type JobSummary } from '../../shared/model.js';
import type { Engine } from '../engine/engine.js';
import { summarise } from '../engine/jobs/job-runner.js';
import { ProgressTracker } from '../engine/jobs/progress-tracker.js';
import type { Journal } from '../engine/journal/journal.js';
import { isLive, JobBusyError, sessionOf, type JobOwner } from '../engine/sync/sync-sessions.js';
import { EXIT } from './exit-codes.js';
import { progressLine, summaryText, type Output } from './progress-view.js';

/** How often the journal is read while following (the progress view's cadence on a terminal). */
const POLL_MS = 250;
/** Without a terminal: a progress line at most this often, and only when it changed… */
const PLAIN_EVERY_MS = 1000;
/** …but at least this often, so that a log shows the follower is still there. */
const PLAIN_AT_LEAST_MS = 10_000;

export type Followed =
  /** The owner released the job: its end state (the summary of the journal then). */
  | { kind: 'ended'; summary: JobSummary; owner: JobOwner }
  /** The owner stopped without releasing it (killed, crashed); `heldBy`: another process took it over since. */
  | { kind: 'owner-gone'; owner: JobOwner; heldBy: { pid: number; host: string } | null }
  /** Ctrl-C: this process stopped following; the owner runs on. */
  | { kind: 'stopped'; owner: JobOwner };

export interface FollowOptions {
  out: Output;
  json: boolean;
  /** Aborted by Ctrl-C: stop following. */
  signal: AbortSignal;
  /** What is shown of the job while it is followed (default: a batch job's files and bytes). */
  progress?: (journal: Journal, jobId: number) => ProgressReader;
  /** What Ctrl-C does not stop, in the words of the command: "upload" (default) or "watch". */
  what?: string;
  /** Told the owner when following starts, null when this process runs the job again (Ctrl-C then pauses it). */
  onFollow?: (owner: JobOwner | null) => void;
}

/** What the operator reads when the job is run elsewhere. */
export function followingMessage(journal: Journal, owner: JobOwner, what = 'upload'): string {
  const job = journal.record(owner.jobId);
  const dataset = job ? ` (dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })})` : '';
  return `job ${owner.jobId}${dataset} is being run by process ${owner.pid} on ${owner.host}; following its progress here — Ctrl-C stops following, not the ${what}.`;
}

const sameOwner = (a: JobOwner, b: { pid: number; host: string }) => a.pid === b.pid && a.host === b.host;

/** What a follower shows of the job each time it reads the journal: a line, and the same as a JSON event. */
export type ProgressReader = () => { line: string; event: Record<string, unknown> } | null;

/** A batch job's progress as its owner shows it: files and bytes done, the rate they are done at. */
function batchProgress(journal: Journal, jobId: number): ProgressReader {
  const tracker = new ProgressTracker();
  let seen = journal.totals(jobId).doneBytes;
  return () => {
    const t = journal.totals(jobId);
    if (t.doneBytes > seen) tracker.add(t.doneBytes - seen);
    seen = t.doneBytes;
    const progress: JobProgress = {
      jobId,
      filesTotal: t.files,
      filesDone: t.doneFiles,
      bytesTotal: t.bytes,
      bytesDone: t.doneBytes,
      rate: tracker.rate(),
      eta: tracker.eta(Math.max(0, t.bytes - t.doneBytes)),
      counts: journal.counts(jobId),
    };
    return { line: progressLine(progress), event: { type: 'progress', progress } };
  };
}

/** Follows a job that `owner` runs, from the journal, until it is released, its owner is gone or Ctrl-C. */
export async function followJob(journal: Journal, owner: JobOwner, o: FollowOptions): Promise<Followed> {
  const { jobId } = owner;
  const write = (line: string) => o.out.write(line);
  const say = (type: string, message: string, extra: Record<string, unknown> = {}) =>
    write(o.json ? JSON.stringify({ type, jobId, pid: owner.pid, host: owner.host, message, ...extra }) + '\n' : `${message}\n`);
  say('following', followingMessage(journal, owner, o.what));
  o.onFollow?.(owner);

  const started = Date.now();
  const doneAtStart = journal.totals(jobId).doneBytes;
  const read = (o.progress ?? batchProgress)(journal, jobId);
  let live = '';
  let lastPlain = { at: 0, line: '' };
  const clearLive = () => {
    if (live && o.out.isTTY && !o.json) write('\r\x1b[2K');
    live = '';
  };
  const show = () => {
    const p = read();
    if (!p) return;
    if (!o.json && o.out.isTTY) {
      live = p.line;
      write(`\r\x1b[2K${p.line}`);
      return;
    }
    const now = Date.now();
    const due = now - lastPlain.at >= PLAIN_EVERY_MS && (p.line !== lastPlain.line || now - lastPlain.at >= PLAIN_AT_LEAST_MS);
    if (!due) return;
    lastPlain = { at: now, line: p.line };
    write(o.json ? JSON.stringify(p.event) + '\n' : `${p.line}\n`);
  };

  for (;;) {
    if (o.signal.aborted) {
      clearLive();
      return { kind: 'stopped', owner };
    }
    const s = sessionOf(journal, jobId);
    if (s && s.endedAt !== null && sameOwner(owner, s)) {
      clearLive();
      const t = journal.totals(jobId);
      return {
        kind: 'ended',
        owner,
        summary: summarise(journal, jobId, Math.max(0, t.doneBytes - doneAtStart), Date.now() - started),
      };
    }
    if (!s || !sameOwner(owner, s) || !isLive(s, Date.now())) {
      clearLive();
      const heldBy = s && !sameOwner(owner, s) && isLive(s, Date.now()) ? { pid: s.pid, host: s.host } : null;
      return { kind: 'owner-gone', owner, heldBy };
    }
    show();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, POLL_MS);
      function done() {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', done);
        resolve();
      }
      o.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The exit code of a job's end state as a follower saw it (EXIT: done 0, files failed 1, paused 3). */
export function followedExitCode(s: JobSummary): number {
  switch (s.job.state) {
    case 'done':
      return s.counts.failed || s.counts.changed ? EXIT.filesFailed : EXIT.ok;
    case 'failed':
      return EXIT.filesFailed;
    case 'cancelled':
      return EXIT.interrupted;
    default:
      // Paused, or left unsettled by an owner that stopped with an error: resumable.
      return EXIT.paused;
  }
}

export type RunOrFollow =
  | { kind: 'ran'; summary: JobSummary }
  | { kind: 'followed'; summary: JobSummary; exitCode: number }
  | { kind: 'stopped'; exitCode: number };

/**
 * Runs a job (`run`: an upload or resume). When the job it would run is held by another live
 * process (job-busy of the same job), follows that process instead; when that process dies
 * without releasing the job, runs `run` again, which takes the job over.
 */
export async function runOrFollow(engine: Engine, run: () => Promise<JobSummary>, o: FollowOptions): Promise<RunOrFollow> {
  const { journal } = engine.services;
  const gone: JobOwner[] = [];
  for (;;) {
    let owner: JobOwner;
    try {
      return { kind: 'ran', summary: await run() };
    } catch (e) {
      // Only the very job this command would run is followed; another job of the dataset, or one
      // the command would replace, stays a refusal that names who runs it.
      if (!(e instanceof JobBusyError) || !e.sameJob) throw e;
      // The same dead owner twice: the journal says it runs and it does not; do not loop.
      if (gone.some((g) => sameOwner(g, e.owner) && g.since === e.owner.since && g.jobId === e.owner.jobId)) throw e;
      owner = e.owner;
    }
    const followed = await followJob(journal, owner, o);
    if (followed.kind === 'stopped') {
      const message = `Stopped following job ${owner.jobId}; process ${owner.pid} on ${owner.host} keeps running it (\`beamdrop status\` shows it).`;
      o.out.write(o.json ? JSON.stringify({ type: 'following-stopped', jobId: owner.jobId, message }) + '\n' : `${message}\n`);
      return { kind: 'stopped', exitCode: EXIT.interrupted };
    }
    if (followed.kind === 'ended') {
      const { summary } = followed;
      const finalised = journal.events(owner.jobId, 50).some((ev) => ev.type === 'dataset-finished');
      if (o.json) o.out.write(JSON.stringify({ type: 'job-finished', summary, followed: true }) + '\n');
      else {
        o.out.write(`Job ${owner.jobId} was released by process ${owner.pid} on ${owner.host}; its end state:\n`);
        o.out.write(summaryText(summary));
        if (summary.job.state === 'done' && finalised)
          o.out.write(
            `• dataset ${datasetLabel({ name: summary.job.dataset, proposal: summary.job.proposal, visit: summary.job.visit })} was finalised by process ${owner.pid}.\n`,
          );
        else if (!['done', 'paused', 'failed', 'cancelled'].includes(summary.job.state))
          o.out.write(
            `• process ${owner.pid} stopped before job ${owner.jobId} was settled (${summary.job.state}); its terminal or the log says why. \`beamdrop resume ${owner.jobId}\` continues it.\n`,
          );
      }
      return { kind: 'followed', summary, exitCode: followedExitCode(summary) };
    }
    gone.push(owner);
    o.onFollow?.(null);
    const message = followed.heldBy
      ? `process ${owner.pid} on ${owner.host} no longer runs job ${owner.jobId}; process ${followed.heldBy.pid} on ${followed.heldBy.host} took it over.`
      : `process ${owner.pid} on ${owner.host} stopped without releasing job ${owner.jobId} (it was killed or crashed); this process takes the job over and continues it.`;
    o.out.write(
      o.json
        ? JSON.stringify({ type: 'owner-gone', jobId: owner.jobId, pid: owner.pid, host: owner.host, message }) + '\n'
        : `${message}\n`,
    );
  }
}
