// Child process of the benchmark: the speed of one SHA-256 engine over in-memory data, so that
// neither the disk nor the network is in the figure.
//   hashpool     our engine: HashPool.sha256Stream (hash-wasm in a worker thread, one core),
//                fed 16 MiB parts as FileSource feeds it for S3 multipart
//   hash-wasm    hash-wasm on this thread, no worker and no copies (the bare WebAssembly speed)
//   node-crypto  node:crypto (OpenSSL) on this thread, for reference
// Usage: node hash-speed.js ALGORITHM BYTES  → one JSON line {algorithm, bytes, seconds, cpuSeconds, sha256}
import { createHash, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createSHA256 } from 'hash-wasm';
import { HashPool } from '../src/main/engine/hash/hash-pool.js';
import type { HashAlgorithm } from './lib/hash.js';

const HASH_ALGORITHMS: HashAlgorithm[] = ['hashpool', 'hash-wasm', 'node-crypto'];

const SLICE = 16 * 1024 * 1024;

/** Slices of a 64 MiB random buffer, `total` bytes in all. */
function* slices(source: Buffer, total: number): Generator<Buffer> {
  for (let at = 0; at < total; at += SLICE) {
    const off = at % source.length;
    yield source.subarray(off, off + Math.min(SLICE, total - at, source.length - off));
  }
}

interface Timing {
  seconds: number;
  cpuSeconds: number;
  sha256: string;
}

/**
 * Wall time, and CPU time of every thread of the process (for hashpool: the copies on this thread
 * plus the worker), which a busy machine does not inflate the way it inflates wall time.
 */
async function timed(fn: () => Promise<string> | string): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sha256 = await fn();
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, sha256 };
}

async function measure(algorithm: HashAlgorithm, total: number): Promise<Timing> {
  const source = randomFillSync(Buffer.allocUnsafe(4 * SLICE));
  if (algorithm === 'hashpool') {
    const pool = new HashPool(1);
    try {
      // Warm-up: the worker loads hash-wasm on the first init.
      const warm = pool.sha256Stream();
      await warm.update(source.subarray(0, 1024));
      await warm.digest();
      return await timed(async () => {
        const sha = pool.sha256Stream();
        for (const s of slices(source, total)) await sha.update(s);
        return sha.digest();
      });
    } finally {
      await pool.close();
    }
  }
  if (algorithm === 'hash-wasm') {
    const h = await createSHA256();
    return timed(() => {
      h.init();
      for (const s of slices(source, total)) h.update(s);
      return h.digest('hex');
    });
  }
  return timed(() => {
    const h = createHash('sha256');
    for (const s of slices(source, total)) h.update(s);
    return h.digest('hex');
  });
}

const [algorithm, bytes] = process.argv.slice(2);
if (!algorithm || !(HASH_ALGORITHMS as string[]).includes(algorithm) || !Number(bytes)) {
  console.error(`usage: hash-speed.js ${HASH_ALGORITHMS.join('|')} BYTES`);
  process.exit(2);
}
const r = await measure(algorithm as HashAlgorithm, Number(bytes));
console.log(JSON.stringify({ algorithm, bytes: Number(bytes), ...r }));
