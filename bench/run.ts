// `npm run bench`: Beamdrop side by side with curl and rclone, on one MinIO and one Apache WebDAV
// started here on loopback ports, medians of several runs (see bench/README.md).
//   (a) one big file: Beamdrop, curl -T (raw link) and rclone to S3 and WebDAV, plus the SHA-256
//       speed of our hash engine (and node:crypto) on one core
//   (b) many 1 MiB files: files/s of Beamdrop and rclone to S3 and WebDAV
//   (c) peak RSS of Beamdrop in (a), (b) and for a 10 GiB file
// Every measured upload runs in its own process under /usr/bin/time (peak RSS, CPU).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { minioBin } from '../test/support/minio.js';
import { apacheBin } from '../test/support/apache-dav.js';
import { Contenders, TARGETS, type Sample, type Tool, type Workload } from './lib/contenders.js';
import { writeRandomFile, writeRandomFiles } from './lib/data.js';
import { measureHash, type HashSample } from './lib/hash.js';
import { TIME_BIN } from './lib/measure.js';
import { printReport, summarise } from './lib/report.js';
import { startServers, type BenchServers } from './lib/servers.js';
import { GiB, MiB } from './lib/stats.js';
import { rcloneEnv, toolVersion } from './lib/tools.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** out/bench/bench → the repository. */
const REPO = resolve(HERE, '../../..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'big-mib': { type: 'string' },
    files: { type: 'string' },
    'huge-gib': { type: 'string' },
    only: { type: 'string', default: 'a,b,c' },
    tools: { type: 'string', default: 'beamdrop,curl,rclone' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench -- [--quick] [--runs N] [--big-mib N] [--files N] [--huge-gib N] [--only a,b,c] [--tools beamdrop,curl,rclone]
  full:    3 runs, a 2048 MiB file, 2000 files of 1 MiB, a 10 GiB file   (about 20 minutes)
  --quick: 1 run,  a 512 MiB file,  500 files of 1 MiB,  a 2 GiB file`);
  process.exit(0);
}
const quick = args.quick;
const opts = {
  quick,
  runs: Number(args.runs ?? (quick ? 1 : 3)),
  bigBytes: Number(args['big-mib'] ?? (quick ? 512 : 2048)) * MiB,
  fileCount: Number(args.files ?? (quick ? 500 : 2000)),
  fileBytes: MiB,
  hugeBytes: Number(args['huge-gib'] ?? (quick ? 2 : 10)) * GiB,
  phases: new Set(args.only.split(',').map((s) => s.trim())),
  tools: new Set(args.tools.split(',').map((s) => s.trim())),
};

function preflight(): void {
  const missing: string[] = [];
  const has = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  for (const cmd of ['curl', 'rclone']) if (!has(cmd)) missing.push(`${cmd} (scripts/provision-test-servers.sh installs it)`);
  if (!existsSync(TIME_BIN)) missing.push(`${TIME_BIN} (Debian package "time": apt-get install time)`);
  if (!existsSync(minioBin())) missing.push(`minio at ${minioBin()} (scripts/provision-test-servers.sh builds it)`);
  if (!existsSync(apacheBin())) missing.push(`apache2 at ${apacheBin()} (scripts/provision-test-servers.sh installs it)`);
  if (missing.length) {
    console.error(`bench: missing:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
}

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function describe(s: Sample): string {
  const rate = s.files > 1 ? `${(s.files / s.seconds).toFixed(1)} files/s` : `${(s.bytes / s.seconds / 1e6).toFixed(0)} MB/s`;
  const inner = s.uploadSeconds !== undefined ? ` (upload alone ${s.uploadSeconds.toFixed(2)} s)` : '';
  const mem = s.memoryPeaksMB
    ? ` [main thread peaks: heap ${s.memoryPeaksMB.heapUsed.toFixed(0)}, external ${s.memoryPeaksMB.external.toFixed(0)}, ArrayBuffers ${s.memoryPeaksMB.arrayBuffers.toFixed(0)} MB]`
    : '';
  return `${s.phase} run ${s.run} ${s.tool.padEnd(8)} → ${s.target.padEnd(6)} ${s.seconds.toFixed(2)} s${inner}  ${rate}  peak RSS ${s.peakRssMB.toFixed(0)} MB  CPU ${s.cpuSeconds.toFixed(1)} s  server CPU ${s.serverCpuSeconds.toFixed(1)} s  other CPU ${s.otherCpuSeconds.toFixed(1)} s${mem}`;
}

/** Runs every tool on every target `runs` times, rotating the order so no tool always goes first. */
async function compare(c: Contenders, w: Workload, all: Tool[], samples: Sample[]): Promise<void> {
  const tools = all.filter((t) => opts.tools.has(t));
  for (let run = 1; run <= opts.runs; run++) {
    const order = tools.map((_, i) => tools[(i + run - 1) % tools.length]!);
    for (const target of TARGETS) {
      for (const tool of order) {
        const s = await c.run(tool, target, w, run);
        samples.push(s);
        log(describe(s));
      }
    }
  }
}

async function main(): Promise<void> {
  preflight();
  const started = new Date();
  const scratch = mkdtempSync(join(tmpdir(), 'bd-bench-data-'));
  let servers: BenchServers | null = null;
  const cleanup = async () => {
    rmSync(scratch, { recursive: true, force: true });
    if (servers) {
      const s = servers;
      servers = null;
      await s.stop();
    }
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers and removing the data');
    void cleanup().finally(() => process.exit(130));
  });

  const samples: Sample[] = [];
  const hashes: HashSample[] = [];
  let hugeSparse = false;
  try {
    log(
      `starting MinIO and Apache WebDAV on loopback (${availableParallelism()} cores, ${(totalmem() / GiB).toFixed(0)} GiB RAM)`,
    );
    servers = await startServers();
    log(`MinIO ${servers.minio.endpoint}, WebDAV ${servers.dav.url}`);
    const c = new Contenders(servers, rcloneEnv(servers));

    if (opts.phases.has('a')) {
      const big = join(scratch, 'big.bin');
      log(`(a) writing ${opts.bigBytes / MiB} MiB of random data`);
      await writeRandomFile(big, opts.bigBytes);
      for (let run = 1; run <= opts.runs; run++) {
        for (const h of measureHash(HERE, opts.bigBytes, run)) {
          hashes.push(h);
          log(`(a) run ${run} SHA-256 ${h.algorithm.padEnd(11)} ${(h.bytes / h.seconds / 1e6).toFixed(0)} MB/s`);
        }
      }
      await compare(c, { phase: 'a', source: big, files: 1, bytes: opts.bigBytes }, ['beamdrop', 'curl', 'rclone'], samples);
      rmSync(big);
    }
    if (opts.phases.has('b')) {
      const dir = join(scratch, 'files');
      log(`(b) writing ${opts.fileCount} files of ${opts.fileBytes / MiB} MiB`);
      await writeRandomFiles(dir, opts.fileCount, opts.fileBytes);
      await compare(
        c,
        { phase: 'b', source: dir, files: opts.fileCount, bytes: opts.fileCount * opts.fileBytes },
        ['beamdrop', 'rclone'],
        samples,
      );
      rmSync(dir, { recursive: true });
    }
    if (opts.phases.has('c')) {
      const huge = join(scratch, 'huge.bin');
      // The file and the one stored copy of it must fit, with room to spare; else a sparse file
      // (reads as zeros at memory speed, which still shows whether memory grows with the size).
      const fs = statfsSync(scratch);
      hugeSparse = fs.bavail * fs.bsize < 2 * opts.hugeBytes + 4 * GiB;
      if (hugeSparse) {
        log(`(c) not enough free disk for ${opts.hugeBytes / GiB} GiB twice: using a SPARSE file`);
        writeFileSync(huge, '');
        truncateSync(huge, opts.hugeBytes);
      } else {
        log(`(c) writing ${opts.hugeBytes / GiB} GiB of random data (a real file, not sparse)`);
        await writeRandomFile(huge, opts.hugeBytes);
      }
      for (const target of TARGETS) {
        const s = await c.run('beamdrop', target, { phase: 'c', source: huge, files: 1, bytes: opts.hugeBytes }, 1);
        samples.push(s);
        log(describe(s));
      }
      rmSync(huge);
    }
  } finally {
    await cleanup();
  }

  const summary = summarise(samples, hashes, { cores: availableParallelism(), hugeSparse });
  printReport(summary, opts);
  const resultsDir = join(REPO, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  // Runs with hand-picked options are named so, beside the full and quick ones.
  const custom =
    ['runs', 'big-mib', 'files', 'huge-gib'].some((k) => args[k as keyof typeof args] !== undefined) ||
    args.only !== 'a,b,c' ||
    args.tools !== 'beamdrop,curl,rclone';
  const kind = custom ? '-custom' : quick ? '-quick' : '';
  const file = join(resultsDir, `bench-${started.toISOString().replace(/[:.]/g, '-')}${kind}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        options: { ...opts, phases: [...opts.phases] },
        machine: {
          cores: availableParallelism(),
          cpu: cpus()[0]?.model ?? '?',
          memoryGiB: +(totalmem() / GiB).toFixed(1),
          node: process.version,
          shaExtensions: /\bsha_ni\b/.test(readProcCpuinfo()),
        },
        versions: {
          rclone: toolVersion('rclone'),
          curl: toolVersion('curl'),
          minio: readVersion(`${minioBin()}.version`),
          apache: execFileSync(apacheBin(), ['-v'], { encoding: 'utf8' }).split('\n')[0],
        },
        summary,
        samples,
        hashes,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults: ${file}`);
}

function readProcCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

function readVersion(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '?';
  }
}

await main();
