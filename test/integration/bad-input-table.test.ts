// Bad input, catalogued: one `it` per row of the README's "Bad input" table, each on the built CLI
// as a child process (`npx tsc -p tsconfig.node.json` first). Every row checks three things:
// 1. what Beamdrop says names the thing (file, dataset, field) and what to do, with no stack trace;
// 2. the exit code (src/main/cli/exit-codes.ts), and the error code with --json;
// 3. nothing already collected is lost: the dataset uploaded before the rows (the baseline) stays
//    done in the journal and its stored files re-hash the same; a refused start leaves no job;
//    a row that stores files stores the good ones, read back and re-hashed.
// The catalogue rows run their own servers in this process (the SciCat contract server, an HTTP
// server that answers HTML or garbage, a TCP server that takes a STOMP CONNECT and drops it).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode, ErrorInfo } from '../../src/shared/errors.js';
import { EXIT } from '../../src/main/cli/exit-codes.js';
import { journalFiles, journalJobs, journalRegistrations } from '../support/journey-catalogues.js';
import { startScicatContractServer, type ScicatContractServer, type ScicatUser } from '../support/scicat-contract-server.js';

const CLI = resolve('bin/beamdrop.js');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

type Event = Record<string, unknown> & { type: string };
interface Run {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  events: Event[];
  error: ErrorInfo | undefined;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function lines(stdout: string): Event[] {
  const out: Event[] = [];
  for (const l of stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Event);
    } catch {
      // a line of the human display
    }
  }
  return out;
}

interface RunOptions {
  home: string;
  env?: Record<string, string | undefined>;
  /** Run as the unprivileged user "nobody" (we run as root, for whom every file is readable). */
  asNobody?: boolean;
  /** Called with each event as it is printed (--json), e.g. to change a file mid-run. */
  onEvent?: (e: Event) => void;
  timeoutMs?: number;
}

/** Runs `beamdrop ARGS` to its end; async, so servers in this process keep answering. */
function beamdrop(args: string[], o: RunOptions): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: o.home };
  delete env.BEAMDROP_PROFILE;
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const cmd =
    o.asNobody && isRoot
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI]
      : [process.execPath, CLI];
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    const all = (rest + s).split('\n');
    rest = all.pop() ?? '';
    if (o.onEvent) for (const e of lines(all.join('\n'))) o.onEvent(e);
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 45_000);
  return new Promise((res) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      const events = lines(stdout);
      const error = events.find((e) => e.type === 'error')?.error as ErrorInfo | undefined;
      res({ args, code, stdout, stderr, events, error });
    }),
  );
}

const told = (r: Run) =>
  `beamdrop ${r.args.join(' ')} → exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr}`;

interface Said {
  exit: number;
  /** The error code of the JSON error line (commands run with --json). */
  code?: ErrorCode;
  /** What the operator reads (the error's message, or stderr without --json). */
  message: RegExp;
  field?: string;
  file?: string;
  dataset?: string;
}

/** The exit code, the message and its fields, and never a stack trace or "unexpected error". */
function expectSaid(r: Run, want: Said): void {
  expect(r.code, told(r)).toBe(want.exit);
  expect(r.stderr, 'no bug report for bad input').not.toMatch(/unexpected error|\n\s+at .+:\d+:\d+/);
  if (want.code !== undefined) {
    expect(r.error, told(r)).toMatchObject({
      code: want.code,
      ...(want.field === undefined ? {} : { field: want.field }),
      ...(want.file === undefined ? {} : { file: want.file }),
      ...(want.dataset === undefined ? {} : { dataset: want.dataset }),
    });
  }
  expect(r.error?.message ?? r.stderr, told(r)).toMatch(want.message);
}

function tree(base: string, files: Record<string, string | Buffer>): { dir: string; hashes: Map<string, string> } {
  const dir = mkdtempSync(join(base, 'src-'));
  chmodSync(dir, 0o755);
  const hashes = new Map<string, string>();
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, ...rel.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    hashes.set(rel, sha(content));
  }
  return { dir, hashes };
}

/** The files stored in the local archive of `home` for a dataset, re-hashed from disk. */
function archived(home: string, prefix: string): Map<string, string> {
  const root = join(home, 'archive', ...prefix.split('/'));
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(join(dir, d.name), r);
      else out.set(r, sha(readFileSync(join(dir, d.name))));
    }
  };
  walk(root, '');
  return out;
}

const base = mkdtempSync(join(tmpdir(), 'bd-badtable-'));
chmodSync(base, 0o755);
/** The shared home of the rows: the baseline dataset lives here. */
const home = join(base, 'home');
const run = (args: string[], o: Partial<RunOptions> = {}) => beamdrop(args, { home, ...o });

const baseline = { jobId: 0, prefix: 'P0/baseline', hashes: new Map<string, string>() };
let jobsBefore = 0;

function expectBaselineKept(): void {
  const job = journalJobs(home).find((j) => j.id === baseline.jobId);
  expect(job, 'the baseline job is still in the journal').toMatchObject({ state: 'done', dataset: 'baseline' });
  expect(journalFiles(home, baseline.jobId).map((f) => [f.relpath, f.state])).toEqual(
    [...baseline.hashes.keys()].sort().map((r) => [r, 'verified']),
  );
  const stored = archived(home, baseline.prefix);
  for (const [rel, h] of baseline.hashes) expect(stored.get(rel), `${baseline.prefix}/${rel} re-hashed`).toBe(h);
}

/** A refused start: no job was created or changed. */
function expectNoNewJob(): void {
  expect(journalJobs(home).length, 'a refused start leaves no job').toBe(jobsBefore);
}

beforeAll(async () => {
  expect(existsSync('dist/main/cli/index.js'), 'run `npx tsc -p tsconfig.node.json` first (npm test builds)').toBe(true);
  const src = tree(base, { 'a.cbf': 'first frame', 'sub/b.cbf': 'second frame' });
  const r = await run(['upload', src.dir, '--dataset', 'baseline', '--proposal', 'P0', '--json']);
  expect(r.code, told(r)).toBe(0);
  baseline.jobId = Number(r.events.find((e) => e.type === 'job-started')?.jobId);
  baseline.hashes = src.hashes;
  expectBaselineKept();
});

afterEach((ctx) => {
  // Every row, whatever it did, leaves the baseline as it was.
  if (ctx.task.result?.state !== 'fail') expectBaselineKept();
  jobsBefore = journalJobs(home).length;
});

beforeAll(() => {
  jobsBefore = journalJobs(home).length;
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

/** A start refused before any job exists; `args` get the source folder of two good files. */
interface RefusedRow {
  name: string;
  args: (src: string) => string[];
  said: Said;
  env?: Record<string, string | undefined>;
  /** Human output only (no --json for this one: e.g. an unknown command). */
  noJson?: boolean;
}

function profileFile(name: string, text: string): string {
  const p = join(base, name);
  writeFileSync(p, text);
  return p;
}

const good = () => tree(base, { 'x.cbf': 'x', 'y.cbf': 'y' }).dir;
const upload = (src: string, ...more: string[]) => ['upload', src, '--dataset', 'row', '--proposal', 'P1', ...more];

// Refused before anything is done and independent of each other: run a few at a time.
describe.concurrent('bad input, catalogued: CLI flags', () => {
  const rows: RefusedRow[] = [
    {
      name: 'upload without --dataset',
      args: (src) => ['upload', src],
      said: { exit: EXIT.usage, code: 'usage', message: /required option '--dataset <name>' not specified/ },
    },
    {
      name: 'an unknown flag',
      args: (src) => upload(src, '--bogus'),
      said: { exit: EXIT.usage, code: 'usage', message: /unknown option '--bogus'/ },
    },
    {
      name: 'a misspelt command',
      args: () => ['uplaod', '/tmp'],
      noJson: true,
      said: { exit: EXIT.usage, message: /unknown command 'uplaod'[\s\S]*upload/ },
    },
    {
      name: '--concurrency 0',
      args: (src) => upload(src, '--concurrency', '0'),
      said: {
        exit: EXIT.usage,
        code: 'usage',
        field: '--concurrency',
        message: /--concurrency 0: write a whole number of at least 1/,
      },
    },
    {
      name: '--bwlimit with a time that is not HH:MM',
      args: (src) => upload(src, '--bwlimit', 'Mon-8,1M'),
      said: { exit: EXIT.usage, code: 'usage', field: '--bwlimit', message: /--bwlimit: .*HH:MM/ },
    },
    {
      name: '--destination not in the profile',
      args: (src) => upload(src, '--destination', 'tape'),
      said: {
        exit: EXIT.usage,
        code: 'destination-unknown',
        message: /no destination named "tape" in the profile; use one of: local-archive/,
      },
    },
    {
      name: '--to with a scheme Beamdrop does not know',
      args: (src) => upload(src, '--to', 'ftp://archive.example/data'),
      said: {
        exit: EXIT.usage,
        code: 'destination-invalid',
        field: 'to',
        message: /ftp:\/\/archive\.example\/data.*(s3\+http|webdav\+http)/,
      },
    },
    {
      name: '--to naming a file',
      args: (src) => upload(src, '--to', join(base, 'a-file.txt')),
      said: {
        exit: EXIT.usage,
        code: 'destination-invalid',
        field: 'to',
        message: /a-file\.txt is a file, not a folder/,
      },
    },
    {
      name: '--dataset with a slash',
      args: (src) => ['upload', src, '--dataset', 'a/b', '--json'],
      said: { exit: EXIT.usage, code: 'dataset-name-invalid', field: 'dataset', message: /"a\/b" contains "\/".*--dataset/ },
    },
    {
      name: '--proposal ..',
      args: (src) => upload(src, '--proposal', '..'),
      said: { exit: EXIT.usage, code: 'dataset-name-invalid', field: 'proposal', message: /proposal id "\.\." is not a name/ },
    },
    {
      name: '--dataset with a control character',
      args: (src) => ['upload', src, '--dataset', 'run\t7'],
      said: {
        exit: EXIT.usage,
        code: 'dataset-name-invalid',
        field: 'dataset',
        message: /"run\\u00097" contains a control character/,
      },
    },
  ];
  writeFileSync(join(base, 'a-file.txt'), 'not a folder');

  for (const row of rows)
    it(row.name, async () => {
      const src = good();
      const args = row.args(src);
      const r = await run(row.noJson || args.includes('--json') ? args : [...args, '--json'], { env: row.env ?? {} });
      expectSaid(r, row.said);
      expectNoNewJob();
    });

  it('status of a job that does not exist', async () => {
    const r = await run(['status', '99', '--json']);
    expectSaid(r, { exit: EXIT.usage, code: 'job-not-found', message: /there is no job 99/ });
  });

  it('status of a job that is not a number', async () => {
    const r = await run(['status', 'abc', '--json']);
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'usage',
      field: 'job',
      message: /"abc" is not a job number; `beamdrop status` lists the jobs/,
    });
  });

  it('resume with a job that is not a number', async () => {
    const r = await run(['resume', 'last', '--json']);
    expectSaid(r, { exit: EXIT.usage, code: 'usage', message: /"last" is not a job number.*beamdrop status/ });
    expectNoNewJob();
  });

  it('forget a job that stored files', async () => {
    const r = await run(['forget', String(baseline.jobId), '--yes', '--json']);
    expectSaid(r, { exit: EXIT.usage, code: 'job-state', message: /stored/ });
  });

  it('cancel a job that is done', async () => {
    const r = await run(['cancel', String(baseline.jobId), '--yes', '--json']);
    expectSaid(r, { exit: EXIT.usage, code: 'job-state', message: new RegExp(`job ${baseline.jobId}.*done`) });
  });
});

// Refused before anything is done and independent of each other: run a few at a time.
describe.concurrent('bad input, catalogued: the facility profile', () => {
  const profileRow = (name: string, file: () => string, said: Said, viaEnv = false) =>
    it(name, async () => {
      const p = file();
      const r = viaEnv
        ? await run(upload(good(), '--json'), { env: { BEAMDROP_PROFILE: p } })
        : await run(upload(good(), '--profile', p, '--json'));
      expectSaid(r, said);
      expectNoNewJob();
    });

  profileRow('--profile that does not exist', () => join(base, 'missing.yaml'), {
    exit: EXIT.usage,
    code: 'profile-not-found',
    message: /cannot read the facility profile .*missing\.yaml.*check the path given with --profile or BEAMDROP_PROFILE/,
  });
  profileRow(
    'BEAMDROP_PROFILE that does not exist',
    () => join(base, 'gone.yaml'),
    { exit: EXIT.usage, code: 'profile-not-found', message: /gone\.yaml.*BEAMDROP_PROFILE/ },
    true,
  );
  profileRow(
    '--profile naming a folder',
    () => {
      mkdirSync(join(base, 'profiles'), { recursive: true });
      return join(base, 'profiles');
    },
    {
      exit: EXIT.usage,
      code: 'profile-not-found',
      message: /profiles is a folder, not a file; give the facility profile's YAML file/,
    },
  );
  profileRow('a YAML syntax error', () => profileFile('syntax.yaml', 'destinations:\n  nas: { kind: filesystem, root: /x\n'), {
    exit: EXIT.usage,
    code: 'profile-invalid',
    message: /syntax\.yaml has 1 problem\(s\):\n {2}\(file\) \(line \d\): YAML syntax/,
  });
  profileRow('a misspelt field', () => profileFile('typo.yaml', 'destinatons:\n  nas: { kind: filesystem, root: /x }\n'), {
    exit: EXIT.usage,
    code: 'profile-invalid',
    field: '',
    message: /unknown field\(s\) "?destinatons"?: remove them or check their spelling/,
  });
  profileRow(
    'an S3 endpoint that is not a URL',
    () => profileFile('endpoint.yaml', 'destinations:\n  a:\n    kind: s3\n    bucket: raw\n    endpoint: nope\n'),
    {
      exit: EXIT.usage,
      code: 'profile-invalid',
      field: 'destinations.a.endpoint',
      message: /destinations\.a\.endpoint \(line 5\): write the S3 endpoint URL/,
    },
  );
  profileRow(
    'a secret written in the profile',
    () =>
      profileFile(
        'secret.yaml',
        'destinations:\n  a:\n    kind: s3\n    bucket: raw\n    endpoint: http://127.0.0.1:9\n    credentials: { accessKeyId: AK, secretAccessKey: shh }\n',
      ),
    { exit: EXIT.usage, code: 'profile-invalid', message: /destinations\.a\.credentials.*(keychain|beamdrop credentials set)/ },
  );
  profileRow(
    'a key template that does not end in {relpath}',
    () =>
      profileFile(
        'template.yaml',
        'destinations:\n  nas:\n    kind: filesystem\n    root: /x\n    keyTemplate: "{proposal}/{dataset}"\n',
      ),
    { exit: EXIT.usage, code: 'profile-invalid', field: 'destinations.nas.keyTemplate', message: /\{relpath\}/ },
  );
  profileRow(
    'defaultDestination naming no destination',
    () => profileFile('default.yaml', 'destinations:\n  nas: { kind: filesystem, root: /x }\ndefaultDestination: tape\n'),
    { exit: EXIT.usage, message: /tape.*nas/ },
  );
});

// Refused before anything is done and independent of each other: run a few at a time.
describe.concurrent('bad input, catalogued: -p metadata', () => {
  const techniques = profileFile(
    'techniques.yaml',
    [
      'destinations:',
      `  nas: { kind: filesystem, root: ${JSON.stringify(join(base, 'techniques-storage'))} }`,
      'techniques:',
      '  SAXS-bio:',
      '    extends: SAXS',
      '    fields:',
      '      - { name: pH, type: number, min: 0, max: 14 }',
      '      - { name: cell, type: string, allowed: [quartz, kapton] }',
      '',
    ].join('\n'),
  );
  const metaRow = (name: string, params: string[], said: Said) =>
    it(name, async () => {
      const args = upload(good(), '--profile', techniques, ...params.flatMap((p) => ['-p', p]), '--json');
      expectSaid(await run(args), said);
      expectNoNewJob();
    });
  metaRow('-p without "="', ['novalue'], {
    exit: EXIT.usage,
    code: 'usage',
    field: '-p',
    message: /-p novalue: write metadata as KEY=VALUE/,
  });
  metaRow('-p with an empty key', ['=lysozyme'], {
    exit: EXIT.usage,
    code: 'usage',
    field: '-p',
    message: /-p =lysozyme: write metadata as KEY=VALUE/,
  });
  metaRow('-p technique= unknown', ['technique=NOPE'], {
    exit: EXIT.usage,
    code: 'metadata-invalid',
    message: /technique "NOPE" has no template; use one of: .*MX.*SAXS.*SAXS-bio/,
  });
  metaRow('a required field missing', ['technique=SAXS'], {
    exit: EXIT.usage,
    code: 'metadata-invalid',
    message: /sample is required for SAXS; add -p sample=/,
  });
  metaRow('a number that is not a number', ['technique=SAXS', 'sample=lyso', 'energy=twelve'], {
    exit: EXIT.usage,
    code: 'metadata-invalid',
    message: /energy: .*twelve.*number/,
  });
  metaRow('a number out of range', ['technique=SAXS-bio', 'sample=lyso', 'pH=15'], {
    exit: EXIT.usage,
    code: 'metadata-invalid',
    message: /pH: .*15.*(at most|≤|max).*14/,
  });
  metaRow('a value not among those allowed', ['technique=SAXS-bio', 'sample=lyso', 'cell=glass'], {
    exit: EXIT.usage,
    code: 'metadata-invalid',
    message: /cell: .*glass.*quartz.*kapton/,
  });
});

/** The job-finished summary of a run with --json. */
function summaryOf(r: Run): {
  job: { id: number; state: string };
  counts: Record<string, number>;
  failures: { relpath: string; error: ErrorInfo }[];
} {
  const e = r.events.filter((x) => x.type === 'job-finished').at(-1);
  expect(e, told(r)).toBeDefined();
  return e!.summary as ReturnType<typeof summaryOf>;
}

/** The last registration status the upload printed (after the job, for a facility catalogue). */
function registrationOf(r: Run): { state: string; lastError: ErrorInfo | null } | undefined {
  return r.events.filter((x) => x.type === 'registration').at(-1)?.status as
    { state: string; lastError: ErrorInfo | null } | undefined;
}

/** The notes of the scan (symlinks, loops, special files, unreadable folders). */
const notesOf = (r: Run) =>
  r.events.flatMap((e) => (e.type === 'scan-done' ? (e.notes as { kind: string; path: string; detail: string }[]) : []));

/** The good files of `src` are in the archive under `prefix`, byte for byte. */
function expectStored(h: string, prefix: string, src: { hashes: Map<string, string> }, names: string[]): void {
  const stored = archived(h, prefix);
  expect([...stored.keys()].sort(), `files stored under ${prefix}`).toEqual([...names].sort());
  for (const n of names) expect(stored.get(n), `${prefix}/${n} re-hashed`).toBe(src.hashes.get(n));
}

/** A home of its own that "nobody" may write (the journal, the archive). */
function nobodyHome(name: string): string {
  const h = join(base, name);
  mkdirSync(h);
  if (isRoot) chownSync(h, NOBODY, NOBODY);
  return h;
}

describe('bad input, catalogued: file names', () => {
  it('a file name with a control character', async () => {
    const src = tree(base, { 'bad\nname.dat': 'line break in the name', 'ok.dat': 'fine' });
    const r = await run(['upload', src.dir, '--dataset', 'ctrl', '--proposal', 'P2', '--json']);
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    const s = summaryOf(r);
    expect(s.counts).toEqual({ verified: 1, failed: 1 });
    expect(s.failures).toEqual([
      {
        relpath: 'bad\nname.dat',
        error: expect.objectContaining({
          code: 'invalid-key',
          message: expect.stringMatching(
            /"bad\\u000aname\.dat" cannot be stored: the name contains a control character .*rename the file/,
          ),
        }),
      },
    ]);
    expectStored(home, 'P2/ctrl', src, ['ok.dat']);
  });

  it('a file name as long as the disk allows (255 bytes)', async () => {
    const long = `${'L'.repeat(251)}.dat`;
    const src = tree(base, { [long]: 'long name', 'ok.dat': 'fine' });
    const r = await run(['upload', src.dir, '--dataset', 'long', '--proposal', 'P2', '--json']);
    expect(r.code, told(r)).toBe(EXIT.ok);
    expect(summaryOf(r).counts).toEqual({ verified: 2 });
    expectStored(home, 'P2/long', src, [long, 'ok.dat']);
  });

  it('two names that differ only by Unicode normalisation', async () => {
    const nfc = 'caf\u00e9.dat';
    const nfd = 'cafe\u0301.dat';
    const src = tree(base, { [nfc]: 'composed', [nfd]: 'decomposed', 'ok.dat': 'fine' });
    const r = await run(['upload', src.dir, '--dataset', 'nfc', '--proposal', 'P2', '--json']);
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    const s = summaryOf(r);
    expect(s.counts).toEqual({ verified: 2, failed: 1 });
    // Names are sorted by UTF-16 units, so the decomposed one ("e" + U+0301) is taken first and
    // keeps the key; the composed one is refused, saying why, instead of a "conflict".
    expect(s.failures).toEqual([
      {
        relpath: nfc,
        error: expect.objectContaining({
          code: 'invalid-key',
          message: expect.stringMatching(
            /"café\.dat" \(composed, NFC\) and "cafe\u0301\.dat" \(decomposed, NFD\) differ only by Unicode normalisation and would both be stored as "café\.dat"; rename one of them/,
          ),
        }),
      },
    ]);
    const stored = archived(home, 'P2/nfc');
    expect([...stored.keys()].sort()).toEqual([nfc, 'ok.dat']);
    expect(stored.get(nfc), 'the first of the two, under the NFC key').toBe(src.hashes.get(nfd));
  });
});

describe('bad input, catalogued: paths', () => {
  it('a PATH that does not exist', async () => {
    const missing = join(base, 'no-such-folder');
    const r = await run(upload(missing, '--json'));
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'source-invalid',
      file: missing,
      message: /no-such-folder: no such file or folder; check the path/,
    });
    expectNoNewJob();
  });

  it('a PATH that is a symlink loop', async () => {
    const loop = join(base, 'loop-a');
    symlinkSync(join(base, 'loop-b'), loop);
    symlinkSync(loop, join(base, 'loop-b'));
    const r = await run(upload(loop, '--json'));
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'source-invalid',
      file: loop,
      message: /loop-a: .*symbolic link.*loop.*fix or remove the link/,
    });
    expectNoNewJob();
  });

  it('a PATH that is a named pipe', async () => {
    const fifo = join(base, 'detector.pipe');
    spawnSyncOk('mkfifo', [fifo]);
    const r = await run(upload(fifo, '--json'));
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'source-invalid',
      file: fifo,
      message: /detector\.pipe: is neither a file nor a folder/,
    });
    expectNoNewJob();
  });

  it('a named pipe inside the folder', async () => {
    const src = tree(base, { 'ok.dat': 'fine' });
    spawnSyncOk('mkfifo', [join(src.dir, 'stream.pipe')]);
    const r = await run(['upload', src.dir, '--dataset', 'fifo', '--proposal', 'P3', '--json']);
    expect(r.code, told(r)).toBe(EXIT.ok);
    expect(summaryOf(r).counts).toEqual({ verified: 1 });
    expect(notesOf(r)).toEqual([
      expect.objectContaining({
        kind: 'excluded-special',
        detail: expect.stringMatching(/FIFO.*only regular files are uploaded/),
      }),
    ]);
    expectStored(home, 'P3/fifo', src, ['ok.dat']);
  });

  it('a symlink loop inside the folder, with --follow-symlinks', async () => {
    const src = tree(base, { 'deep/ok.dat': 'fine', 'top.dat': 'top' });
    symlinkSync(src.dir, join(src.dir, 'deep', 'back-to-top'));
    symlinkSync(join(src.dir, 'self'), join(src.dir, 'self'));
    const r = await run(['upload', src.dir, '--dataset', 'loops', '--proposal', 'P3', '--follow-symlinks', '--json']);
    expect(r.code, told(r)).toBe(EXIT.ok);
    expect(summaryOf(r).counts).toEqual({ verified: 2 });
    expect(
      notesOf(r)
        .map((n) => [n.kind, n.path.slice(src.dir.length + 1)])
        .sort(),
    ).toEqual([
      ['loop', 'deep/back-to-top'],
      ['loop', 'self'],
    ]);
    expectStored(home, 'P3/loops', src, ['deep/ok.dat', 'top.dat']);
  });

  it('an unreadable file', async () => {
    const h = nobodyHome('home-unreadable-file');
    const src = tree(base, { 'ok.dat': 'fine', 'secret.raw': 'nobody may read this' });
    chmodSync(join(src.dir, 'secret.raw'), 0o000);
    const r = await beamdrop(['upload', src.dir, '--dataset', 'unr', '--proposal', 'P3', '--json'], { home: h, asNobody: true });
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    const s = summaryOf(r);
    expect(s.counts).toEqual({ verified: 1, failed: 1 });
    expect(s.failures).toEqual([
      {
        relpath: 'secret.raw',
        error: expect.objectContaining({
          code: 'unreadable',
          message: expect.stringMatching(/no permission to read .*secret\.raw.*chmod/),
        }),
      },
    ]);
    expectStored(h, 'P3/unr', src, ['ok.dat']);
  });

  it('an unreadable folder inside the folder', async () => {
    const h = nobodyHome('home-unreadable-dir');
    const src = tree(base, { 'ok.dat': 'fine', 'locked/inside.dat': 'cannot be listed' });
    chmodSync(join(src.dir, 'locked'), 0o000);
    const r = await beamdrop(['upload', src.dir, '--dataset', 'unrdir', '--proposal', 'P3', '--json'], {
      home: h,
      asNobody: true,
    });
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    expect(notesOf(r)).toEqual([
      expect.objectContaining({
        kind: 'unreadable',
        path: join(src.dir, 'locked'),
        detail: expect.stringMatching(/permission denied.*read access.*or exclude it/),
      }),
    ]);
    expectStored(h, 'P3/unrdir', src, ['ok.dat']);
  });

  /** A slow first file (with one file at a time) leaves time to change the second after the scan. */
  async function changedAfterScan(
    dataset: string,
    change: (path: string) => void,
  ): Promise<{ r: Run; src: ReturnType<typeof tree> }> {
    const src = tree(base, { 'a-first.raw': Buffer.alloc(768 * 1024, 1), 'b-second.dat': 'second' });
    let changed = false;
    const r = await run(
      ['upload', src.dir, '--dataset', dataset, '--proposal', 'P3', '--concurrency', '1', '--bwlimit', '512k', '--json'],
      {
        onEvent: (e) => {
          if (!changed && e.type === 'file-state' && e.relpath === 'a-first.raw' && e.state === 'transferring') {
            changed = true;
            change(join(src.dir, 'b-second.dat'));
          }
        },
      },
    );
    expect(changed, told(r)).toBe(true);
    return { r, src };
  }

  it('a file deleted after the scan', async () => {
    const { r, src } = await changedAfterScan('vanish', (p) => unlinkSync(p));
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    expect(summaryOf(r).failures).toEqual([
      {
        relpath: 'b-second.dat',
        error: expect.objectContaining({
          code: 'vanished',
          message: expect.stringMatching(/b-second\.dat was deleted or moved/),
        }),
      },
    ]);
    expectStored(home, 'P3/vanish', src, ['a-first.raw']);
  });

  it('a file that turns into a folder after the scan', async () => {
    const { r, src } = await changedAfterScan('to-folder', (p) => {
      unlinkSync(p);
      mkdirSync(p);
    });
    expect(r.code, told(r)).toBe(EXIT.filesFailed);
    expect(summaryOf(r).failures).toEqual([
      {
        relpath: 'b-second.dat',
        error: expect.objectContaining({
          code: 'unreadable',
          message: expect.stringMatching(/b-second\.dat is a folder, not a file/),
        }),
      },
    ]);
    expectStored(home, 'P3/to-folder', src, ['a-first.raw']);
  });

  it('a destination folder it may not write to', async () => {
    const h = nobodyHome('home-readonly-dest');
    const dest = join(base, 'root-only');
    mkdirSync(dest, { mode: 0o755 });
    const src = tree(base, { 'ok.dat': 'fine' });
    const r = await beamdrop(['upload', src.dir, '--dataset', 'ro', '--proposal', 'P3', '--to', dest, '--json'], {
      home: h,
      asNobody: true,
    });
    expectSaid(r, {
      exit: EXIT.paused,
      code: 'destination-unreachable',
      message:
        /destination ".*root-only": the folder .*root-only is missing or not writable \(EACCES.*check that the share is mounted and writable/,
    });
    expect(readdirSync(dest)).toEqual([]);
    expect(journalJobs(h), 'refused before a job exists').toEqual([]);
  });
});

function spawnSyncOk(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

describe('bad input, catalogued: fetch', () => {
  /** Uploads a dataset of these files into the shared home (as a user would, with the CLI). */
  async function stored(dataset: string, files: Record<string, string>): Promise<void> {
    const src = tree(base, files);
    const r = await run(['upload', src.dir, '--dataset', dataset, '--proposal', 'P4', '--json']);
    expect(r.code, told(r)).toBe(0);
  }
  const emptyFolder = () => mkdtempSync(join(base, 'fetched-'));

  it('fetch for Windows of names that differ only by case', async () => {
    await stored('cases', { 'Run1/a.h5': 'upper', 'run1/A.h5': 'lower', 'ok.dat': 'fine' });
    const dest = emptyFolder();
    const r = await run(['fetch', 'cases', dest, '--windows', '--json']);
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'invalid-key',
      message: /Run1\/a\.h5 and run1\/A\.h5 differ only by upper\/lower case .*fetch them one at a time into different folders/,
    });
    expect(readdirSync(dest), 'nothing written').toEqual([]);
  });

  it('fetch for Windows of a reserved device name', async () => {
    await stored('devices', { 'logs/CON.txt': 'console', 'ok.dat': 'fine' });
    const dest = emptyFolder();
    const r = await run(['fetch', 'devices', dest, '--windows', '--json']);
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'invalid-key',
      file: 'logs/CON.txt',
      message: /reserved device name CON on Windows/,
    });
    expect(readdirSync(dest), 'nothing written').toEqual([]);
  });

  it('fetch into a path that is a file', async () => {
    const file = join(base, 'fetch-target.txt');
    writeFileSync(file, 'keep me');
    const r = await run(['fetch', 'baseline', file, '--json']);
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'destination-invalid',
      message: /fetch-target\.txt is a file, not a folder; give a folder to fetch into/,
    });
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('fetch over a local file with other content', async () => {
    const dest = emptyFolder();
    writeFileSync(join(dest, 'a.cbf'), 'my own edits');
    const r = await run(['fetch', 'baseline', dest, '--json']);
    expectSaid(r, {
      exit: EXIT.filesFailed,
      code: 'conflict',
      file: 'a.cbf',
      message: /a\.cbf already exists with different content; it was left untouched/,
    });
    expect(readFileSync(join(dest, 'a.cbf'), 'utf8'), 'the local file is untouched').toBe('my own edits');
  });

  it('fetch of a dataset that does not exist', async () => {
    const r = await run(['fetch', 'nosuch', emptyFolder(), '--json']);
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'dataset-not-found',
      message: /"nosuch" is neither a dataset.*`beamdrop find` lists datasets/,
    });
  });
});

const SCICAT_USER_H5: ScicatUser = {
  username: 'ingestor',
  password: 'pw-bad-input',
  email: 'ingestor@facility.example',
  groups: ['p-p5'],
};

/** A profile with a local folder as destination and this catalogue. */
function catalogueProfile(name: string, catalogue: Record<string, unknown>): { profile: string; root: string } {
  const root = join(base, `${name}-storage`);
  mkdirSync(root, { recursive: true });
  const yaml = [
    'destinations:',
    `  nas: { kind: filesystem, root: ${JSON.stringify(root)} }`,
    'defaultDestination: nas',
    'beamline: BL1',
    `catalogue: ${JSON.stringify(catalogue)}`,
    '',
  ].join('\n');
  return { profile: profileFile(`${name}.yaml`, yaml), root };
}

/** An HTTP server that answers every request with this status, type and body. */
async function answering(status: number, type: string, body: string): Promise<{ url: string; server: HttpServer }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'Content-Type': type }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('bad input, catalogued: catalogues', () => {
  let scicat: ScicatContractServer;
  const servers: (HttpServer | TcpServer)[] = [];
  beforeAll(async () => {
    scicat = await startScicatContractServer({ users: [SCICAT_USER_H5] });
    const now = new Date().toISOString();
    scicat.proposals.set('P5', {
      proposalId: 'P5',
      title: 'Proposal P5',
      ownerGroup: 'p-p5',
      email: 'pi@university.example',
      accessGroups: [],
      isPublished: false,
      createdAt: now,
      updatedAt: now,
    });
  });
  afterAll(async () => {
    await scicat.close();
    for (const s of servers) s.close();
  });
  const withProfile = (profile: string, extra: Record<string, string> = {}) => ({
    env: { BEAMDROP_PROFILE: profile, BEAMDROP_CATALOGUE_PASSWORD: SCICAT_USER_H5.password, ...extra },
  });

  it('an upload to SciCat with nobody signed in', async () => {
    const { profile } = catalogueProfile('scicat-nobody', { kind: 'scicat', url: `${scicat.url}/nobody`, apiVersion: 'v3' });
    const r = await run(upload(good(), '--json'), withProfile(profile));
    expectSaid(r, {
      exit: EXIT.usage,
      code: 'credentials-missing',
      field: 'catalogue',
      message: /nobody is signed in to the catalogue .* run `beamdrop login` first/,
    });
    expectNoNewJob();
  });

  it('an upload to SciCat after the session expired', async () => {
    const short = await startScicatContractServer({ users: [SCICAT_USER_H5], tokenTtlSeconds: 1 });
    try {
      const { profile } = catalogueProfile('scicat-expired', { kind: 'scicat', url: short.url, apiVersion: 'v3' });
      const login = await run(['login', '--username', SCICAT_USER_H5.username], withProfile(profile));
      expect(login.code, told(login)).toBe(0);
      const signedInAt = Date.now();
      // The token's lifetime (1 s) is what this row is about: wait until it has passed.
      while (Date.now() < signedInAt + 1_200) await new Promise((r) => setTimeout(r, 100));
      const r = await run(upload(good(), '--json'), withProfile(profile));
      expectSaid(r, {
        exit: EXIT.usage,
        code: 'credentials-missing',
        message: /the sign-in to the catalogue .* has expired: run `beamdrop login` first/,
      });
      expectNoNewJob();
    } finally {
      await short.close();
    }
  });

  it('a SciCat session revoked while the upload runs', async () => {
    const { profile, root } = catalogueProfile('scicat-revoked', {
      kind: 'scicat',
      url: scicat.url,
      apiVersion: 'v3',
      ownerGroup: 'p-p5',
    });
    const login = await run(['login', '--username', SCICAT_USER_H5.username], withProfile(profile));
    expect(login.code, told(login)).toBe(0);
    let revoked = false;
    const src = tree(base, { 'f1.dat': 'one', 'f2.dat': 'two' });
    const r = await run(['upload', src.dir, '--dataset', 'revoked', '--proposal', 'P5', '--json'], {
      ...withProfile(profile),
      onEvent: (e) => {
        if (!revoked && e.type === 'job-started') {
          revoked = true;
          scicat.expireTokens();
        }
      },
    });
    // The files are stored; the registration waits for a new sign-in, and the exit code says so.
    expect(summaryOf(r).counts, 'every file stored and verified').toEqual({ verified: 2 });
    expect(registrationOf(r), told(r)).toMatchObject({
      state: 'waiting-login',
      lastError: {
        message: expect.stringMatching(/no longer accepts the sign-in .* run `beamdrop login` again — registration waits/),
      },
    });
    expect(readFileSync(join(root, 'P5', 'revoked', 'f1.dat'), 'utf8')).toBe('one');
    // Signing in again sends what waited: the dataset and both files reach SciCat.
    expect((await run(['login', '--username', SCICAT_USER_H5.username], withProfile(profile))).code).toBe(0);
    const push = await run(['catalogue', 'push'], withProfile(profile));
    expect(push.code, told(push)).toBe(0);
    const ds = [...scicat.datasets.values()].filter((d) => d.datasetName === 'revoked');
    expect(ds).toHaveLength(1);
    expect(
      scicat.origDatablocks
        .flatMap((b) => (b.datasetId === ds[0]!.pid ? (b.dataFileList as { path: string }[]) : []))
        .map((f) => f.path)
        .sort(),
    ).toEqual(['f1.dat', 'f2.dat']);
    expect(journalRegistrations(home, 'revoked').map((x) => x.state)).toEqual(['registered']);
    // Last, as it waits for a change in upload-command.ts: a registration waiting for sign-in exits 3.
    expect(r.code, `${told(r)}\nexit 3: the registration waits for sign-in`).toBe(EXIT.paused);
  });

  it('a catalogue that answers with an HTML page', async () => {
    const html = await answering(
      200,
      'text/html; charset=utf-8',
      '<!DOCTYPE html><html><body><h1>Facility sign-in portal</h1></body></html>',
    );
    servers.push(html.server);
    const { profile } = catalogueProfile('scicat-html', { kind: 'scicat', url: html.url, apiVersion: 'v3' });
    const r = await run(['login', '--username', 'ingestor'], withProfile(profile));
    expectSaid(r, {
      exit: EXIT.paused,
      message: /SciCat at http:\/\/127\.0\.0\.1:\d+ answered an HTML page .*Facility sign-in portal.* check catalogue\.url/,
    });
    const up = await run(upload(good(), '--json'), withProfile(profile));
    expectSaid(up, { exit: EXIT.usage, code: 'credentials-missing', message: /nobody is signed in/ });
  });

  it('a catalogue that answers JSON that is not SciCat', async () => {
    const garbage = await answering(200, 'application/json', '{"status":"ok","data":[1,2,3]}');
    servers.push(garbage.server);
    const { profile } = catalogueProfile('scicat-garbage', { kind: 'scicat', url: garbage.url, apiVersion: 'v3' });
    const r = await run(['login', '--username', 'ingestor'], withProfile(profile));
    expectSaid(r, {
      exit: EXIT.paused,
      message: /SciCat at http:\/\/127\.0\.0\.1:\d+ answered .*without an access token .*\{"status":"ok".* check catalogue\.url/,
    });
    const up = await run(upload(good(), '--json'), withProfile(profile));
    expectSaid(up, { exit: EXIT.usage, code: 'credentials-missing', message: /nobody is signed in/ });
  });

  it('a catalogue that answers broken JSON', async () => {
    const broken = await answering(200, 'application/json', '{"access_token": "abc", "expires_in": ');
    servers.push(broken.server);
    const { profile } = catalogueProfile('scicat-broken', { kind: 'scicat', url: broken.url, apiVersion: 'v3' });
    const r = await run(['login', '--username', 'ingestor'], withProfile(profile));
    expectSaid(r, {
      exit: EXIT.paused,
      message: /SciCat at .* answered .*not valid JSON.* check catalogue\.url/,
    });
  });

  it('an ICAT+ broker that accepts the connection and drops it', async () => {
    const connects: string[] = [];
    const broker = createTcpServer((socket) => {
      let got = '';
      socket.on('data', (b) => {
        got += b.toString('latin1');
        // The CONNECT frame ends with NUL: take it, then hang up without a CONNECTED.
        if (got.includes('\0')) {
          connects.push(got.split('\n')[0]!);
          socket.destroy();
        }
      });
      socket.on('error', () => undefined);
    });
    servers.push(broker);
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    const port = (broker.address() as AddressInfo).port;
    const buffer = join(base, 'icat-plus-buffer');
    const { profile, root } = catalogueProfile('icat-plus-drop', {
      kind: 'icat-plus',
      url: `stomp://127.0.0.1:${port}`,
      queue: '/queue/icatIngest',
      username: 'bliss',
      bufferFolder: buffer,
    });
    const env = withProfile(profile);
    const login = await run(['login', '--username', 'bliss'], env);
    expect(login.code, told(login)).toBe(0);
    const src = tree(base, { 'f1.dat': 'one', 'f2.dat': 'two' });
    const r = await run(['upload', src.dir, '--dataset', 'dropped', '--proposal', 'P6', '-p', 'sample=S1', '--json'], env);
    // Handed to the buffer folder as ICAT+ clients do (pyicat-plus, BLISS): the upload ends
    // well, and `catalogue status` says what waits for the broker.
    expect(r.code, told(r)).toBe(EXIT.ok);
    expect(connects.length, 'the broker was asked').toBeGreaterThan(0);
    expect(connects[0]).toMatch(/^(CONNECT|STOMP)/);
    expect(summaryOf(r).counts, 'every file stored and verified').toEqual({ verified: 2 });
    expect(readFileSync(join(root, 'P6', 'dropped', 'f2.dat'), 'utf8')).toBe('two');
    const buffered = readdirSync(buffer).filter((n) => n.endsWith('.xml'));
    expect(buffered, 'the ICAT+ message waits in the buffer folder').toHaveLength(1);
    expect(readFileSync(join(buffer, buffered[0]!), 'utf8')).toMatch(/dropped/);
    const status = await run(['catalogue', 'status'], env);
    expect(status.code, told(status)).toBe(EXIT.paused);
    expect(status.stdout).toMatch(
      /1 ICAT\+ message\(s\) wait in the buffer folder, not confirmed by the broker: dropped .*run `beamdrop catalogue resend` once the broker answers/,
    );
    const resend = await run(['catalogue', 'resend'], env);
    expectSaid(resend, {
      exit: EXIT.paused,
      message:
        /cannot reach the ICAT\+ broker at stomp:\/\/127\.0\.0\.1:\d+ \(connection closed\); the message stays in the buffer folder/,
    });
    expect(
      readdirSync(buffer).filter((n) => n.endsWith('.xml')),
      'still kept after the failed resend',
    ).toEqual(buffered);
  });
});
