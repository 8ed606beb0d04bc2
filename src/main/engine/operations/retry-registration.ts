// `beamdrop catalogue retry DATASET [--proposal ID] [--visit ID] [-p KEY=VALUE]...`: after the
// catalogue refused a dataset (needs attention), the operator fixes its metadata and the
// registration is tried again from where it stopped — the files stay uploaded and verified and are
// not sent again. A dataset the catalogue already has gets the fixed metadata as an update (SciCat
// PATCH, ICAT DatasetParameters; the same path a rerun with other -p values takes: the outbox's
// `retry` with the new request). A name that datasets of several proposals, visits or catalogues
// share is refused until --proposal/--visit/--catalogue say which.
import { BeamdropError } from '../../../shared/errors.js';
import type { RegistrationStatus } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import type { OperationDeps } from '../engine.js';
import type { CatalogueLink } from '../catalogue/catalogue-service.js';
import type { Registration } from '../catalogue/outbox/outbox-store.js';
import { typedMetadata } from '../catalogue/techniques/technique-templates.js';
import { catalogueMatches } from '../catalogue/local/dataset-selector.js';
import { oneOf, queryLabel, selectorOf, type DatasetQuery } from './dataset-lookup.js';

export async function catalogueLink(d: Pick<OperationDeps, 'catalogues'>, profile: FacilityProfile): Promise<CatalogueLink> {
  return d.catalogues.link(profile.catalogue, { retries: profile.upload.retries });
}

/** The catalogue's outbox, and the local catalogue that gets the same metadata fix. */
export type RetryDeps = Pick<OperationDeps, 'catalogues' | 'local'>;

export async function retryRegistration(
  d: RetryDeps,
  profile: FacilityProfile,
  which: DatasetQuery | string,
  fix: { metadata?: Record<string, string>; proposal?: string },
  waitMs = 60_000,
): Promise<RegistrationStatus[]> {
  const link = await catalogueLink(d, profile);
  const regs = registrationsOf(link, which);
  const dataset = selectorOf(which).name;
  for (const reg of regs) {
    const req = { ...reg.request };
    if (fix.metadata && Object.keys(fix.metadata).length) {
      // Re-validated against the template exactly as at upload: the fix cannot introduce a new mistake.
      const flat: Record<string, string> = Object.fromEntries(Object.entries(req.metadata).map(([k, v]) => [k, String(v.value)]));
      const typed = typedMetadata(profile, dataset, {
        ...flat,
        ...(req.technique ? { technique: req.technique } : {}),
        ...(req.sample ? { sample: req.sample } : {}),
        ...fix.metadata,
      });
      req.metadata = typed.scientific;
      if (fix.metadata.sample) req.sample = fix.metadata.sample;
      if (fix.metadata.description) req.description = fix.metadata.description;
      // The local catalogue (and so the RO-Crate) gets the fix too.
      const { local } = d;
      const identity = { catalogue: link.identity, proposal: reg.proposal, visit: reg.visit, name: reg.dataset };
      if (local.lookup(identity, reg.key))
        local.ensureDataset(identity, fix.metadata, {
          key: reg.key,
          ...(fix.metadata.sample ? { sample: fix.metadata.sample } : {}),
          ...(fix.metadata.description ? { description: fix.metadata.description } : {}),
        });
    }
    if (fix.proposal) {
      if (reg.remote)
        throw new BeamdropError({
          code: 'usage',
          retryable: false,
          dataset,
          field: 'proposal',
          message: `dataset "${dataset}" already exists in the catalogue as ${reg.remote.id}; its proposal cannot be changed from here.`,
        });
      req.proposal = fix.proposal;
    }
    // A changed description reaches a dataset the catalogue already has as an update.
    link.store.retry(reg.id, req);
  }
  return link.settle(
    regs.map((r) => r.id),
    waitMs,
  );
}

/**
 * The registrations of the one dataset the query names, in the profile's catalogue; none or several
 * datasets are refused. `--catalogue` naming another catalogue: `status` (anyCatalogue) shows its
 * registrations from the outbox; `retry` is refused, as only a profile of that catalogue can send.
 */
export function registrationsOf(
  link: CatalogueLink,
  which: DatasetQuery | string,
  opts: { anyCatalogue?: boolean } = {},
): Registration[] {
  const sel = selectorOf(which);
  const other = sel.catalogue !== undefined && !catalogueMatches(link.identity, sel.catalogue);
  if (other && !opts.anyCatalogue)
    throw new BeamdropError({
      code: 'usage',
      retryable: false,
      dataset: sel.name,
      field: 'catalogue',
      message: `the profile's catalogue is ${link.identity}, not ${sel.catalogue}: a registration is sent through the profile of its catalogue. Run the command again with --profile naming a facility profile whose catalogue is ${sel.catalogue}.`,
    });
  const regs = link.store
    .list({ ...(other ? {} : { catalogue: link.identity }), dataset: sel.name, proposal: sel.proposal, visit: sel.visit })
    .filter((r) => sel.catalogue === undefined || catalogueMatches(r.catalogue, sel.catalogue));
  const id = oneOf(
    regs.map((r) => ({ catalogue: r.catalogue, proposal: r.proposal, visit: r.visit, name: r.dataset })),
    which,
  );
  if (!id)
    throw new BeamdropError({
      code: 'dataset-not-found',
      retryable: false,
      dataset: sel.name,
      message: `dataset ${queryLabel(which)} has no registration for ${other ? sel.catalogue : link.identity}; \`beamdrop catalogue status\` lists them, \`beamdrop find\` lists datasets.`,
    });
  return regs.filter(
    (r) =>
      r.catalogue === id.catalogue && (r.proposal || null) === (id.proposal || null) && (r.visit || null) === (id.visit || null),
  );
}

/** `catalogue status [DATASET]`: every registration of this catalogue, or those of one dataset (of any catalogue with --catalogue). */
export function registrationStatus(link: CatalogueLink, which?: DatasetQuery): RegistrationStatus[] {
  return which ? registrationsOf(link, which, { anyCatalogue: true }).map((r) => link.store.status(r)) : link.status();
}

/** Sends what waits in the outbox now (after an outage or a new sign-in) and reports where each dataset stands. */
export async function pushOutbox(
  d: Pick<OperationDeps, 'catalogues'>,
  profile: FacilityProfile,
  waitMs: number,
): Promise<RegistrationStatus[]> {
  const link = await catalogueLink(d, profile);
  const regs = link.store.list({ catalogue: link.identity }).filter((r) => r.state === 'pending' || r.state === 'waiting-login');
  for (const r of regs) link.store.retry(r.id);
  return link.settle(
    regs.map((r) => r.id),
    waitMs,
  );
}
