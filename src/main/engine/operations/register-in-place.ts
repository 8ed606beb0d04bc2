// `beamdrop register PATH --dataset NAME`: files that already sit on facility storage (a mounted
// archive) are hashed where they are, recorded in the local catalogue and registered in the
// facility catalogue — nothing is copied (ESRF's icat-store-raw does the same). Each file is
// recorded by its file:// URI, which `fetch` and `verify` read directly.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BeamdropError } from '../../../shared/errors.js';
import type { RegistrationStatus } from '../../../shared/model.js';
import type { FacilityProfile } from '../../../shared/profile-schema.js';
import type { OperationDeps } from '../engine.js';
import { sha256OfStream } from '../hash/hash-readable.js';
import { toRemoteRelpath } from '../keys/remote-key.js';
import { jobFilters } from '../scan/filters.js';
import { scan } from '../scan/scanner.js';
import { prepareJobCatalogue } from '../catalogue/job-catalogue.js';
import { POINTER_DESTINATION } from '../catalogue/local/local-adapter.js';
import { catalogueIdentity, type RegistrationRequest } from '../catalogue/outbox/registration-request.js';
import { LocalCatalogueSink, TeeSink, type VerifiedFileSink } from '../catalogue/verified-sink.js';

export interface RegisterRequest {
  path: string;
  dataset: string;
  proposal?: string;
  visit?: string;
  metadata?: Record<string, string>;
  include?: string[];
  exclude?: string[];
  onFile?: (f: { relpath: string; size: number; sha256: string; storageUri: string }) => void;
}

export interface RegisterResult {
  files: number;
  bytes: number;
  registration: RegistrationStatus | null;
}

const PARALLEL = 4;

/** The facility catalogue (sign-in, outbox), the local catalogue, hashing where the files are, the clock. */
export type RegisterDeps = Pick<OperationDeps, 'catalogues' | 'local' | 'hashes' | 'clock'>;

export async function registerInPlace(d: RegisterDeps, profile: FacilityProfile, req: RegisterRequest): Promise<RegisterResult> {
  const root = resolve(req.path);
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory())
    throw new BeamdropError({
      code: 'not-found',
      retryable: false,
      file: root,
      message: `${root} is not a folder; give the dataset's folder on the facility storage.`,
    });
  const jc = await prepareJobCatalogue(d, profile, req);
  const { local, hashes, clock } = d;
  const place = storagePlace(root);
  const m = req.metadata ?? {};
  const identity = {
    catalogue: catalogueIdentity(profile.catalogue),
    proposal: req.proposal || null,
    visit: req.visit || null,
    name: req.dataset,
  };
  const localId = local.ensureDataset(identity, m, {
    origin: 'register',
    technique: jc.technique,
    sample: m.sample ?? null,
    description: m.description ?? null,
    instrument: jc.beamline,
    facility: jc.facility,
    key: jc.key,
    operator: jc.owner?.username ?? null,
    status: 'acquiring',
  });
  const sinks: VerifiedFileSink[] = [new LocalCatalogueSink(local, localId)];
  const link =
    jc.config.kind !== 'local' && jc.key ? await d.catalogues.link(jc.config, { retries: profile.upload.retries }) : null;
  const request: RegistrationRequest = {
    dataset: req.dataset,
    proposal: req.proposal ?? null,
    visit: req.visit ?? null,
    type: m.datasetType === 'derived' ? 'derived' : 'raw',
    technique: jc.technique,
    sample: m.sample ?? null,
    description: m.description ?? null,
    metadata: jc.scientific,
    sourceFolder: place.uriOf(''),
    creationTime: new Date(clock.now()).toISOString(),
    owner: jc.owner,
    instrument: jc.beamline,
    facility: jc.facility,
    inputDatasets: [],
    usedSoftware: [],
    complete: true,
  };
  const registration = link && jc.key ? link.register(jc.key, request) : null;
  if (link && registration) {
    link.start();
    sinks.push(link.sink(registration));
  }
  const sink = new TeeSink(...sinks);

  let files = 0;
  let bytes = 0;
  const queue: Promise<void>[] = [];
  const one = async (path: string, rel: string, size: number, mtimeMs: number) => {
    const relpath = toRemoteRelpath(rel);
    const { sha256, size: read } = await sha256OfStream(hashes, createReadStream(path, { highWaterMark: 1024 * 1024 }));
    if (read !== size)
      throw new BeamdropError({
        code: 'changed-during-upload',
        retryable: true,
        file: relpath,
        message: `${relpath} changed while it was being hashed; register again once it is complete.`,
      });
    const storageUri = place.uriOf(relpath);
    sink.fileVerified({
      jobId: 0,
      fileId: 0,
      dataset: req.dataset,
      relpath,
      destination: place.destination,
      remoteKey: place.keyOf(relpath),
      storageUri,
      size,
      sha256,
      mtimeMs,
    });
    files++;
    bytes += size;
    req.onFile?.({ relpath, size, sha256, storageUri });
  };
  let failure: unknown = null;
  for await (const item of scan([root], { ...jobFilters(profile, req), followSymlinks: false })) {
    if ('note' in item) continue;
    queue.push(
      one(item.file.path, item.file.relpath, item.file.size, item.file.mtimeMs).catch((e: unknown) => {
        failure ??= e;
      }),
    );
    if (queue.length >= PARALLEL) await queue.shift();
    if (failure) break;
  }
  await Promise.all(queue);
  // What was hashed is recorded and queued; a rerun finds it and goes on (recording is idempotent).
  if (failure) throw failure;
  local.setDetails(localId, { status: 'complete' });
  if (!link || !registration) return { files, bytes, registration: null };
  link.finish(registration);
  const [status] = await link.settle([registration.id], 60_000);
  return { files, bytes, registration: status ?? null };
}

/** Files registered in place are pointers: fetch and verify read them by their file:// URI. */
function storagePlace(root: string): {
  destination: string;
  keyOf: (relpath: string) => string;
  uriOf: (relpath: string) => string;
} {
  const uriOf = (relpath: string) =>
    pathToFileURL(resolve(root, ...relpath.split('/').filter(Boolean))).href + (relpath ? '' : '/');
  return { destination: POINTER_DESTINATION, keyOf: uriOf, uriOf };
}
