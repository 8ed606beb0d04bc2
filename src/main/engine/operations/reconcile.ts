// `beamdrop reconcile DATASET|FOLDER [--proposal ID] [--visit ID] [--catalogue C]`: compares the local folder, the
// destination, the local catalogue and the facility catalogue for one dataset (catalogue, proposal,
// visit, name) uploaded before, by batch jobs or sync sessions, and says per file what is missing
// or different where and what `--fix` would do. Jobs of a dataset of the same name in another
// proposal or visit are never mixed in. --fix runs an upload of the same files (which sends what
// is missing, records what is already there and queues it for registration); files that differ
// are never overwritten.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel, jobIdentity, type DatasetIdentity, type JobEvent, type JobSummary } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import type { OperationDeps } from '../engine.js';
import type { StoredJob } from '../journal/journal.js';
import { requireJob } from '../jobs/job-lifecycle.js';
import { keyPrefix } from '../jobs/job-runner.js';
import { renderKey } from '../keys/key-template.js';
import { toRemoteRelpath } from '../keys/remote-key.js';
import { scan } from '../scan/scanner.js';
import type { RemoteObject } from '../storage/destination.js';
import { createSyncFilter, type SyncFilter } from '../sync/sync-rules.js';
import { CRATE_SUFFIX } from '../catalogue/ro-crate.js';
import {
  datasetNotFound,
  identityKey,
  matchesQuery,
  oneIdentity,
  selectorOf,
  uploadJobsOf,
  type DatasetQuery,
} from './dataset-lookup.js';

export type Problem =
  'not-uploaded' | 'differs-at-destination' | 'not-recorded' | 'not-registered' | 'changed-locally' | 'only-at-destination';

export interface Finding {
  relpath: string;
  problem: Problem;
  detail: string;
}

export interface ReconcileReport {
  dataset: string;
  proposal: string | null;
  visit: string | null;
  /** 'batch' or 'sync': how the newest job of the dataset uploaded it. */
  kind: 'batch' | 'sync';
  jobId: number;
  sources: string[];
  destination: string;
  catalogue: string;
  ok: number;
  findings: Finding[];
  /** Why the facility catalogue could not be compared file by file, when it could not. */
  catalogueNote: string | null;
  /** What --fix would do, in words; empty when nothing can be fixed automatically. */
  fixPlan: string[];
}

/** The journal's jobs and files, the destination and both catalogues the dataset went to. */
export type ReconcileDeps = Pick<OperationDeps, 'journal' | 'local' | 'catalogues' | 'openDestination'>;
/** The job to redo, the outbox to requeue missing registrations, and an upload of the same files. */
export type FixReconcileDeps = Pick<OperationDeps, 'journal' | 'catalogues' | 'upload'>;

type UploadJob = Extract<StoredJob, { kind: 'batch' | 'sync' }>;

const isUpload = (j: StoredJob): j is UploadJob => j.kind === 'batch' || j.kind === 'sync';

/**
 * The dataset meant by a name or by the folder that was uploaded, and its jobs (batch and sync,
 * oldest first). A name or folder that several datasets share is refused with them listed.
 */
export function datasetFor(
  d: Pick<OperationDeps, 'journal'>,
  what: string,
  flags: Omit<DatasetQuery, 'name'> = {},
): { identity: DatasetIdentity; jobs: UploadJob[] } {
  const { journal } = d;
  const named = journal.jobsNamed(what).filter(isUpload);
  if (named.length) {
    const identity = oneIdentity(named, { ...flags, name: what });
    if (!identity) throw datasetNotFound({ ...flags, name: what }, 'in this journal');
    return { identity, jobs: uploadJobsOf(journal, identity).filter(isUpload) };
  }
  const folder = resolve(what);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    const of = journal
      .jobs(10_000)
      .filter(isUpload)
      .filter((j) => j.sources.includes(folder));
    const ids = new Map<string, DatasetIdentity>();
    const sel = selectorOf({ ...flags, name: what });
    for (const j of of) {
      const id = jobIdentity(j);
      if (matchesQuery(id, sel)) ids.set(identityKey(id), id);
    }
    const found = [...ids.values()];
    const catalogues = new Set(found.map((d) => d.catalogue));
    if (found.length > 1)
      throw new BeamdropError({
        code: 'dataset-ambiguous',
        retryable: false,
        file: folder,
        message: `${folder} was uploaded as ${found.length} datasets:\n${found.map((d) => `  ${datasetLabel(d)}${catalogues.size > 1 ? ` in catalogue ${d.catalogue}` : ''}`).join('\n')}\nName the dataset, and add --proposal ID and/or --visit ID${catalogues.size > 1 ? ' (or --catalogue CATALOGUE, as listed)' : ''}, to say which one.`,
      });
    if (found[0]) return { identity: found[0], jobs: uploadJobsOf(journal, found[0]).filter(isUpload) };
    throw new BeamdropError({
      code: 'dataset-not-found',
      retryable: false,
      file: folder,
      message: `no upload of ${folder} is in this journal; upload it first with \`beamdrop upload ${folder} --dataset NAME\`.`,
    });
  }
  throw new BeamdropError({
    code: 'dataset-not-found',
    retryable: false,
    dataset: what,
    message: `"${what}" is neither a dataset uploaded from this workstation nor a folder; \`beamdrop find\` lists datasets.`,
  });
}

export async function reconcile(
  d: ReconcileDeps,
  what: string,
  flags: Omit<DatasetQuery, 'name'> = {},
): Promise<ReconcileReport> {
  const { identity, jobs } = datasetFor(d, what, flags);
  const job = jobs.at(-1)!;
  const o = job.options;
  const { journal, local } = d;
  const keyOf = (relpath: string) => renderKey(o.keyTemplate, { ...o.vars, relpath });

  // What the journal knows the local files were when they were stored (to spot later changes
  // without re-hashing): per stored path, and which stored path each local file last went to
  // (a sync session keeps a changed file as NAME.v2.EXT beside the first copy).
  const stored = new Map<string, { size: number; mtimeMs: number; sha256: string | null }>();
  const latestOf = new Map<string, string>();
  const versionsOf = new Map<string, Set<string>>();
  for (const j of jobs) {
    if (j.destination !== job.destination) continue;
    for (const f of journal.files(j.id)) {
      stored.set(f.relpath, { size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256 });
      latestOf.set(f.path, f.relpath);
      versionsOf.set(f.path, (versionsOf.get(f.path) ?? new Set()).add(f.relpath));
    }
  }
  const takes = job.kind === 'sync' ? syncFilters(job) : null;
  const localFiles = new Map<string, { path: string; size: number; mtimeMs: number; storedAs: string }>();
  for await (const item of scan(job.sources, { include: o.include, exclude: o.exclude, followSymlinks: o.followSymlinks })) {
    if (!('file' in item)) continue;
    const relpath = toRemoteRelpath(item.file.relpath);
    if (takes && !takes(item.file.root, relpath)) continue;
    const storedAs = latestOf.get(item.file.path) ?? relpath;
    localFiles.set(relpath, { path: item.file.path, size: item.file.size, mtimeMs: item.file.mtimeMs, storedAs });
  }
  const destination = await d.openDestination({ name: job.destination, config: o.destinationConfig, adhoc: o.adhoc }, o.policy);
  const remote = new Map<string, RemoteObject>();
  try {
    for await (const r of destination.list(keyPrefix(o))) remote.set(r.key, r);
  } finally {
    await destination.close();
  }
  const recordedIn = local.lookup(identity, o.catalogue?.key ?? null);
  const recorded = new Map((recordedIn ? local.files(recordedIn.id) : []).map((f) => [f.relpath, f]));
  const { registered, note, catalogue } = await facilityView(d, job, [...recorded.keys()]);

  const findings: Finding[] = [];
  let ok = 0;
  for (const [relpath, f] of localFiles) {
    const at = f.storedAs;
    const there = remote.get(keyOf(at));
    const was = stored.get(at);
    if (was && (was.size !== f.size || was.mtimeMs !== f.mtimeMs) && there) {
      findings.push({
        relpath,
        problem: 'changed-locally',
        detail: `changed on this computer after it was stored (${was.size} → ${f.size} bytes); the stored copy is kept`,
      });
    } else if (!there) {
      findings.push({ relpath, problem: 'not-uploaded', detail: `only on this computer, not on "${job.destination}"` });
    } else if (there.size !== f.size || (was?.sha256 && there.sha256 && was.sha256 !== there.sha256)) {
      findings.push({
        relpath,
        problem: 'differs-at-destination',
        detail: `"${job.destination}" holds different content (${there.size} bytes there, ${f.size} here)`,
      });
    } else if (!recorded.has(at)) {
      findings.push({ relpath, problem: 'not-recorded', detail: `on "${job.destination}" but not in the local catalogue` });
    } else if (registered && !registered.has(at)) {
      findings.push({ relpath, problem: 'not-registered', detail: `stored and recorded, but not in the catalogue ${catalogue}` });
    } else ok++;
  }
  const prefix = keyPrefix(o);
  // Stored copies of files still here: the current one, and earlier versions a sync session kept beside it.
  const accounted = new Set([...localFiles.values()].flatMap((f) => [f.storedAs, ...(versionsOf.get(f.path) ?? [])]));
  for (const key of remote.keys()) {
    const relpath = key.slice(prefix.length);
    if (accounted.has(relpath) || relpath.endsWith(CRATE_SUFFIX)) continue;
    findings.push({
      relpath,
      problem: 'only-at-destination',
      detail: `on "${job.destination}" but no longer on this computer (nothing to do)`,
    });
  }
  return {
    dataset: identity.name,
    proposal: identity.proposal,
    visit: identity.visit,
    kind: job.kind,
    jobId: job.id,
    sources: job.sources,
    destination: job.destination,
    catalogue,
    ok,
    findings,
    catalogueNote: note,
    fixPlan: planOf(findings, job.destination),
  };
}

/** What a sync session takes from each watched folder: the job's filters and the folder's ignore patterns. */
function syncFilters(job: Extract<UploadJob, { kind: 'sync' }>): (root: string, relpath: string) => boolean {
  const filters = new Map<string, SyncFilter>(
    job.options.sync.folders.map((f) => [
      f.path,
      createSyncFilter(f, { include: job.options.include, exclude: job.options.exclude }),
    ]),
  );
  return (root, relpath) => {
    const filter = filters.get(root);
    if (!filter) return true;
    const parts = relpath.split('/');
    for (let i = 1; i < parts.length; i++) if (filter.skipsDir(parts.slice(0, i).join('/'), parts[i - 1])) return false;
    return filter.takesFile(relpath, parts.at(-1));
  };
}

async function facilityView(
  d: Pick<OperationDeps, 'catalogues'>,
  job: UploadJob,
  recorded: string[],
): Promise<{ registered: Set<string> | null; note: string | null; catalogue: string }> {
  const o = job.options;
  const jc = o.catalogue;
  if (!jc || jc.config.kind === 'local' || !jc.key) return { registered: null, note: null, catalogue: 'local' };
  const link = await d.catalogues.link(jc.config, { retries: o.policy.retries });
  const reg = link.store.byKey(jc.key);
  if (!reg) return { registered: new Set(), note: null, catalogue: link.identity };
  if (jc.config.kind === 'icat-plus')
    return {
      registered: null,
      note: 'ICAT+ takes one message per dataset and cannot be asked which files it has; its files cannot be checked from here.',
      catalogue: link.identity,
    };
  const sent = link.store.sentPaths(reg.id);
  const session = link.sessions.current() ?? (await link.sessions.reload().catch(() => null));
  if (!session || !reg.remote)
    return {
      registered: sent,
      note: 'compared with what the outbox sent (sign in with `beamdrop login` to ask the catalogue itself)',
      catalogue: link.identity,
    };
  try {
    const paths = [...new Set([...sent, ...recorded])];
    return { registered: await link.adapter.registeredFiles(session, reg.remote, paths), note: null, catalogue: link.identity };
  } catch (e) {
    return {
      registered: sent,
      note: `the catalogue could not be asked (${(e as Error).message}); compared with what the outbox sent`,
      catalogue: link.identity,
    };
  }
}

function planOf(findings: Finding[], destination: string): string[] {
  const n = (p: Problem) => findings.filter((f) => f.problem === p).length;
  const plan: string[] = [];
  if (n('not-uploaded')) plan.push(`upload ${n('not-uploaded')} file(s) to "${destination}", verify and register them`);
  if (n('not-recorded'))
    plan.push(`record ${n('not-recorded')} file(s) already on "${destination}" (same size and SHA-256) and register them`);
  if (n('not-registered')) plan.push(`send ${n('not-registered')} file(s) to the catalogue again`);
  if (n('differs-at-destination') || n('changed-locally'))
    plan.push(
      `leave ${n('differs-at-destination') + n('changed-locally')} differing file(s) alone: decide which copy is right, then rename or remove one deliberately`,
    );
  return plan;
}

/**
 * --fix: an upload of the same files into the same dataset (sends what is missing, records what is
 * there), and missing registrations queued again. For a sync dataset the upload takes what the
 * session took (its folders' ignore patterns become excludes); a session still running is left
 * to finish first.
 */
export async function fixReconcile(
  d: FixReconcileDeps,
  profile: FacilityProfile,
  report: ReconcileReport,
  opts: { onEvent?: (e: JobEvent) => void } = {},
): Promise<JobSummary> {
  const job = requireJob(d.journal, report.jobId);
  if (!isUpload(job)) throw new Error(`job ${job.id} is a ${job.kind}, not an upload`);
  if (job.kind === 'sync' && ['running', 'stopping', 'finishing', 'scanning'].includes(job.state))
    throw new BeamdropError({
      code: 'job-busy',
      retryable: true,
      dataset: job.dataset,
      message: `sync job ${job.id} of dataset ${datasetLabel(jobIdentity(job))} is still ${job.state}; let it finish (\`beamdrop stop ${job.id}\`, or \`beamdrop cancel ${job.id}\` if its process is gone), then run reconcile --fix again.`,
    });
  const o = job.options;
  const missing = report.findings.filter((f) => f.problem === 'not-registered').map((f) => f.relpath);
  if (missing.length && o.catalogue?.key) {
    const link = await d.catalogues.link(o.catalogue.config, { retries: o.policy.retries });
    const reg = link.store.byKey(o.catalogue.key);
    if (reg) link.store.requeue(reg.id, missing);
  }
  const ignored = job.kind === 'sync' ? job.options.sync.folders.flatMap((f) => f.rules.ignore) : [];
  return d.upload(profile, {
    sources: job.sources,
    dataset: job.dataset,
    ...(job.proposal ? { proposal: job.proposal } : {}),
    ...(job.visit ? { visit: job.visit } : {}),
    ...(o.adhoc ? { to: job.destination } : { destination: job.destination }),
    include: o.include.filter((g) => !profile.include.includes(g)),
    exclude: [...new Set([...o.exclude.filter((g) => !profile.exclude.includes(g)), ...ignored])],
    metadata: job.metadata,
    followSymlinks: o.followSymlinks,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
}
