// After the local catalogue's identity migration (local-migrations.ts step 3) every row of before
// is ('local', proposal, NULL visit, name), identity inferred. The journal knows better: the
// outbox registration of a row's key names its catalogue and visit, and the jobs that uploaded a
// dataset name theirs. This fills them in once per row, when the engine opens, so that `find`
// shows the visit and no job of another identity takes the row over (LocalCatalogue.claimable).
// A row is changed only when the evidence names one catalogue and visit; every row is kept.
import type { JobRecord } from '../../../../shared/model.js';
import type { LocalCatalogue } from '../local-catalogue.js';

export interface IdentityEvidence {
  /** Every outbox registration: its key and the dataset it was made for. */
  registrations: { key: string; catalogue: string; dataset: string; proposal: string | null; visit: string | null }[];
  /** Every job of the journal (records only: a job whose options cannot be read still counts). */
  jobs: Pick<JobRecord, 'kind' | 'dataset' | 'proposal' | 'visit' | 'catalogue'>[];
}

/** Settles every row not yet looked at; `evidence` is read only when there is one. Returns how many rows got their identity. */
export function backfillLocalIdentities(local: LocalCatalogue, evidence: () => IdentityEvidence): number {
  const rows = local.unsettledRows();
  if (!rows.length) return 0;
  const e = evidence();
  const byKey = new Map(e.registrations.map((r) => [r.key, r]));
  let known = 0;
  for (const row of rows) {
    const sameDataset = (x: { dataset: string; proposal: string | null }) =>
      x.dataset === row.name && (x.proposal || null) === (row.proposal || null);
    let found: { catalogue: string; visit: string | null } | null = null;
    const reg = row.key ? byKey.get(row.key) : undefined;
    if (reg && sameDataset(reg)) found = { catalogue: reg.catalogue, visit: reg.visit || null };
    else {
      // A row with a key came from a facility catalogue's job, one without from a local one.
      const jobs = e.jobs.filter(
        (j) => j.kind !== 'dry-run' && sameDataset(j) && (row.key ? j.catalogue !== 'local' : j.catalogue === 'local'),
      );
      const ids = new Map(jobs.map((j) => [JSON.stringify([j.catalogue, j.visit || null]), j]));
      const [only] = ids.values();
      if (ids.size === 1 && only) found = { catalogue: only.catalogue, visit: only.visit || null };
    }
    if (local.settleInferred(row.id, found)) known++;
  }
  return known;
}
