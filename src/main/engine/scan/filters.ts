// The one glob rule of Beamdrop, for batch uploads and sync sessions alike (README, "Which files
// are taken"). Patterns are rclone's globs, matched with picomatch against '/'-separated relpaths:
// - without "/", a pattern matches the name of a file or folder at any depth ("*.h5", ".*");
// - with "/", it matches the path from the dataset root ("raw/*.h5"); a leading "/" anchors a
//   bare name to the root ("/notes.txt"); a trailing "/" is ignored ("tmp/" is "tmp");
// - "*" and "?" stay within one name, "**" crosses folders; case-sensitive on every platform; a
//   dot file is an ordinary name ("*" matches ".x", the default exclude ".*" is what leaves it out).
// A file is taken when it matches an include (or there are none) and no exclude. An exclude that
// matches a folder covers everything inside it, so the folder is not entered at all (".snapshot").
// An include wins over an exclude when it spells out what that exclude leaves out, i.e. when the
// exclude matches the include pattern as written: `--include .beamline.json` beats ".*",
// `--include '**/*.tmp'` beats "*.tmp", but `--include '*'` beats neither.
//
// picomatch's own `basename` option is not used: in picomatch 4 it matches the name for every
// pattern, also those with a "/", so "raw/*.h5" would never match. Patterns are split here.
import picomatch from 'picomatch';
import { BeamdropError } from '../../../shared/errors.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';

export interface FilterOptions {
  include: string[];
  exclude: string[];
}

export interface PathFilter {
  /**
   * Whether the file at `relpath` is taken. The walk has already checked its folders with
   * `excludes`; `name` (the last part of `relpath`) is passed by callers that have it.
   */
  takesFile(relpath: string, name?: string): boolean;
  /** Whether the folder (or file) at `relpath` and everything below it is left out: not entered. */
  excludes(relpath: string, name?: string): boolean;
}

type Test = (s: string) => boolean;

/** One pattern, classified by the rule. */
interface Glob {
  /** As written, for messages. */
  source: string;
  /** Without a leading "/" and a trailing "/". */
  body: string;
  /** Matched against the name (no "/" and not anchored) or against the whole relpath. */
  byName: boolean;
  test: Test;
  /** One matcher per "/"-separated part of `body`, made when first needed (see `reaches`). */
  parts?: (Test | 'globstar')[];
}

/** Options for every pattern: "*" sees dot files, "\" keeps its glob meaning (escape) everywhere. */
const PICOMATCH = { dot: true, windows: false } as const;

const nameOf = (relpath: string) => relpath.slice(relpath.lastIndexOf('/') + 1);

function glob(source: string, field: string): Glob {
  // "./x" is anchored like "/x".
  const anchored = source.startsWith('/') || source.startsWith('./');
  const body = source.replace(/^(?:\.?\/)+/, '').replace(/\/+$/, '');
  try {
    return { source, body, byName: !anchored && !body.includes('/'), test: picomatch(body, PICOMATCH) };
  } catch (e) {
    throw new BeamdropError(
      {
        code: 'usage',
        retryable: false,
        field,
        message: `the ${field} pattern "${source.length > 80 ? `${source.slice(0, 80)}…` : source}" is not a valid glob: ${e instanceof Error ? e.message : String(e)}; write patterns such as "*.h5" or "raw/**"`,
      },
      { cause: e },
    );
  }
}

/** Compiles usable (non-blank) patterns; the error names the field they came from. */
export function compileGlobs(patterns: string[], field: string): Glob[] {
  return patterns.filter((p) => p.trim() !== '' && p.replace(/\//g, '') !== '').map((p) => glob(p, field));
}

const matches = (g: Glob, relpath: string, name: string) => (g.byName ? g.test(name) : g.test(relpath));

/** Whether `g` matches the file or folder at `relpath` or one of the folders above it. */
function matchesWithin(g: Glob, relpath: string): boolean {
  for (let end = relpath.indexOf('/'); end !== -1; end = relpath.indexOf('/', end + 1)) {
    const prefix = relpath.slice(0, end);
    if (matches(g, prefix, nameOf(prefix))) return true;
  }
  return matches(g, relpath, nameOf(relpath));
}

/** Whether an include spells out what `exclude` leaves out: the exclude matches the include as written. */
function winsOver(include: Glob, exclude: Glob): boolean {
  return include.body !== '' && matchesWithin(exclude, include.body);
}

/** Whether `include` may match a file inside the folder at `dir` (so the folder must be entered). */
function reaches(include: Glob, dir: string): boolean {
  if (include.byName || include.body.includes('{')) return true;
  include.parts ??= include.body.split('/').map((p) => (p.includes('**') ? 'globstar' : picomatch(p, PICOMATCH)));
  const have = dir.split('/');
  for (let i = 0; i < have.length; i++) {
    const part = include.parts[i];
    if (part === undefined) return false;
    if (part === 'globstar') return true;
    if (!part(have[i]!)) return false;
  }
  // The folder matched every part so far: the include reaches inside if it has parts left.
  return include.parts.length > have.length;
}

export function createFilter(options: FilterOptions): PathFilter {
  const include = compileGlobs(options.include, 'include');
  const exclude = compileGlobs(options.exclude, 'exclude');
  // Excludes no include wins over decide alone; the others ("yielding") only where no such include matches.
  const firm: Glob[] = [];
  const yielding: { exclude: Glob; winners: Glob[] }[] = [];
  for (const e of exclude) {
    const winners = include.filter((i) => winsOver(i, e));
    if (winners.length) yielding.push({ exclude: e, winners });
    else firm.push(e);
  }
  const anyOf = (globs: Glob[], relpath: string, name: string) => globs.some((g) => matches(g, relpath, name));

  // A folder a yielding exclude matches is still entered where a winning include may match inside it.
  const excludes = (relpath: string, name = nameOf(relpath)): boolean =>
    anyOf(firm, relpath, name) ||
    yielding.some(
      (y) => matches(y.exclude, relpath, name) && !y.winners.some((w) => matches(w, relpath, name) || reaches(w, relpath)),
    );

  const takesFile = (relpath: string, name = nameOf(relpath)): boolean => {
    if (anyOf(firm, relpath, name)) return false;
    if (include.length && !anyOf(include, relpath, name)) return false;
    for (const y of yielding) if (matchesWithin(y.exclude, relpath) && !anyOf(y.winners, relpath, name)) return false;
    return true;
  };
  return { excludes, takesFile };
}

/** A job's filters, as both modes store them: the profile's, then the operator's (CLI flags, form). */
export function jobFilters(
  profile: Pick<FacilityProfile, 'include' | 'exclude' | 'defaultExclude'>,
  target: { include?: string[] | undefined; exclude?: string[] | undefined },
): FilterOptions {
  // The profile's patterns were checked when it was loaded; the operator's (--include, the app's
  // form fields of the same names) are checked here, so a bad one is refused before a job exists.
  compileGlobs(target.include ?? [], 'include');
  compileGlobs(target.exclude ?? [], 'exclude');
  return {
    include: [...profile.include, ...(target.include ?? [])],
    exclude: [...profile.defaultExclude, ...profile.exclude, ...(target.exclude ?? [])],
  };
}
