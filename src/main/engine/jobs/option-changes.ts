// What differs between the unfinished job a rerun would continue and what is given now. Three
// kinds of difference:
// - those the job continues with (metadata, upload policy, sync timing rules): they change
//   nothing already stored;
// - those the operator typed that would make one job two different selections of files
//   (--include, --exclude, --follow-symlinks): they refuse the rerun unless --new-job;
// - those that come from the facility profile (its include/exclude and default excludes, a sync
//   folder's ignore patterns, the key template, facility and beamline in the keys): the operator did
//   not type them, so they never refuse "the same command again"; the job keeps what it was started
//   with (one job is one selection, its keys never move) and a note names each, as the profile's.
// Jobs of versions that stored the operator's and the profile's patterns as one list (no `own`)
// are compared the way they were stored. Nothing the operator typed is ever dropped.
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel, type JobKind } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import type { FolderRules } from '../../../shared/profile-sync-schema.js';
import type { StoredJob } from '../journal/journal.js';
import { renderKey } from '../keys/key-template.js';
import type { JobOptions, OptionsByKind, SyncJobOptions } from './job-options.js';

export interface Difference {
  /** What differs, as the operator knows it: "-p sample", "--include", "quiet period of /data/run1". */
  what: string;
  was: string;
  now: string;
}

export interface OptionChanges {
  /** The job continues with these (stored and named in a note). */
  updated: Difference[];
  /** From the profile: the job keeps what it was started with (named in a note). */
  kept: Difference[];
  /** These refuse the rerun (job-options-differ) unless --new-job. */
  refused: Difference[];
}

/** The profile's patterns as a new job takes them (scan/filters.ts jobFilters). */
export type ProfileFilters = Pick<FacilityProfile, 'include' | 'exclude' | 'defaultExclude'>;

/** The ignore patterns every sync folder had by default before the default excludes replaced them. */
const LEGACY_SYNC_IGNORE = ['*.tmp', '*.part', '~*', '.*'];

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

/** A job's filter lists split into the operator's part (the tail) and the profile's; null for a job without `own`. */
function split(
  o: JobOptions,
): { own: { include: string[]; exclude: string[] }; profile: { include: string[]; exclude: string[] } } | null {
  if (!o.own) return null;
  const head = (all: string[], tail: string[]) => all.slice(0, Math.max(0, all.length - tail.length));
  return { own: o.own, profile: { include: head(o.include, o.own.include), exclude: head(o.exclude, o.own.exclude) } };
}

const POLICY_FLAGS: Record<string, string> = { concurrency: '--concurrency', bandwidth: '--bwlimit' };
const RULE_LABELS: Record<Exclude<keyof FolderRules, 'ignore'>, string> = {
  quietPeriodMs: 'quiet period (ms)',
  exclusiveOpen: 'exclusive-open check',
  markers: 'marker rules',
  mode: 'watch mode',
  pollIntervalMs: 'poll interval (ms)',
};

function compareRules(c: OptionChanges, where: string, was: FolderRules, now: FolderRules, legacy: boolean): void {
  // A job of an earlier version has the old default ignore patterns where the profile set none.
  const ignoreNow = legacy && now.ignore.length === 0 ? LEGACY_SYNC_IGNORE : now.ignore;
  compare(c.kept, `the profile's ignore patterns of ${where}`, was.ignore, ignoreNow, sameSet);
  for (const [k, label] of Object.entries(RULE_LABELS) as [keyof typeof RULE_LABELS, string][])
    compare(c.updated, `${label} of ${where}`, was[k], now[k]);
}

function compareSync(c: OptionChanges, was: SyncJobOptions['sync'], now: SyncJobOptions['sync'], legacy: boolean): void {
  for (const folder of now.folders) {
    const old = was.folders.find((f) => f.path === folder.path);
    if (!old) continue; // the sources are the same (that is how the job was found), so every folder has its old self
    compareRules(c, folder.path, old.rules, folder.rules, legacy);
    for (const inner of folder.inner) {
      const before = old.inner.find((i) => i.rel === inner.rel);
      if (before) compareRules(c, `${folder.path}/${inner.rel}`, before.rules, inner.rules, legacy);
      else compare(c.updated, `rules of ${folder.path}/${inner.rel}`, null, 'configured');
    }
  }
  for (const k of Object.keys(now.settings) as (keyof typeof now.settings)[])
    compare(c.updated, `sync ${k}`, was.settings[k], now.settings[k]);
}

/** The filters: the operator's refuse, the profile's are kept; a job without `own` is compared as it was stored. */
function compareFilters(c: OptionChanges, job: StoredJob, was: JobOptions, now: JobOptions, profile: ProfileFilters): void {
  const before = split(was);
  const after = split(now);
  if (before && after) {
    compare(c.refused, '--include', before.own.include, after.own.include, sameSet);
    compare(c.refused, '--exclude', before.own.exclude, after.own.exclude, sameSet);
    compare(c.kept, "the profile's include patterns", before.profile.include, after.profile.include, sameSet);
    compare(c.kept, "the profile's excludes (with its default excludes)", before.profile.exclude, after.profile.exclude, sameSet);
    return;
  }
  // Written by an earlier version: one list of the profile's patterns and the operator's, and no
  // default excludes (a sync job had them as each folder's ignore patterns, compared there).
  const own = after?.own ?? { include: [], exclude: [] };
  const oneList = `(with the profile's; job ${job.id} was started by an earlier version that stored them as one list)`;
  compare(c.refused, `--include ${oneList}`, was.include, [...profile.include, ...own.include], sameSet);
  compare(c.refused, `--exclude ${oneList}`, was.exclude, [...profile.exclude, ...own.exclude], sameSet);
  const covered = new Set(was.exclude);
  if ('sync' in was) for (const f of (was as SyncJobOptions).sync.folders) for (const g of f.rules.ignore) covered.add(g);
  const missing = profile.defaultExclude.filter((g) => !covered.has(g));
  if (missing.length)
    c.kept.push({
      what: `the profile's default excludes (job ${job.id} was started by an earlier version, without them)`,
      was: 'none',
      now: shown(missing),
    });
}

/** The keys: the key template and the key variables from the profile; compared by the keys they make. */
function compareKeys(c: OptionChanges, job: StoredJob, was: JobOptions, now: JobOptions): void {
  const probe = (o: JobOptions) => {
    try {
      return renderKey(o.keyTemplate, { ...o.vars, date: was.vars.date, relpath: 'folder/file' });
    } catch {
      return null;
    }
  };
  if (probe(was) !== null && probe(was) === probe(now)) return;
  compare(c.kept, `the key template of "${job.destination}" (from the profile)`, was.keyTemplate, now.keyTemplate);
  compare(c.kept, "the profile's facility (part of the keys)", was.vars.facility, now.vars.facility);
  compare(c.kept, "the profile's beamline (part of the keys)", was.vars.beamline, now.vars.beamline);
}

/** Compares a stored job with the metadata and options a rerun of the same kind gives now. */
export function optionChanges<K extends JobKind>(
  job: StoredJob & { kind: K },
  metadata: Record<string, string>,
  options: OptionsByKind[K],
  profile: ProfileFilters,
): OptionChanges {
  const c: OptionChanges = { updated: [], kept: [], refused: [] };
  const was = job.options;
  for (const key of [...new Set([...Object.keys(job.metadata), ...Object.keys(metadata)])].sort())
    compare(c.updated, `-p ${key}`, job.metadata[key], metadata[key]);
  compareFilters(c, job, was, options, profile);
  compare(c.refused, '--follow-symlinks', was.followSymlinks, options.followSymlinks);
  compareKeys(c, job, was, options);
  for (const k of Object.keys(options.policy) as (keyof typeof options.policy)[])
    compare(c.updated, POLICY_FLAGS[k] ?? `upload.${k}`, was.policy[k], options.policy[k]);
  if ('sync' in was && 'sync' in options) compareSync(c, was.sync, (options as SyncJobOptions).sync, !was.own);
  return c;
}

/**
 * The options a continued job stores: what was given now (metadata, policy, catalogue, sync timing
 * rules), with the file selection and the keys it was started with (the filters, the sync folders'
 * ignore patterns, the key template and variables with its key date). The operator's part of those
 * is the same as now (or the rerun was refused); the profile's part is the job's own.
 */
export function continuedOptions<K extends JobKind>(job: StoredJob & { kind: K }, options: OptionsByKind[K]): OptionsByKind[K] {
  const was = job.options;
  const next = {
    ...options,
    include: was.include,
    exclude: was.exclude,
    own: was.own,
    followSymlinks: was.followSymlinks,
    keyTemplate: was.keyTemplate,
    vars: was.vars,
    // The registration key it started with: a dataset registered under an earlier version's key
    // keeps finding its record (the metadata given now still reaches it, see openJobCatalogue).
    ...(options.catalogue && was.catalogue
      ? { catalogue: { ...options.catalogue, key: was.catalogue.key ?? options.catalogue.key } }
      : {}),
  };
  if (!('sync' in was) || !('sync' in next)) return next;
  const sync = (next as SyncJobOptions).sync;
  const keepIgnore = (now: FolderRules, old: FolderRules | undefined): FolderRules =>
    old ? { ...now, ignore: old.ignore } : now;
  return {
    ...next,
    sync: {
      ...sync,
      folders: sync.folders.map((f) => {
        const old = was.sync.folders.find((o) => o.path === f.path);
        return {
          ...f,
          rules: keepIgnore(f.rules, old?.rules),
          inner: f.inner.map((i) => ({ ...i, rules: keepIgnore(i.rules, old?.inner.find((o) => o.rel === i.rel)?.rules) })),
        };
      }),
    },
  } as OptionsByKind[K];
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

/** The note of a continued job that keeps what the profile gave when it started. */
export function keptNote(job: StoredJob, kept: Difference[]): string {
  return (
    `job ${job.id} keeps the file selection and keys it was started with; the facility profile gives other ones now:\n${lines(kept)}\n` +
    `They apply to new jobs; add --new-job to start one now (job ${job.id} is then cancelled; the files it stored stay where they are and stay recorded).`
  );
}
