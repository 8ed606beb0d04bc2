// `beamdrop status [JOB]`: the jobs in the journal, or one job's file states and failures.
import type { Command } from 'commander';
import { FILE_STATES, datasetLabel, type FileState } from '../../shared/model.js';
import { formatBytes } from '../../shared/sizes.js';
import { jobNumber, reportError, withEngine } from './context.js';
import { summaryText } from './progress-view.js';
import { syncLine } from './watch-command.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show jobs, or the file states of one job')
    .argument('[job]', 'job number')
    .option('--state <state>', `list the files in this state (${FILE_STATES.join(', ')})`)
    .option('--json', 'print JSON')
    .action(async (jobArg: string | undefined, f: { state?: string; json?: boolean }) => {
      try {
        await withEngine(async (engine) => {
          const { journal } = engine.services;
          if (jobArg === undefined) {
            const jobs = journal.records().map((j) => ({
              id: j.id,
              kind: j.kind,
              state: j.state,
              dataset: j.dataset,
              proposal: j.proposal,
              visit: j.visit,
              destination: j.destination,
              counts: journal.counts(j.id),
              reason: j.reason,
              createdAt: j.createdAt,
            }));
            if (f.json) {
              process.stdout.write(JSON.stringify(jobs) + '\n');
              return;
            }
            if (!jobs.length) {
              process.stdout.write('No jobs yet. Start one with `beamdrop upload PATH --dataset NAME`.\n');
              return;
            }
            for (const j of jobs) {
              const counts = Object.entries(j.counts)
                .map(([s, n]) => `${n} ${s}`)
                .join(', ');
              const kind = j.kind === 'batch' ? '' : ` [${j.kind === 'sync' ? 'watch' : 'dry run'}]`;
              const dataset = datasetLabel({ name: j.dataset, proposal: j.proposal, visit: j.visit });
              process.stdout.write(
                `#${j.id}  ${j.state.padEnd(8)} ${dataset} → ${j.destination}${kind}  (${counts || 'no files'})${j.reason ? `\n      ${j.reason}` : ''}\n`,
              );
            }
            return;
          }
          const summary = engine.summary(jobNumber(jobArg));
          const states = f.state ? [f.state as FileState] : [];
          const files = journal.files(summary.job.id, { states });
          if (f.json) {
            process.stdout.write(JSON.stringify({ summary, files }) + '\n');
            return;
          }
          process.stdout.write(summaryText(summary));
          const sync = summary.job.kind === 'sync' ? engine.syncStatus(summary.job.id) : null;
          if (sync) process.stdout.write(`  ${syncLine(sync)}\n`);
          if (f.state) {
            for (const file of files)
              process.stdout.write(
                `  ${file.state.padEnd(12)} ${formatBytes(file.size).padStart(10)}  ${file.relpath}${file.sha256 ? `  sha256:${file.sha256}` : ''}\n`,
              );
          }
        });
      } catch (e) {
        reportError(e, !!f.json);
      }
    });
}
