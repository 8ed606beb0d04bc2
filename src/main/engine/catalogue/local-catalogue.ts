// The embedded local catalogue (catalogue.sqlite), shaped after LAMBDA-BER: experiment runs
// (datasets), data files, instruments, samples, input datasets and their association tables
// (schema in local/local-migrations.ts). Every verified file is recorded here whatever the facility
// catalogue, so `find`, `verify` and `fetch` work offline. A dataset is identified by
// (catalogue, proposal, visit, name): the same name in two proposals is two datasets. Recording is
// idempotent: a resumed job never records a file twice.
import type { Statement } from 'better-sqlite3';
import type { DatasetIdentity } from '../../../shared/model.js';
import { openDatabase, type Db } from '../journal/open-database.js';
import { baseName, fileFormatOf } from './file-format.js';
import {
  ambiguousDataset,
  normalised,
  selectorWhere,
  type DatasetSelector,
  type LocalDatasetRef,
} from './local/dataset-selector.js';
import { LOCAL_CATALOGUE_MIGRATIONS } from './local/local-migrations.js';

export type { DatasetSelector, LocalDatasetRef };

export interface CatalogueFile {
  dataset: string;
  datasetId: number;
  catalogue: string;
  proposal: string | null;
  visit: string | null;
  relpath: string;
  destination: string;
  remoteKey: string;
  storageUri: string;
  size: number;
  sha256: string;
  mtimeMs: number;
  recordedAt: number;
}

export type DataType = 'raw_data' | 'processed_data';
export type ProcessingStatus = 'acquiring' | 'complete';
export type DatasetOrigin = 'upload' | 'register' | 'import';

/** What is known about an experiment run besides its identity; every field optional on update. */
export interface DatasetDetails {
  type?: 'raw' | 'derived';
  technique?: string | null;
  operator?: string | null;
  description?: string | null;
  /** Replaces the instrument of the run when given. */
  instrument?: string | null;
  facility?: string | null;
  /** Replaces the sample of the run when given. */
  sample?: string | null;
  key?: string | null;
  origin?: DatasetOrigin;
  status?: ProcessingStatus;
  /** Input datasets of a derived dataset (PIDs or names, in order); replaces the list when given. */
  inputDatasets?: string[];
}

export interface DatasetInfo extends DatasetIdentity {
  id: number;
  type: 'raw' | 'derived';
  technique: string | null;
  experimentDate: string | null;
  operator: string | null;
  status: ProcessingStatus;
  description: string | null;
  origin: DatasetOrigin;
  key: string | null;
  crateUri: string | null;
  instruments: string[];
  samples: string[];
  inputDatasets: string[];
  metadata: Record<string, unknown>;
  files: number;
  bytes: number;
  createdAt: number;
}

type DatasetRow = {
  id: number;
  catalogue: string;
  name: string;
  proposal: string | null;
  visit: string | null;
  dataset_type: 'raw' | 'derived';
  technique: string | null;
  experiment_date: string | null;
  operator_id: string | null;
  processing_status: ProcessingStatus;
  description: string | null;
  origin: DatasetOrigin;
  idem_key: string | null;
  crate_uri: string | null;
  metadata: string;
  created_at: number;
  files: number;
  bytes: number;
  instruments: string | null;
  samples: string | null;
  inputs: string | null;
};

export const DATASET_SELECT = `
  SELECT d.*, (SELECT COUNT(*) FROM data_files f WHERE f.dataset_id = d.id) AS files,
    (SELECT COALESCE(SUM(size), 0) FROM data_files f WHERE f.dataset_id = d.id) AS bytes,
    (SELECT group_concat(i.code, char(31)) FROM experiment_instruments ei JOIN instruments i ON i.id = ei.instrument_id WHERE ei.experiment_id = d.id) AS instruments,
    (SELECT group_concat(s.name, char(31)) FROM experiment_samples es JOIN samples s ON s.id = es.sample_id WHERE es.experiment_id = d.id) AS samples,
    (SELECT group_concat(x.input, char(31)) FROM (SELECT input FROM experiment_inputs WHERE experiment_id = d.id ORDER BY position) x) AS inputs
  FROM datasets d`;

const split = (s: string | null) => (s ? s.split('\x1f') : []);

export function toDatasetInfo(r: DatasetRow): DatasetInfo {
  return {
    id: r.id,
    catalogue: r.catalogue,
    name: r.name,
    proposal: r.proposal,
    visit: r.visit,
    type: r.dataset_type,
    technique: r.technique,
    experimentDate: r.experiment_date,
    operator: r.operator_id,
    status: r.processing_status,
    description: r.description,
    origin: r.origin,
    key: r.idem_key,
    crateUri: r.crate_uri,
    instruments: split(r.instruments),
    samples: split(r.samples),
    inputDatasets: split(r.inputs),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    files: r.files,
    bytes: r.bytes,
    createdAt: r.created_at,
  };
}

export class LocalCatalogue {
  readonly db: Db;
  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openDatabase(file, LOCAL_CATALOGUE_MIGRATIONS);
  }

  /** Prepared once: recordFile runs for every verified file. */
  private sql(text: string): Statement<unknown[]> {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare<unknown[]>(text);
      this.statements.set(text, st);
    }
    return st;
  }

  close(): void {
    this.db.close();
  }

  /**
   * Finds or creates the dataset of this identity; metadata given later is merged in, details
   * fill or replace what they name. A dataset of another proposal, visit or catalogue is never
   * touched. Rows older than the identity columns whose identity the journal could not tell
   * (identity-backfill.ts) are claimed by the first job that names them: by its registration key
   * (the outbox gives that key only to the dataset it was registered for), or by the same name and
   * proposal on the local catalogue (the visit was not recorded then).
   */
  ensureDataset(identity: DatasetIdentity, metadata: Record<string, unknown>, details: DatasetDetails = {}): number {
    const id = normalised(identity);
    return this.db.transaction(() => {
      const exact = this.sql(`SELECT id, metadata FROM datasets d WHERE ${selectorWhere(id).where}`).get(
        ...selectorWhere(id).args,
      ) as { id: number; metadata: string } | undefined;
      const claimed = exact ? undefined : this.claimable(id, details.key ?? null);
      const row = exact ?? claimed;
      let datasetId: number;
      if (row) {
        datasetId = row.id;
        const merged = { ...(JSON.parse(row.metadata) as Record<string, unknown>), ...metadata };
        this.sql('UPDATE datasets SET metadata = ? WHERE id = ?').run(JSON.stringify(merged), datasetId);
        if (claimed)
          this.sql('UPDATE datasets SET catalogue = ?, proposal = ?, visit = ?, identity_inferred = 0 WHERE id = ?').run(
            id.catalogue,
            id.proposal,
            id.visit,
            datasetId,
          );
      } else {
        const t = this.now();
        datasetId = Number(
          this.sql(
            `INSERT INTO datasets (catalogue, proposal, visit, name, metadata, created_at, experiment_date, processing_status)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'acquiring')`,
          ).run(id.catalogue, id.proposal, id.visit, id.name, JSON.stringify(metadata), t, new Date(t).toISOString().slice(0, 10))
            .lastInsertRowid,
        );
      }
      this.updateDetails(datasetId, details);
      return datasetId;
    })();
  }

  /**
   * A row of before the identity columns that this identity may take over (see ensureDataset):
   * one whose identity is still inferred (identity_inferred 1: not yet backfilled, 2: the journal
   * could not tell), of the same name and proposal, and of this visit when it knows one.
   */
  private claimable(id: DatasetIdentity, key: string | null): { id: number; metadata: string } | undefined {
    if (key) {
      const byKey = this.sql(
        `SELECT id, metadata FROM datasets WHERE idem_key = ? AND identity_inferred <> 0 AND name = ? AND ifnull(proposal, '') = ?
         AND (visit IS NULL OR visit = ?)`,
      ).get(key, id.name, id.proposal ?? '', id.visit ?? '') as { id: number; metadata: string } | undefined;
      if (byKey) return byKey;
    }
    if (id.catalogue !== 'local') return undefined;
    return this.sql(
      `SELECT id, metadata FROM datasets WHERE identity_inferred <> 0 AND idem_key IS NULL AND catalogue = 'local'
       AND name = ? AND ifnull(proposal, '') = ? AND (visit IS NULL OR visit = ?) ORDER BY id LIMIT 1`,
    ).get(id.name, id.proposal ?? '', id.visit ?? '') as { id: number; metadata: string } | undefined;
  }

  /** Rows whose identity the migration inferred and that the backfill has not looked at yet. */
  unsettledRows(): { id: number; name: string; proposal: string | null; key: string | null }[] {
    return this.sql('SELECT id, name, proposal, idem_key AS key FROM datasets WHERE identity_inferred = 1 ORDER BY id').all() as {
      id: number;
      name: string;
      proposal: string | null;
      key: string | null;
    }[];
  }

  /**
   * The backfill's answer for one inferred row: its catalogue and visit as the journal knows them
   * (the row's identity is then known), or null when it cannot tell (the row stays claimable). A
   * row whose known identity another row already has is left as it is: no row is merged or lost.
   */
  settleInferred(id: number, known: { catalogue: string; visit: string | null } | null): boolean {
    return this.db.transaction(() => {
      const row = this.sql('SELECT name, proposal FROM datasets WHERE id = ? AND identity_inferred = 1').get(id) as
        { name: string; proposal: string | null } | undefined;
      if (!row) return false;
      const taken =
        known !== null &&
        this.sql(
          `SELECT 1 FROM datasets WHERE id <> ? AND catalogue = ? AND ifnull(proposal, '') = ? AND ifnull(visit, '') = ? AND name = ?`,
        ).get(id, known.catalogue, row.proposal ?? '', known.visit ?? '', row.name) !== undefined;
      if (known === null || taken) {
        this.sql('UPDATE datasets SET identity_inferred = 2 WHERE id = ?').run(id);
        return false;
      }
      this.sql('UPDATE datasets SET catalogue = ?, visit = ?, identity_inferred = 0 WHERE id = ?').run(
        known.catalogue,
        known.visit,
        id,
      );
      return true;
    })();
  }

  private updateDetails(id: number, d: DatasetDetails): void {
    const cols: [string, unknown][] = [];
    if (d.type) cols.push(['dataset_type', d.type]);
    if (d.technique) cols.push(['technique', d.technique]);
    if (d.operator) cols.push(['operator_id', d.operator]);
    if (d.description) cols.push(['description', d.description]);
    if (d.key && !this.keyTakenByOther(id, d.key)) cols.push(['idem_key', d.key]);
    if (d.origin) cols.push(['origin', d.origin]);
    if (d.status) cols.push(['processing_status', d.status]);
    if (cols.length)
      this.db
        .prepare(`UPDATE datasets SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`)
        .run(...cols.map(([, v]) => v), id);
    if (d.instrument) {
      const t = this.now();
      this.sql('INSERT INTO instruments (code, facility, created_at) VALUES (?, ?, ?) ON CONFLICT (code) DO NOTHING').run(
        d.instrument,
        d.facility ?? null,
        t,
      );
      this.sql(
        'DELETE FROM experiment_instruments WHERE experiment_id = ? AND instrument_id <> (SELECT id FROM instruments WHERE code = ?)',
      ).run(id, d.instrument);
      this.sql(
        'INSERT OR IGNORE INTO experiment_instruments (experiment_id, instrument_id) SELECT ?, id FROM instruments WHERE code = ?',
      ).run(id, d.instrument);
    }
    if (d.sample) {
      this.sql('INSERT INTO samples (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(d.sample, this.now());
      this.sql(
        'DELETE FROM experiment_samples WHERE experiment_id = ? AND sample_id <> (SELECT id FROM samples WHERE name = ?)',
      ).run(id, d.sample);
      this.sql(
        'INSERT OR IGNORE INTO experiment_samples (experiment_id, sample_id) SELECT ?, id FROM samples WHERE name = ?',
      ).run(id, d.sample);
    }
    if (d.inputDatasets) {
      this.sql('DELETE FROM experiment_inputs WHERE experiment_id = ?').run(id);
      const add = this.sql('INSERT INTO experiment_inputs (experiment_id, position, input) VALUES (?, ?, ?)');
      [...new Set(d.inputDatasets.map((x) => x.trim()).filter(Boolean))].forEach((input, i) => add.run(id, i, input));
    }
  }

  /**
   * A registration key names one catalogue record. A job started before visits were part of the
   * key may share it with a newer dataset of the same name and proposal; the first keeps it.
   */
  private keyTakenByOther(id: number, key: string): boolean {
    const r = this.sql('SELECT id FROM datasets WHERE idem_key = ?').get(key) as { id: number } | undefined;
    return r !== undefined && r.id !== id;
  }

  setDetails(ref: LocalDatasetRef, details: DatasetDetails): void {
    const id = this.idOf(ref);
    if (id !== null) this.db.transaction(() => this.updateDetails(id, details))();
  }

  setCrateUri(ref: LocalDatasetRef, uri: string): void {
    const id = this.idOf(ref);
    if (id !== null) this.sql('UPDATE datasets SET crate_uri = ? WHERE id = ?').run(uri, id);
  }

  /** The dataset's id, or null when there is none; a name shared by several datasets is refused. */
  datasetId(ref: LocalDatasetRef): number | null {
    return this.idOf(ref);
  }

  private idOf(ref: LocalDatasetRef): number | null {
    if (typeof ref === 'number') return ref;
    return this.dataset(ref)?.id ?? null;
  }

  recordFile(
    datasetId: number,
    f: Omit<CatalogueFile, 'dataset' | 'datasetId' | 'catalogue' | 'proposal' | 'visit' | 'recordedAt'> & { dataType?: DataType },
  ): void {
    const dataType =
      f.dataType ??
      ((this.sql('SELECT dataset_type FROM datasets WHERE id = ?').get(datasetId) as { dataset_type: string } | undefined)
        ?.dataset_type === 'derived'
        ? 'processed_data'
        : 'raw_data');
    this.sql(
      `INSERT INTO data_files (dataset_id, relpath, destination, remote_key, storage_uri, size, sha256, mtime_ms, recorded_at, file_name, file_format, data_type, creation_date)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, relpath, sha256) DO NOTHING`,
    ).run(
      datasetId,
      f.relpath,
      f.destination,
      f.remoteKey,
      f.storageUri,
      f.size,
      f.sha256,
      f.mtimeMs,
      this.now(),
      baseName(f.relpath),
      fileFormatOf(f.relpath)?.format ?? null,
      dataType,
      new Date(f.mtimeMs).toISOString(),
    );
  }

  /** Every dataset the selector matches (a bare name: all proposals, visits and catalogues). */
  matching(sel: DatasetSelector): DatasetInfo[] {
    const { where, args } = selectorWhere(sel);
    return (this.db.prepare(`${DATASET_SELECT} WHERE ${where} ORDER BY d.id`).all(...args) as DatasetRow[]).map(toDatasetInfo);
  }

  /** The dataset named, or null; a name or selector that matches several datasets is refused (dataset-ambiguous). */
  dataset(ref: LocalDatasetRef): DatasetInfo | null {
    if (typeof ref === 'number') {
      const r = this.sql(`${DATASET_SELECT} WHERE d.id = ?`).get(ref) as DatasetRow | undefined;
      return r ? toDatasetInfo(r) : null;
    }
    const sel = typeof ref === 'string' ? { name: ref } : ref;
    const found = this.matching(sel);
    if (found.length > 1) throw ambiguousDataset(sel, found);
    return found[0] ?? null;
  }

  /** The dataset of this identity as ensureDataset would find it (including a row it would claim), without writing. */
  lookup(identity: DatasetIdentity, key: string | null = null): DatasetInfo | null {
    const id = normalised(identity);
    const { where, args } = selectorWhere(id);
    const exact = this.sql(`SELECT id FROM datasets d WHERE ${where}`).get(...args) as { id: number } | undefined;
    const row = exact ?? this.claimable(id, key);
    return row ? this.dataset(row.id) : null;
  }

  datasetByKey(key: string): DatasetInfo | null {
    const r = this.sql(`${DATASET_SELECT} WHERE d.idem_key = ?`).get(key) as DatasetRow | undefined;
    return r ? toDatasetInfo(r) : null;
  }

  /** The recorded files of one dataset, by path; none when there is no such dataset. */
  files(ref: LocalDatasetRef): CatalogueFile[] {
    const id = this.idOf(ref);
    if (id === null) return [];
    return this.sql(`${FILE_SELECT} WHERE f.dataset_id = ? ORDER BY f.relpath, f.id`).all(id) as CatalogueFile[];
  }

  /** Recorded files with this storage URI (any dataset). */
  filesByUri(uri: string): CatalogueFile[] {
    return this.sql(`${FILE_SELECT} WHERE f.storage_uri = ? ORDER BY f.id`).all(uri) as CatalogueFile[];
  }
}

const FILE_SELECT = `SELECT d.name AS dataset, d.id AS datasetId, d.catalogue, d.proposal, d.visit, f.relpath, f.destination,
    f.remote_key AS remoteKey, f.storage_uri AS storageUri, f.size, f.sha256, f.mtime_ms AS mtimeMs, f.recorded_at AS recordedAt
  FROM data_files f JOIN datasets d ON d.id = f.dataset_id`;
