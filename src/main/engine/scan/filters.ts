// Include/exclude globs of the facility profile and the job, matched with picomatch against the
// '/'-separated relpath. An exclude also covers everything inside a matching folder (as in
// .gitignore), which lets the scanner skip ".snapshot" or "**/tmp" trees without walking them.
import picomatch from 'picomatch';
import { BeamdropError } from '../../../shared/errors.js';

export interface FilterOptions {
  include: string[];
  exclude: string[];
  /** Windows and its file systems ignore case; POSIX matching stays case-sensitive. */
  caseInsensitive?: boolean;
}

export interface PathFilter {
  /** Whether a file at `relpath` is taken: it matches an include (or there are none) and no exclude. */
  takesFile(relpath: string): boolean;
  /** Whether the folder (or file) at `relpath` and everything below it is excluded. */
  excludes(relpath: string): boolean;
}

type Matcher = (relpath: string) => boolean;

function compile(patterns: string[], field: 'include' | 'exclude', nocase: boolean): Matcher | null {
  const usable = patterns.filter((p) => p.trim() !== '');
  if (usable.length === 0) return null;
  try {
    // dot: "**/.*" must see dot files. windows: false because relpaths always use "/" and a "\"
    // in a pattern keeps its glob meaning (escape) on every platform.
    return picomatch(usable, { dot: true, nocase, windows: false });
  } catch (e) {
    throw new BeamdropError(
      {
        code: 'config-invalid',
        retryable: false,
        field,
        message: `one of the ${field} patterns (${usable.map((p) => `"${p}"`).join(', ')}) is not a valid glob: ${e instanceof Error ? e.message : String(e)}; write patterns such as "**/*.h5" or "tmp/**"`,
      },
      { cause: e },
    );
  }
}

export function createFilter(options: FilterOptions): PathFilter {
  const nocase = options.caseInsensitive ?? false;
  const include = compile(options.include, 'include', nocase);
  const exclude = compile(options.exclude, 'exclude', nocase);
  const excludes = (relpath: string): boolean => exclude !== null && exclude(relpath);
  return {
    excludes,
    takesFile: (relpath) => !excludes(relpath) && (include === null || include(relpath)),
  };
}
