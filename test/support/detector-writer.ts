// A writer process that imitates a detector, for the sync tests and the sync benchmark. Run as
//   node test/support/detector-writer.ts '<plan as JSON>'
// (Node 24 strips the types; no relative imports so it runs as is). It writes files of random
// bytes in chunks with pauses, keeps some open after their last byte, writes some as NAME.tmp
// and renames them at the end, writes bursts of hundreds of small files at once, marker files
// after their data file, and HDF5-like sets whose master file comes last. For every file it
// prints one JSON line when the file is final (closed, renamed): its relpath, the time, its
// size and SHA-256, so that a test can compare what was stored with what was written and a
// benchmark can measure the latency from "file closed" to "verified".
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Step =
  /** `count` files of `size`, one started every `everyMs` (they overlap), written `chunk` bytes at a time. */
  | {
      kind: 'stream';
      dir: string;
      prefix: string;
      count: number;
      size: number;
      chunk: number;
      chunkPauseMs: number;
      everyMs: number;
      ext?: string;
      /** Every k-th file stays open `holdOpenMs` after its last byte. */
      holdEvery?: number;
      holdOpenMs?: number;
      /** Every k-th file is written as NAME.tmp and renamed when complete. */
      tmpEvery?: number;
    }
  /** `count` files of `size` written as fast as possible. */
  | { kind: 'burst'; dir: string; prefix: string; count: number; size: number }
  /** A data file written slowly, then after `markerDelayMs` its marker NAME.done. */
  | { kind: 'marker'; dir: string; name: string; size: number; chunk: number; chunkPauseMs: number; markerDelayMs: number }
  /** Data files PREFIX_data_00000N.h5, then after `masterDelayMs` PREFIX_master.h5. */
  | { kind: 'h5set'; dir: string; prefix: string; dataFiles: number; size: number; masterDelayMs: number }
  | { kind: 'sleep'; ms: number };

export interface Plan {
  out: string;
  steps: Step[];
}

export interface WrittenFile {
  event: 'closed';
  relpath: string;
  at: number;
  size: number;
  sha256: string;
}

function say(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

/** Writes one file chunk by chunk; returns when it is final (closed, renamed). */
async function writeFile(
  out: string,
  relpath: string,
  size: number,
  chunk: number,
  pauseMs: number,
  opts: { holdOpenMs?: number; viaTmp?: boolean } = {},
): Promise<void> {
  const final = join(out, ...relpath.split('/'));
  const writing = opts.viaTmp ? `${final}.tmp` : final;
  mkdirSync(dirname(final), { recursive: true });
  const h = createHash('sha256');
  const fh = await open(writing, 'w');
  try {
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, size)));
    for (let at = 0; at < size;) {
      const n = Math.min(buf.length, size - at);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n, at);
      h.update(buf.subarray(0, n));
      at += n;
      if (at < size && pauseMs > 0) await sleep(pauseMs);
    }
    if (opts.holdOpenMs) await sleep(opts.holdOpenMs);
  } finally {
    await fh.close();
  }
  if (opts.viaTmp) renameSync(writing, final);
  const done: WrittenFile = { event: 'closed', relpath, at: Date.now(), size, sha256: h.digest('hex') };
  say(done);
}

const name = (prefix: string, i: number, ext: string) => `${prefix}_${String(i).padStart(5, '0')}${ext}`;

async function run(plan: Plan): Promise<void> {
  for (const s of plan.steps) {
    switch (s.kind) {
      case 'stream': {
        const files: Promise<void>[] = [];
        const start = Date.now();
        for (let i = 0; i < s.count; i++) {
          const wait = start + i * s.everyMs - Date.now();
          if (wait > 0) await sleep(wait);
          const hold = s.holdEvery && i % s.holdEvery === s.holdEvery - 1 ? (s.holdOpenMs ?? 0) : 0;
          const viaTmp = !!s.tmpEvery && i % s.tmpEvery === 0;
          files.push(
            writeFile(plan.out, `${s.dir}/${name(s.prefix, i, s.ext ?? '.raw')}`, s.size, s.chunk, s.chunkPauseMs, {
              holdOpenMs: hold,
              viaTmp,
            }),
          );
        }
        await Promise.all(files);
        break;
      }
      case 'burst': {
        mkdirSync(join(plan.out, s.dir), { recursive: true });
        for (let i = 0; i < s.count; i++) {
          const relpath = `${s.dir}/${name(s.prefix, i, '.cbf')}`;
          const data = randomFillSync(Buffer.allocUnsafe(s.size));
          writeFileSync(join(plan.out, ...relpath.split('/')), data);
          say({
            event: 'closed',
            relpath,
            at: Date.now(),
            size: s.size,
            sha256: createHash('sha256').update(data).digest('hex'),
          });
        }
        break;
      }
      case 'marker': {
        await writeFile(plan.out, `${s.dir}/${s.name}`, s.size, s.chunk, s.chunkPauseMs);
        await sleep(s.markerDelayMs);
        const marker = `${s.dir}/${s.name.replace(/\.[^.]*$/, '')}.done`;
        writeFileSync(join(plan.out, ...marker.split('/')), '');
        say({ event: 'marker', relpath: marker, at: Date.now() });
        break;
      }
      case 'h5set': {
        for (let i = 1; i <= s.dataFiles; i++)
          await writeFile(plan.out, `${s.dir}/${s.prefix}_data_${String(i).padStart(6, '0')}.h5`, s.size, 1024 * 1024, 0);
        await sleep(s.masterDelayMs);
        await writeFile(plan.out, `${s.dir}/${s.prefix}_master.h5`, 4096, 4096, 0);
        say({ event: 'marker', relpath: `${s.dir}/${s.prefix}_master.h5`, at: Date.now() });
        break;
      }
      case 'sleep':
        await sleep(s.ms);
        break;
    }
  }
  say({ event: 'done', at: Date.now() });
}

/** Starts the writer as a child process; `files` fills as it reports them. */
export function startWriter(plan: Plan): {
  child: ChildProcess;
  files: WrittenFile[];
  markers: { relpath: string; at: number }[];
  done: Promise<void>;
} {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files: WrittenFile[] = [];
  const markers: { relpath: string; at: number }[] = [];
  let stderr = '';
  let rest = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (rest + s).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines.filter(Boolean)) {
      const e = JSON.parse(l) as Omit<WrittenFile, 'event'> & { event: string };
      if (e.event === 'closed') files.push(e as WrittenFile);
      if (e.event === 'marker') markers.push({ relpath: e.relpath, at: e.at });
    }
  });
  const done = new Promise<void>((resolve, reject) =>
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`detector-writer ended with ${code ?? signal}: ${stderr}`)),
    ),
  );
  done.catch(() => undefined);
  return { child, files, markers, done };
}

// Runs the plan only when started as a program (tests import startWriter from this file).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(JSON.parse(process.argv[2] ?? '{}') as Plan).catch((e: unknown) => {
    process.stderr.write(`detector-writer: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
