// `beamdrop verify DATASET [--deep]`: re-checks every recorded file of a dataset at its
// destination — size and stored SHA-256, or with --deep the bytes read back and re-hashed. A name
// that several datasets share (other proposals or visits) is refused until --proposal/--visit say which.
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel } from '../../../shared/model.js';
import type { OperationDeps } from '../engine.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { VerifyResult } from '../storage/destination.js';
import { localDataset, type DatasetQuery } from './dataset-lookup.js';
import { StoredDestinations, type StoredDestinationsDeps } from './stored-destinations.js';

export interface FileVerdict {
  file: CatalogueFile;
  result: VerifyResult;
}

/** The local catalogue's records of the dataset, and the destinations they were stored on. */
export type VerifyDeps = Pick<OperationDeps, 'local'> & StoredDestinationsDeps;

export async function verifyDataset(
  d: VerifyDeps,
  which: DatasetQuery | string | number,
  opts: { deep: boolean; onFile?: (v: FileVerdict) => void },
): Promise<FileVerdict[]> {
  const { local } = d;
  const info = typeof which === 'number' ? local.dataset(which) : localDataset(local, which);
  const files = info ? local.files(info.id) : [];
  if (!info || !files.length) {
    const name = info?.name ?? (typeof which === 'object' ? which.name : String(which));
    throw new BeamdropError({
      code: 'dataset-not-found',
      retryable: false,
      dataset: name,
      message: `no verified files are recorded for dataset ${info ? datasetLabel(info) : `#${String(which)}`} yet; \`beamdrop status\` shows what is being uploaded.`,
    });
  }
  const destinations = new StoredDestinations(d);
  const verdicts: FileVerdict[] = [];
  try {
    for (const file of files) {
      const dest = await destinations.of(file);
      let result: VerifyResult;
      try {
        result = await dest.verify(file.remoteKey, { size: file.size, sha256: file.sha256 }, { deep: opts.deep });
      } catch (e) {
        result = { ok: false, size: null, checked: [], problem: (e as Error).message };
      }
      const v = { file, result };
      verdicts.push(v);
      opts.onFile?.(v);
    }
  } finally {
    await destinations.close();
  }
  return verdicts;
}
