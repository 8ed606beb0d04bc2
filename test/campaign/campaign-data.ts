// What each round uploads. Batch: a finished folder of mixed sizes — one multipart file (five
// 5 MiB parts with the campaign profile), two files of a few MiB, a dozen small frames, a name
// with a space and an accent. Sync: a plan for the detector writer (test/support/detector-writer.ts)
// that streams frames (some written as NAME.tmp and renamed), one multipart volume (3 parts) and a
// burst of small files, over about two seconds. Sizes come from the seeded generator.
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plan } from '../support/detector-writer.js';
import type { Rng } from './rng.js';

export const MiB = 1024 * 1024;
export const KiB = 1024;

function writeRandom(path: string, size: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, 4 * MiB) || 1);
    for (let at = 0; at < size;) {
      const n = Math.min(buf.length, size - at);
      randomFillSync(buf, 0, n);
      at += writeSync(fd, buf, 0, n, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** relpath → size of a batch dataset. */
export function batchFiles(rng: Rng): Record<string, number> {
  const files: Record<string, number> = {
    'raw/volume.h5': 21 * MiB + rng.int(0, 4 * MiB),
    'processed/azimuthal_1.dat': rng.int(1 * MiB, 3 * MiB),
    'processed/azimuthal_2.dat': rng.int(1 * MiB, 3 * MiB),
    'params.json': rng.int(50, 400),
    'notes é 1.txt': rng.int(10, 3000),
  };
  for (let i = 1; i <= 12; i++) files[`raw/frames/frame_${String(i).padStart(4, '0')}.cbf`] = rng.int(1 * KiB, 300 * KiB);
  return files;
}

export function writeTree(dir: string, files: Record<string, number>): void {
  mkdirSync(dir, { recursive: true });
  for (const [rel, size] of Object.entries(files)) writeRandom(join(dir, ...rel.split('/')), size);
}

export function syncPlan(out: string, rng: Rng): Plan {
  return {
    out,
    steps: [
      {
        kind: 'stream',
        dir: 'scan',
        prefix: 'img',
        count: rng.int(5, 8),
        size: 256 * KiB + rng.int(0, 64 * KiB),
        chunk: 64 * KiB,
        chunkPauseMs: 40,
        everyMs: 150,
        tmpEvery: 3,
      },
      {
        kind: 'stream',
        dir: 'big',
        prefix: 'vol',
        count: 1,
        size: 11 * MiB + rng.int(0, 3 * MiB),
        chunk: MiB,
        chunkPauseMs: 50,
        everyMs: 0,
      },
      { kind: 'burst', dir: 'burst', prefix: 'f', count: rng.int(10, 25), size: 2 * KiB },
    ],
  };
}
