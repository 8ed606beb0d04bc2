// The two ways an operator gets a dataset to the facility, as steps the journeys share:
// a batch `beamdrop upload` of a finished folder, and a sync `beamdrop watch` during an
// acquisition (a detector-imitating writer process fills the folder) ended with Ctrl-C or with
// `beamdrop stop JOB` from another terminal. Each returns the job and what was written, for the
// journey to check every system's end state.
import { expect } from 'vitest';
import { startWriter as startDetectorWriter, type Plan, type Step } from '../support/detector-writer.js';
import { adopt, finished, told, until, type Background } from '../support/journey-operator.js';
import type { Hashed } from '../support/journey-storage.js';
import type { Identity, Journey, StoredDataset } from '../support/journey-world.js';

export interface Outcome extends StoredDataset {
  jobId: number;
  /** The folder that was uploaded or watched. */
  dir: string;
}

/** The detector writer of test/support, killed with the journey's other children if a journey fails midway. */
export function startWriter(plan: Plan): ReturnType<typeof startDetectorWriter> {
  const w = startDetectorWriter(plan);
  adopt(w.child);
  return w;
}

export const idArgs = (id: Identity): string[] => [
  '--dataset',
  id.dataset,
  '--proposal',
  id.proposal,
  ...(id.visit ? ['--visit', id.visit] : []),
];

/** A small finished dataset: a few files in folders, names with a space and an accent. */
export const SMALL_DATASET: Record<string, number> = {
  'scan/frame_0001.cbf': 3000,
  'scan/frame_0002.cbf': 2500,
  'scan/frame 0003 é.cbf': 1800,
  'processed/azimuthal.dat': 900,
  'params.json': 120,
};

export async function uploadBatch(
  j: Journey,
  id: Identity,
  opts: { files?: Record<string, number>; params?: string[]; extra?: string[] } = {},
): Promise<Outcome> {
  const src = j.tree(opts.files ?? SMALL_DATASET);
  const r = await j.op.run(['upload', src.dir, ...idArgs(id), ...(opts.params ?? []), ...(opts.extra ?? []), '--json']);
  expect(r.code, told(r)).toBe(0);
  const s = finished(r);
  expect(s.job.state, told(r)).toBe('done');
  // Verified, or already registered by the time the job ended: every file, none failed.
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0);
  expect(
    counts.every(([state]) => state === 'verified' || state === 'registered'),
    told(r),
  ).toBe(true);
  expect(
    counts.reduce((n, [, k]) => n + k, 0),
    told(r),
  ).toBe(src.files.size);
  return { jobId: s.job.id, id, files: src.files, dir: src.dir };
}

/** A short acquisition: a few files streamed in chunks (one written as NAME.tmp and renamed), then a burst. */
export const SMALL_ACQUISITION = (burst = 12): Step[] => [
  {
    kind: 'stream',
    dir: 'run1',
    prefix: 'img',
    count: 4,
    size: 64 * 1024 + 17,
    chunk: 16 * 1024,
    chunkPauseMs: 60,
    everyMs: 120,
    tmpEvery: 3,
  },
  { kind: 'burst', dir: 'burst', prefix: 'frame', count: burst, size: 2048 },
];

export interface Watching {
  bg: Background;
  jobId: number;
  dir: string;
  /** Waits until the writer is done and every file it wrote is verified. */
  allVerified(): Promise<Map<string, Hashed>>;
}

/** Starts `beamdrop watch` on an empty folder and a writer that fills it. */
export async function startWatch(
  j: Journey,
  id: Identity,
  opts: { params?: string[]; extra?: string[]; steps?: Step[] } = {},
): Promise<Watching> {
  const { dir } = j.tree({});
  const bg = j.op.start('watch', dir, ...idArgs(id), ...(opts.params ?? []), ...(opts.extra ?? []), '--json');
  const jobId = await bg.jobId(60_000);
  await bg.waitFor('the first scan', (e) => e.type === 'scan-done', 60_000);
  const writer = startWriter({ out: dir, steps: opts.steps ?? SMALL_ACQUISITION() });
  return {
    bg,
    jobId,
    dir,
    allVerified: async () => {
      await writer.done;
      const files = new Map(writer.files.map((f): [string, Hashed] => [f.relpath, { size: f.size, sha256: f.sha256 }]));
      await until(
        'every written file verified',
        () => {
          const v = new Set(bg.events.filter((e) => e.type === 'file-state' && e.state === 'verified').map((e) => e.relpath));
          return [...files.keys()].every((r) => v.has(r));
        },
        90_000,
      );
      return files;
    },
  };
}

/** Ends the acquisition: Ctrl-C in the watcher's terminal, or `beamdrop stop JOB` from another one. */
export async function stopWatch(j: Journey, w: Watching, how: 'ctrl-c' | 'stop-command'): Promise<void> {
  if (how === 'ctrl-c') {
    w.bg.interrupt();
  } else {
    const stop = await j.op.run(['stop', String(w.jobId)]);
    expect(stop.code, told(stop)).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`Job ${w.jobId} is done`));
  }
  const r = await w.bg.done;
  expect(r.code, told(r)).toBe(0);
  expect(finished(r).job.state, told(r)).toBe('done');
}

/** A whole sync journey up to the stop; `during` runs while the acquisition is still open. */
export async function syncAcquisition(
  j: Journey,
  id: Identity,
  opts: {
    params?: string[];
    stop: 'ctrl-c' | 'stop-command';
    during?: (w: Watching, files: Map<string, Hashed>) => Promise<void>;
    steps?: Step[];
  },
): Promise<Outcome> {
  const w = await startWatch(j, id, {
    ...(opts.params ? { params: opts.params } : {}),
    ...(opts.steps ? { steps: opts.steps } : {}),
  });
  const files = await w.allVerified();
  if (opts.during) await opts.during(w, files);
  await stopWatch(j, w, opts.stop);
  return { jobId: w.jobId, id, files, dir: w.dir };
}
