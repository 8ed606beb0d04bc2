// History: datasets of the local catalogue, searched like `beamdrop find` (name, proposal,
// technique, sample, metadata, file names); one dataset's files with SHA-256 and storage URI, its
// catalogue registrations, and "verify now" (the same check as `beamdrop verify`).
import type { DatasetDetailView, DatasetSummaryView, RegistrationView, VerifyReport } from '../../shared/app-model.js';
import { BeamdropError } from '../../shared/errors.js';
import type { DatasetInfo } from '../engine/catalogue/local-catalogue.js';
import { findDatasets } from '../engine/catalogue/local/local-search.js';
import { DESCRIPTIVE_KEYS, resolveTechnique } from '../engine/catalogue/techniques/technique-templates.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import { verifyDataset } from '../engine/operations/verify-dataset.js';
import type { Engine } from '../engine/engine.js';

const MAX_RESULTS = 500;

export class HistoryService {
  constructor(
    private readonly engine: Engine,
    private readonly profile: () => FacilityProfile,
    private readonly registrations: (dataset: string) => Promise<RegistrationView[]>,
  ) {}

  search(query: string): DatasetSummaryView[] {
    return findDatasets(this.engine.services.catalogue, { text: query, limit: MAX_RESULTS }).map(summaryOf);
  }

  async dataset(name: string, offset: number, limit: number): Promise<DatasetDetailView> {
    const info = this.engine.services.catalogue.dataset(name);
    if (!info)
      throw new BeamdropError({
        code: 'dataset-not-found',
        retryable: false,
        dataset: name,
        message: `No dataset "${name}" in the local catalogue.`,
      });
    const all = this.engine.services.catalogue.files(name);
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
      registrations: await this.registrations(name),
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

  async verify(name: string, deep: boolean): Promise<VerifyReport> {
    const verdicts = await verifyDataset(this.engine, name, { deep });
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
    files: d.files,
    bytes: d.bytes,
    createdAt: d.createdAt,
    technique: d.technique,
    status: d.status,
  };
}

function aboutOf(d: DatasetInfo): Record<string, string> {
  const out: Record<string, string> = { Type: d.type };
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
