// The operator of a journey: runs the built `beamdrop` command as a child process, as a person
// does in a terminal, with its own BEAMDROP_HOME and BEAMDROP_PROFILE. Every run returns its exit
// code, stdout, stderr and the JSON events it printed (with --json); a run in the background
// (watch, a slow upload) can be waited on event by event and interrupted with Ctrl-C (SIGINT).
// Children are always async: the contract servers run in the test process and must keep
// answering while a command waits for them. Children still running when a file ends are killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const CLI = resolve('bin/beamdrop.js');

export type CliEvent = Record<string, unknown> & { type: string };

export interface CliResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON lines of stdout (events with --json, or the one JSON document of `status --json`). */
  events: CliEvent[];
  ms: number;
}

export interface Background {
  child: ChildProcess;
  /** Events printed so far. */
  events: CliEvent[];
  output(): { stdout: string; stderr: string };
  /** Resolves with the first event (already printed or still to come) that matches. */
  waitFor(what: string, match: (e: CliEvent) => boolean, timeoutMs?: number): Promise<CliEvent>;
  /** The job number from the job-started event. */
  jobId(timeoutMs?: number): Promise<number>;
  /** Ctrl-C in the operator's terminal. */
  interrupt(): void;
  done: Promise<CliResult>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Another child of a journey (the detector writer) that killLeftovers() must not leave behind. */
export function adopt(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  running.add(child);
  child.once('close', () => running.delete(child));
}

/** Kills what a journey left running (afterAll) and waits until those processes are gone. */
export async function killLeftovers(): Promise<void> {
  const children = [...running];
  running.clear();
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(resolve, 5_000);
          c.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** One line of what was run and how it ended, with the output: the message of a failed expectation. */
export function told(r: CliResult): string {
  const tail = (s: string) => (s.length > 6000 ? `…${s.slice(-6000)}` : s);
  return `beamdrop ${r.args.join(' ')} → exit ${r.code ?? r.signal} in ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

function jsonLines(stdout: string): CliEvent[] {
  const out: CliEvent[] = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{') && !t.startsWith('[')) continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v)) out.push({ type: 'list', items: v });
      else if (v && typeof v === 'object') out.push(v as CliEvent);
    } catch {
      // a line of the human display that happens to start with a brace
    }
  }
  return out;
}

export class Operator {
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly home: string,
    opts: { profile?: string; env?: Record<string, string> } = {},
  ) {
    if (!existsSync('dist/main/cli/index.js')) throw new Error('run `npx tsc -p tsconfig.node.json` first (npm test builds)');
    const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: home, ...(opts.env ?? {}) };
    delete env.BEAMDROP_PROFILE;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    if (opts.profile) env.BEAMDROP_PROFILE = opts.profile;
    this.env = env;
  }

  /** Starts a command and returns at once. */
  start(...args: string[]): Background {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let rest = '';
    const events: CliEvent[] = [];
    const waiters: { match: (e: CliEvent) => boolean; resolve: (e: CliEvent) => void }[] = [];
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const lines = (rest + s).split('\n');
      rest = lines.pop() ?? '';
      for (const e of jsonLines(lines.join('\n'))) {
        events.push(e);
        for (const w of [...waiters])
          if (w.match(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const done = new Promise<CliResult>((res) =>
      child.once('close', (code, signal) => {
        running.delete(child);
        res({ args, code, signal, stdout, stderr, events: jsonLines(stdout), ms: Date.now() - started });
      }),
    );
    const bg: Background = {
      child,
      events,
      output: () => ({ stdout, stderr }),
      waitFor: (what, match, timeoutMs = 60_000) => {
        const seen = events.find(match);
        if (seen) return Promise.resolve(seen);
        return new Promise<CliEvent>((res, rej) => {
          const timer = setTimeout(
            () =>
              rej(new Error(`beamdrop ${args.join(' ')}: no ${what} within ${timeoutMs} ms\n${stdout.slice(-3000)}\n${stderr}`)),
            timeoutMs,
          );
          const w = {
            match,
            resolve: (e: CliEvent) => {
              clearTimeout(timer);
              res(e);
            },
          };
          waiters.push(w);
          void done.then((r) => {
            if (!waiters.includes(w)) return;
            clearTimeout(timer);
            rej(new Error(`beamdrop ${args.join(' ')} ended before ${what}:\n${told(r)}`));
          });
        });
      },
      jobId: async (timeoutMs) => Number((await bg.waitFor('job-started', (e) => e.type === 'job-started', timeoutMs)).jobId),
      interrupt: () => {
        child.kill('SIGINT');
      },
      done,
    };
    return bg;
  }

  /** Runs a command to its end (killed after timeoutMs, which fails the journey with its output). */
  async run(args: string[], timeoutMs = 120_000): Promise<CliResult> {
    const bg = this.start(...args);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        bg.child.kill('SIGKILL');
        const { stdout, stderr } = bg.output();
        rej(
          new Error(
            `beamdrop ${args.join(' ')} did not end within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([bg.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The job-finished summary of a run with --json. */
export function finished(r: CliResult): {
  job: { id: number; state: string; kind: string; dataset: string; metadata: Record<string, string> };
  counts: Record<string, number>;
  failures: unknown[];
} {
  const e = r.events.filter((x) => x.type === 'job-finished').at(-1);
  if (!e) throw new Error(`no job-finished event:\n${told(r)}`);
  return e.summary as ReturnType<typeof finished>;
}

/** Polls `cond` until it returns a truthy value; fails naming `what` after timeoutMs. */
export async function until<T>(
  what: string,
  cond: () => T | Promise<T>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
