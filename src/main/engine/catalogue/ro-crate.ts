// Detached RO-Crate 1.2 metadata for a finished dataset, built here as plain JSON-LD (the `ro-crate`
// npm package is GPL and only validates our output in tests), and the reverse: reading a crate a
// facility emits, for `beamdrop import`. Every File is identified by its absolute storage URI and
// carries name, contentSize, encodingFormat and sha256 (a 1.2 context term).
import { BeamdropError } from '../../../shared/errors.js';
import type { MetadataValue } from './catalogue-adapter.js';
import { baseName, fileFormatOf } from './file-format.js';

export const CRATE_CONTEXT = 'https://w3id.org/ro/crate/1.2/context';
export const CRATE_SPEC = 'https://w3id.org/ro/crate/1.2';
export const CRATE_SUFFIX = '-ro-crate-metadata.json';

export interface CrateFile {
  relpath: string;
  storageUri: string;
  size: number;
  sha256: string;
  mtimeMs: number;
}

export interface CrateInput {
  name: string;
  description: string | null;
  /** Absolute URI of the dataset's folder: the root data entity's @id. */
  rootUri: string;
  datePublished: string;
  license: string;
  proposal: string | null;
  technique: string | null;
  sample: string | null;
  instrument: string | null;
  /** Catalogue PID/id when known, else the outbox idempotency key. */
  identifier: string | null;
  metadata: Record<string, MetadataValue>;
  files: CrateFile[];
}

type Entity = Record<string, unknown> & { '@id': string };

export function crateFileName(dataset: string): string {
  return `${dataset.replace(/[^A-Za-z0-9._-]+/g, '_')}${CRATE_SUFFIX}`;
}

export function buildCrate(c: CrateInput): { '@context': string; '@graph': Entity[] } {
  const root = c.rootUri.endsWith('/') ? c.rootUri : `${c.rootUri}/`;
  const props: Entity[] = Object.entries(c.metadata).map(([k, v]) => ({
    '@id': `#param-${encodeURIComponent(k)}`,
    '@type': 'PropertyValue',
    name: k,
    value: v.value,
    ...(v.unit ? { unitText: v.unit } : {}),
  }));
  const files: Entity[] = c.files.map((f) => ({
    '@id': f.storageUri,
    '@type': 'File',
    name: baseName(f.relpath),
    alternateName: f.relpath,
    contentSize: String(f.size),
    sha256: f.sha256,
    dateModified: new Date(f.mtimeMs).toISOString(),
    encodingFormat: fileFormatOf(f.relpath)?.mime ?? 'application/octet-stream',
    contentUrl: f.storageUri,
  }));
  const rootEntity: Entity = {
    '@id': root,
    '@type': 'Dataset',
    name: c.name,
    description: c.description ?? `Dataset ${c.name}${c.technique ? ` (${c.technique})` : ''} registered by Beamdrop`,
    datePublished: c.datePublished,
    license: c.license,
    hasPart: files.map((f) => ({ '@id': f['@id'] })),
    ...(c.identifier ? { identifier: c.identifier } : {}),
    ...(c.technique ? { measurementTechnique: c.technique } : {}),
    ...(c.proposal ? { isPartOf: { '@id': `#proposal-${encodeURIComponent(c.proposal)}` } } : {}),
    ...(props.length ? { variableMeasured: props.map((p) => ({ '@id': p['@id'] })) } : {}),
    ...(c.sample ? { about: { '@id': `#sample-${encodeURIComponent(c.sample)}` } } : {}),
    ...(c.instrument ? { instrument: { '@id': `#instrument-${encodeURIComponent(c.instrument)}` } } : {}),
  };
  const context: Entity[] = [
    ...(c.proposal ? [{ '@id': `#proposal-${encodeURIComponent(c.proposal)}`, '@type': 'Project', name: c.proposal }] : []),
    ...(c.sample ? [{ '@id': `#sample-${encodeURIComponent(c.sample)}`, '@type': 'Thing', name: c.sample }] : []),
    ...(c.instrument
      ? [{ '@id': `#instrument-${encodeURIComponent(c.instrument)}`, '@type': 'IndividualProduct', name: c.instrument }]
      : []),
  ];
  return {
    '@context': CRATE_CONTEXT,
    '@graph': [
      { '@id': 'ro-crate-metadata.json', '@type': 'CreativeWork', about: { '@id': root }, conformsTo: { '@id': CRATE_SPEC } },
      rootEntity,
      ...files,
      ...props,
      ...context,
    ],
  };
}

export interface ImportedCrate {
  name: string;
  description: string | null;
  rootUri: string;
  proposal: string | null;
  technique: string | null;
  metadata: Record<string, MetadataValue>;
  files: { relpath: string; storageUri: string; size: number; sha256: string; mtimeMs: number }[];
}

/** Reads a crate's root dataset and files; files need an absolute URI, a size and a SHA-256 to be imported. */
export function readCrate(json: unknown, source: string): ImportedCrate {
  const bad = (why: string) =>
    new BeamdropError({
      code: 'config-invalid',
      retryable: false,
      file: source,
      message: `${source} is not an RO-Crate Beamdrop can import: ${why}.`,
    });
  const graph = (json as { '@graph'?: unknown })?.['@graph'];
  if (!Array.isArray(graph)) throw bad('it has no @graph');
  const byId = new Map<string, Entity>();
  for (const e of graph as Entity[]) if (e && typeof e['@id'] === 'string') byId.set(e['@id'], e);
  const descriptor = byId.get('ro-crate-metadata.json');
  const rootId = (descriptor?.about as { '@id'?: string } | undefined)?.['@id'];
  const root = rootId ? byId.get(rootId) : undefined;
  if (!root || !rootId) throw bad('the descriptor "ro-crate-metadata.json" does not point to a root dataset');
  const str = (v: unknown): string | null =>
    typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
  const parts = ([] as { '@id': string }[]).concat((root.hasPart as { '@id': string }[] | { '@id': string } | undefined) ?? []);
  const files: ImportedCrate['files'] = [];
  for (const ref of parts) {
    const f = byId.get(ref['@id']);
    if (!f) continue;
    const types = ([] as unknown[]).concat(f['@type']);
    if (!types.includes('File')) continue;
    const uri = str(f.contentUrl) ?? f['@id'];
    if (!/^[a-z][a-z0-9+.-]*:/i.test(uri))
      throw bad(`file "${f['@id']}" has no absolute URI (a detached crate lists storage URIs)`);
    const size = Number(str(f.contentSize) ?? f.contentSize);
    const sha256 = str(f.sha256);
    if (!Number.isFinite(size) || size < 0) throw bad(`file ${uri} has no contentSize`);
    if (!sha256 || !/^[0-9a-f]{64}$/i.test(sha256))
      throw bad(`file ${uri} has no sha256, so it could not be verified when fetched`);
    const relpath = str(f.alternateName) ?? relativeTo(rootId, uri) ?? str(f.name) ?? baseName(uri);
    const modified = Date.parse(str(f.dateModified) ?? '');
    files.push({ relpath, storageUri: uri, size, sha256: sha256.toLowerCase(), mtimeMs: Number.isNaN(modified) ? 0 : modified });
  }
  const metadata: Record<string, MetadataValue> = {};
  for (const ref of ([] as { '@id': string }[]).concat((root.variableMeasured as { '@id': string }[] | undefined) ?? [])) {
    const p = byId.get(ref['@id']);
    const name = str(p?.name);
    if (p && name && (typeof p.value === 'string' || typeof p.value === 'number' || typeof p.value === 'boolean')) {
      metadata[name] = { value: p.value, ...(str(p.unitText) ? { unit: str(p.unitText)! } : {}) };
    }
  }
  const proposalRef = (root.isPartOf as { '@id'?: string } | undefined)?.['@id'];
  return {
    name: str(root.name) ?? rootId,
    description: str(root.description),
    rootUri: rootId,
    proposal: proposalRef ? str(byId.get(proposalRef)?.name) : null,
    technique: str(root.measurementTechnique),
    metadata,
    files,
  };
}

function relativeTo(root: string, uri: string): string | null {
  if (!root.endsWith('/') || !uri.startsWith(root)) return null;
  try {
    return decodeURIComponent(uri.slice(root.length));
  } catch {
    return null;
  }
}
