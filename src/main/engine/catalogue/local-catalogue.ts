// The embedded local catalogue (catalogue.sqlite), shaped after LAMBDA-BER: experiment runs
// (datasets), data files, instruments, samples and their association tables (schema in
// local/local-migrations.ts). Every verified file is recorded here whatever the facility
// catalogue, so `find`, `verify` and `fetch` work offline. Recording is idempotent: a resumed
// job never records a file twice.
import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db } from '../journal/open-database.js';
import { baseName, fileFormatOf } from './file-format.js';
import { LOCAL_CATALOGUE_MIGRATIONS } from './local/local-migrations.js';

export interface CatalogueFile {
  dataset: string;
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

/** What is known about an experiment run besides its name; every field optional on update. */
export interface DatasetDetails {
  proposal?: string | null;
  type?: 'raw' | 'derived';
  technique?: string | null;
  operator?: string | null;
  description?: string | null;
  instrument?: string | null;
  facility?: string | null;
  sample?: string | null;
  key?: string | null;
  origin?: DatasetOrigin;
  status?: ProcessingStatus;
}

export interface DatasetInfo {
  id: number;
  name: string;
  proposal: string | null;
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
  metadata: Record<string, unknown>;
  files: number;
  bytes: number;
  createdAt: number;
}

type DatasetRow = {
  id: number;
  name: string;
  proposal: string | null;
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
};

export const DATASET_SELECT = `
  SELECT d.*, (SELECT COUNT(*) FROM data_files f WHERE f.dataset_id = d.id) AS files,
    (SELECT COALESCE(SUM(size), 0) FROM data_files f WHERE f.dataset_id = d.id) AS bytes,
    (SELECT group_concat(i.code, char(31)) FROM experiment_instruments ei JOIN instruments i ON i.id = ei.instrument_id WHERE ei.experiment_id = d.id) AS instruments,
    (SELECT group_concat(s.name, char(31)) FROM experiment_samples es JOIN samples s ON s.id = es.sample_id WHERE es.experiment_id = d.id) AS samples
  FROM datasets d`;

export function toDatasetInfo(r: DatasetRow): DatasetInfo {
  return {
    id: r.id,
    name: r.name,
    proposal: r.proposal,
    type: r.dataset_type,
    technique: r.technique,
    experimentDate: r.experiment_date,
    operator: r.operator_id,
    status: r.processing_status,
    description: r.description,
    origin: r.origin,
    key: r.idem_key,
    crateUri: r.crate_uri,
    instruments: r.instruments ? r.instruments.split('\x1f') : [],
    samples: r.samples ? r.samples.split('\x1f') : [],
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

  /** Finds or creates the dataset; metadata given later is merged in, details fill what is unknown. */
  ensureDataset(name: string, proposal: string | null, metadata: Record<string, unknown>, details: DatasetDetails = {}): number {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT id, metadata FROM datasets WHERE name = ?').get(name) as
        { id: number; metadata: string } | undefined;
      let id: number;
      if (row) {
        id = row.id;
        const merged = { ...(JSON.parse(row.metadata) as Record<string, unknown>), ...metadata };
        this.db
          .prepare('UPDATE datasets SET metadata = ?, proposal = COALESCE(proposal, ?) WHERE id = ?')
          .run(JSON.stringify(merged), proposal, id);
      } else {
        const t = this.now();
        id = Number(
          this.db
            .prepare(
              `INSERT INTO datasets (name, proposal, metadata, created_at, experiment_date, processing_status) VALUES (?, ?, ?, ?, ?, 'acquiring')`,
            )
            .run(name, proposal, JSON.stringify(metadata), t, new Date(t).toISOString().slice(0, 10)).lastInsertRowid,
        );
      }
      this.updateDetails(id, details);
      return id;
    })();
  }

  private updateDetails(id: number, d: DatasetDetails): void {
    const cols: [string, unknown][] = [];
    if (d.type) cols.push(['dataset_type', d.type]);
    if (d.technique) cols.push(['technique', d.technique]);
    if (d.operator) cols.push(['operator_id', d.operator]);
    if (d.description) cols.push(['description', d.description]);
    if (d.key) cols.push(['idem_key', d.key]);
    if (d.origin) cols.push(['origin', d.origin]);
    if (d.status) cols.push(['processing_status', d.status]);
    if (cols.length)
      this.db
        .prepare(`UPDATE datasets SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`)
        .run(...cols.map(([, v]) => v), id);
    if (d.instrument) {
      const t = this.now();
      this.db
        .prepare('INSERT INTO instruments (code, facility, created_at) VALUES (?, ?, ?) ON CONFLICT (code) DO NOTHING')
        .run(d.instrument, d.facility ?? null, t);
      this.db
        .prepare(
          'INSERT OR IGNORE INTO experiment_instruments (experiment_id, instrument_id) SELECT ?, id FROM instruments WHERE code = ?',
        )
        .run(id, d.instrument);
    }
    if (d.sample) {
      this.db
        .prepare('INSERT INTO samples (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING')
        .run(d.sample, this.now());
      this.db
        .prepare('INSERT OR IGNORE INTO experiment_samples (experiment_id, sample_id) SELECT ?, id FROM samples WHERE name = ?')
        .run(id, d.sample);
    }
  }

  setDetails(name: string, details: DatasetDetails): void {
    const id = this.datasetId(name);
    if (id !== null) this.updateDetails(id, details);
  }

  setCrateUri(name: string, uri: string): void {
    this.db.prepare('UPDATE datasets SET crate_uri = ? WHERE name = ?').run(uri, name);
  }

  datasetId(name: string): number | null {
    return (this.db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: number } | undefined)?.id ?? null;
  }

  recordFile(datasetId: number, f: Omit<CatalogueFile, 'dataset' | 'recordedAt'> & { dataType?: DataType }): void {
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

  datasets(): { name: string; proposal: string | null; files: number; bytes: number; createdAt: number }[] {
    return this.db
      .prepare(
        `SELECT d.name, d.proposal, d.created_at AS createdAt, COUNT(f.id) AS files, COALESCE(SUM(f.size), 0) AS bytes
       FROM datasets d LEFT JOIN data_files f ON f.dataset_id = d.id GROUP BY d.id ORDER BY d.id`,
      )
      .all() as { name: string; proposal: string | null; files: number; bytes: number; createdAt: number }[];
  }

  dataset(name: string): DatasetInfo | null {
    const r = this.db.prepare(`${DATASET_SELECT} WHERE d.name = ?`).get(name) as DatasetRow | undefined;
    return r ? toDatasetInfo(r) : null;
  }

  datasetByKey(key: string): DatasetInfo | null {
    const r = this.db.prepare(`${DATASET_SELECT} WHERE d.idem_key = ?`).get(key) as DatasetRow | undefined;
    return r ? toDatasetInfo(r) : null;
  }

  files(dataset: string): CatalogueFile[] {
    return this.db
      .prepare(
        `SELECT d.name AS dataset, f.relpath, f.destination, f.remote_key AS remoteKey, f.storage_uri AS storageUri,
              f.size, f.sha256, f.mtime_ms AS mtimeMs, f.recorded_at AS recordedAt
       FROM data_files f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = ? ORDER BY f.relpath, f.id`,
      )
      .all(dataset) as CatalogueFile[];
  }
}
