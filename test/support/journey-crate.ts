// The RO-Crate of a dataset as stored beside its data: read back from the destination, validated
// with the `ro-crate` package (GPL-3.0, a test-time validator only, never shipped), and reduced
// to what a journey checks: the root dataset, its files (URI, size, SHA-256) and the names of the
// contextual entities it links to (proposal, visit, sample, instrument).
import type { StorageReader } from './journey-storage.js';
import { validateCrate } from './ro-crate-validator.js';

export const CRATE_SUFFIX = '-ro-crate-metadata.json';

type Entity = Record<string, unknown> & { '@id': string };

export interface CrateFile {
  id: string;
  /** The key of the object the file's @id points to, in the destination it was read from. */
  key: string | null;
  size: number;
  sha256: unknown;
  name: unknown;
}

export interface CrateView {
  key: string;
  json: { '@context': unknown; '@graph': Entity[] };
  root: Entity;
  files: CrateFile[];
  /** name / identifier / value of every non-File entity the root links to, followed transitively. */
  linked: string[];
  /** Validation problems the ro-crate package reports (status "error"). */
  errors: { id: string; message: string }[];
  missingRequired: string[];
}

export const isCrate = (key: string) => key.endsWith(CRATE_SUFFIX);

export async function readStoredCrate(reader: StorageReader, key: string): Promise<CrateView> {
  const json = JSON.parse((await reader.read(key)).toString('utf8')) as CrateView['json'];
  const check = validateCrate(json);
  const byId = new Map(json['@graph'].map((e) => [e['@id'], e]));
  const descriptor = byId.get('ro-crate-metadata.json');
  const rootId = (descriptor?.about as { '@id'?: string } | undefined)?.['@id'];
  const root = rootId === undefined ? undefined : byId.get(rootId);
  if (!root) throw new Error(`${key}: the descriptor does not point to a root dataset`);
  const refs = (v: unknown): string[] =>
    ([] as unknown[])
      .concat(v ?? [])
      .flatMap((x) =>
        typeof x === 'object' && x !== null && typeof (x as Entity)['@id'] === 'string' ? [(x as Entity)['@id']] : [],
      );
  const types = (e: Entity) => ([] as unknown[]).concat(e['@type']);
  const files = refs(root.hasPart).map((id): CrateFile => {
    const f = byId.get(id);
    return { id, key: reader.keyOfUri(id), size: Number(f?.contentSize), sha256: f?.sha256, name: f?.name };
  });
  // Contextual entities reachable from the root (not through its files).
  const linked = new Set<string>();
  const seen = new Set<string>([root['@id']]);
  const queue = Object.entries(root)
    .filter(([k]) => k !== 'hasPart' && !k.startsWith('@'))
    .flatMap(([, v]) => refs(v));
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const e = byId.get(id);
    if (!e || types(e).includes('File')) continue;
    for (const k of ['name', 'identifier', 'value'])
      for (const x of ([] as unknown[]).concat(e[k] ?? []))
        if (typeof x === 'string' || typeof x === 'number') linked.add(String(x));
    for (const [k, v] of Object.entries(e)) if (!k.startsWith('@')) queue.push(...refs(v));
  }
  const required = ['nameRequired', 'descriptionRequired', 'datePublishedRequired', 'licenseRequired'];
  const passed = new Set(check.passed);
  return {
    key,
    json,
    root,
    files,
    linked: [...linked].sort(),
    errors: check.errors,
    missingRequired: required.filter((r) => !passed.has(r)),
  };
}
