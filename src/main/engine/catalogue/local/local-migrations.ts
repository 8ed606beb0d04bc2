// Schema of catalogue.sqlite, the embedded local catalogue, one step per entry (PRAGMA
// user_version = step). Step 1 is the minimal form the first engine shipped; step 2 reshapes it
// after LAMBDA-BER while keeping every existing row and the names verify/fetch read:
//   datasets   = ExperimentRun (name is experiment_code; technique, experiment_date, operator_id,
//                processing_status) plus proposal, type and the outbox idempotency key
//   data_files = DataFile (file_name, file_path = relpath, file_format, file_size_bytes = size,
//                checksum = sha256, creation_date, data_type, storage_uri)
//   instruments, samples, experiment_instruments, experiment_samples (association tables)
// The view experiment_runs shows datasets under LAMBDA-BER's own column names.
// Step 3 makes a dataset's identity (catalogue, proposal, visit, name) instead of its name alone,
// and keeps the input datasets of derived datasets (experiment_inputs).

const INITIAL = `
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
  `;

const LAMBDA_BER = `
  CREATE TABLE instruments (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    model TEXT,
    facility TEXT,
    current_status TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE proposals (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    owner_group TEXT,
    email TEXT,
    created_at INTEGER NOT NULL
  );
  ALTER TABLE datasets ADD COLUMN dataset_type TEXT NOT NULL DEFAULT 'raw';
  ALTER TABLE datasets ADD COLUMN technique TEXT;
  ALTER TABLE datasets ADD COLUMN experiment_date TEXT;
  ALTER TABLE datasets ADD COLUMN ended_at INTEGER;
  ALTER TABLE datasets ADD COLUMN operator_id TEXT;
  ALTER TABLE datasets ADD COLUMN processing_status TEXT NOT NULL DEFAULT 'complete';
  ALTER TABLE datasets ADD COLUMN description TEXT;
  ALTER TABLE datasets ADD COLUMN idem_key TEXT;
  ALTER TABLE datasets ADD COLUMN origin TEXT NOT NULL DEFAULT 'upload';
  ALTER TABLE datasets ADD COLUMN crate_uri TEXT;
  CREATE UNIQUE INDEX datasets_by_key ON datasets (idem_key) WHERE idem_key IS NOT NULL;
  CREATE INDEX datasets_by_technique ON datasets (technique, experiment_date);
  UPDATE datasets SET experiment_date = strftime('%Y-%m-%d', created_at / 1000, 'unixepoch');

  ALTER TABLE data_files ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
  ALTER TABLE data_files ADD COLUMN file_format TEXT;
  ALTER TABLE data_files ADD COLUMN data_type TEXT NOT NULL DEFAULT 'raw_data';
  ALTER TABLE data_files ADD COLUMN creation_date TEXT;
  -- basename of relpath: strip everything up to the last '/'
  UPDATE data_files SET file_name = replace(relpath, rtrim(relpath, replace(relpath, '/', '')), ''),
    creation_date = strftime('%Y-%m-%dT%H:%M:%fZ', mtime_ms / 1000, 'unixepoch');
  CREATE INDEX data_files_by_name ON data_files (file_name);

  CREATE TABLE experiment_instruments (
    experiment_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    PRIMARY KEY (experiment_id, instrument_id)
  );
  CREATE TABLE experiment_samples (
    experiment_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    sample_id INTEGER NOT NULL REFERENCES samples(id),
    PRIMARY KEY (experiment_id, sample_id)
  );
  CREATE VIEW experiment_runs AS
    SELECT id, name AS experiment_code, technique, experiment_date, operator_id, processing_status, proposal, dataset_type
    FROM datasets;
  `;

// SQLite cannot drop the UNIQUE (name) of step 1, so the tables are rebuilt. Migrations run in a
// transaction with foreign keys on, where dropping \`datasets\` would cascade into the association
// tables: the children are copied and dropped first, then each copy takes the old name (a rename
// rewrites the references of the copies). Rows of before this step keep their ids; their
// catalogue is 'local', their visit unknown (NULL) and identity_inferred = 1, so the first job of
// the same name and proposal may claim them (LocalCatalogue.ensureDataset).
const IDENTITY = `
  CREATE TABLE datasets_v3 (
    id INTEGER PRIMARY KEY,
    catalogue TEXT NOT NULL DEFAULT 'local',
    proposal TEXT,
    visit TEXT,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    dataset_type TEXT NOT NULL DEFAULT 'raw',
    technique TEXT,
    experiment_date TEXT,
    ended_at INTEGER,
    operator_id TEXT,
    processing_status TEXT NOT NULL DEFAULT 'complete',
    description TEXT,
    idem_key TEXT,
    origin TEXT NOT NULL DEFAULT 'upload',
    crate_uri TEXT,
    identity_inferred INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO datasets_v3 (id, catalogue, proposal, visit, name, metadata, created_at, dataset_type, technique, experiment_date,
      ended_at, operator_id, processing_status, description, idem_key, origin, crate_uri, identity_inferred)
    SELECT id, 'local', NULLIF(proposal, ''), NULL, name, metadata, created_at, dataset_type, technique, experiment_date,
      ended_at, operator_id, processing_status, description, idem_key, origin, crate_uri, 1
    FROM datasets;

  CREATE TABLE data_files_v3 (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets_v3(id),
    relpath TEXT NOT NULL,
    destination TEXT NOT NULL,
    remote_key TEXT NOT NULL,
    storage_uri TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    mtime_ms REAL NOT NULL,
    recorded_at INTEGER NOT NULL,
    file_name TEXT NOT NULL DEFAULT '',
    file_format TEXT,
    data_type TEXT NOT NULL DEFAULT 'raw_data',
    creation_date TEXT,
    UNIQUE (dataset_id, relpath, sha256)
  );
  INSERT INTO data_files_v3 SELECT id, dataset_id, relpath, destination, remote_key, storage_uri, size, sha256, mtime_ms,
    recorded_at, file_name, file_format, data_type, creation_date FROM data_files;
  CREATE TABLE experiment_instruments_v3 (
    experiment_id INTEGER NOT NULL REFERENCES datasets_v3(id) ON DELETE CASCADE,
    instrument_id INTEGER NOT NULL REFERENCES instruments(id),
    PRIMARY KEY (experiment_id, instrument_id)
  );
  INSERT INTO experiment_instruments_v3 SELECT experiment_id, instrument_id FROM experiment_instruments;
  CREATE TABLE experiment_samples_v3 (
    experiment_id INTEGER NOT NULL REFERENCES datasets_v3(id) ON DELETE CASCADE,
    sample_id INTEGER NOT NULL REFERENCES samples(id),
    PRIMARY KEY (experiment_id, sample_id)
  );
  INSERT INTO experiment_samples_v3 SELECT experiment_id, sample_id FROM experiment_samples;

  DROP VIEW experiment_runs;
  DROP TABLE data_files;
  DROP TABLE experiment_instruments;
  DROP TABLE experiment_samples;
  DROP TABLE datasets;
  ALTER TABLE datasets_v3 RENAME TO datasets;
  ALTER TABLE data_files_v3 RENAME TO data_files;
  ALTER TABLE experiment_instruments_v3 RENAME TO experiment_instruments;
  ALTER TABLE experiment_samples_v3 RENAME TO experiment_samples;

  -- NULL proposal or visit compare equal here: "no visit" is one identity, not many.
  CREATE UNIQUE INDEX datasets_by_identity ON datasets (catalogue, ifnull(proposal, ''), ifnull(visit, ''), name);
  CREATE INDEX datasets_by_name ON datasets (name);
  CREATE UNIQUE INDEX datasets_by_key ON datasets (idem_key) WHERE idem_key IS NOT NULL;
  CREATE INDEX datasets_by_technique ON datasets (technique, experiment_date);
  CREATE INDEX data_files_by_dataset ON data_files (dataset_id);
  CREATE INDEX data_files_by_name ON data_files (file_name);
  CREATE INDEX data_files_by_uri ON data_files (storage_uri);

  -- A derived dataset's inputs as its producer named them (PIDs or dataset names), in order.
  CREATE TABLE experiment_inputs (
    experiment_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    input TEXT NOT NULL,
    PRIMARY KEY (experiment_id, position)
  );

  CREATE VIEW experiment_runs AS
    SELECT id, name AS experiment_code, technique, experiment_date, operator_id, processing_status, proposal, visit, catalogue,
      dataset_type
    FROM datasets;
  `;

export const LOCAL_CATALOGUE_MIGRATIONS: readonly string[] = [INITIAL, LAMBDA_BER, IDENTITY];
