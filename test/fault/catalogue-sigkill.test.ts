// A real `beamdrop` process is killed with SIGKILL after the catalogue created something but before
// the answer reached the journal: once for the dataset, once for a block of files. A proxy in front
// of the SciCat contract server lets the request through and holds the answer back, then the test
// kills the process. The next run looks up before it creates (dataset by its idempotency key,
// files of the uncertain block with registeredFiles), so nothing is registered twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { startContractHttp, type ContractHttpServer, type ContractResponse } from '../support/contract-http.js';
import { startScicatContractServer, type Doc, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from './helpers.js';

const CLI = resolve('bin/beamdrop.js');
const USER = { username: 'ingestor', password: 'pw-sigkill', email: 'ingestor@facility.example', groups: ['p-77'] };

/** Forwards to the upstream; the request matching holdNext()'s pattern is forwarded, and its answer is never given. */
async function holdingProxy(upstream: string): Promise<{ http: ContractHttpServer; holdNext(pattern: RegExp): Promise<void> }> {
  let hold: { pattern: RegExp; held: () => void } | null = null;
  const http = await startContractHttp('holding proxy', async (req, url, body): Promise<ContractResponse> => {
    const r = await fetch(`${upstream}${req.url}`, {
      method: req.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(
          ([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k),
        ),
      ) as Record<string, string>,
      ...(body ? { body } : {}),
    });
    const text = await r.text();
    if (hold && hold.pattern.test(`${req.method} ${url.pathname}`)) {
      hold.held();
      hold = null;
      return new Promise<ContractResponse>(() => undefined);
    }
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : '' };
  });
  return {
    http,
    holdNext: (pattern) =>
      new Promise<void>((held) => {
        hold = { pattern, held };
      }),
  };
}

function start(
  args: string[],
  env: NodeJS.ProcessEnv,
): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return { child, done: new Promise((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr }))) };
}

function journalRow<T>(home: string, sql: string): T | undefined {
  const db = new Database(join(home, 'journal.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get() as T | undefined;
  } finally {
    db.close();
  }
}

describe('SIGKILL between "created in the catalogue" and "recorded in the journal"', () => {
  let server: ScicatContractServer;
  let proxy: Awaited<ReturnType<typeof holdingProxy>>;
  const children: ChildProcess[] = [];
  let base: string;
  let env: NodeJS.ProcessEnv;
  let profile: string;

  beforeAll(async () => {
    expect(existsSync('dist/main/cli/index.js'), 'run `npm run build` first (npm test does)').toBe(true);
    server = await startScicatContractServer({ users: [USER] });
    proxy = await holdingProxy(server.url);
    base = mkdtempSync(join(tmpdir(), 'bd-cat-kill-'));
    mkdirSync(join(base, 'archive'));
    profile = join(base, 'profile.yaml');
    writeFileSync(
      profile,
      [
        'facility: TESTFAC',
        'beamline: BL1',
        'destinations:',
        `  archive: { kind: filesystem, root: "${join(base, 'archive')}" }`,
        'defaultDestination: archive',
        'upload:',
        '  retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 }',
        'catalogue:',
        '  kind: scicat',
        `  url: ${proxy.http.url}`,
        '  apiVersion: v3',
        '',
      ].join('\n'),
    );
    env = { ...process.env, BEAMDROP_HOME: join(base, 'home'), BEAMDROP_CATALOGUE_PASSWORD: USER.password };
    delete env.BEAMDROP_PROFILE;
    // Async: the servers run in this process and must keep answering while the CLI waits.
    const login = await start(['login', '--profile', profile, '--username', USER.username], env).done;
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Signed in to scicat .* as ingestor \(groups: p-77\)/);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await start(['logout', '--profile', profile], env).done;
    await proxy.http.close();
    await server.close();
  });

  it('killed after the dataset was created: the rerun finds it, no second dataset', async () => {
    const src = makeTree(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`scan/p${i}.h5`, `point ${i}`])));
    const home = env.BEAMDROP_HOME!;
    const held = proxy.holdNext(/^POST \/api\/v3\/datasets$/);
    const first = start(['upload', src, '--dataset', 'killed-ds', '--profile', profile, '--json'], env);
    children.push(first.child);
    await Promise.race([
      held,
      first.done.then((r) => {
        throw new Error(`upload ended before the dataset was created: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      }),
    ]);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    expect([...server.datasets.values()].filter((d) => d.datasetName === 'killed-ds')).toHaveLength(1);
    expect(
      journalRow<{ remote_id: string | null }>(home, "SELECT remote_id FROM registrations WHERE dataset = 'killed-ds'"),
    ).toEqual({ remote_id: null });

    const again = start(['upload', src, '--dataset', 'killed-ds', '--profile', profile, '--json'], env);
    children.push(again.child);
    const r = await again.done;
    expect(r.code, r.stderr).toBe(0);
    const status = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; status?: { state: string; remoteId: string } })
      .find((e) => e.type === 'registration');
    expect(status?.status).toMatchObject({ state: 'registered' });
    const mine = [...server.datasets.values()].filter((d) => d.datasetName === 'killed-ds');
    expect(mine).toHaveLength(1);
    expect(status!.status!.remoteId).toBe(mine[0]!.pid);
    const paths = server.origDatablocks
      .filter((b) => b.datasetId === mine[0]!.pid)
      .flatMap((b) => (b.dataFileList as { path: string }[]).map((f) => f.path));
    expect(paths.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `scan/p${i}.h5`));
  });

  it('killed after a block of files was stored: the next run checks the catalogue and does not post it again', async () => {
    const src = makeTree(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`run/f${i}.cbf`, `frame ${i}`])));
    const home = env.BEAMDROP_HOME!;
    const held = proxy.holdNext(/^POST \/api\/v3\/datasets\/[^/]+\/origdatablocks$/);
    const first = start(['upload', src, '--dataset', 'killed-block', '--profile', profile, '--json'], env);
    children.push(first.child);
    await Promise.race([
      held,
      first.done.then((r) => {
        throw new Error(`upload ended before a block was sent: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      }),
    ]);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    const ds = [...server.datasets.values()].find((d) => d.datasetName === 'killed-block') as Doc;
    const blocksOf = () => server.origDatablocks.filter((b) => b.datasetId === ds.pid);
    expect(blocksOf()).toHaveLength(1);
    expect(journalRow<{ n: number }>(home, "SELECT COUNT(*) AS n FROM registration_blocks WHERE state = 'sending'")).toEqual({
      n: 1,
    });

    const push = start(['catalogue', 'push', '--profile', profile, '--json'], env);
    children.push(push.child);
    const r = await push.done;
    expect(r.code, r.stderr).toBe(0);
    await waitUntil(
      'no uncertain block left',
      () => journalRow<{ n: number }>(home, "SELECT COUNT(*) AS n FROM registration_blocks WHERE state = 'sending'")?.n === 0,
    );
    const statusRun = await start(['catalogue', 'status', 'killed-block', '--profile', profile, '--json'], env).done;
    expect(JSON.parse(statusRun.stdout)).toMatchObject([
      { dataset: 'killed-block', state: 'registered', filesRegistered: 8, remoteId: ds.pid },
    ]);
    const paths = blocksOf().flatMap((b) => (b.dataFileList as { path: string }[]).map((f) => f.path));
    expect(paths).toHaveLength(8);
    expect(new Set(paths).size).toBe(8);
    expect(blocksOf()).toHaveLength(1);
    expect(ds.numberOfFiles).toBe(8);
  });
});
