// What differs between the unfinished job a rerun would continue and what the operator gave now.
// Two kinds of difference: those the job continues with (metadata, upload policy, sync timing
// rules: they change nothing already stored), and those that would make one job two different
// selections of files or keys (filters, symlinks, ignore patterns, key template), which refuse
// the rerun unless the operator asks for a new job. Nothing the operator typed is ever dropped.
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel, type JobKind } from '../../../shared/model.js';
import type { FolderRules } from '../../../shared/profile-sync-schema.js';
import type { StoredJob } from '../journal/journal.js';
import type { OptionsByKind, SyncJobOptions } from './job-options.js';

export interface Difference {
  /** What differs, as the operator knows it: "-p sample", "--include", "quiet period of /data/run1". */
  what: string;
  was: string;
  now: string;
}

export interface OptionChanges {
  /** The job continues with these (stored and named in a note). */
  updated: Difference[];
  /** These refuse the rerun (job-options-differ) unless --new-job. */
  refused: Difference[];
}

const shown = (v: unknown): string => {
  if (v === undefined || v === null) return 'not set';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'string') return `"${v}"`;
  if (Array.isArray(v)) return v.length ? v.map((x) => (typeof x === 'string' ? `'${x}'` : JSON.stringify(x))).join(' ') : 'none';
  return JSON.stringify(v);
};

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
/** Glob lists compare as sets: the order they were typed in does not matter. */
const sameSet = (a: string[], b: string[]) => sameValue([...new Set(a)].sort(), [...new Set(b)].sort());

function compare<T>(out: Difference[], what: string, was: T, now: T, same: (a: T, b: T) => boolean = sameValue): void {
  if (!same(was, now)) out.push({ what, was: shown(was), now: shown(now) });
}

const POLICY_FLAGS: Record<string, string> = { concurrency: '--concurrency', bandwidth: '--bwlimit' };
const RULE_LABELS: Record<Exclude<keyof FolderRules, 'ignore'>, string> = {
  quietPeriodMs: 'quiet period (ms)',
  exclusiveOpen: 'exclusive-open check',
  markers: 'marker rules',
  mode: 'watch mode',
  pollIntervalMs: 'poll interval (ms)',
};

function compareRules(c: OptionChanges, where: string, was: FolderRules, now: FolderRules): void {
  compare(c.refused, `ignore patterns of ${where}`, was.ignore, now.ignore, sameSet);
  for (const [k, label] of Object.entries(RULE_LABELS) as [keyof typeof RULE_LABELS, string][])
    compare(c.updated, `${label} of ${where}`, was[k], now[k]);
}

function compareSync(c: OptionChanges, was: SyncJobOptions['sync'], now: SyncJobOptions['sync']): void {
  for (const folder of now.folders) {
    const old = was.folders.find((f) => f.path === folder.path);
    if (!old) continue; // the sources are the same (that is how the job was found), so every folder has its old self
    compareRules(c, folder.path, old.rules, folder.rules);
    for (const inner of folder.inner) {
      const before = old.inner.find((i) => i.rel === inner.rel);
      if (before) compareRules(c, `${folder.path}/${inner.rel}`, before.rules, inner.rules);
      else compare(c.updated, `rules of ${folder.path}/${inner.rel}`, null, 'configured');
    }
  }
  for (const k of Object.keys(now.settings) as (keyof typeof now.settings)[])
    compare(c.updated, `sync ${k}`, was.settings[k], now.settings[k]);
}

/** Compares a stored job with the metadata and options a rerun of the same kind gives now. */
export function optionChanges<K extends JobKind>(
  job: StoredJob & { kind: K },
  metadata: Record<string, string>,
  options: OptionsByKind[K],
): OptionChanges {
  const c: OptionChanges = { updated: [], refused: [] };
  const was = job.options;
  for (const key of [...new Set([...Object.keys(job.metadata), ...Object.keys(metadata)])].sort())
    compare(c.updated, `-p ${key}`, job.metadata[key], metadata[key]);
  compare(c.refused, '--include', was.include, options.include, sameSet);
  compare(c.refused, '--exclude', was.exclude, options.exclude, sameSet);
  compare(c.refused, '--follow-symlinks', was.followSymlinks, options.followSymlinks);
  compare(c.refused, `key template of "${job.destination}"`, was.keyTemplate, options.keyTemplate);
  compare(c.refused, 'facility (part of the keys)', was.vars.facility, options.vars.facility);
  compare(c.refused, 'beamline (part of the keys)', was.vars.beamline, options.vars.beamline);
  for (const k of Object.keys(options.policy) as (keyof typeof options.policy)[])
    compare(c.updated, POLICY_FLAGS[k] ?? `upload.${k}`, was.policy[k], options.policy[k]);
  if ('sync' in was && 'sync' in options) compareSync(c, was.sync, (options as SyncJobOptions).sync);
  return c;
}

/** The options a continued job stores: what was given now, with the key date it started with. */
export function continuedOptions<K extends JobKind>(job: StoredJob & { kind: K }, options: OptionsByKind[K]): OptionsByKind[K] {
  return { ...options, vars: { ...options.vars, date: job.options.vars.date } };
}

const lines = (ds: Difference[]) => ds.map((d) => `  ${d.what}: was ${d.was}, now ${d.now}`).join('\n');

/** The refusal of a rerun whose file selection differs from the unfinished job's. */
export function optionsDiffer(job: StoredJob, refused: Difference[]): BeamdropError {
  const resume = job.kind === 'sync' ? `beamdrop watch --resume ${job.id}` : `beamdrop resume ${job.id}`;
  return new BeamdropError({
    code: 'job-options-differ',
    retryable: false,
    dataset: job.dataset,
    field: refused[0]?.what ?? 'options',
    message:
      `dataset ${datasetLabel({ name: job.dataset, proposal: job.proposal, visit: job.visit })} has an unfinished ${job.kind === 'sync' ? 'watch' : 'upload'} to "${job.destination}" (job ${job.id}) that was started with other options:\n` +
      `${lines(refused)}\n` +
      `Continue job ${job.id} as it was started with \`${resume}\`, or start a new job with the options given now by adding --new-job (job ${job.id} is then cancelled; the files it stored stay where they are and stay recorded).`,
  });
}

/** The note of a continued job that takes what was given now. */
export function updatedNote(job: StoredJob, updated: Difference[]): string {
  return `job ${job.id} continues with what was given now:\n${lines(updated)}`;
}
