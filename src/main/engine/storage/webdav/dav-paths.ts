// How keys become WebDAV URLs and back. One encoding (encodeURIComponent per segment) is used
// for every request and for the URI the catalogue records, and hrefs from the server are decoded
// segment by segment, so names with spaces, '#', '%', '+', '?', '&', accents or emoji round-trip
// exactly. Also owns the hidden temporary names that uploads go through.
import { randomBytes } from 'node:crypto';
import { BeamdropError } from '../../../../shared/errors.js';

/** The destination root as a URL whose path ends in '/', without query or fragment. */
export function rootUrl(url: string): URL {
  const root = new URL(url);
  root.search = '';
  root.hash = '';
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  return root;
}

/** Refuses keys that would escape the root or name nothing, before any request is made. */
export function checkKey(key: string): string {
  const segments = key.split('/');
  const bad = key === '' || segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'));
  if (bad) {
    throw new BeamdropError({
      code: 'invalid-key',
      retryable: false,
      file: key,
      message: `invalid storage key "${key}": keys are relative paths without empty, "." or ".." parts; fix the key template in the facility profile.`,
    });
  }
  return key;
}

export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Full URL of an object (or, with `collection`, of a folder) under the root. */
export function keyUrl(root: URL, key: string, collection = false): string {
  if (key === '') return root.href;
  return root.href + encodeKey(key) + (collection ? '/' : '');
}

/** Decoded path segments of an href (absolute URL or absolute path); null if not decodable. */
export function hrefSegments(href: string): string[] | null {
  const path = href.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    // Not valid percent-encoded UTF-8 (e.g. a Latin-1 name written by another tool): such a
    // name cannot be one of our keys, and guessing would hand out a key that does not exist.
    return null;
  }
}

/** The key of an href relative to the root, '' for the root itself, null if outside it. */
export function hrefKey(rootSegments: readonly string[], href: string): string | null {
  const segments = hrefSegments(href);
  if (!segments || segments.length < rootSegments.length) return null;
  for (let i = 0; i < rootSegments.length; i++) if (segments[i] !== rootSegments[i]) return null;
  return segments.slice(rootSegments.length).join('/');
}

export function parentKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

export function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

const TEMP = /^\.beamdrop-[0-9a-f]{12}\.(.*)\.part$/s;
/** Room left for the original name inside a temporary name (servers cap names at 255 bytes). */
const TEMP_NAME_BYTES = 160;

/** A hidden, unique name next to `key` that the bytes are written to before the MOVE. */
export function tempKey(key: string): string {
  let name = '';
  let bytes = 0;
  // Cut by code point so a truncated long name never ends in half a character.
  for (const ch of baseName(key)) {
    bytes += Buffer.byteLength(ch);
    if (bytes > TEMP_NAME_BYTES) break;
    name += ch;
  }
  const dir = parentKey(key);
  const temp = `.beamdrop-${randomBytes(6).toString('hex')}.${name}.part`;
  return dir === '' ? temp : `${dir}/${temp}`;
}

export function isTempKey(key: string): boolean {
  return TEMP.test(baseName(key));
}

/** The key a temporary name was written for (its name cut as tempKey() cuts long names); null if it is not one. */
export function tempKeyTarget(key: string): string | null {
  const m = TEMP.exec(baseName(key));
  if (!m) return null;
  const dir = parentKey(key);
  const name = m[1]!;
  return dir === '' ? name : `${dir}/${name}`;
}
