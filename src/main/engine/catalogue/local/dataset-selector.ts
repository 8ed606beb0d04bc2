// How a dataset of the local catalogue is named by its callers (an id, a bare name, or a name with
// proposal, visit and catalogue), the SQL that selects it, and the refusal when a bare name
// matches several datasets (dataset-ambiguous), listing them with what tells them apart. A
// catalogue is named as `find --json` shows it ("local", "scicat https://host") or by its kind
// alone ("scicat") when only one catalogue of that kind holds such a dataset.
import { BeamdropError } from '../../../../shared/errors.js';
import { datasetLabel, type DatasetIdentity } from '../../../../shared/model.js';

/**
 * How callers name a dataset: its id, a bare name, or a name with any of proposal, visit and
 * catalogue. A field left out matches every value; `null` matches "none". `catalogue` is the
 * identity ("scicat https://host") or its kind ("scicat").
 */
export interface DatasetSelector {
  name: string;
  catalogue?: string;
  proposal?: string | null;
  visit?: string | null;
}
export type LocalDatasetRef = number | string | DatasetSelector;

/** "" and null are the same "none" for proposal and visit. */
export function normalised(id: DatasetIdentity): DatasetIdentity {
  return { catalogue: id.catalogue, proposal: id.proposal || null, visit: id.visit || null, name: id.name };
}

/** Whether a dataset's catalogue identity is the one named: the identity itself, or its kind ("scicat"). */
export function catalogueMatches(identity: string, named: string): boolean {
  const want = named.trim().replace(/\/+$/, '');
  return identity === want || identity.startsWith(`${want} `);
}

/** SQL condition and arguments selecting datasets by a selector (alias d). */
export function selectorWhere(sel: DatasetSelector): { where: string; args: unknown[] } {
  const parts = ['d.name = ?'];
  const args: unknown[] = [sel.name];
  if (sel.catalogue !== undefined) {
    // The identity, or its kind: "scicat" names "scicat https://host" (see catalogueMatches).
    const want = sel.catalogue.trim().replace(/\/+$/, '');
    parts.push('(d.catalogue = ? OR instr(d.catalogue, ?) = 1)');
    args.push(want, `${want} `);
  }
  if (sel.proposal !== undefined) {
    parts.push(`ifnull(d.proposal, '') = ?`);
    args.push(sel.proposal ?? '');
  }
  if (sel.visit !== undefined) {
    parts.push(`ifnull(d.visit, '') = ?`);
    args.push(sel.visit ?? '');
  }
  return { where: parts.join(' AND '), args };
}

type Candidate = Pick<DatasetIdentity, 'name' | 'proposal' | 'visit'> & { catalogue?: string };

/** One line per candidate, for messages: `"ds1" (proposal 20170251, visit v1)`. */
export function candidateLines(found: Candidate[]): string {
  const catalogues = new Set(found.map((d) => d.catalogue));
  return found
    .map((d) => {
      const label = d.proposal || d.visit ? datasetLabel(d) : `"${d.name}" (no proposal)`;
      return `  ${label}${catalogues.size > 1 && d.catalogue ? ` in catalogue ${d.catalogue}` : ''}`;
    })
    .join('\n');
}

/** The refusal when a bare name matches several datasets: lists them and says what to add. */
export function ambiguousDataset(sel: DatasetSelector, found: Candidate[]): BeamdropError {
  const key = (d: Candidate) => JSON.stringify([d.proposal || null, d.visit || null]);
  const catalogues = [...new Set(found.map((d) => d.catalogue).filter((c): c is string => !!c))];
  // Datasets of several catalogues: --catalogue tells them apart; when proposal and visit do too, either works.
  const byPlace = new Set(found.map(key)).size === found.length;
  const place = "--proposal ID and/or --visit ID (--proposal '' for the one without a proposal)";
  const catalogue = `--catalogue CATALOGUE (as listed, e.g. --catalogue '${catalogues.find((c) => c !== 'local') ?? catalogues[0] ?? 'local'}'; its kind alone when only one catalogue of that kind is listed)`;
  const add =
    catalogues.length > 1
      ? byPlace
        ? `${place}, or ${catalogue},`
        : `${catalogue}${new Set(found.map(key)).size > 1 ? ` and ${place}` : ''}`
      : place;
  return new BeamdropError({
    code: 'dataset-ambiguous',
    retryable: false,
    dataset: sel.name,
    message: `${found.length} datasets are named "${sel.name}":\n${candidateLines(found)}\nAdd ${add} to say which one.`,
  });
}
