// The XML of PROPFIND and PROPPATCH, including our `sha256` dead property. WebDAV has no standard
// whole-file checksum, so the SHA-256 we computed is stored on the resource as a property in our
// own namespace; mod_dav_fs keeps dead properties with the file across MOVE.
//
// PROPFIND asks for allprop: webdav's parseXML keeps only the first <propstat> of a response, and
// a named-property request splits found (200) and missing (404) properties into two of them,
// whereas allprop returns live and dead properties in one 200 propstat (RFC 4918 §9.1).
import { parseXML, type WebDAVParsingContext } from 'webdav';

export const BEAMDROP_NS = 'https://beamdrop.dev/ns';
const SHA256_PROP = `{${BEAMDROP_NS}}sha256`;

export const PROPFIND_ALLPROP = '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';

export function proppatchSha256(sha256: string): string {
  // Checked so the value can be written into XML without escaping.
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<D:propertyupdate xmlns:D="DAV:" xmlns:B="${BEAMDROP_NS}"><D:set><D:prop>` +
    `<B:sha256>${sha256}</B:sha256></D:prop></D:set></D:propertyupdate>`
  );
}

export interface DavEntry {
  /** As the server wrote it (percent-encoded path or URL). */
  href: string;
  collection: boolean;
  size: number | null;
  /** getlastmodified in ms since the epoch. */
  lastModified: number | null;
  sha256: string | null;
}

// Keys in Clark notation ({namespace}name) so our sha256 cannot be confused with another
// namespace's, and no value parsing: a hex digest of only digits must not become a number.
const parsing: WebDAVParsingContext = {
  attributeNamePrefix: '@',
  attributeParsers: [],
  tagParsers: [() => undefined],
  clarkNotationProps: true,
};

type Props = Record<string, unknown>;

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && 'text' in value) return text((value as { text: unknown }).text);
  return null;
}

function isCollection(resourcetype: unknown): boolean {
  // Children of a property keep the server's prefix (e.g. "D:collection").
  return (
    !!resourcetype &&
    typeof resourcetype === 'object' &&
    Object.keys(resourcetype).some((k) => k === 'collection' || k.endsWith(':collection'))
  );
}

function statusCode(status: unknown): number | null {
  const m = /^HTTP\/\S+\s+(\d{3})/.exec(text(status) ?? '');
  return m ? Number(m[1]) : null;
}

interface RawResponse {
  href?: unknown;
  status?: unknown;
  propstat?: { prop?: unknown; status?: unknown };
}

async function responses(xml: string): Promise<RawResponse[]> {
  const result = await parseXML(xml, parsing);
  return result.multistatus.response as RawResponse[];
}

/** The resources of a PROPFIND multistatus; responses without properties are left out. */
export async function parseMultistatus(xml: string): Promise<DavEntry[]> {
  const entries: DavEntry[] = [];
  for (const r of await responses(xml)) {
    const href = text(r.href);
    const props = r.propstat?.prop;
    if (!href || !props || typeof props !== 'object' || statusCode(r.propstat?.status) !== 200) continue;
    const p = props as Props;
    const size = text(p['{DAV:}getcontentlength']);
    const modified = text(p['{DAV:}getlastmodified']);
    const sha = text(p[SHA256_PROP])?.toLowerCase() ?? null;
    const collection = isCollection(p['{DAV:}resourcetype']);
    entries.push({
      href,
      collection,
      size: !collection && size !== null && /^\d+$/.test(size) ? Number(size) : null,
      lastModified: modified ? Date.parse(modified) || null : null,
      sha256: sha && /^[0-9a-f]{64}$/.test(sha) ? sha : null,
    });
  }
  return entries;
}

/** The HTTP status of a PROPPATCH multistatus if some property was not set, else null. */
export async function proppatchFailure(xml: string): Promise<number | null> {
  for (const r of await responses(xml)) {
    const code = statusCode(r.propstat?.status ?? r.status);
    if (code !== null && (code < 200 || code >= 300)) return code;
  }
  return null;
}
