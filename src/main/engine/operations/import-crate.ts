// `beamdrop import CRATE`: reads an RO-Crate a facility emits and records its dataset and files
// in the local catalogue as pointers (storage URI + size + SHA-256), copying no bytes. `fetch`
// then streams any of them on demand and checks the SHA-256; `verify` re-checks them in place.
// What the crate says about the dataset comes along: proposal and visit (its identity), sample,
// instrument, facility, technique, and the inputs of a derived dataset.
import { readFile } from 'node:fs/promises';
import { BeamdropError } from '../../../shared/errors.js';
import type { OperationDeps } from '../engine.js';
import { POINTER_DESTINATION } from '../catalogue/local/local-adapter.js';
import { readCrate } from '../catalogue/ro-crate.js';

export interface ImportResult {
  dataset: string;
  files: number;
  bytes: number;
  alreadyKnown: number;
}

export async function importCrate(
  d: Pick<OperationDeps, 'local'>,
  file: string,
  opts: { dataset?: string } = {},
): Promise<ImportResult> {
  const { local } = d;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new BeamdropError({
      code: 'not-found',
      retryable: false,
      file,
      message: `cannot read the RO-Crate ${file}: ${(e as Error).message}`,
    });
  }
  const crate = readCrate(json, file);
  const name = opts.dataset ?? crate.name;
  const identity = { catalogue: 'local', proposal: crate.proposal, visit: crate.visit, name };
  const existing = local.lookup(identity);
  if (existing && existing.origin !== 'import') {
    throw new BeamdropError({
      code: 'conflict',
      retryable: false,
      dataset: name,
      message: `the local catalogue already has a dataset "${name}" uploaded from this workstation; import the crate under another name with --dataset NAME.`,
    });
  }
  const before = existing ? new Set(local.files(existing.id).map((f) => `${f.relpath}\0${f.sha256}`)) : new Set<string>();
  const flat = Object.fromEntries(
    Object.entries(crate.metadata).map(([k, v]) => [k, v.unit ? `${v.value} ${v.unit}` : String(v.value)]),
  );
  const id = local.ensureDataset(
    identity,
    {
      ...flat,
      ...(crate.usedSoftware.length > 0 ? { usedSoftware: crate.usedSoftware.join(', ') } : {}),
      importedFrom: crate.rootUri,
    },
    {
      origin: 'import',
      type: crate.inputDatasets.length > 0 ? 'derived' : 'raw',
      technique: crate.technique,
      description: crate.description,
      status: 'complete',
      ...(crate.sample ? { sample: crate.sample } : {}),
      ...(crate.instrument ? { instrument: crate.instrument, facility: crate.facility } : {}),
      ...(crate.inputDatasets.length > 0 ? { inputDatasets: crate.inputDatasets } : {}),
    },
  );
  let bytes = 0;
  let alreadyKnown = 0;
  local.db.transaction(() => {
    for (const f of crate.files) {
      if (before.has(`${f.relpath}\0${f.sha256}`)) alreadyKnown++;
      local.recordFile(id, {
        relpath: f.relpath,
        destination: POINTER_DESTINATION,
        remoteKey: f.storageUri,
        storageUri: f.storageUri,
        size: f.size,
        sha256: f.sha256,
        mtimeMs: f.mtimeMs,
      });
      bytes += f.size;
    }
  })();
  return { dataset: name, files: crate.files.length, bytes, alreadyKnown };
}
