// `beamdrop verify DATASET [--deep]`: re-checks every recorded file of a dataset at its
// destination — size and stored SHA-256, or with --deep the bytes read back and re-hashed.
import { BeamdropError } from '../../../shared/errors.js';
import type { Engine } from '../engine.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { Destination, VerifyResult } from '../storage/destination.js';

export interface FileVerdict { file: CatalogueFile; result: VerifyResult }

export async function verifyDataset(engine: Engine, dataset: string, opts: { deep: boolean; onFile?: (v: FileVerdict) => void }): Promise<FileVerdict[]> {
  const files = engine.services.catalogue.files(dataset);
  if (!files.length) {
    throw new BeamdropError({ code: 'dataset-not-found', retryable: false, dataset, message: `no verified files are recorded for dataset "${dataset}"; \`beamdrop status\` shows what was uploaded.` });
  }
  const destinations = engine.datasetDestinations(dataset);
  const open = new Map<string, Destination>();
  const verdicts: FileVerdict[] = [];
  try {
    for (const file of files) {
      let dest = open.get(file.destination);
      if (!dest) {
        const d = destinations.get(file.destination);
        if (!d) throw new BeamdropError({ code: 'destination-unknown', retryable: false, dataset, message: `dataset "${dataset}" was stored on "${file.destination}", which no job in this journal describes.` });
        dest = await engine.openDestination(d, d.policy);
        open.set(file.destination, dest);
      }
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
    for (const d of open.values()) await d.close();
  }
  return verdicts;
}
