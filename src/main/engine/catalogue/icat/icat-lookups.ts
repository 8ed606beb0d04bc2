// The ICAT entities a dataset hangs on, looked up by their natural keys: the Investigation
// (facility, name, visitId), the facility's DatasetType and InvestigationType, the signed-in
// User, and the ParameterTypes that scientific metadata must use (ICAT never invents them).
import type { IcatCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import type { DatasetDraft, MetadataValue } from '../catalogue-adapter.js';
import { icatRejected } from './icat-errors.js';
import { icatDate, jpql, type IcatHttp } from './icat-http.js';

export interface IcatInvestigation {
  id: number;
  name: string;
  visitId: string;
  title?: string;
}
interface Named {
  id: number;
  name: string;
}
export interface IcatUserRow {
  id: number;
  name: string;
  email?: string | null;
  fullName?: string | null;
}
interface ParameterTypeRow {
  id: number;
  name: string;
  units: string;
  valueType: string;
}

export class IcatLookups {
  constructor(
    private readonly http: IcatHttp,
    private readonly config: IcatCatalogueConfig,
  ) {}

  private get facility(): string {
    return jpql(this.config.facility);
  }

  /** The investigation of a proposal; with no visit, the only one of that name (or an error naming the visits). */
  async investigation(
    sessionId: string,
    proposal: string,
    visit: string | null | undefined,
    dataset?: string,
  ): Promise<IcatInvestigation | null> {
    const byVisit = visit === null || visit === undefined || visit === '' ? '' : ` AND i.visitId = ${jpql(visit)}`;
    const found = await this.http.entities<IcatInvestigation>(
      sessionId,
      'Investigation',
      `SELECT i FROM Investigation i WHERE i.facility.name = ${this.facility} AND i.name = ${jpql(proposal)}${byVisit} ORDER BY i.visitId`,
      { action: `looking up investigation ${proposal}`, ...(dataset === undefined ? {} : { dataset }) },
    );
    if (found.length > 1) {
      throw icatRejected(
        `investigation ${proposal} has several visits in ICAT facility ${this.config.facility} (${found.map((i) => i.visitId).join(', ')}); choose the visit for this dataset.`,
        'visit',
        dataset,
      );
    }
    return found[0] ?? null;
  }

  async facilityId(sessionId: string): Promise<number> {
    const f = await this.http.entities<Named>(sessionId, 'Facility', `SELECT f FROM Facility f WHERE f.name = ${this.facility}`, {
      action: `looking up facility ${this.config.facility}`,
    });
    if (f[0] === undefined)
      throw icatRejected(
        `ICAT has no facility named "${this.config.facility}"; correct catalogue.facility in the facility profile.`,
        'facility',
      );
    return f[0].id;
  }

  async datasetTypeId(sessionId: string, dataset: string): Promise<number> {
    const name = this.config.datasetType;
    const t = await this.http.entities<Named>(
      sessionId,
      'DatasetType',
      `SELECT t FROM DatasetType t WHERE t.facility.name = ${this.facility} AND t.name = ${jpql(name)}`,
      { action: `looking up DatasetType ${name}`, dataset },
    );
    if (t[0] === undefined)
      throw icatRejected(
        `ICAT facility ${this.config.facility} has no DatasetType "${name}"; correct catalogue.datasetType in the facility profile or ask the ICAT administrators to add it.`,
        'datasetType',
        dataset,
      );
    return t[0].id;
  }

  /** The facility's InvestigationType "experiment", else its first one. */
  async investigationTypeId(sessionId: string): Promise<number> {
    const types = await this.http.entities<Named>(
      sessionId,
      'InvestigationType',
      `SELECT t FROM InvestigationType t WHERE t.facility.name = ${this.facility} ORDER BY t.id`,
      { action: 'looking up investigation types' },
    );
    const chosen = types.find((t) => t.name === 'experiment') ?? types[0];
    if (chosen === undefined)
      throw icatRejected(
        `ICAT facility ${this.config.facility} has no InvestigationType, so no investigation can be created; ask the ICAT administrators.`,
        'investigationType',
      );
    return chosen.id;
  }

  async user(sessionId: string, userName: string): Promise<IcatUserRow | null> {
    const u = await this.http.entities<IcatUserRow>(sessionId, 'User', `SELECT u FROM User u WHERE u.name = ${jpql(userName)}`, {
      action: `looking up user ${userName}`,
    });
    return u[0] ?? null;
  }

  /** DatasetParameters for the draft's metadata; every key must match a ParameterType (name and units). */
  async parameters(sessionId: string, draft: DatasetDraft): Promise<Record<string, unknown>[]> {
    const entries = Object.entries(draft.scientificMetadata);
    if (entries.length === 0) return [];
    const types = await this.http.entities<ParameterTypeRow>(
      sessionId,
      'ParameterType',
      `SELECT pt FROM ParameterType pt WHERE pt.facility.name = ${this.facility} AND pt.name IN (${entries.map(([k]) => jpql(k)).join(', ')})`,
      { action: `looking up the parameter types of dataset "${draft.name}"`, dataset: draft.name },
    );
    return entries.map(([key, v]) => {
      const candidates = types.filter((t) => t.name === key);
      const type =
        v.unit === undefined ? (candidates.length === 1 ? candidates[0] : undefined) : candidates.find((t) => t.units === v.unit);
      if (type === undefined) {
        const have =
          candidates.length === 0 ? 'none with that name' : `it has units ${candidates.map((t) => `"${t.units}"`).join(', ')}`;
        throw icatRejected(
          `ICAT facility ${this.config.facility} has no ParameterType "${key}"${v.unit === undefined ? '' : ` with units "${v.unit}"`} (${have}); ask the ICAT administrators to add it, or change the field "${key}" in the technique template to match.`,
          `scientificMetadata.${key}`,
          draft.name,
        );
      }
      return { type: { id: type.id }, ...parameterValue(key, v, type.valueType, draft.name) };
    });
  }
}

function parameterValue(key: string, v: MetadataValue, valueType: string, dataset: string): Record<string, unknown> {
  if (valueType === 'NUMERIC') {
    const n = typeof v.value === 'number' ? v.value : Number(v.value);
    if (typeof v.value === 'boolean' || !Number.isFinite(n)) {
      throw icatRejected(
        `ICAT expects a number for "${key}", but the dataset says ${JSON.stringify(v.value)}; correct the value.`,
        `scientificMetadata.${key}`,
        dataset,
      );
    }
    return { numericValue: n };
  }
  if (valueType === 'DATE_AND_TIME') {
    if (Number.isNaN(Date.parse(String(v.value)))) {
      throw icatRejected(
        `ICAT expects a date and time for "${key}", but the dataset says ${JSON.stringify(v.value)}; write it as 2026-03-01T10:00:00Z.`,
        `scientificMetadata.${key}`,
        dataset,
      );
    }
    return { dateTimeValue: icatDate(String(v.value)) };
  }
  return { stringValue: String(v.value) };
}
