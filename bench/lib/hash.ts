// SHA-256 speed on one core, each engine in a fresh child process (hash-speed.ts), in a rotating
// order so that no engine always runs first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export type HashAlgorithm = 'hashpool' | 'hash-wasm' | 'node-crypto';
const ALGORITHMS: HashAlgorithm[] = ['hashpool', 'hash-wasm', 'node-crypto'];

export interface HashSample {
  algorithm: HashAlgorithm;
  run: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

export function measureHash(benchDir: string, bytes: number, run: number): HashSample[] {
  const out: HashSample[] = [];
  for (let i = 0; i < ALGORITHMS.length; i++) {
    const algorithm = ALGORITHMS[(i + run - 1) % ALGORITHMS.length]!;
    const line = execFileSync(process.execPath, [join(benchDir, 'hash-speed.js'), algorithm, String(bytes)], {
      encoding: 'utf8',
    });
    const r = JSON.parse(line.trim().split('\n').at(-1)!) as { seconds: number; cpuSeconds: number };
    out.push({ algorithm, run, bytes, seconds: r.seconds, cpuSeconds: r.cpuSeconds });
  }
  return out;
}
