// Source data of the benchmark, written for real (random bytes, no holes) into a scratch folder
// and removed at the end. Freshly written files sit in the page cache, so every tool reads them
// at memory speed: the figures compare pipelines, not the local disk.
import { randomFillSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 16 * 1024 * 1024;

export async function writeRandomFile(path: string, size: number): Promise<void> {
  const block = Buffer.allocUnsafe(BLOCK);
  const fh = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += BLOCK) {
      const n = Math.min(BLOCK, size - at);
      randomFillSync(block, 0, n);
      await fh.write(block, 0, n, at);
    }
  } finally {
    await fh.close();
  }
}

/** `count` random files of `size` bytes in `dir`, named f00000.bin, f00001.bin, … */
export async function writeRandomFiles(dir: string, count: number, size: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) await writeRandomFile(join(dir, `f${String(i).padStart(5, '0')}.bin`), size);
}
