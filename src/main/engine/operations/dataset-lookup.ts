// Which dataset an operator means by a name on the command line (or in the app): a dataset is
// identified by (catalogue, proposal, visit, name), so a bare name may match several. Given
// --proposal/--visit/--catalogue narrow it; when it still matches several, the command is refused
// with the candidates (dataset-ambiguous) instead of silently taking one; when it matches nothing,
// the message says that `beamdrop find` lists datasets.
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel, jobIdentity, type DatasetIdentity } from '../../../shared/model.js';
import { ambiguousDataset, catalogueMatches, type DatasetSelector } from '../catalogue/local/dataset-selector.js';
import type { DatasetInfo, LocalCatalogue } from '../catalogue/local-catalogue.js';
import type { Journal, StoredJob } from '../journal/journal.js';

/**
 * A dataset as the operator names it: the name, and the proposal/visit flags when given ("" or
 * null: none), and --catalogue (the identity as `find --json` shows it, or its kind when unique).
 */
export interface DatasetQuery {
  name: string;
  proposal?: string | null | undefined;
  visit?: string | null | undefined;
  catalogue?: string | undefined;
}

export function selectorOf(q: DatasetQuery | string): DatasetSelector {
  if (typeof q === 'string') return { name: q };
  return {
    name: q.name,
    ...(q.proposal !== undefined ? { proposal: q.proposal || null } : {}),
    ...(q.visit !== undefined ? { visit: q.visit || null } : {}),
    ...(q.catalogue ? { catalogue: q.catalogue } : {}),
  };
}

/** `"ds1" (proposal P)`, `"ds1" (proposal P) in catalogue scicat`, or just `"ds1"` when no flag narrowed it. */
export function queryLabel(q: DatasetQuery | string): string {
  const s = selectorOf(q);
  const label = datasetLabel({ name: s.name, proposal: s.proposal ?? null, visit: s.visit ?? null });
  return s.catalogue ? `${label} in catalogue ${s.catalogue}` : label;
}

export function datasetNotFound(q: DatasetQuery | string, where = 'in the local catalogue'): BeamdropError {
  return new BeamdropError({
    code: 'dataset-not-found',
    retryable: false,
    dataset: selectorOf(q).name,
    message: `there is no dataset ${queryLabel(q)} ${where}; \`beamdrop find\` lists datasets (with their proposal and visit).`,
  });
}

/** The one dataset of the local catalogue the query names, else dataset-not-found or dataset-ambiguous. */
export function localDataset(local: LocalCatalogue, q: DatasetQuery | string): DatasetInfo {
  const found = local.matching(selectorOf(q));
  if (found.length > 1) throw ambiguousDataset(selectorOf(q), found);
  if (!found[0]) throw datasetNotFound(q);
  return found[0];
}

/** Key of an identity, for grouping. */
export function identityKey(id: DatasetIdentity): string {
  return JSON.stringify([id.catalogue, id.proposal ?? '', id.visit ?? '', id.name]);
}

export function matchesQuery(id: DatasetIdentity, q: DatasetSelector): boolean {
  return (
    (q.proposal === undefined || (id.proposal || null) === q.proposal) &&
    (q.visit === undefined || (id.visit || null) === q.visit) &&
    (q.catalogue === undefined || catalogueMatches(id.catalogue, q.catalogue))
  );
}

/** The one identity among candidates that the query allows; null when none does; several are refused. */
export function oneOf(candidates: DatasetIdentity[], q: DatasetQuery | string): DatasetIdentity | null {
  const sel = selectorOf(q);
  const ids = new Map<string, DatasetIdentity>();
  for (const id of candidates) if (matchesQuery(id, sel)) ids.set(identityKey(id), id);
  const found = [...ids.values()];
  if (found.length > 1) throw ambiguousDataset(sel, found);
  return found[0] ?? null;
}

/** The one dataset identity among these jobs that the query allows (see oneOf). */
export function oneIdentity(jobs: StoredJob[], q: DatasetQuery | string): DatasetIdentity | null {
  return oneOf(jobs.map(jobIdentity), q);
}

/** The jobs of one dataset that stored files (dry runs send nothing), oldest first. */
export function uploadJobsOf(journal: Journal, id: DatasetIdentity): StoredJob[] {
  return journal.jobsOfDataset(id).filter((j) => j.kind !== 'dry-run');
}
