// `beamdrop catalogue retry DATASET [-p KEY=VALUE]...`: after the catalogue refused a dataset
// (needs attention), the operator fixes its metadata and the registration is tried again from
// where it stopped — the files stay uploaded and verified and are not sent again.
import { BeamdropError } from '../../../shared/errors.js';
import type { RegistrationStatus } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import type { Engine } from '../engine.js';
import type { CatalogueLink } from '../catalogue/catalogue-service.js';
import { typedMetadata } from '../catalogue/techniques/technique-templates.js';

export async function catalogueLink(engine: Engine, profile: FacilityProfile): Promise<CatalogueLink> {
  return engine.services.catalogues.link(profile.catalogue, { retries: profile.upload.retries });
}

export async function retryRegistration(
  engine: Engine,
  profile: FacilityProfile,
  dataset: string,
  fix: { metadata?: Record<string, string>; proposal?: string },
  waitMs = 60_000,
): Promise<RegistrationStatus[]> {
  const link = await catalogueLink(engine, profile);
  const regs = link.store.list({ catalogue: link.identity, dataset });
  if (!regs.length) {
    throw new BeamdropError({
      code: 'dataset-not-found',
      retryable: false,
      dataset,
      message: `dataset "${dataset}" has no registration for ${link.identity}; \`beamdrop catalogue status\` lists them.`,
    });
  }
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
      engine.services.catalogue.ensureDataset(dataset, null, fix.metadata);
    }
    if (fix.proposal) {
      if (reg.remote)
        throw new BeamdropError({
          code: 'config-invalid',
          retryable: false,
          dataset,
          field: 'proposal',
          message: `dataset "${dataset}" already exists in the catalogue as ${reg.remote.id}; its proposal cannot be changed from here.`,
        });
      req.proposal = fix.proposal;
    }
    link.store.retry(reg.id, req);
  }
  return link.settle(
    regs.map((r) => r.id),
    waitMs,
  );
}

/** Sends what waits in the outbox now (after an outage or a new sign-in) and reports where each dataset stands. */
export async function pushOutbox(engine: Engine, profile: FacilityProfile, waitMs: number): Promise<RegistrationStatus[]> {
  const link = await catalogueLink(engine, profile);
  const regs = link.store.list({ catalogue: link.identity }).filter((r) => r.state === 'pending' || r.state === 'waiting-login');
  for (const r of regs) link.store.retry(r.id);
  return link.settle(
    regs.map((r) => r.id),
    waitMs,
  );
}
