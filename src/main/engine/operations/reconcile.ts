// `beamdrop reconcile DATASET|FOLDER`: compares the local folder, the destination, the local
// catalogue and the facility catalogue for a dataset that was uploaded before, and says per file
// what is missing or different where and what `--fix` would do. --fix re-runs the upload (which
// sends what is missing, records what is already there and queues it for registration); files
// that differ are never overwritten.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import type { JobEvent, JobSummary } from '../../../shared/model.js';
import type { DestinationConfig, FacilityProfile, UploadPolicy } from '../../../shared/profile-schema.js';
import type { Engine } from '../engine.js';
import type { StoredJob } from '../journal/journal.js';
import { keyPrefix, type JobOptions } from '../jobs/job-runner.js';
import { renderKey } from '../keys/key-template.js';
import { toRemoteRelpath } from '../keys/remote-key.js';
import { scan } from '../scan/scanner.js';
import type { RemoteObject } from '../storage/destination.js';
import type { JobCatalogue } from '../catalogue/job-catalogue.js';
import { CRATE_SUFFIX } from '../catalogue/ro-crate.js';

export type Problem =
  'not-uploaded' | 'differs-at-destination' | 'not-recorded' | 'not-registered' | 'changed-locally' | 'only-at-destination';

export interface Finding {
  relpath: string;
  problem: Problem;
  detail: string;
}

export interface ReconcileReport {
  dataset: string;
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

type Stored = JobOptions & {
  destinationConfig: DestinationConfig;
  adhoc: boolean;
  policy: UploadPolicy;
  catalogue?: JobCatalogue;
};

/** The latest job of a dataset name, or of the jobs that uploaded a folder. */
export function jobFor(engine: Engine, what: string): StoredJob {
  const { journal } = engine.services;
  const byName = journal
    .jobsOfDataset(what)
    .filter((j) => j.kind === 'batch')
    .at(-1);
  if (byName) return byName;
  const folder = resolve(what);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    const hit = journal.jobs(10_000).find((j) => j.sources.includes(folder) && j.kind === 'batch');
    if (hit) return hit;
    throw new BeamdropError({
      code: 'dataset-not-found',
      retryable: false,
      message: `no upload of ${folder} is in this journal; upload it first with \`beamdrop upload ${folder} --dataset NAME\`.`,
    });
  }
  throw new BeamdropError({
    code: 'dataset-not-found',
    retryable: false,
    message: `"${what}" is neither a dataset uploaded from this workstation nor a folder; \`beamdrop find\` lists datasets.`,
  });
}

export async function reconcile(engine: Engine, what: string): Promise<ReconcileReport> {
  const job = jobFor(engine, what);
  const o = job.options as unknown as Stored;
  const { journal, catalogue: local } = engine.services;
  const keyOf = (relpath: string) => renderKey(o.keyTemplate, { ...o.vars, relpath });

  // What the journal knows the local files were when they were stored (to spot later changes without re-hashing).
  const stored = new Map<string, { size: number; mtimeMs: number; sha256: string | null }>();
  for (const j of journal.jobsOfDataset(job.dataset))
    for (const f of journal.files(j.id)) stored.set(f.relpath, { size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256 });
  const localFiles = new Map<string, { size: number; mtimeMs: number }>();
  for await (const item of scan(job.sources, { include: o.include, exclude: o.exclude, followSymlinks: o.followSymlinks })) {
    if ('file' in item) localFiles.set(toRemoteRelpath(item.file.relpath), { size: item.file.size, mtimeMs: item.file.mtimeMs });
  }
  const destination = await engine.openDestination(
    { name: job.destination, config: o.destinationConfig, adhoc: o.adhoc },
    o.policy,
  );
  const remote = new Map<string, RemoteObject>();
  try {
    for await (const r of destination.list(keyPrefix(o))) remote.set(r.key, r);
  } finally {
    await destination.close();
  }
  const recorded = new Map(local.files(job.dataset).map((f) => [f.relpath, f]));
  const { registered, note, catalogue } = await facilityView(engine, job, o);

  const findings: Finding[] = [];
  let ok = 0;
  for (const [relpath, f] of localFiles) {
    const there = remote.get(keyOf(relpath));
    const was = stored.get(relpath);
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
    } else if (!recorded.has(relpath)) {
      findings.push({ relpath, problem: 'not-recorded', detail: `on "${job.destination}" but not in the local catalogue` });
    } else if (registered && !registered.has(relpath)) {
      findings.push({ relpath, problem: 'not-registered', detail: `stored and recorded, but not in the catalogue ${catalogue}` });
    } else ok++;
  }
  const prefix = keyPrefix(o);
  for (const key of remote.keys()) {
    const relpath = key.slice(prefix.length);
    if (!localFiles.has(relpath) && !relpath.endsWith(CRATE_SUFFIX))
      findings.push({
        relpath,
        problem: 'only-at-destination',
        detail: `on "${job.destination}" but no longer on this computer (nothing to do)`,
      });
  }
  return {
    dataset: job.dataset,
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

async function facilityView(
  engine: Engine,
  job: StoredJob,
  o: Stored,
): Promise<{ registered: Set<string> | null; note: string | null; catalogue: string }> {
  const jc = o.catalogue;
  if (!jc || jc.config.kind === 'local' || !jc.key) return { registered: null, note: null, catalogue: 'local' };
  const link = await engine.services.catalogues.link(jc.config, { retries: o.policy.retries });
  const reg = link.store.byKey(jc.key);
  if (!reg) return { registered: new Set(), note: null, catalogue: link.identity };
  if (jc.config.kind === 'icat-plus')
    return {
      registered: null,
      note: 'ICAT+ takes one message per dataset and cannot be asked which files it has; its files cannot be checked from here.',
      catalogue: link.identity,
    };
  const sent = new Set<string>(
    engine.services.journal.db
      .prepare(
        `SELECT f.relpath FROM registration_files f JOIN registration_blocks b ON b.id = f.block_id WHERE f.registration_id = ? AND b.state = 'sent'`,
      )
      .all(reg.id)
      .map((r) => (r as { relpath: string }).relpath),
  );
  const session = link.sessions.current() ?? (await link.sessions.reload().catch(() => null));
  if (!session || !reg.remote)
    return {
      registered: sent,
      note: 'compared with what the outbox sent (sign in with `beamdrop login` to ask the catalogue itself)',
      catalogue: link.identity,
    };
  try {
    const paths = [...new Set([...sent, ...engine.services.catalogue.files(job.dataset).map((f) => f.relpath)])];
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

/** --fix: the same upload again (sends what is missing, records what is there), and missing registrations queued again. */
export async function fixReconcile(
  engine: Engine,
  profile: FacilityProfile,
  report: ReconcileReport,
  opts: { onEvent?: (e: JobEvent) => void } = {},
): Promise<JobSummary> {
  const job = engine.requireJob(report.jobId);
  const o = job.options as unknown as Stored;
  const missing = report.findings.filter((f) => f.problem === 'not-registered').map((f) => f.relpath);
  if (missing.length && o.catalogue?.key) {
    const link = await engine.services.catalogues.link(o.catalogue.config, { retries: o.policy.retries });
    const reg = link.store.byKey(o.catalogue.key);
    if (reg) link.store.requeue(reg.id, missing);
  }
  return engine.upload(profile, {
    sources: job.sources,
    dataset: job.dataset,
    ...(job.proposal ? { proposal: job.proposal } : {}),
    ...(o.vars.visit ? { visit: o.vars.visit } : {}),
    ...(o.adhoc ? { to: job.destination } : { destination: job.destination }),
    include: o.include.filter((g) => !profile.include.includes(g)),
    exclude: o.exclude.filter((g) => !profile.exclude.includes(g)),
    metadata: job.metadata,
    followSymlinks: o.followSymlinks,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
}
