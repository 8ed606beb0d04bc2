// `beamdrop upload` and `beamdrop resume`. Of a job another process runs, each follows it (attach.ts).
import type { Command } from 'commander';
import type { JobEvent, JobSummary } from '../../shared/model.js';
import type { JobOwner } from '../engine/sync/sync-sessions.js';
import { runOrFollow, type RunOrFollow } from './attach.js';
import { collect, jobNumber, profileFrom, reportError, withEngine } from './context.js';
import { JobOutcome } from './job-outcome.js';
import { datasetTargetFrom, type DatasetFlags } from './dataset-flags.js';
import { EXIT } from './exit-codes.js';
import { ProgressView, type Output } from './progress-view.js';

interface UploadFlags extends DatasetFlags {
  dataset: string;
  profile?: string;
  dryRun?: boolean;
  json?: boolean;
}

function exitCodeOf(s: JobSummary, interrupted: boolean): number {
  if (interrupted) return EXIT.interrupted;
  if (s.job.state === 'paused') return EXIT.paused;
  // A dry run is never paused: cut short by its destination, it ends cancelled (try again later).
  if (s.job.kind === 'dry-run' && s.job.state === 'cancelled') return EXIT.paused;
  return s.counts.failed || s.counts.changed ? EXIT.filesFailed : EXIT.ok;
}

/** Ran here: the summary's exit code; followed in another process: the exit code of the end state it saw. */
function exitCodeOfResult(r: RunOrFollow, interrupted: boolean): number {
  if (r.kind === 'ran') return exitCodeOf(r.summary, interrupted);
  return r.exitCode;
}

const stdout = (): Output => ({ write: (s) => process.stdout.write(s), isTTY: !!process.stdout.isTTY });

/**
 * Ctrl-C stops taking new work, journals what is in flight and pauses the job; while this process
 * follows a job that another one runs (attach.ts), it only stops following.
 */
function interruptible(): {
  signal: AbortSignal;
  interrupted: () => boolean;
  following: (owner: JobOwner | null) => void;
  dispose: () => void;
} {
  const controller = new AbortController();
  let followed: JobOwner | null = null;
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    if (!followed) process.stderr.write('\nStopping: finishing journal writes (press Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    following: (owner) => {
      followed = owner;
    },
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('upload files and folders as a dataset, verify them at the destination and record them')
    .argument('<paths...>', 'files and folders to upload')
    .requiredOption('--dataset <name>', 'dataset name')
    .option('--proposal <id>', 'proposal / investigation id')
    .option('--visit <id>', 'visit / session id')
    .option('--to <uri>', 'ad-hoc destination: a folder, s3+http(s)://host/bucket/prefix or webdav+http(s)://host/path')
    .option('--destination <name>', 'destination named in the facility profile')
    .option('--profile <file>', 'facility profile (YAML); default: $BEAMDROP_PROFILE or the local archive')
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable)', collect)
    .option('-p, --param <key=value>', 'dataset metadata (repeatable)', collect)
    .option('--concurrency <n>', 'files sent at once (overrides the profile)')
    .option('--bwlimit <rate>', 'bandwidth limit, e.g. 20M, "Mon-08:00,20M Mon-20:00,off" or off')
    .option('--follow-symlinks', 'follow symbolic links (loop-safe); default: report and skip them')
    .option('--dry-run', 'scan and show what would be sent, skipped or in conflict; send and record nothing (a job of its own)')
    .option(
      '--new-job',
      'start a new job even if an unfinished one of the same dataset, destination and paths exists (that one is cancelled)',
    )
    .option('--json', 'one JSON event per line instead of the live display')
    .action(async (paths: string[], f: UploadFlags) => {
      const run = interruptible();
      try {
        const profile = await profileFrom(f.profile);
        const target = datasetTargetFrom(f.dataset, f);
        const out = stdout();
        const view = new ProgressView(out, !!f.json);
        const outcome = new JobOutcome();
        const result = await withEngine((engine) =>
          runOrFollow(
            engine,
            () =>
              engine.upload(profile, {
                ...target,
                sources: paths,
                dryRun: !!f.dryRun,
                signal: run.signal,
                onEvent: (e) => {
                  outcome.onEvent(e);
                  view.onEvent(e);
                },
              }),
            { out, json: !!f.json, signal: run.signal, onFollow: run.following },
          ),
        );
        process.exitCode = outcome.exitCode(exitCodeOfResult(result, run.interrupted()));
      } catch (e) {
        reportError(e, !!f.json);
      } finally {
        run.dispose();
      }
    });

  program
    .command('resume')
    .description('continue a paused or interrupted job with the settings it was started with')
    .argument('<job>', 'job number (see `beamdrop status`)')
    .option('--json', 'one JSON event per line')
    .action(async (jobArg: string, f: { json?: boolean }) => {
      const run = interruptible();
      try {
        const out = stdout();
        const view = new ProgressView(out, !!f.json);
        const outcome = new JobOutcome();
        const onEvent = (e: JobEvent) => {
          outcome.onEvent(e);
          view.onEvent(e);
        };
        const result = await withEngine((engine) =>
          runOrFollow(engine, () => engine.resume(jobNumber(jobArg), { signal: run.signal, onEvent }), {
            out,
            json: !!f.json,
            signal: run.signal,
            onFollow: run.following,
          }),
        );
        process.exitCode = outcome.exitCode(exitCodeOfResult(result, run.interrupted()));
      } catch (e) {
        reportError(e, !!f.json);
      } finally {
        run.dispose();
      }
    });
}
