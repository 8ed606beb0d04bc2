// The end checks of a round, with clients that share no code with Beamdrop: `sha256sum` of the
// local files, `rclone hashsum sha256 --download` of what the destination holds (straight from
// MinIO or Apache, not through the proxies), ListMultipartUploads, the WebDAV folder on disk for
// temporary names, the SciCat contract server's records, the ICAT+ messages taken off the
// broker, and the journal read with SQL. Every problem is named and sorted into one of five
// figures: lost, corrupted, duplicated, orphaned — and disagreements between the journal and
// the catalogue (or a dataset not finalised once).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { minioClient } from '../support/minio.js';
import { DAV_COLLECTION, PROPOSAL, VISIT, type CampaignWorld } from './campaign-world.js';
import { readDatasetJournal } from './journal-view.js';
import type { RoundResult } from './round.js';

const execFileP = promisify(execFile);

export const CRATE_SUFFIX = '-ro-crate-metadata.json';
/** Hidden temporary names an interrupted WebDAV upload leaves (".beamdrop-<hex>.<name>.part"), or any dot file. */
const isTempName = (name: string) => name.startsWith('.') && name !== '.DAV';

export interface Hashed {
  size: number;
  sha256: string;
}

export interface RoundCheck {
  files: number;
  lost: string[];
  corrupted: string[];
  duplicated: string[];
  orphaned: string[];
  disagreements: string[];
  /** Objects rclone read back and hashed. */
  rcloneHashed: number;
  /** File entries read from the catalogue (SciCat) or dataset messages (ICAT+). */
  catalogueEntries: number;
  /** Files sent twice according to the journal (wasted work, not a stored duplicate). */
  sentTwice: string[];
}

export function rcloneEnv(world: CampaignWorld): NodeJS.ProcessEnv {
  const obscured = execFileSync('rclone', ['obscure', world.dav.password], { encoding: 'utf8' }).trim();
  return {
    ...process.env,
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_CAMPS3_TYPE: 's3',
    RCLONE_CONFIG_CAMPS3_PROVIDER: 'Minio',
    RCLONE_CONFIG_CAMPS3_ENDPOINT: world.minio.endpoint,
    RCLONE_CONFIG_CAMPS3_ACCESS_KEY_ID: world.minio.accessKeyId,
    RCLONE_CONFIG_CAMPS3_SECRET_ACCESS_KEY: world.minio.secretAccessKey,
    RCLONE_CONFIG_CAMPS3_REGION: world.minio.region,
    RCLONE_CONFIG_CAMPDAV_TYPE: 'webdav',
    RCLONE_CONFIG_CAMPDAV_URL: `${world.dav.url}/${DAV_COLLECTION}`,
    RCLONE_CONFIG_CAMPDAV_VENDOR: 'other',
    RCLONE_CONFIG_CAMPDAV_USER: world.dav.username,
    RCLONE_CONFIG_CAMPDAV_PASS: obscured,
  };
}

/** The visit folder of the campaign at a destination, as rclone names it. */
export function rcloneFolder(world: CampaignWorld, destination: 's3' | 'webdav'): string {
  return destination === 's3' ? `camps3:${world.bucket}/${PROPOSAL}/${VISIT}` : `campdav:${PROPOSAL}/${VISIT}`;
}

/** `sha256sum` lines: "<hash>  <path>". */
function hashLines(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const x = /^\\?([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (x) m.set(x[2]!, x[1]!);
  }
  return m;
}

/** Every file under root, as "a/b" relpaths. */
function walk(root: string, dir = root): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(root, join(dir, e.name)) : [relative(root, join(dir, e.name)).split(sep).join('/')],
  );
}

function walkAll(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => {
    const p = join(root, e.name);
    return e.isDirectory() ? [p + '/', ...walkAll(p)] : [p];
  });
}

/** The local files of a round, hashed by `sha256sum`. */
export async function localHashes(dir: string): Promise<Map<string, Hashed>> {
  const files = walk(dir);
  const out = new Map<string, Hashed>();
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const { stdout } = await execFileP('sha256sum', ['--', ...batch], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    const sums = hashLines(stdout);
    const { stdout: sizes } = await execFileP('stat', ['-c', '%s', '--', ...batch], { cwd: dir });
    const sz = sizes.trim().split('\n').map(Number);
    batch.forEach((rel, k) => {
      const sha256 = sums.get(rel);
      if (sha256) out.set(rel, { size: sz[k] ?? -1, sha256 });
    });
  }
  return out;
}

/** What rclone finds for the dataset: its files (relpath → SHA-256) and the names beside its folder. */
async function remoteHashes(
  world: CampaignWorld,
  destination: 's3' | 'webdav',
  dataset: string,
  env: NodeJS.ProcessEnv,
): Promise<{ files: Map<string, string>; beside: string[]; error: string | null }> {
  const args = [
    'hashsum',
    'sha256',
    '--download',
    rcloneFolder(world, destination),
    '--include',
    `/${dataset}/**`,
    '--include',
    `/${dataset}*`,
  ];
  try {
    const { stdout } = await execFileP('rclone', args, { env, maxBuffer: 64 * 1024 * 1024 });
    const files = new Map<string, string>();
    const beside: string[] = [];
    for (const [path, sha] of hashLines(stdout)) {
      if (path.startsWith(`${dataset}/`)) files.set(path.slice(dataset.length + 1), sha);
      else beside.push(path);
    }
    return { files, beside, error: null };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    // An empty or missing folder is not an error of the check: every file is then lost.
    if (/directory not found/i.test(err.stderr ?? '')) return { files: new Map(), beside: [], error: null };
    return { files: new Map(), beside: [], error: `rclone ${args.join(' ')}: ${err.stderr ?? err.message}` };
  }
}

/** "x.v2.raw" / "notes.v3" next to an expected "x.raw" / "notes": a second copy of a file. */
function versionOf(rel: string, expected: Set<string>): string | null {
  const m = /^(.*?)\.v(\d+)((?:\.[^./]*)?)$/.exec(rel);
  if (!m) return null;
  const base = `${m[1]}${m[3]}`;
  return expected.has(base) ? base : null;
}

export async function checkRound(
  world: CampaignWorld,
  r: RoundResult,
  env: NodeJS.ProcessEnv,
  icatPlusMessages: Map<string, number>,
): Promise<RoundCheck> {
  const { config } = r.plan;
  const c: RoundCheck = {
    files: 0,
    lost: [],
    corrupted: [],
    duplicated: [],
    orphaned: [],
    disagreements: [],
    rcloneHashed: 0,
    catalogueEntries: 0,
    sentTwice: [],
  };
  const tag = (s: string) => `${r.dataset}: ${s}`;

  // ---- what should be there: the local files (and, in sync, what the writer says it wrote)
  const expected = await localHashes(r.sourceDir);
  if (r.written) {
    for (const w of r.written) {
      const h = expected.get(w.relpath);
      if (!h || h.sha256 !== w.sha256 || h.size !== w.size)
        c.disagreements.push(tag(`local ${w.relpath} differs from what the writer wrote (sha256sum ${h?.sha256 ?? 'missing'})`));
    }
    const names = new Set(r.written.map((w) => w.relpath));
    for (const rel of expected.keys())
      if (!names.has(rel)) c.disagreements.push(tag(`local ${rel} was not written by the writer`));
  }
  c.files = expected.size;
  const expectedNames = new Set(expected.keys());

  // ---- the destination, read back by rclone
  const remote = await remoteHashes(world, config.destination, r.dataset, env);
  if (remote.error) c.disagreements.push(tag(remote.error));
  c.rcloneHashed = remote.files.size + remote.beside.length;
  for (const [rel, h] of expected) {
    const got = remote.files.get(rel);
    if (got === undefined) c.lost.push(tag(`${rel} is not at the ${config.destination} destination`));
    else if (got !== h.sha256) c.corrupted.push(tag(`${rel} at the destination has SHA-256 ${got}, the local file ${h.sha256}`));
  }
  for (const rel of remote.files.keys()) {
    if (expectedNames.has(rel)) continue;
    const name = rel.split('/').at(-1)!;
    if (config.destination === 'webdav' && (isTempName(name) || rel.split('/').includes('.DAV'))) continue; // counted on disk below
    const of = versionOf(rel, expectedNames);
    if (of) c.duplicated.push(tag(`${rel} is a second copy of ${of}`));
    else c.orphaned.push(tag(`${rel} at the destination is no file of the dataset`));
  }
  const crates = remote.beside.filter((n) => n.includes('ro-crate'));
  if (crates.length === 0) c.disagreements.push(tag('no RO-Crate beside the data (not finalised)'));
  if (crates.length > 1) c.duplicated.push(tag(`${crates.length} RO-Crates: ${crates.join(', ')}`));
  for (const n of remote.beside) if (!n.includes('ro-crate')) c.orphaned.push(tag(`${n} beside the data folder`));

  // ---- leftovers of interrupted uploads
  if (config.destination === 's3') {
    const s3 = minioClient(world.minio);
    try {
      const out = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: world.bucket, Prefix: `${PROPOSAL}/${VISIT}/${r.dataset}/` }),
      );
      for (const u of out.Uploads ?? []) c.orphaned.push(tag(`unfinished multipart upload ${u.UploadId} of ${u.Key}`));
    } finally {
      s3.destroy();
    }
  } else {
    for (const p of walkAll(join(world.davRoot, PROPOSAL, VISIT, r.dataset)))
      if (!p.endsWith('/') && isTempName(p.split('/').at(-1)!))
        c.orphaned.push(tag(`temporary file ${p} left in the WebDAV root`));
  }

  // ---- the catalogue
  const journal = readDatasetJournal(world.home, r.dataset);
  if (config.catalogue === 'scicat') {
    const mine = [...world.scicat!.datasets.values()].filter((d) => d.datasetName === r.dataset);
    if (mine.length > 1) c.duplicated.push(tag(`${mine.length} SciCat datasets`));
    const ds = mine[0];
    const files = ds
      ? world
          .scicat!.origDatablocks.filter((b) => b.datasetId === ds.pid)
          .flatMap((b) => b.dataFileList as { path: string; size: number; chk?: string }[])
      : [];
    c.catalogueEntries = files.length;
    const seen = new Map<string, number>();
    for (const f of files) seen.set(f.path, (seen.get(f.path) ?? 0) + 1);
    for (const [path, n] of seen) if (n > 1) c.duplicated.push(tag(`${path} registered ${n} times in SciCat`));
    for (const [rel, h] of expected) {
      const f = files.find((x) => x.path === rel);
      if (!f) c.lost.push(tag(`${rel} is not registered in SciCat`));
      else if (f.chk !== h.sha256 || f.size !== h.size)
        c.corrupted.push(tag(`${rel} is registered in SciCat with ${f.size} bytes, chk ${f.chk}`));
    }
    for (const path of seen.keys())
      if (!expectedNames.has(path)) c.disagreements.push(tag(`SciCat lists ${path}, not a file of the dataset`));
    if (ds && (ds.datasetlifecycle as { archivable?: unknown } | undefined)?.archivable !== true)
      c.disagreements.push(tag('the SciCat dataset is not archivable (the finish never reached SciCat)'));
    const reg = journal.registrations.at(-1);
    if (ds && reg && reg.remote_id !== ds.pid)
      c.disagreements.push(tag(`journal registration names ${reg.remote_id}, SciCat ${String(ds.pid)}`));
  } else {
    const n = icatPlusMessages.get(r.dataset) ?? 0;
    c.catalogueEntries = n;
    if (n === 0) for (const rel of expected.keys()) c.lost.push(tag(`${rel}: no ICAT+ message for the dataset`));
    if (n > 1) c.duplicated.push(tag(`${n} ICAT+ dataset messages`));
  }

  // ---- the journal, and whether it agrees with the catalogue. A batch upload run again after its
  // job had ended is a new job that finds every file stored (`skipped`): allowed, once finished.
  if (journal.jobs.length === 0) c.disagreements.push(tag('no job in the journal'));
  for (const j of journal.jobs) if (j.state !== 'done') c.disagreements.push(tag(`job ${j.id} is ${j.state} (${j.reason})`));
  if (journal.finalisations === 0) c.disagreements.push(tag('no dataset-finished event'));
  for (const j of journal.jobs)
    if (!journal.allFiles.some((f) => f.job_id === j.id)) c.disagreements.push(tag(`job ${j.id} holds no file`));
  if (journal.finalisations > journal.jobs.length)
    c.duplicated.push(tag(`dataset finalised ${journal.finalisations} times by ${journal.jobs.length} job(s)`));
  for (const [rel, h] of expected) {
    const rows = journal.allFiles.filter((f) => f.relpath === rel);
    if (!rows.length) c.disagreements.push(tag(`${rel} is not in the journal`));
    if (rows.length && !rows.some((f) => ['verified', 'registered'].includes(f.state)))
      c.disagreements.push(tag(`${rel} is ${rows.map((f) => f.state).join('/')} in the journal, never verified`));
    for (const f of rows) {
      if (!['verified', 'registered', 'skipped'].includes(f.state))
        c.disagreements.push(tag(`${rel} is ${f.state} in job ${f.job_id}`));
      else if (f.sha256 !== h.sha256) c.disagreements.push(tag(`${rel} has SHA-256 ${f.sha256} in job ${f.job_id}`));
    }
  }
  for (const f of journal.allFiles)
    if (!expectedNames.has(f.relpath) && f.state !== 'skipped')
      c.disagreements.push(tag(`journal has ${f.relpath} (${f.state}, job ${f.job_id}), no local file`));
  if (journal.registrations.length !== 1)
    c.disagreements.push(tag(`${journal.registrations.length} registrations in the journal`));
  const reg = journal.registrations.at(-1);
  if (reg && (reg.state !== 'registered' || reg.finished_at === null))
    c.disagreements.push(tag(`registration ${reg.state}, finished_at ${reg.finished_at}`));
  if (config.catalogue === 'scicat') {
    const inJournal = journal.registeredFiles.map((f) => `${f.relpath} ${f.size} ${f.sha256}`).sort();
    const inCatalogue = [...world.scicat!.datasets.values()]
      .filter((d) => d.datasetName === r.dataset)
      .flatMap((d) => world.scicat!.origDatablocks.filter((b) => b.datasetId === d.pid))
      .flatMap((b) => b.dataFileList as { path: string; size: number; chk?: string }[])
      .map((f) => `${f.path} ${f.size} ${f.chk}`)
      .sort();
    if (JSON.stringify(inJournal) !== JSON.stringify(inCatalogue))
      c.disagreements.push(tag(`journal registers ${inJournal.length} file(s), SciCat holds ${inCatalogue.length}`));
  }
  c.sentTwice = journal.sentTwice.map((rel) => tag(rel));
  return c;
}
