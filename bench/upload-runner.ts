// Child process of the benchmark: one Beamdrop upload through the real engine (the same
// Engine.upload the CLI calls), on a fresh data folder, with the profile's default upload policy.
// Its own process, so that /usr/bin/time reports the peak RSS and CPU of Beamdrop alone.
// Usage: node upload-runner.js '<RunnerSpec as JSON>'   (secret in BEAMDROP_<NAME>_… env vars)
// Prints one JSON line: RunnerResult.
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/main/engine/engine.js';
import { profileSchema } from '../src/shared/profile-schema.js';

export interface RunnerSpec {
  destination:
    { kind: 's3'; endpoint: string; bucket: string; accessKeyId: string } | { kind: 'webdav'; url: string; username: string };
  /** Data folder of the engine (journal, catalogue, logs): fresh per run. */
  home: string;
  sources: string[];
  dataset: string;
  proposal: string;
}

export interface RunnerResult {
  ok: boolean;
  counts: Record<string, number>;
  bytesSent: number;
  /** Engine.upload alone (scan, plan, transfer, verify), without process start and engine open. */
  uploadSeconds: number;
  /** From the start of this script (modules loaded) to the end of the upload. */
  scriptSeconds: number;
  /** Peak RSS as the process itself sees it (getrusage), a cross-check of /usr/bin/time. */
  maxRssKiB: number;
  /**
   * Peaks of the main thread's memory, sampled every 100 ms, in MB: what the RSS is made of
   * (V8 heap, Buffers and other memory outside it). Worker threads have heaps of their own.
   */
  memoryPeaksMB: { heapUsed: number; external: number; arrayBuffers: number };
  failures: string[];
}

const started = performance.now();
const spec = JSON.parse(process.argv[2] ?? '') as RunnerSpec;
const { kind } = spec.destination;
const destination =
  spec.destination.kind === 's3'
    ? {
        kind: 's3',
        endpoint: spec.destination.endpoint,
        bucket: spec.destination.bucket,
        credentials: { accessKeyId: spec.destination.accessKeyId },
      }
    : { kind: 'webdav', url: spec.destination.url, credentials: { username: spec.destination.username } };
// `upload` left out on purpose: the defaults of the profile schema are what is measured.
const profile = profileSchema.parse({ destinations: { [kind]: destination } });

const peaks = { heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampleMemory = () => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[k] = Math.max(peaks[k], m[k] / 1e6);
};
const sampler = setInterval(sampleMemory, 100);
sampler.unref();

const engine = Engine.open({ home: spec.home, env: process.env });
let result: RunnerResult;
try {
  const t0 = performance.now();
  const summary = await engine.upload(profile, {
    sources: spec.sources,
    dataset: spec.dataset,
    proposal: spec.proposal,
    destination: kind,
  });
  const t1 = performance.now();
  const counts = Object.fromEntries(Object.entries(summary.counts).map(([k, v]) => [k, v ?? 0]));
  result = {
    ok: summary.failures.length === 0 && summary.job.state === 'done',
    counts,
    bytesSent: summary.bytesSent,
    uploadSeconds: (t1 - t0) / 1000,
    scriptSeconds: (t1 - started) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    memoryPeaksMB: peaks,
    failures: summary.failures.slice(0, 5).map((f) => `${f.relpath}: ${f.error.message}`),
  };
} finally {
  clearInterval(sampler);
  await engine.close();
}
console.log(JSON.stringify(result));
