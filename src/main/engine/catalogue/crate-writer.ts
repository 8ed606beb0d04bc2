// Writes a finished dataset's detached RO-Crate into the data folder (crates/, one folder per
// catalogue, proposal and visit, so datasets of the same name never share a file) and uploads it
// beside the data, through the job's own destination: next to the dataset's folder
// (".../DATASET/" → ".../DATASET-ro-crate-metadata.json"), so it is never mistaken for one of the
// dataset's files by a listing or a rerun. The destination never replaces an object:
// when the dataset grew since an earlier crate, the new crate gets a time-stamped name and both
// stay; the local catalogue remembers the newest.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { DatasetIdentity } from '../../../shared/model.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { Destination } from '../storage/destination.js';
import { memoryMultipartStore } from '../storage/memory-multipart.js';
import { FileSource } from '../transfer/file-source.js';
import type { MetadataValue } from './catalogue-adapter.js';
import type { LocalCatalogue } from './local-catalogue.js';
import { buildCrate, crateFileName, CRATE_SUFFIX } from './ro-crate.js';

export interface CrateContext {
  local: LocalCatalogue;
  hashes: HashPool;
  /** The data folder; crates go to <dataDir>/crates/ (see localCratePath). */
  dataDir: string;
  destination: Destination;
  /** Remote key of a path inside the dataset (the job's key template). */
  keyOf: (relpath: string) => string;
  /** Absolute URI of the dataset's folder on the destination. */
  rootUri: string;
  /** The dataset in the local catalogue: its identity, files, sample and inputs are read from there. */
  datasetId: number;
  license: string;
  identifier: string | null;
  metadata: Record<string, MetadataValue>;
  now: number;
}

export interface WrittenCrate {
  localPath: string;
  key: string;
  uri: string;
  uploaded: boolean;
}

export async function writeDatasetCrate(c: CrateContext): Promise<WrittenCrate> {
  const info = c.local.dataset(c.datasetId);
  if (!info) throw new Error(`dataset #${c.datasetId} is not in the local catalogue`);
  const crate = buildCrate({
    name: info.name,
    description: info.description,
    rootUri: c.rootUri,
    datePublished: new Date(c.now).toISOString(),
    license: c.license,
    proposal: info.proposal,
    visit: info.visit,
    technique: info.technique,
    sample: info.samples[0] ?? null,
    instrument: info.instruments[0] ?? null,
    identifier: c.identifier,
    metadata: c.metadata,
    inputDatasets: info.inputDatasets,
    usedSoftware: listOf(info.metadata.usedSoftware),
    files: c.local
      .files(c.datasetId)
      .map((f) => ({ relpath: f.relpath, storageUri: f.storageUri, size: f.size, sha256: f.sha256, mtimeMs: f.mtimeMs })),
  });
  const localPath = localCratePath(c.dataDir, info);
  // A rerun that added nothing (a finished upload run again) keeps the crate it wrote before, so
  // the same crate is found beside the data instead of a second, time-stamped one.
  const bytes = (await unchangedCrate(localPath, crate)) ?? Buffer.from(JSON.stringify(crate, null, 2) + '\n');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await mkdir(dirname(localPath), { recursive: true });
  await writeFile(`${localPath}.tmp`, bytes);
  await rename(`${localPath}.tmp`, localPath);

  // The dataset folder's key prefix ("P1/scan-12/"); the crate goes beside it.
  const folder = c.keyOf('x').slice(0, -1).replace(/\/+$/, '') || crateFileName(info.name).slice(0, -CRATE_SUFFIX.length);
  const crateKey = (stamp: string) => `${folder}${stamp}${CRATE_SUFFIX}`;
  let key = crateKey('');
  // (crateBeside() recognises these names; keep the two together.)
  const there = await c.destination.head(key);
  let uploaded = false;
  if (there && there.size === bytes.length && (there.sha256 === null || there.sha256 === sha256)) {
    // The same crate is already beside the data (a rerun that added nothing).
  } else {
    if (there) key = crateKey(`-${new Date(c.now).toISOString().replace(/[:.]/g, '')}`);
    const st = await stat(localPath);
    const source = await FileSource.open(
      localPath,
      key,
      { size: st.size, mtimeMs: st.mtimeMs },
      { hashes: c.hashes, throttle: null },
    );
    try {
      await c.destination.upload(key, source, { signal: AbortSignal.timeout(120_000), multipart: memoryMultipartStore() });
    } finally {
      await source.close();
    }
    uploaded = true;
  }
  const uri = c.destination.uri(key);
  c.local.setCrateUri(c.datasetId, uri);
  return { localPath, key, uri, uploaded };
}

/** The bytes of the crate written before for this dataset, if it differs from `crate` only in its date and identifier. */
async function unchangedCrate(localPath: string, crate: object): Promise<Buffer | null> {
  const stable = (json: unknown) =>
    JSON.stringify(json, (k, v: unknown) => (k === 'datePublished' || k === 'identifier' ? undefined : v));
  try {
    const before = await readFile(localPath);
    return stable(JSON.parse(before.toString('utf8'))) === stable(crate) ? before : null;
  } catch {
    return null;
  }
}

/**
 * Whether `key` is a crate written beside the dataset folder `folder` ("P1/V1/scan-12"): the
 * plain name, or the one stamped with a time when another crate was there already.
 */
export function crateBeside(folder: string, key: string): boolean {
  if (!key.startsWith(folder)) return false;
  return (
    /^(-\d{4}-\d{2}-\d{2}T\d{9}Z)?$/.test(key.slice(folder.length, key.length - CRATE_SUFFIX.length)) &&
    key.endsWith(CRATE_SUFFIX)
  );
}

/**
 * <dataDir>/crates/[CATALOGUE/][PROPOSAL/][VISIT/]NAME-ro-crate-metadata.json: the local catalogue
 * and proposal-less datasets keep the plain crates/NAME-… of earlier versions.
 */
export function localCratePath(dataDir: string, id: DatasetIdentity): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  const folders = [id.catalogue === 'local' ? null : id.catalogue, id.proposal, id.visit].filter((x): x is string => !!x);
  return join(dataDir, 'crates', ...folders.map(safe), crateFileName(id.name));
}

/** A list given as -p KEY=a,b (kept as typed in the dataset's metadata). */
function listOf(v: unknown): string[] {
  return typeof v === 'string'
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
}
