// `beamdrop watch` (sync mode) and `beamdrop stop`. Watch runs until Ctrl-C or `beamdrop stop JOB`
// from another terminal: the first ends the acquisition (the last complete files are sent, then
// the dataset is finalised), a second Ctrl-C pauses at once (resume with `watch --resume JOB`).
// `watch --resume JOB` of a session that another process watches now follows it (attach.ts).
import type { Command } from 'commander';
import { BeamdropError } from '../../shared/errors.js';
import type { JobEvent, SyncStatus } from '../../shared/model.js';
import { parseDuration, type SyncRuleSet } from '../../shared/profile-sync-schema.js';
import { formatBytes, formatRate } from '../../shared/sizes.js';
import { isLive, sessionOf, type JobOwner } from '../engine/sync/sync-sessions.js';
import { syncStatusOf } from '../engine/sync/sync-status.js';
import { runOrFollow, type RunOrFollow } from './attach.js';
import { collect, jobNumber, profileFrom, reportError, withEngine } from './context.js';
import { datasetTargetFrom, type DatasetFlags } from './dataset-flags.js';
import { EXIT } from './exit-codes.js';
import { formatDuration, ProgressView } from './progress-view.js';

interface WatchFlags extends DatasetFlags {
  dataset?: string;
  profile?: string;
  json?: boolean;
  technique?: string;
  poll?: boolean;
  quietPeriod?: string;
  resume?: string;
}

const usage = (field: string, message: string) => new BeamdropError({ code: 'usage', retryable: false, field, message });

/** One line for the operator: what waits, the backlog and its drain time, what is done. */
export function syncLine(s: SyncStatus): string {
  const parts = [
    `${s.folders.length} folder(s)${s.folders.some((f) => f.mode === 'poll') ? ' (polled)' : ''}`,
    `${s.waiting.files} being written`,
    `backlog ${s.backlog.files} file(s) ${formatBytes(s.backlog.bytes)}${s.backlog.files ? (s.eta === null ? ' · ETA unknown' : ` · ETA ${formatDuration(s.eta)}`) : ''}`,
    `${s.done.files} done ${formatBytes(s.done.bytes)}`,
    formatRate(s.rate),
  ];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.versions) parts.push(`${s.versions} new version(s)`);
  if (s.changed) parts.push(`${s.changed} changed`);
  if (s.deletedLocally) parts.push(`${s.deletedLocally} deleted locally`);
  if (s.destinationDown) parts.push('destination down');
  return parts.join(' · ');
}

/**
 * Ctrl-C once: finish; twice: pause now; three times: quit without waiting. While this process
 * follows a watch that another one runs (`--resume` of a live session, attach.ts): stop following.
 */
function stopKeys(json: boolean): {
  finish: AbortController;
  pause: AbortController;
  following: (owner: JobOwner | null) => void;
  dispose: () => void;
} {
  const finish = new AbortController();
  const pause = new AbortController();
  let followed: JobOwner | null = null;
  const onSignal = () => {
    if (pause.signal.aborted) process.exit(EXIT.interrupted);
    if (followed) {
      if (finish.signal.aborted) process.exit(EXIT.interrupted);
      finish.abort();
      return;
    }
    if (finish.signal.aborted) {
      if (!json) process.stderr.write('\nPausing now: transfers in flight stay journaled (Ctrl-C again quits at once)…\n');
      pause.abort();
      return;
    }
    if (!json)
      process.stderr.write(
        '\nStopping: the last complete files are sent, then the dataset is finalised (Ctrl-C again pauses instead)…\n',
      );
    finish.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    finish,
    pause,
    following: (owner) => {
      followed = owner;
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

class WatchView {
  private readonly progress: ProgressView;
  private lastPlain = 0;

  constructor(
    private readonly json: boolean,
    private readonly tty: boolean,
  ) {
    this.progress = new ProgressView({ write: (s) => process.stdout.write(s), isTTY: tty }, json);
  }

  onEvent(e: JobEvent): void {
    if (this.json || (e.type !== 'sync-status' && e.type !== 'sync-note')) {
      this.progress.onEvent(e);
      return;
    }
    if (e.type === 'sync-note') {
      process.stdout.write(`${this.tty ? '\r\x1b[2K' : ''}• ${e.message}\n`);
      return;
    }
    const line = syncLine(e.status);
    if (this.tty) {
      process.stdout.write(`\r\x1b[2K${line}`);
      return;
    }
    // Without a terminal (a log file), one status line every half minute.
    const now = Date.now();
    if (now - this.lastPlain >= 30_000) {
      this.lastPlain = now;
      process.stdout.write(`${line}\n`);
    }
  }
}

function rulesFrom(f: WatchFlags): SyncRuleSet {
  const rules: SyncRuleSet = {};
  if (f.poll) rules.mode = 'poll';
  if (f.quietPeriod !== undefined) {
    const ms = parseDuration(f.quietPeriod);
    if (ms === null) throw usage('--quiet-period', `--quiet-period ${f.quietPeriod}: write a duration such as 5s, 500ms or 2m`);
    rules.quietPeriod = ms;
  }
  return rules;
}

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('sync mode: watch folders during acquisition and upload each file once it is complete, until stopped')
    .argument('[folders...]', 'folders to watch')
    .option('--dataset <name>', 'dataset name (required unless --resume)')
    .option('--resume <job>', 'continue a paused or crashed sync job with its own settings')
    .option('--proposal <id>', 'proposal / investigation id')
    .option('--visit <id>', 'visit / session id')
    .option('--to <uri>', 'ad-hoc destination: a folder, s3+http(s)://host/bucket/prefix or webdav+http(s)://host/path')
    .option('--destination <name>', 'destination named in the facility profile')
    .option('--profile <file>', 'facility profile (YAML); default: $BEAMDROP_PROFILE or the local archive')
    .option('--technique <name>', 'use the sync rules of this technique (profile: sync.techniques)')
    .option('--poll', 'poll the folders instead of watching for events (network shares)')
    .option('--quiet-period <duration>', 'a file is complete once unchanged this long, e.g. 5s (overrides the profile)')
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable)', collect)
    .option('-p, --param <key=value>', 'dataset metadata (repeatable)', collect)
    .option('--concurrency <n>', 'files sent at once (overrides the profile)')
    .option('--bwlimit <rate>', 'bandwidth limit, e.g. 20M, "Mon-08:00,20M Mon-20:00,off" or off')
    .option('--follow-symlinks', 'follow symbolic links to files; default: report and skip them')
    .option(
      '--new-job',
      'start a new job even if an unfinished one of the same dataset, destination and folders exists (that one is cancelled)',
    )
    .option('--json', 'one JSON event per line instead of the live display')
    .action(async (folders: string[], f: WatchFlags) => {
      const keys = stopKeys(!!f.json);
      try {
        const view = new WatchView(!!f.json, !!process.stdout.isTTY);
        const run = { signal: keys.finish.signal, pauseSignal: keys.pause.signal, onEvent: (e: JobEvent) => view.onEvent(e) };
        const result = await withEngine(async (engine): Promise<RunOrFollow> => {
          if (f.resume !== undefined) {
            const id = Number(f.resume);
            if (!Number.isInteger(id) || id < 1)
              throw usage('--resume', `--resume ${f.resume}: write the job number shown by \`beamdrop status\``);
            if (folders.length || f.dataset || f.newJob)
              throw usage(
                '--resume',
                '--resume continues a job with its own folders and dataset; give only --resume JOB (and --json).',
              );
            // A session that another process watches now is followed here, not run twice (attach.ts).
            return runOrFollow(engine, async () => (await engine.resumeWatch(id, run)).summary, {
              out: { write: (t) => process.stdout.write(t), isTTY: !!process.stdout.isTTY },
              json: !!f.json,
              signal: keys.finish.signal,
              onFollow: keys.following,
              what: 'watch',
              progress: (journal, jobId) => () => {
                const status = syncStatusOf(journal, jobId, Date.now());
                return status ? { line: syncLine(status), event: { type: 'sync-status', status } } : null;
              },
            });
          }
          if (!f.dataset) throw usage('--dataset', 'give --dataset NAME (or --resume JOB to continue a sync job).');
          const profile = await profileFrom(f.profile);
          const target = datasetTargetFrom(f.dataset, f);
          const watched = await engine.watch(profile, {
            ...run,
            ...target,
            folders,
            ...(f.technique ? { technique: f.technique } : {}),
            rules: rulesFrom(f),
          });
          return { kind: 'ran', summary: watched.summary };
        });
        if (result.kind !== 'ran') {
          process.exitCode = result.exitCode;
          return;
        }
        const s = result.summary;
        if (s.job.state === 'paused') process.exitCode = keys.pause.signal.aborted ? EXIT.interrupted : EXIT.paused;
        else process.exitCode = s.counts.failed || s.counts.changed ? EXIT.filesFailed : EXIT.ok;
      } catch (e) {
        reportError(e, !!f.json);
      } finally {
        keys.dispose();
      }
    });

  program
    .command('stop')
    .description(
      'end the acquisition of a running `beamdrop watch` from another terminal: it sends the last complete files, then finalises the dataset',
    )
    .argument('<job>', 'job number (see `beamdrop status`)')
    .option('--pause', 'pause at once instead (transfers in flight stay journaled; `watch --resume JOB` continues)')
    .option('--no-wait', 'return at once instead of waiting until the watcher has stopped')
    .option('--json', 'print JSON')
    .action(async (jobArg: string, f: { pause?: boolean; wait: boolean; json?: boolean }) => {
      try {
        const id = jobNumber(jobArg);
        await withEngine(async (engine) => {
          const answer = engine.stopWatch(id, f.pause ? 'pause' : 'finish');
          const { journal } = engine.services;
          // An ended job was refused (job-state, exit 2) by stopWatch; this one is unfinished.
          if (!answer.live) {
            const job = journal.record(id)!;
            const message = `job ${id} is not being watched by any process (${answer.session ? `last seen ${new Date(answer.session.heartbeatAt).toISOString()}` : 'never started'}); it stays ${job.state === 'paused' ? 'paused' : 'interrupted'}. \`beamdrop watch --resume ${id}\` continues it.`;
            if (f.json) process.stdout.write(JSON.stringify({ jobId: id, live: false, state: job.state, message }) + '\n');
            else process.stdout.write(`${message}\n`);
            process.exitCode = EXIT.paused;
            return;
          }
          if (!f.json)
            process.stdout.write(`Asked process ${answer.session!.pid} to ${f.pause ? 'pause' : 'finish'} job ${id}.\n`);
          if (!f.wait) return;
          let lastLine = 0;
          for (;;) {
            const job = journal.record(id)!;
            if (!isLive(sessionOf(journal, id), Date.now())) {
              const status = engine.syncStatus(id);
              if (f.json)
                process.stdout.write(
                  JSON.stringify({ jobId: id, live: false, state: job.state, reason: job.reason, status }) + '\n',
                );
              else process.stdout.write(`Job ${id} is ${job.state}${job.reason ? `: ${job.reason}` : '.'}\n`);
              process.exitCode = job.state === 'done' ? EXIT.ok : EXIT.paused;
              return;
            }
            if (!f.json && Date.now() - lastLine >= 5000) {
              lastLine = Date.now();
              const s = engine.syncStatus(id);
              if (s) process.stdout.write(`  ${job.state}: ${syncLine(s)}\n`);
            }
            await new Promise((r) => setTimeout(r, 250));
          }
        });
      } catch (e) {
        reportError(e, !!f.json);
      }
    });
}
