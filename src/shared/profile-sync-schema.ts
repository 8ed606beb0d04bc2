// The `sync:` section of the facility profile: how sync mode decides that a file is complete
// (quiet period, exclusive-open check, marker files, ignore patterns), how each folder is watched
// (events or polling, for network shares), and what happens to files that change after upload.
// Rules are set once for all folders, per technique and per folder; later ones override earlier
// ones field by field, and every rule that is set applies (they combine).
import { z } from 'zod';
import { globSchema } from './profile-globs.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** "500ms", "5s", "2m", "1h", or a bare number of seconds; null when it is not a duration. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(value);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

const duration = (what: string) =>
  z.union([z.number(), z.string()], { error: `write ${what} as a duration such as 5s, 500ms or 2m` }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a duration; write ${what} such as 5s, 500ms or 2m (a bare number means seconds)`,
      });
      return z.NEVER;
    }
    return ms;
  });

const markerRule = z.strictObject({
  /** Regular expression matched against the whole file name, e.g. "(.*)\\.h5". */
  match: z
    .string({ error: 'write the file names the rule applies to as a regular expression, e.g. match: "(.*)\\.h5"' })
    .superRefine((src, ctx) => {
      try {
        new RegExp(`^(?:${src})$`, 'u');
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          message: `"${src}" is not a valid regular expression (${(e as Error).message}); write e.g. "(.*)_data_\\d+\\.h5"`,
        });
      }
    }),
  /** Name of the marker in the same folder, with $1… or $<name> from `match`, e.g. "$1.done". */
  marker: z
    .string({ error: 'write the marker file name, e.g. marker: "$1.done" or "$1_master.h5"' })
    .min(1)
    .refine((m) => !m.startsWith('/') && !m.split(/[\\/]/).includes('..'), {
      message: 'the marker is a name in the same folder (or a subfolder): remove the leading "/" and any ".."',
    }),
});
export type MarkerRule = z.output<typeof markerRule>;

/** Completeness and watching rules; every field is optional so that layers can override one field. */
const ruleFields = {
  /** Size and modification time must stay unchanged this long (default 5s). */
  quietPeriod: duration('quietPeriod').optional(),
  /** "auto": on Windows only, where a writer that still holds the file makes opening it fail. */
  exclusiveOpen: z.enum(['auto', 'always', 'never'], { error: 'write exclusiveOpen: auto, always or never' }).optional(),
  /** A file matching `match` is complete only once its marker exists. */
  markers: z.array(markerRule).optional(),
  /**
   * More excludes for these folders (same glob rule as the profile's exclude; the defaults are the
   * profile's defaultExclude, so nothing is needed here to leave out dot, temporary and lock files).
   */
  ignore: z.array(globSchema).optional(),
  /** watch: file-system events plus a periodic check; poll: only periodic checks (SMB/NFS shares). */
  mode: z.enum(['watch', 'poll'], { error: 'write mode: watch (local disks) or poll (network shares)' }).optional(),
  /** How often a polled folder is checked (default 5s). */
  pollInterval: duration('pollInterval').optional(),
};

const ruleSet = z.strictObject(ruleFields);
export type SyncRuleSet = z.output<typeof ruleSet>;

export const syncSchema = z
  .strictObject({
    ...ruleFields,
    /** version: upload the new content beside the first as NAME.vN.EXT; flag: only mark the file `changed`. */
    onChange: z
      .enum(['version', 'flag'], {
        error: 'write onChange: version (upload the new content as NAME.v2.EXT) or flag (only report it)',
      })
      .default('version'),
    /** Watched folders: how often folder times are compared, to catch events the watcher missed. */
    reconcileInterval: duration('reconcileInterval').default(10_000),
    /** How often every file is stat-ed again (catches in-place changes where folder times do not move). */
    rescanInterval: duration('rescanInterval').default(600_000),
    /** After a stop, how long files that are not complete yet may take before they are reported. */
    stopGrace: duration('stopGrace').default(60_000),
    /** Rules per technique, chosen with `beamdrop watch --technique NAME`. */
    techniques: z.record(z.string(), ruleSet).default({}),
    /** Rules per folder: `path` is a watched folder or a folder above it; the deepest match wins. */
    folders: z
      .array(
        z.strictObject({
          path: z.string({ error: 'write the folder, e.g. path: /mnt/detector' }).min(1),
          ...ruleFields,
        }),
      )
      .default([]),
  })
  .prefault({});
export type SyncProfile = z.output<typeof syncSchema>;

/** The rules of one folder once every layer is applied. */
export interface FolderRules {
  quietPeriodMs: number;
  exclusiveOpen: 'auto' | 'always' | 'never';
  markers: MarkerRule[];
  ignore: string[];
  mode: 'watch' | 'poll';
  pollIntervalMs: number;
}

export const DEFAULT_FOLDER_RULES: FolderRules = {
  quietPeriodMs: 5000,
  exclusiveOpen: 'auto',
  markers: [],
  ignore: [],
  mode: 'watch',
  pollIntervalMs: 5000,
};

/** Applies rule layers in order (later wins, field by field). */
export function mergeRules(base: FolderRules, ...layers: (SyncRuleSet | undefined)[]): FolderRules {
  const out = { ...base };
  for (const l of layers) {
    if (!l) continue;
    if (l.quietPeriod !== undefined) out.quietPeriodMs = l.quietPeriod;
    if (l.exclusiveOpen !== undefined) out.exclusiveOpen = l.exclusiveOpen;
    if (l.markers !== undefined) out.markers = l.markers;
    if (l.ignore !== undefined) out.ignore = l.ignore;
    if (l.mode !== undefined) out.mode = l.mode;
    if (l.pollInterval !== undefined) out.pollIntervalMs = l.pollInterval;
  }
  return out;
}
