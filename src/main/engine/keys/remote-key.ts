// Turns a local relative path into the {relpath} part of a remote key. Keys are '/'-separated and
// NFC so the same file gets the same key from Windows, macOS (which hands out NFD names) and
// Linux. Nothing is percent-encoded here: each destination encodes for its own protocol, so a
// name like "run #3 100%.h5" stays exactly that in the catalogue.
import { BeamdropError } from '../../../shared/errors.js';

// C0 controls, DEL and C1 controls: invisible in every UI, and NUL truncates names in C APIs.
const CONTROL = /\p{Cc}/u;
const DRIVE = /^[A-Za-z]:/;

function invalid(relpath: string, what: string): BeamdropError {
  return new BeamdropError({
    code: 'invalid-key',
    retryable: false,
    file: relpath,
    message: `"${printable(relpath)}" cannot be stored: ${what}`,
  });
}

/** The path with control characters shown as \uXXXX so a message never hides them. */
export function printable(s: string): string {
  return s.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The key part for a file at `relpath` (relative to its source root, either separator).
 * Throws BeamdropError 'invalid-key' (with `file`) for absolute paths, ".." and control characters.
 */
export function toRemoteRelpath(relpath: string): string {
  if (CONTROL.test(relpath)) {
    throw invalid(relpath, 'the name contains a control character (such as NUL or a line break); rename the file');
  }
  // `\` is a separator on Windows and cannot be part of a Windows file name, so treating it as
  // a separator everywhere keeps keys fetchable back to a Windows workstation.
  const slashed = relpath.replaceAll('\\', '/');
  if (slashed.startsWith('/')) {
    // Covers "/x", "\x" (root of the current drive) and "\\server\share" (UNC).
    throw invalid(relpath, 'it is an absolute path; give the path relative to the source folder');
  }
  if (DRIVE.test(slashed)) {
    // "C:\x" is absolute and "C:x" is relative to drive C's current folder: neither is under the source.
    throw invalid(relpath, 'it starts with a drive letter; give the path relative to the source folder');
  }
  const out: string[] = [];
  for (const segment of slashed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw invalid(relpath, 'it contains ".." and would leave the dataset folder; give a path inside the source folder');
    }
    out.push(segment.normalize('NFC'));
  }
  if (out.length === 0) throw invalid(relpath, 'the path is empty; give a file path inside the source folder');
  return out.join('/');
}

/** How a name is spelt in Unicode terms, for a message that must tell two look-alikes apart. */
function unicodeForm(s: string): string {
  if (s === s.normalize('NFC')) return 'composed, NFC';
  if (s === s.normalize('NFD')) return 'decomposed, NFD';
  return 'mixed composed and decomposed';
}

/**
 * Files of one dataset whose paths differ only by Unicode normalisation ("café" typed on Linux,
 * "cafe" + U+0301 copied from a Mac) get the same NFC key: the first keeps it, the next is refused
 * with invalid-key naming both, instead of meeting the first at the destination as a "conflict".
 */
export class KeyClaims {
  private readonly byKey = new Map<string, string>();

  /** null when `relpath` may have its key; otherwise the error of the file that came second. */
  claim(relpath: string): BeamdropError | null {
    let key: string;
    try {
      key = toRemoteRelpath(relpath);
    } catch {
      return null; // refused on its own when it is sent, with its own reason
    }
    const first = this.byKey.get(key);
    if (first === undefined) {
      this.byKey.set(key, relpath);
      return null;
    }
    if (first === relpath) return null;
    return new BeamdropError({
      code: 'invalid-key',
      retryable: false,
      file: relpath,
      message: `"${printable(relpath)}" (${unicodeForm(relpath)}) and "${printable(first)}" (${unicodeForm(first)}) differ only by Unicode normalisation and would both be stored as "${key}"; rename one of them, then run the same upload again (the other one is stored).`,
    });
  }
}
