// One measured upload by each contender — Beamdrop (the engine in its own process), curl and
// rclone — to one target, returned as a Sample. Every upload goes to a fresh key or folder, and
// is deleted again afterwards (not timed), so the disk holds at most one copy at a time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import type { RunnerResult, RunnerSpec } from '../upload-runner.js';
import { measure } from './measure.js';
import type { BenchServers } from './servers.js';
import { curlDav, curlS3, DAV_REMOTE, rcloneCopy, S3_REMOTE } from './tools.js';

export type Tool = 'beamdrop' | 'curl' | 'rclone';
export type Target = 's3' | 'webdav';
export const TARGETS: Target[] = ['s3', 'webdav'];

export interface Sample {
  phase: string;
  tool: Tool;
  target: Target;
  run: number;
  files: number;
  bytes: number;
  /** Wall time of the whole process, start to exit (the same yardstick for every tool). */
  seconds: number;
  /** Beamdrop only: Engine.upload alone, without Node start-up and engine open/close. */
  uploadSeconds?: number;
  /** Beamdrop only: peaks of the main thread's V8 heap, external memory and ArrayBuffers, MB. */
  memoryPeaksMB?: RunnerResult['memoryPeaksMB'];
  peakRssMB: number;
  cpuSeconds: number;
  serverCpuSeconds: number;
  /** CPU seconds used by anything else on the machine meanwhile (noise). */
  otherCpuSeconds: number;
}

export interface Workload {
  phase: string;
  /** A single file or a folder. */
  source: string;
  files: number;
  bytes: number;
}

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), '..', 'upload-runner.js');
/**
 * Extra Node flags for the Beamdrop processes, to find where the time goes, e.g.
 * BEAMDROP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (one profile per thread).
 */
const NODE_ARGS = (process.env.BEAMDROP_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

export class Contenders {
  private seq = 0;

  constructor(
    private readonly s: BenchServers,
    private readonly rclone: NodeJS.ProcessEnv,
  ) {}

  private serverPids(target: Target): number[] {
    return [target === 's3' ? this.s.minio.pid : this.s.dav.pid];
  }

  async run(tool: Tool, target: Target, w: Workload, run: number): Promise<Sample> {
    const name = `${w.phase}-${tool}-${target}-r${run}-${++this.seq}`;
    // Dirty pages of the previous upload are flushed first, so they do not slow this one.
    execFileSync('sync');
    // curl to WebDAV writes one file beside the others (its collection must exist already).
    const davPath = tool === 'curl' ? `${name}-${basename(w.source)}` : name;
    try {
      const base = { phase: w.phase, tool, target, run, files: w.files, bytes: w.bytes };
      let sample: Sample;
      if (tool === 'beamdrop') {
        sample = { ...base, ...(await this.beamdrop(target, w, name)) };
      } else {
        const cmd =
          tool === 'curl'
            ? target === 's3'
              ? curlS3(this.s, w.source, `${name}/${basename(w.source)}`)
              : curlDav(this.s, w.source, davPath)
            : rcloneCopy(
                this.rclone,
                w.source,
                target === 's3' ? S3_REMOTE : DAV_REMOTE,
                target === 's3' ? `${this.s.bucket}/${name}` : name,
              );
        const m = await measure(cmd.cmd, cmd.args, { ...(cmd.env ? { env: cmd.env } : {}), serverPids: this.serverPids(target) });
        sample = {
          ...base,
          seconds: m.wallSeconds,
          peakRssMB: m.peakRssMB,
          cpuSeconds: m.cpuSeconds,
          serverCpuSeconds: m.serverCpuSeconds,
          otherCpuSeconds: m.otherCpuSeconds,
        };
      }
      const stored = target === 's3' ? await this.s.storedS3(name) : await this.s.storedDav(davPath);
      if (stored.files !== w.files || stored.bytes !== w.bytes) {
        throw new Error(
          `${tool} to ${target} reported success, but ${stored.files} files / ${stored.bytes} bytes are stored, not ${w.files} / ${w.bytes}`,
        );
      }
      return sample;
    } finally {
      if (target === 's3') await this.s.clearS3(name);
      else await this.s.clearDav(davPath);
    }
  }

  private async beamdrop(
    target: Target,
    w: Workload,
    name: string,
  ): Promise<Omit<Sample, keyof Workload | 'tool' | 'target' | 'run'>> {
    const home = mkdtempSync(join(tmpdir(), 'bd-bench-home-'));
    const { minio, dav, bucket } = this.s;
    // Keys are {proposal}/{dataset}/{relpath}: the proposal is this upload's own folder.
    const spec: RunnerSpec = {
      destination:
        target === 's3'
          ? { kind: 's3', endpoint: minio.endpoint, bucket, accessKeyId: minio.accessKeyId }
          : { kind: 'webdav', url: dav.url, username: dav.username },
      home,
      sources: [w.source],
      dataset: 'data',
      proposal: name,
    };
    const env = {
      ...process.env,
      [envName('s3', 'SECRET_ACCESS_KEY')]: minio.secretAccessKey,
      [envName('webdav', 'PASSWORD')]: dav.password,
    };
    try {
      const m = await measure(process.execPath, [...NODE_ARGS, RUNNER, JSON.stringify(spec)], {
        env,
        serverPids: this.serverPids(target),
      });
      const r = JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '{}') as RunnerResult;
      const done = (r.counts.verified ?? 0) + (r.counts.registered ?? 0);
      if (!r.ok || done !== w.files) {
        throw new Error(
          `Beamdrop to ${target}: ${done} of ${w.files} files verified (${JSON.stringify(r.counts)}); ${r.failures.join('; ')}`,
        );
      }
      return {
        seconds: m.wallSeconds,
        uploadSeconds: r.uploadSeconds,
        memoryPeaksMB: r.memoryPeaksMB,
        peakRssMB: m.peakRssMB,
        cpuSeconds: m.cpuSeconds,
        serverCpuSeconds: m.serverCpuSeconds,
        otherCpuSeconds: m.otherCpuSeconds,
      };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
}
