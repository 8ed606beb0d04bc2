// The real `beamdrop` command as a child process of the campaign (the built CLI, bin/beamdrop.js
// on dist/): its --json events are kept with the time they arrived, its end (exit code or
// signal) is awaited, and it can be killed with SIGKILL. Children still running when the
// campaign ends are killed, so no beamdrop outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The built CLI; `npm run campaign` runs a copy built for it (out/campaign-cli), so a rebuild of dist/ meanwhile cannot change it. */
export const CLI = resolve(process.env.BEAMDROP_CAMPAIGN_CLI ?? 'bin/beamdrop.js');

export type CliEvent = Record<string, unknown> & { type: string };

export interface Ended {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

export interface BeamdropProcess {
  readonly args: string[];
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  /** Every JSON event it printed so far (with --json), in order. */
  readonly events: CliEvent[];
  hasEnded(): boolean;
  /** SIGKILL; resolves with the time the signal was sent. */
  kill(): number;
  done: Promise<Ended>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Another child (the detector writer) that must not outlive the campaign. */
export function adoptChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  running.add(child);
  child.once('close', () => running.delete(child));
}

export function assertBuilt(): void {
  if (!existsSync(resolve(dirname(CLI), '../dist/main/cli/index.js')))
    throw new Error(
      `the CLI beside ${CLI} is not built: run \`npx tsc -p tsconfig.node.json\` (npm run campaign and npm test build it)`,
    );
}

export function startBeamdrop(args: string[], env: NodeJS.ProcessEnv): BeamdropProcess {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let rest = '';
  let ended = false;
  const events: CliEvent[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    const lines = (rest + s).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const t = line.trim();
      if (!t.startsWith('{')) continue;
      try {
        // `receivedAt`: when the campaign read it (ms since the epoch), for timelines.
        events.push({ ...(JSON.parse(t) as CliEvent), receivedAt: Date.now() });
      } catch {
        // not an event line
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Ended>((res) =>
    child.once('close', (code, signal) => {
      ended = true;
      running.delete(child);
      res({ args, code, signal, stdout, stderr, startedAt, endedAt: Date.now() });
    }),
  );
  return {
    args,
    child,
    pid: child.pid ?? -1,
    startedAt,
    events,
    hasEnded: () => ended,
    kill: () => {
      const at = Date.now();
      child.kill('SIGKILL');
      return at;
    },
    done,
  };
}

/** Runs a command to its end; killed (and reported) after timeoutMs. */
export async function runBeamdrop(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Ended> {
  const p = startBeamdrop(args, env);
  const timer = setTimeout(() => p.kill(), timeoutMs);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/** One line of what was run and how it ended, with the end of its output (for defect notes). */
export function told(r: Ended): string {
  const tail = (s: string) => (s.length > 1500 ? `…${s.slice(-1500)}` : s);
  return `beamdrop ${r.args.join(' ')} → ${r.code ?? r.signal} after ${r.endedAt - r.startedAt} ms\n  stderr: ${tail(r.stderr.trim())}\n  stdout: ${tail(r.stdout.trim())}`;
}
