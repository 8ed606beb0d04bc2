// Local paths on both kinds of workstation. Windows is first-class: drive letters, UNC shares,
// "\\?\" long paths, case-insensitive names, and names Windows cannot create (CON, nul.txt,
// "run1." …). Every function takes the platform explicitly so Linux CI tests the Windows rules
// with path.win32, and the engine passes process.platform.
import path from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';

export type PathPlatform = 'win32' | 'posix';

/** The path rules of a Node platform name: everything but Windows uses POSIX paths. */
export function pathPlatform(platform: NodeJS.Platform | PathPlatform = process.platform): PathPlatform {
  return platform === 'win32' ? 'win32' : 'posix';
}

export function pathApi(platform: PathPlatform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** "\\?\C:\x" → "C:\x" and "\\?\UNC\srv\share" → "\\srv\share": the same file, two spellings. */
function stripLongPathPrefix(p: string): string {
  if (/^[\\/]{2}\?[\\/]UNC[\\/]/i.test(p)) return `\\\\${p.slice(8)}`;
  if (/^[\\/]{2}\?[\\/][A-Za-z]:/.test(p)) return p.slice(4);
  return p;
}

/**
 * Windows compares names through an upper-case table, one UTF-16 unit to one. JavaScript's
 * toUpperCase also does multi-letter mappings ("ß" → "SS") that NTFS does not, so keep a
 * character unchanged when its upper case is not a single character.
 */
export function foldWindowsCase(s: string): string {
  let out = '';
  for (const ch of s) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

/** Root and name segments of an absolute path, or null when it is not fully qualified. */
function splitAbsolute(p: string, platform: PathPlatform): { root: string; segments: string[] } | null {
  const api = pathApi(platform);
  const full = platform === 'win32' ? stripLongPathPrefix(p) : p;
  const { root } = api.parse(full);
  // On Windows "\x" and "C:x" depend on the current drive or folder, so they name no fixed place.
  const qualified = platform === 'win32' ? /^([A-Za-z]:[\\/]|[\\/]{2}[^\\/]+[\\/][^\\/]+)/.test(root) : root === '/';
  if (!qualified) return null;
  const rest = api.normalize(full).slice(api.normalize(root).length);
  const segments = rest.split(platform === 'win32' ? /[\\/]/ : '/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return null; // only possible above the root; normalize removed the rest
  const normRoot = platform === 'win32' ? api.normalize(root).replaceAll('/', '\\').replace(/\\+$/, '') : '/';
  return { root: normRoot, segments };
}

function sameName(a: string, b: string, platform: PathPlatform): boolean {
  return platform === 'win32' ? foldWindowsCase(a) === foldWindowsCase(b) : a === b;
}

function mustBeAbsolute(p: string, platform: PathPlatform): { root: string; segments: string[] } {
  const parts = splitAbsolute(p, platform);
  if (parts === null) {
    throw new BeamdropError({
      code: 'internal',
      retryable: false,
      file: p,
      message: `"${p}" is not a full ${platform === 'win32' ? 'Windows path (such as C:\\data or \\\\server\\share\\data)' : 'path (starting with /)'}`,
    });
  }
  return parts;
}

/** Whether two absolute paths name the same place: case-insensitively on Windows. */
export function sameLocalPath(a: string, b: string, platform: PathPlatform): boolean {
  const pa = mustBeAbsolute(a, platform);
  const pb = mustBeAbsolute(b, platform);
  return (
    sameName(pa.root, pb.root, platform) &&
    pa.segments.length === pb.segments.length &&
    pa.segments.every((s, i) => sameName(s, pb.segments[i] ?? '', platform))
  );
}

/**
 * The '/'-separated path of `file` below the source folder `root`, keeping the file's own
 * spelling of each name; null when `file` is not strictly inside `root` (another drive, share or
 * folder, or `root` itself). Both must be absolute for `platform`.
 */
export function relativeUnder(root: string, file: string, platform: PathPlatform): string | null {
  const r = mustBeAbsolute(root, platform);
  const f = mustBeAbsolute(file, platform);
  if (!sameName(r.root, f.root, platform)) return null;
  if (f.segments.length <= r.segments.length) return null;
  for (let i = 0; i < r.segments.length; i++) {
    if (!sameName(r.segments[i] ?? '', f.segments[i] ?? '', platform)) return null;
  }
  return f.segments.slice(r.segments.length).join('/');
}

/** Device names Windows opens instead of a file, whatever the extension ("nul.txt" is NUL too). */
const RESERVED = new Set([
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'CONIN$',
  'CONOUT$',
  // COM0/LPT0 and the superscript digits are listed as reserved by Microsoft's naming rules.
  ...['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '¹', '²', '³'].flatMap((d) => [`COM${d}`, `LPT${d}`]),
]);
const FORBIDDEN_CHARS = /[<>:"/\\|?*\p{Cc}]/u;
/** NTFS limit on one name, in UTF-16 units. */
const MAX_NAME = 255;

/**
 * Why `name` (one path segment) cannot be a Windows file name, or null when it can. Used before
 * writing a fetched file on Windows, where some of these names silently open a device instead.
 */
export function checkWindowsName(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return `"${name}" is not a file name on Windows`;
  const stem = (name.split('.')[0] ?? '').replace(/ +$/, '').toUpperCase();
  if (RESERVED.has(stem)) {
    return `"${name}" is the reserved device name ${stem} on Windows (writing to it would not create a file); fetch it under another name, e.g. "_${name}"`;
  }
  const bad = FORBIDDEN_CHARS.exec(name);
  if (bad) {
    const shown = /\p{Cc}/u.test(bad[0])
      ? `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`
      : `"${bad[0]}"`;
    return `"${name}" contains ${shown}, which Windows does not allow in file names`;
  }
  if (/[ .]$/.test(name)) {
    return `"${name}" ends with a ${name.endsWith(' ') ? 'space' : 'dot'}, which Windows silently removes`;
  }
  if (name.length > MAX_NAME)
    return `"${name.slice(0, 40)}…" is longer than the ${MAX_NAME} characters Windows allows in one name`;
  return null;
}

/** The first problem of any segment of a '/'-separated key when written on Windows, or null. */
export function checkWindowsRelpath(relpath: string): string | null {
  for (const segment of relpath.split('/')) {
    const problem = checkWindowsName(segment);
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * Groups of keys that Windows would store as the same file because they differ only in case
 * ("Run1/a.h5" and "run1/A.h5"). Each group lists the keys in input order.
 */
export function findCaseCollisions(keys: Iterable<string>): string[][] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const folded = foldWindowsCase(key);
    const group = groups.get(folded);
    if (group === undefined) groups.set(folded, [key]);
    else if (!group.includes(key)) group.push(key);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}
