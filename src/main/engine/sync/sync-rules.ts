// The rules each watched folder runs with: the profile's sync defaults, then the technique, then
// the deepest `sync.folders` entry that contains the folder. Resolved once when the job is
// created and stored with it, so a resumed job decides exactly as before. Also compiles what a
// folder takes: the job's include/exclude globs plus the folder's ignore patterns, by the one
// rule of scan/filters.ts.
import path from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import {
  DEFAULT_FOLDER_RULES,
  mergeRules,
  type FolderRules,
  type MarkerRule,
  type SyncProfile,
  type SyncRuleSet,
} from '../../../shared/profile-sync-schema.js';
import { pathPlatform, relativeUnder, sameLocalPath } from '../keys/local-path.js';
import { createFilter, type FilterOptions, type PathFilter } from '../scan/filters.js';

export interface SyncFolder {
  /** Absolute folder path. */
  path: string;
  /** Rules of the folder itself; `mode` and `pollInterval` apply to all of it. */
  rules: FolderRules;
  /** Configured folders inside it, each with its completeness and ignore rules (deepest first). */
  inner: { rel: string; rules: FolderRules }[];
}

/** Settings of the whole sync job (not per folder). */
export interface SyncSettings {
  onChange: SyncProfile['onChange'];
  reconcileIntervalMs: number;
  rescanIntervalMs: number;
  stopGraceMs: number;
  technique: string | null;
}

export function syncSettings(profile: FacilityProfile, technique: string | null): SyncSettings {
  const s = profile.sync;
  return {
    onChange: s.onChange,
    reconcileIntervalMs: s.reconcileInterval,
    rescanIntervalMs: s.rescanInterval,
    stopGraceMs: s.stopGrace,
    technique,
  };
}

export function resolveSyncFolders(
  profile: FacilityProfile,
  folders: string[],
  technique: string | null,
  platform: NodeJS.Platform = process.platform,
): SyncFolder[] {
  const s = profile.sync;
  let techniqueRules: SyncRuleSet | undefined;
  if (technique !== null) {
    techniqueRules = s.techniques[technique];
    if (!techniqueRules) {
      const known = Object.keys(s.techniques);
      throw new BeamdropError({
        code: 'usage',
        retryable: false,
        field: 'technique',
        message: `the profile has no sync rules for technique "${technique}"; ${known.length ? `use one of: ${known.join(', ')}` : 'define them under sync.techniques, or leave out --technique'}.`,
      });
    }
  }
  const p = pathPlatform(platform);
  const entries = s.folders
    .map((e) => ({ entry: e, abs: path.resolve(e.path) }))
    .sort((a, b) => a.abs.split(/[\\/]/).length - b.abs.split(/[\\/]/).length);
  const containing = (abs: string) =>
    entries.filter((e) => sameLocalPath(e.abs, abs, p) || relativeUnder(e.abs, abs, p) !== null);
  return folders.map((folder) => {
    const abs = path.resolve(folder);
    // Every configured folder that is the watched folder or contains it, shallowest first.
    const rules = mergeRules(DEFAULT_FOLDER_RULES, s, techniqueRules, ...containing(abs).map((e) => e.entry));
    const inner = entries
      .map((e) => ({ e, rel: relativeUnder(abs, e.abs, p) }))
      .filter((x): x is { e: (typeof entries)[number]; rel: string } => x.rel !== null)
      .map(({ e, rel }) => ({
        rel,
        rules: mergeRules(
          rules,
          ...containing(e.abs)
            .filter((c) => relativeUnder(abs, c.abs, p) !== null)
            .map((c) => c.entry),
        ),
      }))
      .sort((a, b) => b.rel.length - a.rel.length);
    return { path: abs, rules, inner };
  });
}

/** The rules that apply at a relpath inside a watched folder: the deepest configured folder wins. */
export function rulesAt(folder: Pick<SyncFolder, 'rules' | 'inner'>, relpath: string): FolderRules {
  for (const i of folder.inner) if (relpath === i.rel || relpath.startsWith(`${i.rel}/`)) return i.rules;
  return folder.rules;
}

/**
 * What a folder takes: the job's filters (the same rule and defaults as a batch upload, see
 * scan/filters.ts) with the folder's `ignore` patterns added to its excludes.
 */
export interface SyncFilter {
  /** A folder (relpath, and its own name) not to enter at all. */
  skipsDir(relpath: string, name?: string): boolean;
  takesFile(relpath: string, name?: string): boolean;
}

export function createSyncFilter(folder: Pick<SyncFolder, 'rules' | 'inner'>, job: FilterOptions): SyncFilter {
  const filters = new Map<FolderRules, PathFilter>();
  for (const rules of [folder.rules, ...folder.inner.map((i) => i.rules)])
    if (!filters.has(rules))
      filters.set(rules, createFilter({ include: job.include, exclude: [...job.exclude, ...rules.ignore] }));
  const at = (rel: string) => filters.get(folder.inner.length ? rulesAt(folder, rel) : folder.rules)!;
  return {
    skipsDir: (rel, name) => at(rel).excludes(rel, name),
    takesFile: (rel, name) => at(rel).takesFile(rel, name),
  };
}

export interface CompiledMarker {
  re: RegExp;
  marker: string;
}

export function compileMarkers(rules: MarkerRule[]): CompiledMarker[] {
  return rules.map((r) => ({ re: new RegExp(`^(?:${r.match})$`, 'u'), marker: r.marker }));
}

/** Paths of the markers a file needs: `$1.done` etc. resolved in the file's own folder. */
export function markersFor(filePath: string, markers: CompiledMarker[]): string[] {
  const dir = path.dirname(filePath);
  const name = path.basename(filePath);
  const out: string[] = [];
  for (const m of markers) {
    if (!m.re.test(name)) continue;
    const markerName = name.replace(m.re, m.marker);
    // A file is never its own marker (a rule like "(.*)" would otherwise block the marker itself).
    if (markerName !== name) out.push(path.join(dir, markerName));
  }
  return out;
}
