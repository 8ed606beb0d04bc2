// History: datasets of the local catalogue, searched like `beamdrop find` (name, proposal, visit,
// technique, sample, metadata, file names); one dataset's files with SHA-256 and storage URI, its
// catalogue registrations, and "verify now" (the same check as `beamdrop verify`). A dataset is
// opened by name with its proposal, visit and catalogue: the same name in two proposals (or the
// same name, proposal and visit in two catalogues) is two datasets.
import type { DatasetDetailView, DatasetSummaryView, RegistrationView, VerifyReport } from '../../shared/app-model.js';
import type { DatasetIdentity } from '../../shared/model.js';
import type { DatasetInfo } from '../engine/catalogue/local-catalogue.js';
import { findDatasets } from '../engine/catalogue/local/local-search.js';
import { DESCRIPTIVE_KEYS, resolveTechnique } from '../engine/catalogue/techniques/technique-templates.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import { localDataset, type DatasetQuery } from '../engine/operations/dataset-lookup.js';
import { verifyDataset, type VerifyDeps } from '../engine/operations/verify-dataset.js';

const MAX_RESULTS = 500;

export class HistoryService {
  constructor(
    /** The local catalogue (search, a dataset's files) and what verify reads the stored files with. */
    private readonly d: VerifyDeps,
    private readonly profile: () => FacilityProfile,
    private readonly registrations: (dataset: DatasetIdentity) => Promise<RegistrationView[]>,
  ) {}

  search(query: string): DatasetSummaryView[] {
    return findDatasets(this.d.local, { text: query, limit: MAX_RESULTS }).map(summaryOf);
  }

  /** `which`: the name, with proposal and visit (null: none; left out: any, refused when that is several). */
  async dataset(which: DatasetQuery, offset: number, limit: number): Promise<DatasetDetailView> {
    const info = localDataset(this.d.local, which);
    const all = this.d.local.files(info.id);
    return {
      dataset: { ...summaryOf(info), about: aboutOf(info), metadata: metadataText(info.metadata, this.unitsOf(info.technique)) },
      files: all.slice(offset, offset + limit).map((f) => ({
        relpath: f.relpath,
        destination: f.destination,
        storageUri: f.storageUri,
        size: f.size,
        sha256: f.sha256,
        recordedAt: f.recordedAt,
      })),
      total: all.length,
      offset,
      registrations: await this.registrations(info),
    };
  }

  /** Units of the technique's fields: the local catalogue keeps the values as typed. */
  private unitsOf(technique: string | null): Map<string, string> {
    if (!technique) return new Map();
    try {
      return new Map(
        resolveTechnique(this.profile(), technique).fields.flatMap((f) => (f.unit ? [[f.name, f.unit] as const] : [])),
      );
    } catch {
      return new Map();
    }
  }

  async verify(which: DatasetQuery, deep: boolean): Promise<VerifyReport> {
    const verdicts = await verifyDataset(this.d, which, { deep });
    const results = verdicts.map((v) => ({
      relpath: v.file.relpath,
      ok: v.result.ok,
      checked: v.result.checked,
      ...(v.result.problem ? { problem: v.result.problem } : {}),
    }));
    return { checked: results.length, failed: results.filter((r) => !r.ok).length, results };
  }
}

function summaryOf(d: DatasetInfo): DatasetSummaryView {
  return {
    name: d.name,
    proposal: d.proposal,
    visit: d.visit,
    catalogue: d.catalogue,
    files: d.files,
    bytes: d.bytes,
    createdAt: d.createdAt,
    technique: d.technique,
    status: d.status,
  };
}

function aboutOf(d: DatasetInfo): Record<string, string> {
  const out: Record<string, string> = { Type: d.type };
  if (d.visit) out.Visit = d.visit;
  if (d.catalogue !== 'local') out.Catalogue = d.catalogue;
  if (d.inputDatasets.length) out['Input datasets'] = d.inputDatasets.join(', ');
  if (d.technique) out.Technique = d.technique;
  if (d.samples.length) out.Sample = d.samples.join(', ');
  if (d.description) out.Description = d.description;
  if (d.instruments.length) out.Instrument = d.instruments.join(', ');
  if (d.operator) out.Operator = d.operator;
  if (d.experimentDate) out['Experiment date'] = d.experimentDate;
  out.Status = d.status;
  return out;
}

/**
 * Scientific metadata as text, "12.4 keV": typed {value, unit} objects as they are, plain values
 * with the template's unit. Descriptive keys (sample, technique...) are shown under About.
 */
export function metadataText(m: Record<string, unknown>, units: ReadonlyMap<string, string> = new Map()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (DESCRIPTIVE_KEYS.has(k) || k.endsWith('.unit')) continue;
    if (v && typeof v === 'object' && 'value' in v) {
      const { value, unit } = v as { value: unknown; unit?: unknown };
      out[k] = `${String(value)}${typeof unit === 'string' && unit ? ` ${unit}` : ''}`;
    } else {
      const unit = units.get(k);
      out[k] = `${typeof v === 'string' ? v : JSON.stringify(v)}${unit ? ` ${unit}` : ''}`;
    }
  }
  return out;
}
