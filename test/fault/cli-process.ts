// The real `beamdrop` command as a child process (the built dist, like an operator's shell), with
// its output collected, for the fault tests that check exit codes and what the operator reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { JobEvent } from '../../src/shared/model.js';

const CLI = resolve('bin/beamdrop.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return { child, done: new Promise((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr }))) };
}

/** The events of a `--json` run, one per line. */
export function jsonEvents(stdout: string): JobEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobEvent)
    .filter((e) => typeof (e as { type?: unknown }).type === 'string');
}
