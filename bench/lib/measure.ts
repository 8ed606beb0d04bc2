// Runs one measured command as a child process under /usr/bin/time, which reports the peak RSS
// (getrusage ru_maxrss: the high-water mark of the whole process, every thread included) and the
// CPU time of the command; wall time is taken here. The CPU time the servers (MinIO, Apache)
// spent meanwhile is read from /proc, because on a small machine they compete for the same cores.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const TIME_BIN = process.env.BEAMDROP_TIME_BIN ?? '/usr/bin/time';

export interface Measured {
  wallSeconds: number;
  /** Peak resident set of the command, in MB (10^6 bytes). */
  peakRssMB: number;
  /** CPU seconds of the command (user + system). */
  cpuSeconds: number;
  /** CPU seconds of the servers during the command. */
  serverCpuSeconds: number;
  /**
   * CPU seconds everything else on the machine used meanwhile (other people's builds and tests on
   * a shared machine): a figure taken while this is large is a figure of a busy machine.
   */
  otherCpuSeconds: number;
  stdout: string;
  stderr: string;
}

export class CommandFailed extends Error {}

const TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the whole machine since boot (all cores; idle and iowait excluded). */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return busy / TICKS_PER_SECOND;
}

/** utime + stime in seconds of a process and of its direct children (Apache's workers). */
export function cpuOfTree(pid: number): number {
  const ticks = (p: number): number => {
    try {
      // Fields after the command name, which may contain spaces: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0; // exited meanwhile
    }
  };
  let total = ticks(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) total += ticks(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return total / TICKS_PER_SECOND;
}

export async function measure(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; serverPids?: number[]; cwd?: string } = {},
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'bd-bench-time-'));
  const timeFile = join(dir, 'time');
  const serverCpu = () => (opts.serverPids ?? []).reduce((s, p) => s + cpuOfTree(p), 0);
  try {
    const cpu0 = serverCpu();
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    const { code, stdout, stderr } = await run(TIME_BIN, ['-o', timeFile, '-f', '%M %U %S', cmd, ...args], opts);
    const wallSeconds = (performance.now() - t0) / 1000;
    const serverCpuSeconds = serverCpu() - cpu0;
    const busySeconds = machineBusySeconds() - busy0;
    if (code !== 0) {
      throw new CommandFailed(`${cmd} ${args.join(' ')} exited with ${code}:\n${tail(stderr)}\n${tail(stdout)}`);
    }
    // The last line: time writes "Command exited with non-zero status" above it on failures.
    const [rssKiB, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    const cpuSeconds = user! + sys!;
    return {
      wallSeconds,
      peakRssMB: (rssKiB! * 1024) / 1e6,
      cpuSeconds,
      serverCpuSeconds,
      otherCpuSeconds: Math.max(0, busySeconds - cpuSeconds - serverCpuSeconds),
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

function tail(s: string, lines = 15): string {
  return s.trim().split('\n').slice(-lines).join('\n');
}
