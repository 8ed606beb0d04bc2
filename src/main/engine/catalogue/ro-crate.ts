// Detached RO-Crate 1.2 metadata for a finished dataset, built here as plain JSON-LD (the `ro-crate`
// npm package is GPL and only validates our output in tests), and the reverse: reading a crate a
// facility emits, for `beamdrop import`. Every File is identified by its absolute storage URI and
// carries name, contentSize, encodingFormat and sha256 (a 1.2 context term). A derived dataset
// names its inputs twice, as RO-Crate 1.2's provenance section does: `isBasedOn` on the root, and
// a CreateAction whose `object` are the inputs, `instrument` the SoftwareApplications and
// `result` the dataset. The visit is the Event the data were recorded at (`recordedAt`).
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BeamdropError } from '../../../shared/errors.js';
import { softwareParts, type MetadataValue } from './catalogue-adapter.js';
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
  /** The visit (session) of the proposal, when the dataset names one. */
  visit?: string | null;
  technique: string | null;
  sample: string | null;
  instrument: string | null;
  /** Input datasets of a derived dataset (PIDs or names, in order). */
  inputDatasets?: string[];
  /** Software that made a derived dataset, "NAME VERSION". */
  usedSoftware?: string[];
  /** Catalogue PID/id when known, else the outbox idempotency key. */
  identifier: string | null;
  metadata: Record<string, MetadataValue>;
  files: CrateFile[];
}

type Entity = Record<string, unknown> & { '@id': string };

export function crateFileName(dataset: string): string {
  return `${dataset.replace(/[^A-Za-z0-9._-]+/g, '_')}${CRATE_SUFFIX}`;
}

const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:/i;
const localId = (kind: string, ...parts: string[]) => `#${kind}-${parts.map(encodeURIComponent).join('-')}`;

/** An input dataset as a contextual entity: its own URI when it has one, else a local id with the identifier given. */
function inputEntity(input: string): Entity {
  if (ABSOLUTE_URI.test(input)) {
    const name = decodeURIComponent(input.replace(/\/+$/, '').split('/').pop() ?? '') || input;
    return { '@id': input, '@type': 'Dataset', name, identifier: input };
  }
  return { '@id': localId('input', input), '@type': 'Dataset', name: input, identifier: input };
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
  const inputs = [...new Set((c.inputDatasets ?? []).map((s) => s.trim()).filter(Boolean))].map(inputEntity);
  const software: Entity[] = [...new Set((c.usedSoftware ?? []).map((s) => s.trim()).filter(Boolean))].map((entry) => {
    const { name, version } = softwareParts(entry);
    return {
      '@id': localId('software', name, ...(version === null ? [] : [version])),
      '@type': 'SoftwareApplication',
      name,
      ...(version === null ? {} : { version }),
    };
  });
  const provenance: Entity[] =
    inputs.length + software.length === 0
      ? []
      : [
          {
            '@id': localId('create', c.name),
            '@type': 'CreateAction',
            name: `Derivation of ${c.name}`,
            ...(inputs.length ? { object: inputs.map((i) => ({ '@id': i['@id'] })) } : {}),
            ...(software.length ? { instrument: software.map((x) => ({ '@id': x['@id'] })) } : {}),
            result: { '@id': root },
          },
        ];
  const visit = c.visit && c.proposal ? localId('visit', c.proposal, c.visit) : null;
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
    ...(visit ? { recordedAt: { '@id': visit } } : {}),
    ...(props.length ? { variableMeasured: props.map((p) => ({ '@id': p['@id'] })) } : {}),
    ...(c.sample ? { about: { '@id': `#sample-${encodeURIComponent(c.sample)}` } } : {}),
    ...(c.instrument ? { instrument: { '@id': `#instrument-${encodeURIComponent(c.instrument)}` } } : {}),
    ...(inputs.length ? { isBasedOn: inputs.map((i) => ({ '@id': i['@id'] })) } : {}),
  };
  const context: Entity[] = [
    ...(c.proposal ? [{ '@id': `#proposal-${encodeURIComponent(c.proposal)}`, '@type': 'Project', name: c.proposal }] : []),
    ...(visit
      ? [{ '@id': visit, '@type': 'Event', name: `visit ${c.visit} of ${c.proposal}`, identifier: c.visit as string }]
      : []),
    ...(c.sample ? [{ '@id': `#sample-${encodeURIComponent(c.sample)}`, '@type': 'Thing', name: c.sample }] : []),
    ...(c.instrument
      ? [{ '@id': `#instrument-${encodeURIComponent(c.instrument)}`, '@type': 'IndividualProduct', name: c.instrument }]
      : []),
    ...inputs,
    ...software,
    ...provenance,
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
  visit: string | null;
  technique: string | null;
  sample: string | null;
  instrument: string | null;
  facility: string | null;
  /** Input datasets (isBasedOn, or the object of the CreateAction that made the dataset). */
  inputDatasets: string[];
  /** Software of that CreateAction, "NAME VERSION". */
  usedSoftware: string[];
  metadata: Record<string, MetadataValue>;
  files: { relpath: string; storageUri: string; size: number; sha256: string; mtimeMs: number }[];
}

/** Prefixes under which crates spell the terms we read (LAMBDA-BER crates mix both forms, §4.4 of its profile). */
const PREFIXES = ['', 'schema:', 'sdo:', 'http://schema.org/', 'https://schema.org/', 'lambda:', 'lambdarc:'];

/** A property of an entity under any of its spellings. */
function prop(e: Entity | undefined, ...names: string[]): unknown {
  if (e === undefined) return undefined;
  for (const n of names) for (const p of PREFIXES) if (e[`${p}${n}`] !== undefined) return e[`${p}${n}`];
  return undefined;
}

const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const refId = (v: unknown): string | null =>
  typeof v === 'object' && v !== null && typeof (v as { '@id'?: unknown })['@id'] === 'string'
    ? ((v as { '@id': string })['@id'] as string)
    : null;
const typesOf = (e: Entity | undefined): string[] => list(e?.['@type']).filter((t): t is string => typeof t === 'string');

/**
 * The SHA-256 of a file in any of the forms crates write: `sha256` as hex; `checksum` (LAMBDA-BER's
 * DataFile slot) as "sha256:HEX", "SHA-256:HEX", a bare 64-digit hex, or Subresource Integrity
 * "sha256-BASE64". Another algorithm alone is reported by name.
 */
export function crateSha256(e: Entity): { sha256: string } | { other: string } | null {
  let other: string | null = null;
  for (const v of [...list(prop(e, 'sha256')), ...list(prop(e, 'checksum', 'contentChecksum'))]) {
    const text =
      typeof v === 'string' ? v.trim() : typeof v === 'object' && v !== null ? String(prop(v as Entity, 'value') ?? '') : '';
    const m = /^(?:(sha-?256)[:=]\s*)?([0-9a-f]{64})$/i.exec(text);
    if (m !== null) return { sha256: (m[2] as string).toLowerCase() };
    const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(text);
    if (sri !== null) return { sha256: Buffer.from(sri[1] as string, 'base64').toString('hex') };
    const algo = /^([a-z0-9-]+)[:-]/i.exec(text);
    if (algo !== null && text !== '') other ??= (algo[1] as string).toLowerCase();
  }
  return other === null ? null : { other };
}

/** The crate file's folder as a URL: relative @ids of an attached crate are relative to it. */
function baseOf(source: string): string | null {
  if (ABSOLUTE_URI.test(source) && !/^[a-z]:[\\/]/i.test(source)) return new URL('.', source).href;
  try {
    return pathToFileURL(`${dirname(resolve(source))}/`).href;
  } catch {
    return null;
  }
}

/**
 * Reads a crate's root dataset and files; files need a URI (absolute, or relative to the crate's
 * folder), a size and a SHA-256 to be imported. Accepts Beamdrop's detached crates and the crates
 * other producers write (LAMBDA-BER's Core profile: `checksum`, `sample_code`, `instrumentName`).
 */
export function readCrate(json: unknown, source: string): ImportedCrate {
  const bad = (why: string) =>
    new BeamdropError({
      code: 'source-invalid',
      retryable: false,
      file: source,
      message: `${source} is not an RO-Crate Beamdrop can import: ${why}.`,
    });
  const graph = (json as { '@graph'?: unknown })?.['@graph'];
  if (!Array.isArray(graph)) throw bad('it has no @graph');
  const byId = new Map<string, Entity>();
  for (const e of graph as Entity[]) if (e && typeof e['@id'] === 'string') byId.set(e['@id'], e);
  const descriptor =
    byId.get('ro-crate-metadata.json') ??
    [...byId.values()].find((e) => e['@id'].endsWith('ro-crate-metadata.json') && refId(e.about) !== null);
  const rootId = refId(descriptor?.about);
  const root = rootId ? byId.get(rootId) : undefined;
  if (!root || !rootId) throw bad('the descriptor "ro-crate-metadata.json" does not point to a root dataset');
  const base = ABSOLUTE_URI.test(rootId) ? (rootId.endsWith('/') ? rootId : `${rootId}/`) : baseOf(source);
  const absolute = (id: string): string | null => {
    if (ABSOLUTE_URI.test(id)) return id;
    if (base === null) return null;
    try {
      return new URL(id, base).href;
    } catch {
      return null;
    }
  };
  const str = (v: unknown): string | null =>
    typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'number' ? String(v) : null;
  /** A string property, or the first of `keys` (default: name) of the entity it points to. */
  const named = (v: unknown, ...keys: string[]): string | null => {
    for (const x of list(v)) {
      const id = refId(x);
      const text = id === null ? str(x) : str(prop(byId.get(id), ...(keys.length ? keys : ['name'])));
      if (text) return text;
    }
    return null;
  };

  const files: ImportedCrate['files'] = [];
  const seen = new Set<string>();
  const walk = (parts: unknown): void => {
    for (const ref of list(parts)) {
      const id = refId(ref);
      if (id === null || seen.has(id)) continue;
      seen.add(id);
      const f = byId.get(id);
      if (!f) continue;
      const types = typesOf(f);
      if (!types.includes('File')) {
        // A dataset part (a sub-folder) lists its own files.
        if (types.includes('Dataset')) walk(f.hasPart);
        continue;
      }
      const given = str(refId(f.contentUrl) ?? f.contentUrl) ?? str(prop(f, 'storage_uri')) ?? f['@id'];
      const uri = absolute(given);
      if (uri === null) throw bad(`file "${f['@id']}" has no absolute URI, and the crate's folder is unknown to resolve it`);
      const size = Number(str(prop(f, 'contentSize', 'file_size_bytes')) ?? NaN);
      if (!Number.isFinite(size) || size < 0) throw bad(`file ${uri} has no contentSize`);
      const sum = crateSha256(f);
      if (sum === null) throw bad(`file ${uri} has no sha256, so it could not be verified when fetched`);
      if ('other' in sum)
        throw bad(
          `file ${uri} has only a ${sum.other} checksum; Beamdrop checks fetched files by SHA-256, so the crate must give sha256`,
        );
      const relative = ABSOLUTE_URI.test(f['@id']) ? null : decodeURIComponent(f['@id'].replace(/^\.\//, ''));
      const relpath =
        str(f.alternateName) ??
        relative ??
        relativeTo(rootId, uri) ??
        str(prop(f, 'file_path')) ??
        str(prop(f, 'name', 'file_name')) ??
        baseName(uri);
      const modified = Date.parse(str(prop(f, 'dateModified', 'creation_date')) ?? '');
      files.push({ relpath, storageUri: uri, size, sha256: sum.sha256, mtimeMs: Number.isNaN(modified) ? 0 : modified });
    }
  };
  walk(root.hasPart);

  const metadata: Record<string, MetadataValue> = {};
  for (const ref of list(root.variableMeasured)) {
    const p = byId.get(refId(ref) ?? '');
    const name = str(p?.name);
    if (p && name && (typeof p.value === 'string' || typeof p.value === 'number' || typeof p.value === 'boolean')) {
      metadata[name] = { value: p.value, ...(str(p.unitText) ? { unit: str(p.unitText)! } : {}) };
    }
  }
  const ofType = (t: string): Entity | undefined => [...byId.values()].find((e) => typesOf(e).includes(t));
  const made = [...byId.values()].find(
    (e) => typesOf(e).includes('CreateAction') && list(e.result).some((r) => refId(r) === rootId),
  );
  const inputs = [...list(root.isBasedOn), ...list(made?.object)]
    .map((r) => {
      const id = refId(r);
      if (id === null) return str(r);
      return str(prop(byId.get(id), 'identifier')) ?? id;
    })
    .filter((x): x is string => !!x);
  const software = list(made?.instrument)
    .map((r) => byId.get(refId(r) ?? ''))
    .filter((e): e is Entity => e !== undefined)
    .map((e) => [str(e.name), str(e.version ?? e.softwareVersion)].filter(Boolean).join(' '))
    .filter(Boolean);
  const sampleEntity = byId.get(refId(root.about) ?? '') ?? ofType('lambda:Sample');
  return {
    name: str(root.name) ?? rootId,
    description: str(root.description),
    rootUri: absolute(rootId) ?? rootId,
    proposal: named(root.isPartOf) ?? str(prop(root, 'proposal_id', 'proposalId', 'proposal')),
    visit: named(root.recordedAt, 'identifier', 'name'),
    technique: named(prop(root, 'measurementTechnique', 'technique')),
    sample:
      str(prop(root, 'sample_code', 'sample_name')) ??
      (sampleEntity === undefined ? null : str(prop(sampleEntity, 'sample_code', 'name'))),
    instrument: named(root.instrument) ?? str(prop(root, 'instrumentName', 'beamline_id', 'instrument_code')),
    facility: named(prop(root, 'facility_name', 'facility')),
    inputDatasets: [...new Set(inputs)],
    usedSoftware: [...new Set(software)],
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
