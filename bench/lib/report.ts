// Turns the samples into medians and ratios against the targets of issue 2, and prints them.
// Rates are in MB/s (10^6 bytes per second). Every figure is the median over the runs; the peak
// RSS is the highest of the runs. Times are whole-process wall times for every tool alike.
import type { Sample, Target, Tool } from './contenders.js';
import type { HashAlgorithm, HashSample } from './hash.js';
import { fmt, median, pct, ratio, withRuns } from './stats.js';

export const TARGET_OF_LIMIT = 0.9;
export const TARGET_VS_RCLONE_FILES = 2;
export const TARGET_PEAK_RSS_MB = 300;

const LABEL: Record<Target, string> = { s3: 'S3 (MinIO)', webdav: 'WebDAV (Apache)' };

interface ToolFigures {
  runs: number[];
  median: number;
  peakRssMB: number;
  cpuSeconds: number;
  serverCpuSeconds: number;
}

export interface BigFileTarget {
  /** MB/s per tool, whole process. */
  beamdrop: ToolFigures;
  /** MB/s of Engine.upload alone (no Node start-up, engine open or close). */
  beamdropUploadOnly: ToolFigures;
  curl: ToolFigures;
  rclone: ToolFigures;
  /** min(SHA-256 speed of our engine, raw link speed). */
  limitMBps: number;
  ofLimit: number;
  vsRclone: number;
}

export interface Summary {
  a?: {
    bytes: number;
    hashMBps: Record<HashAlgorithm, number[]>;
    hashMedianMBps: Record<HashAlgorithm, number>;
    /** Bytes per CPU-second (all threads of the process): less disturbed by a busy machine. */
    hashCpuMBps: Record<HashAlgorithm, number>;
  } & Partial<Record<Target, BigFileTarget>>;
  b?: { files: number } & Partial<Record<Target, { beamdrop: ToolFigures; rclone: ToolFigures; vsRclone: number }>>;
  c?: { bytes: number; sparse: boolean } & Partial<Record<Target, { MBps: number; peakRssMB: number; cpuSeconds: number }>>;
  peakRssMB: { a: number; b: number; c: number };
  /**
   * Share of the machine's cores that other processes (not the tool, not the server) kept busy
   * during the measured uploads: median and highest. Large values mean a noisy figure.
   */
  otherLoad: { median: number; max: number };
}

function figures(samples: Sample[], rate: (s: Sample) => number): ToolFigures {
  const runs = samples.map(rate);
  return {
    runs,
    median: median(runs),
    peakRssMB: Math.max(...samples.map((s) => s.peakRssMB)),
    cpuSeconds: median(samples.map((s) => s.cpuSeconds)),
    serverCpuSeconds: median(samples.map((s) => s.serverCpuSeconds)),
  };
}

const mbps = (s: Sample) => s.bytes / s.seconds / 1e6;
const filesPerSecond = (s: Sample) => s.files / s.seconds;

export function summarise(samples: Sample[], hashes: HashSample[], machine: { cores: number; hugeSparse: boolean }): Summary {
  const pick = (phase: string, tool: Tool, target: Target) =>
    samples.filter((s) => s.phase === phase && s.tool === tool && s.target === target);
  const beamdropPeak = (phase: string) =>
    Math.max(0, ...samples.filter((s) => s.phase === phase && s.tool === 'beamdrop').map((s) => s.peakRssMB));
  const load = samples.map((s) => s.otherCpuSeconds / (s.seconds * machine.cores));
  const summary: Summary = {
    peakRssMB: { a: beamdropPeak('a'), b: beamdropPeak('b'), c: beamdropPeak('c') },
    otherLoad: { median: median(load), max: Math.max(0, ...load) },
  };

  const a = samples.filter((s) => s.phase === 'a');
  if (a.length || hashes.length) {
    const hashMBps = {} as Record<HashAlgorithm, number[]>;
    const hashMedianMBps = {} as Record<HashAlgorithm, number>;
    const hashCpuMBps = {} as Record<HashAlgorithm, number>;
    for (const h of hashes) (hashMBps[h.algorithm] ??= []).push(h.bytes / h.seconds / 1e6);
    for (const [k, v] of Object.entries(hashMBps)) {
      const algorithm = k as HashAlgorithm;
      hashMedianMBps[algorithm] = median(v);
      hashCpuMBps[algorithm] = median(hashes.filter((h) => h.algorithm === algorithm).map((h) => h.bytes / h.cpuSeconds / 1e6));
    }
    summary.a = { bytes: a[0]?.bytes ?? hashes[0]?.bytes ?? 0, hashMBps, hashMedianMBps, hashCpuMBps };
    for (const target of ['s3', 'webdav'] as Target[]) {
      const ours = pick('a', 'beamdrop', target);
      if (!ours.length) continue;
      const beamdrop = figures(ours, mbps);
      const curl = figures(pick('a', 'curl', target), mbps);
      const rclone = figures(pick('a', 'rclone', target), mbps);
      const limitMBps = Math.min(hashMedianMBps.hashpool ?? Infinity, curl.median);
      summary.a[target] = {
        beamdrop,
        beamdropUploadOnly: figures(ours, (s) => s.bytes / (s.uploadSeconds ?? s.seconds) / 1e6),
        curl,
        rclone,
        limitMBps,
        ofLimit: beamdrop.median / limitMBps,
        vsRclone: beamdrop.median / rclone.median,
      };
    }
  }
  if (samples.some((s) => s.phase === 'b')) {
    summary.b = { files: samples.find((s) => s.phase === 'b')!.files };
    for (const target of ['s3', 'webdav'] as Target[]) {
      const ours = pick('b', 'beamdrop', target);
      if (!ours.length) continue;
      const beamdrop = figures(ours, filesPerSecond);
      const rclone = figures(pick('b', 'rclone', target), filesPerSecond);
      summary.b[target] = { beamdrop, rclone, vsRclone: beamdrop.median / rclone.median };
    }
  }
  if (samples.some((s) => s.phase === 'c')) {
    summary.c = { bytes: samples.find((s) => s.phase === 'c')!.bytes, sparse: machine.hugeSparse };
    for (const s of samples.filter((x) => x.phase === 'c'))
      summary.c[s.target] = { MBps: mbps(s), peakRssMB: s.peakRssMB, cpuSeconds: s.cpuSeconds };
  }
  return summary;
}

const noise = (l: Summary['otherLoad']): string => {
  if (l.median > 0.2) return ': a busy, shared machine; compare ratios rather than absolute figures';
  if (l.max > 0.25) return ': some uploads ran on a busy machine (see "other CPU" on each line)';
  return '';
};
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const size = (bytes: number) =>
  bytes >= 2 ** 30 ? `${fmt(bytes / 2 ** 30, bytes % 2 ** 30 ? 1 : 0)} GiB` : `${fmt(bytes / 2 ** 20)} MiB`;

export function printReport(s: Summary, o: { runs: number }): void {
  const out: string[] = [
    '',
    `=== Beamdrop benchmark: medians of ${o.runs} run${o.runs > 1 ? 's' : ''} (MB = 10^6 bytes; times are whole-process wall times) ===`,
    `other processes kept ${pct(s.otherLoad.median)} of the cores busy during the median upload (highest ${pct(s.otherLoad.max)})${noise(s.otherLoad)}`,
  ];
  if (s.a) {
    const h = s.a.hashMedianMBps;
    const cpuRate = (a: HashAlgorithm) => `[per CPU-second ${fmt(s.a!.hashCpuMBps[a] ?? NaN)} MB/s]`;
    out.push(
      '',
      `(a) one ${size(s.a.bytes)} file`,
      `  SHA-256, one core:  ours (hash-wasm in a HashPool worker) ${withRuns(s.a.hashMBps.hashpool ?? [], 'MB/s')}  ${cpuRate('hashpool')}`,
      `                      node:crypto (OpenSSL)                 ${withRuns(s.a.hashMBps['node-crypto'] ?? [], 'MB/s')}  ${cpuRate('node-crypto')}`,
      `                      hash-wasm bare, no worker             ${withRuns(s.a.hashMBps['hash-wasm'] ?? [], 'MB/s')}  ${cpuRate('hash-wasm')}`,
    );
    for (const t of ['s3', 'webdav'] as Target[]) {
      const f = s.a[t];
      if (!f) continue;
      out.push(
        `  ${LABEL[t]}:`,
        `    Beamdrop           ${withRuns(f.beamdrop.runs, 'MB/s')}   [Engine.upload alone ${fmt(f.beamdropUploadOnly.median)} MB/s]`,
        `    curl -T (link)     ${withRuns(f.curl.runs, 'MB/s')}`,
        `    rclone copy        ${withRuns(f.rclone.runs, 'MB/s')}`,
        `    ours / min(hash ${fmt(h.hashpool ?? NaN)}, link ${fmt(f.curl.median)}) = ${pct(f.ofLimit)}   target ≥ ${pct(TARGET_OF_LIMIT)}: ${verdict(f.ofLimit >= TARGET_OF_LIMIT)}`,
        `    ours / rclone      ${ratio(f.vsRclone)}`,
        `    CPU s (client / server): Beamdrop ${fmt(f.beamdrop.cpuSeconds, 1)} / ${fmt(f.beamdrop.serverCpuSeconds, 1)}, curl ${fmt(f.curl.cpuSeconds, 1)} / ${fmt(f.curl.serverCpuSeconds, 1)}, rclone ${fmt(f.rclone.cpuSeconds, 1)} / ${fmt(f.rclone.serverCpuSeconds, 1)}`,
      );
    }
  }
  if (s.b) {
    out.push('', `(b) ${s.b.files} files of 1 MiB`);
    for (const t of ['s3', 'webdav'] as Target[]) {
      const f = s.b[t];
      if (!f) continue;
      out.push(
        `  ${LABEL[t]}:`,
        `    Beamdrop           ${withRuns(f.beamdrop.runs, 'files/s', 1)}`,
        `    rclone copy        ${withRuns(f.rclone.runs, 'files/s', 1)}`,
        `    ours / rclone      ${ratio(f.vsRclone)}   target ≥ ${TARGET_VS_RCLONE_FILES}×: ${verdict(f.vsRclone >= TARGET_VS_RCLONE_FILES)}`,
        `    CPU s (client / server): Beamdrop ${fmt(f.beamdrop.cpuSeconds, 1)} / ${fmt(f.beamdrop.serverCpuSeconds, 1)}, rclone ${fmt(f.rclone.cpuSeconds, 1)} / ${fmt(f.rclone.serverCpuSeconds, 1)}`,
      );
    }
  }
  out.push('', `(c) peak RSS of the Beamdrop process (target ≤ ${TARGET_PEAK_RSS_MB} MB)`);
  const rssLine = (what: string, mb: number) =>
    out.push(`    ${what.padEnd(34)} ${mb > 0 ? `${fmt(mb)} MB   ${verdict(mb <= TARGET_PEAK_RSS_MB)}` : 'not measured'}`);
  if (s.a)
    for (const t of ['s3', 'webdav'] as Target[])
      if (s.a[t]) rssLine(`(a) ${size(s.a.bytes)} file → ${t}`, s.a[t].beamdrop.peakRssMB);
  if (s.b)
    for (const t of ['s3', 'webdav'] as Target[]) if (s.b[t]) rssLine(`(b) ${s.b.files} files → ${t}`, s.b[t].beamdrop.peakRssMB);
  if (s.c) {
    for (const t of ['s3', 'webdav'] as Target[]) {
      const f = s.c[t];
      if (f) rssLine(`${size(s.c.bytes)}${s.c.sparse ? ' SPARSE' : ''} file → ${t} (${fmt(f.MBps)} MB/s)`, f.peakRssMB);
    }
  }
  console.log(out.join('\n'));
}
