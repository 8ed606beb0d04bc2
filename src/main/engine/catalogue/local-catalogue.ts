// The embedded local catalogue (minimal form): every verified file with its dataset, storage
// URI, size, SHA-256 and modification time. Recording is idempotent, so a resumed job never
// registers a file twice. The full LAMBDA-BER shaped catalogue builds on these tables.
import { openDatabase, type Db } from '../journal/open-database.js';

const MIGRATIONS = [
  `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    proposal TEXT,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE data_files (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    relpath TEXT NOT NULL,
    destination TEXT NOT NULL,
    remote_key TEXT NOT NULL,
    storage_uri TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    mtime_ms REAL NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (dataset_id, relpath, sha256)
  );
  CREATE INDEX data_files_by_dataset ON data_files (dataset_id);
  `,
];

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

export class LocalCatalogue {
  private readonly db: Db;

  constructor(file: string, private readonly now: () => number = Date.now) {
    this.db = openDatabase(file, MIGRATIONS);
  }

  close(): void { this.db.close(); }

  /** Finds or creates the dataset; metadata given later is merged in. */
  ensureDataset(name: string, proposal: string | null, metadata: Record<string, string>): number {
    const row = this.db.prepare('SELECT id, metadata FROM datasets WHERE name = ?').get(name) as { id: number; metadata: string } | undefined;
    if (row) {
      const merged = { ...(JSON.parse(row.metadata) as Record<string, string>), ...metadata };
      this.db.prepare('UPDATE datasets SET metadata = ?, proposal = COALESCE(proposal, ?) WHERE id = ?').run(JSON.stringify(merged), proposal, row.id);
      return row.id;
    }
    return Number(this.db.prepare('INSERT INTO datasets (name, proposal, metadata, created_at) VALUES (?, ?, ?, ?)')
      .run(name, proposal, JSON.stringify(metadata), this.now()).lastInsertRowid);
  }

  recordFile(datasetId: number, f: Omit<CatalogueFile, 'dataset' | 'recordedAt'>): void {
    this.db.prepare(
      `INSERT INTO data_files (dataset_id, relpath, destination, remote_key, storage_uri, size, sha256, mtime_ms, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, relpath, sha256) DO NOTHING`,
    ).run(datasetId, f.relpath, f.destination, f.remoteKey, f.storageUri, f.size, f.sha256, f.mtimeMs, this.now());
  }

  datasets(): { name: string; proposal: string | null; files: number; bytes: number; createdAt: number }[] {
    return this.db.prepare(
      `SELECT d.name, d.proposal, d.created_at AS createdAt, COUNT(f.id) AS files, COALESCE(SUM(f.size), 0) AS bytes
       FROM datasets d LEFT JOIN data_files f ON f.dataset_id = d.id GROUP BY d.id ORDER BY d.id`,
    ).all() as { name: string; proposal: string | null; files: number; bytes: number; createdAt: number }[];
  }

  files(dataset: string): CatalogueFile[] {
    return this.db.prepare(
      `SELECT d.name AS dataset, f.relpath, f.destination, f.remote_key AS remoteKey, f.storage_uri AS storageUri,
              f.size, f.sha256, f.mtime_ms AS mtimeMs, f.recorded_at AS recordedAt
       FROM data_files f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = ? ORDER BY f.relpath, f.id`,
    ).all(dataset) as CatalogueFile[];
  }
}
