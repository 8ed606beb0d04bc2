// `beamdrop cancel JOB` (stop an unfinished job for good) and `beamdrop forget JOB` (remove a job
// that stored nothing from the journal). Each says what will happen to the stored files and the
// catalogue entries before anything is done, then asks (or needs --yes without a terminal).
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { BeamdropError } from '../../shared/errors.js';
import type { Engine } from '../engine/engine.js';
import type { RemovalPlan } from '../engine/jobs/job-removal.js';
import { reportError, withEngine } from './context.js';

interface Flags {
  yes?: boolean;
  json?: boolean;
}

function jobNumber(arg: string): number {
  const id = Number(arg);
  if (!Number.isInteger(id) || id < 1)
    throw new BeamdropError({
      code: 'usage',
      retryable: false,
      field: 'job',
      message: `"${arg}" is not a job number; \`beamdrop status\` lists the jobs with their numbers.`,
    });
  return id;
}

/** Yes from --yes or from the operator at a terminal; without a terminal, --yes is required. */
async function confirmed(question: string, command: string, f: Flags): Promise<boolean> {
  if (f.yes) return true;
  if (!process.stdin.isTTY)
    throw new BeamdropError({
      code: 'confirmation-required',
      retryable: false,
      message: `nothing was done: \`${command}\` asks before it acts, and there is no terminal to ask on; add --yes to confirm.`,
    });
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function runRemoval(
  jobArg: string,
  f: Flags,
  verb: 'cancel' | 'forget',
  plan: (engine: Engine, id: number) => RemovalPlan,
  act: (engine: Engine, id: number) => unknown,
  done: (id: number) => string,
): Promise<void> {
  try {
    const id = jobNumber(jobArg);
    await withEngine(async (engine) => {
      const p = plan(engine, id);
      if (!f.json) process.stdout.write(p.lines.join('\n') + '\n');
      if (!(await confirmed(`${verb === 'cancel' ? 'Cancel' : 'Forget'} job ${id}?`, `beamdrop ${verb} ${id}`, f))) {
        if (f.json)
          process.stdout.write(JSON.stringify({ jobId: id, [verb === 'cancel' ? 'cancelled' : 'forgotten']: false }) + '\n');
        else process.stdout.write('Nothing was done.\n');
        return;
      }
      act(engine, id);
      if (f.json)
        process.stdout.write(
          JSON.stringify({ jobId: id, [verb === 'cancel' ? 'cancelled' : 'forgotten']: true, stored: p.stored, plan: p.lines }) +
            '\n',
        );
      else process.stdout.write(done(id) + '\n');
    });
  } catch (e) {
    reportError(e, !!f.json);
  }
}

export function registerJobCommands(program: Command): void {
  program
    .command('cancel')
    .description(
      'stop an unfinished job for good: the files it stored stay where they are and stay recorded; the dataset is not finalised',
    )
    .argument('<job>', 'job number (see `beamdrop status`)')
    .option('--yes', 'do not ask (needed when not run on a terminal)')
    .option('--json', 'print JSON')
    .action((jobArg: string, f: Flags) =>
      runRemoval(
        jobArg,
        f,
        'cancel',
        (engine, id) => engine.cancelPlan(id),
        (engine, id) => engine.cancelJob(id),
        (id) => `Job ${id} cancelled. \`beamdrop cleanup\` removes partial uploads it may have left at the destination.`,
      ),
    );

  program
    .command('forget')
    .description('remove a job that stored nothing (a refused start, a dry run, a cancelled job) from the journal')
    .argument('<job>', 'job number (see `beamdrop status`)')
    .option('--yes', 'do not ask (needed when not run on a terminal)')
    .option('--json', 'print JSON')
    .action((jobArg: string, f: Flags) =>
      runRemoval(
        jobArg,
        f,
        'forget',
        (engine, id) => engine.forgetPlan(id),
        (engine, id) => engine.forgetJob(id),
        (id) => `Job ${id} forgotten.`,
      ),
    );
}
