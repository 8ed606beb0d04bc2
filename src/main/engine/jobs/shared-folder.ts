// Two datasets never share one storage folder. A key template that leaves out what tells two
// datasets apart (the visit, under "{proposal}/{dataset}/{relpath}") puts both under one key
// prefix: the second job would take the first one's objects for its own (skipped, or a conflict)
// and record them as part of the other dataset. So a job is refused before it is created when a
// job of another dataset already stored files under the same key prefix (or one inside the other)
// on the same storage, naming both datasets and the template that would keep them apart.
import { resolve } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel, jobIdentity, type DatasetIdentity } from '../../../shared/model.js';
import type { DestinationConfig, TemplateVariable } from '../../../shared/profile-schema.js';
import type { Journal } from '../journal/journal.js';
import { renderKey, type KeyVariables } from '../keys/key-template.js';
import type { ResolvedDestination } from '../storage/resolve-destination.js';
import type { JobOptions } from './job-options.js';

/** The storage a destination config writes into ("file:/mnt/archive", "s3:http://host:9000/bucket"), or null if unknown. */
export function storageRoot(config: Pick<DestinationConfig, 'kind'> | Record<string, unknown>): string | null {
  const c = config as Record<string, unknown>;
  const text = (k: string) => (typeof c[k] === 'string' ? (c[k] as string) : null);
  const trim = (s: string) => s.replace(/\/+$/, '');
  switch (c.kind) {
    case 'filesystem':
      return text('root') ? `file:${resolve(text('root')!)}` : null;
    case 's3':
      return text('endpoint') && text('bucket') ? `s3:${trim(text('endpoint')!)}/${text('bucket')!}` : null;
    case 'webdav':
      return text('url') ? `webdav:${trim(text('url')!)}` : null;
    default:
      return null;
  }
}

/** The part of every key before the file path, or null if the template cannot be rendered. */
function prefixOf(template: string, vars: Record<string, unknown>): string | null {
  try {
    return renderKey(template, { ...(vars as Omit<KeyVariables, 'relpath'>), relpath: 'x' }).slice(0, -1);
  } catch {
    return null;
  }
}

const sameIdentity = (a: DatasetIdentity, b: DatasetIdentity) =>
  a.name === b.name && a.proposal === b.proposal && a.visit === b.visit && a.catalogue === b.catalogue;

/** The template with the variables added that tell the two datasets apart, or null if none would. */
function suggestion(template: string, here: DatasetIdentity, there: DatasetIdentity): string | null {
  const need: TemplateVariable[] = [];
  if (here.proposal !== there.proposal) need.push('proposal');
  if (here.visit !== there.visit) need.push('visit');
  if (here.name !== there.name) need.push('dataset');
  let t = template;
  let added = false;
  // Each goes before the first of those that follow it in "{proposal}/{visit}/{dataset}/{relpath}".
  const order: TemplateVariable[] = ['proposal', 'visit', 'dataset', 'relpath'];
  for (const v of need) {
    if (t.includes(`{${v}}`)) continue;
    const before = order.slice(order.indexOf(v) + 1).find((n) => t.includes(`{${n}}`));
    if (!before) continue;
    t = t.replace(`{${before}}`, `{${v}}/{${before}}`);
    added = true;
  }
  return added ? t : null;
}

/**
 * Refuses (destination-invalid) a job of `identity` whose keys would go under the key prefix of a
 * job of another dataset that stored files on the same storage. Reads records and raw stored
 * fields only, so a job whose options no longer parse never blocks this check.
 */
export function refuseSharedFolder(
  journal: Journal,
  identity: DatasetIdentity,
  destination: ResolvedDestination,
  options: JobOptions,
): void {
  const prefix = prefixOf(options.keyTemplate, options.vars);
  if (prefix === null) return; // the job itself reports its key problem, with the file
  const root = storageRoot(destination.config);
  for (const place of journal.storedPlaces()) {
    const other = jobIdentity(place.job);
    if (sameIdentity(other, identity) || !place.keyTemplate || !place.vars) continue;
    const otherRoot = place.destinationConfig ? storageRoot(place.destinationConfig) : null;
    const sameStorage = root !== null && otherRoot !== null ? root === otherRoot : place.job.destination === destination.name;
    if (!sameStorage) continue;
    const otherPrefix = prefixOf(place.keyTemplate, place.vars);
    if (otherPrefix === null || !(prefix.startsWith(otherPrefix) || otherPrefix.startsWith(prefix))) continue;
    const where = (p: string) => (p ? `"${p}"` : 'the top of the destination');
    const better = suggestion(options.keyTemplate, identity, other);
    const fix = destination.adhoc
      ? `Give --to another folder, or name a destination in the facility profile whose keyTemplate tells them apart${better ? ` (e.g. "${better}")` : ''}`
      : better
        ? `Give destination "${destination.name}" a key template that tells them apart, e.g. keyTemplate: "${better}" in the facility profile (jobs already started keep theirs)`
        : `Upload it under another dataset name, or to another destination`;
    throw new BeamdropError({
      code: 'destination-invalid',
      retryable: false,
      dataset: identity.name,
      field: 'keyTemplate',
      message:
        `dataset ${datasetLabel(identity)} would be stored under ${where(prefix)} on "${destination.name}" (key template "${options.keyTemplate}"), ` +
        `where job ${place.job.id} already stored files of dataset ${datasetLabel(other)}${other.catalogue !== identity.catalogue ? ` of catalogue ${other.catalogue}` : ''} under ${where(otherPrefix)}: ` +
        `two datasets never share a storage folder (each would take the other's files for its own). ${fix}. Nothing was started.`,
    });
  }
}

/**
 * The key template a new job of a dataset keeps so that the dataset stays in one folder: the one
 * of its newest job that stored files on the same storage, when the destination's template is
 * another one now and would put the new files elsewhere (a profile that changed, or the default
 * that gained {visit}). Null when the template given now keeps them together anyway.
 */
export function datasetFolder(
  journal: Journal,
  identity: DatasetIdentity,
  destination: ResolvedDestination,
  options: JobOptions,
): { jobId: number; keyTemplate: string; prefix: string } | null {
  const root = storageRoot(destination.config);
  const prefix = prefixOf(options.keyTemplate, options.vars);
  const earlier = journal
    .storedPlaces()
    .filter((p) => {
      if (!sameIdentity(jobIdentity(p.job), identity) || !p.keyTemplate || !p.vars) return false;
      const otherRoot = p.destinationConfig ? storageRoot(p.destinationConfig) : null;
      return root !== null && otherRoot !== null ? root === otherRoot : p.job.destination === destination.name;
    })
    .at(-1);
  if (!earlier?.keyTemplate || earlier.keyTemplate === options.keyTemplate) return null;
  const before = prefixOf(earlier.keyTemplate, { ...options.vars });
  if (before === null || before === prefix) return null;
  return { jobId: earlier.job.id, keyTemplate: earlier.keyTemplate, prefix: before };
}
