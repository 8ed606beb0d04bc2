// How a derived dataset keeps its inputs in ICAT. ICAT's schema has one construct for it: a Job
// ("a run of an application with its related inputs and outputs") of an Application (facility,
// name, version), whose inputDataCollection holds the input Datasets and whose
// outputDataCollection holds the derived one (DataCollectionDataset links). ICAT's usual rules let
// every user create DataCollections, their DataCollectionDatasets and Jobs, while Applications,
// like ParameterTypes, are facility-wide and made by the ICAT administrators: so an unknown
// software is refused with the name and version to ask for, never invented.
//
// Inputs are named as the operator knows them: an ICAT Dataset id, a storage URI or folder path
// (Dataset.location, which is how Beamdrop registers every dataset), a dataset name in the same
// investigation, or a DOI. All of them are resolved before the dataset is created, so a refusal
// leaves nothing behind; the link is one entityManager call (the output DataCollection with its
// Dataset and its Jobs), and finishDataset makes it again if a crash came between the two calls.
import { softwareParts, type DatasetDraft } from '../catalogue-adapter.js';
import { icatRejected } from './icat-errors.js';
import { jpql, type IcatHttp } from './icat-http.js';
import type { IcatInvestigation } from './icat-lookups.js';

export interface Provenance {
  /** ICAT Dataset ids of the inputs, in the order given. */
  inputs: number[];
  /** ICAT Application ids, one Job each. */
  applications: number[];
}

interface Row {
  id: number;
  version?: string;
}

export class IcatProvenance {
  constructor(
    private readonly http: IcatHttp,
    private readonly facility: string,
  ) {}

  /** The ICAT ids of the draft's inputs and software; null for a raw dataset. Throws 'rejected' naming what ICAT lacks. */
  async resolve(sessionId: string, inv: IcatInvestigation, draft: DatasetDraft): Promise<Provenance | null> {
    if (draft.type !== 'derived') return null;
    const given = (draft.inputDatasets ?? []).map((s) => s.trim()).filter(Boolean);
    const software = (draft.usedSoftware ?? []).map((s) => s.trim()).filter(Boolean);
    if (given.length === 0 && software.length === 0) return null;
    if (software.length === 0) {
      throw icatRejected(
        `derived dataset "${draft.name}" names its inputs but not the software that made it: ICAT links a derived dataset to its inputs through a Job of an Application (name and version). Give it with -p usedSoftware='NAME VERSION' (e.g. 'xds 2026'), then upload again.`,
        'usedSoftware',
        draft.name,
      );
    }
    const inputs: number[] = [];
    for (const input of given) {
      const id = await this.dataset(sessionId, inv, input, draft.name);
      if (!inputs.includes(id)) inputs.push(id);
    }
    const applications: number[] = [];
    for (const entry of software) {
      const id = await this.application(sessionId, entry, draft.name);
      if (!applications.includes(id)) applications.push(id);
    }
    return { inputs, applications };
  }

  /** Whether a Job already has this dataset in its output (the link is made in one call, so then it is whole). */
  async linked(sessionId: string, datasetId: number, dataset: string): Promise<boolean> {
    const [count] = await this.http.query<number>(
      sessionId,
      `SELECT COUNT(j) FROM Job j JOIN j.outputDataCollection dc JOIN dc.dataCollectionDatasets dcd WHERE dcd.dataset.id = ${datasetId}`,
      { action: `checking the input datasets recorded for dataset "${dataset}"`, dataset },
    );
    return Number(count ?? 0) > 0;
  }

  /** Input DataCollection, then the output DataCollection with the dataset and one Job per Application. */
  async link(sessionId: string, datasetId: number, p: Provenance, dataset: string): Promise<void> {
    const action = `recording the input datasets and software of dataset "${dataset}"`;
    let input: number | undefined;
    if (p.inputs.length > 0) {
      [input] = await this.http.write(
        sessionId,
        [{ DataCollection: { dataCollectionDatasets: p.inputs.map((id) => ({ dataset: { id } })) } }],
        { action, dataset },
      );
    }
    await this.http.write(
      sessionId,
      [
        {
          DataCollection: {
            dataCollectionDatasets: [{ dataset: { id: datasetId } }],
            jobsAsOutput: p.applications.map((id) => ({
              application: { id },
              ...(input === undefined ? {} : { inputDataCollection: { id: input } }),
            })),
          },
        },
      ],
      { action, dataset },
    );
  }

  private async dataset(sessionId: string, inv: IcatInvestigation, input: string, dataset: string): Promise<number> {
    const ctx = { action: `looking up input dataset "${input}" of dataset "${dataset}"`, dataset };
    const queries: string[] = [];
    if (/^\d+$/.test(input)) queries.push(`SELECT ds FROM Dataset ds WHERE ds.id = ${input}`);
    if (input.includes('://') || input.startsWith('/')) {
      queries.push(`SELECT ds FROM Dataset ds WHERE ds.location = ${jpql(input)}`);
      const bare = input.replace(/\/+$/, '');
      if (bare !== input) queries.push(`SELECT ds FROM Dataset ds WHERE ds.location = ${jpql(bare)}`);
      else queries.push(`SELECT ds FROM Dataset ds WHERE ds.location = ${jpql(`${input}/`)}`);
    }
    queries.push(`SELECT ds FROM Dataset ds WHERE ds.investigation.id = ${inv.id} AND ds.name = ${jpql(input)}`);
    queries.push(`SELECT ds FROM Dataset ds WHERE ds.doi = ${jpql(input)}`);
    for (const q of queries) {
      const found = await this.http.entities<Row>(sessionId, 'Dataset', q, ctx);
      if (found.length === 1) return (found[0] as Row).id;
      if (found.length > 1) {
        throw icatRejected(
          `input dataset "${input}" of "${dataset}" matches ${found.length} datasets in ICAT (ids ${found.map((d) => d.id).join(', ')}); name it by its ICAT id.`,
          'inputDatasets',
          dataset,
        );
      }
    }
    throw icatRejected(
      `input dataset "${input}" of "${dataset}" is not in ICAT facility ${this.facility} (or the signed-in user may not see it): ICAT can only link datasets it knows. Name each input by its ICAT id, its storage location, its name in investigation ${inv.name} or its DOI, then upload again.`,
      'inputDatasets',
      dataset,
    );
  }

  private async application(sessionId: string, entry: string, dataset: string): Promise<number> {
    const { name, version } = softwareParts(entry);
    const ctx = { action: `looking up the ICAT Application "${entry}" of dataset "${dataset}"`, dataset };
    const byVersion = version === null ? '' : ` AND a.version = ${jpql(version)}`;
    const found = await this.http.entities<Row>(
      sessionId,
      'Application',
      `SELECT a FROM Application a WHERE a.facility.name = ${jpql(this.facility)} AND a.name = ${jpql(name)}${byVersion} ORDER BY a.version`,
      ctx,
    );
    if (found.length === 1) return (found[0] as Row).id;
    if (found.length > 1) {
      throw icatRejected(
        `ICAT facility ${this.facility} has ${found.length} versions of the Application "${name}" (${found.map((a) => a.version).join(', ')}); say which one made "${dataset}" with -p usedSoftware='${name} VERSION'.`,
        'usedSoftware',
        dataset,
      );
    }
    throw icatRejected(
      `ICAT facility ${this.facility} has no Application "${name}"${version === null ? '' : ` version "${version}"`}: Applications are facility-wide in ICAT, like ParameterTypes, so ask the ICAT administrators to add it, or name the software as ICAT knows it.`,
      'usedSoftware',
      dataset,
    );
  }
}
