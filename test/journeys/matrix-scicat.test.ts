// The pairwise matrix, SciCat columns (one contract server answers /api/v3 and /api/v4):
// v3 — sync × filesystem, batch × S3 (one multipart-sized file), sync × WebDAV;
// v4 — batch × filesystem, sync × S3, batch × WebDAV.
// The operator signs in with `beamdrop login`, uploads or watches, and the dataset ends registered
// once, with exactly its files, and finished. Finding 7 of issue 8: a dataset is not archivable
// while its files are still arriving, and becomes archivable once the last one is registered.
// Finding 1: a stopped sync session is finalised (crate, local "complete", SciCat finished).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { SCICAT_USER, journalRegistrations, localDatasets, scicatCatalogue, scicatFiles } from '../support/journey-catalogues.js';
import { killLeftovers, until } from '../support/journey-operator.js';
import type { DestinationKind, Hashed } from '../support/journey-storage.js';
import {
  closeJourneys,
  expectCrate,
  expectJournalDone,
  expectLocalDataset,
  expectStorageHolds,
  newJourney,
  type Identity,
  type Journey,
} from '../support/journey-world.js';
import { archivable, archiveJob, expectScicatFinished, scicatDatasetOf } from './expect-catalogues.js';
import { SMALL_DATASET, syncAcquisition, uploadBatch, type Outcome } from './steps.js';

let server: ScicatContractServer;
beforeAll(async () => {
  server = await startScicatContractServer({ users: [SCICAT_USER] });
});
afterAll(async () => {
  await killLeftovers();
  closeJourneys();
  await server.close();
});

async function signedIn(destination: DestinationKind, version: 'v3' | 'v4', id: Identity): Promise<Journey> {
  const catalogue = scicatCatalogue(server, version);
  catalogue.addProposal(id.proposal);
  const j = await newJourney({ destination, catalogue });
  await j.login();
  return j;
}

/** Every system's end state for a finished SciCat dataset. */
async function expectFinished(j: Journey, out: Outcome, version: 'v3' | 'v4', sample: string): Promise<void> {
  await expectStorageHolds(j, [out]);
  const ds = await expectScicatFinished(j, server, out, { version, sample });
  const crate = await expectCrate(j, out, { sample });
  // The crate is written when the job ends, often before the catalogue answered: it carries the
  // PID when known, else the outbox key under which the registration is found again.
  expect([ds.pid, regKey(j, out)], 'the crate identifies the registration').toContain(crate.root.identifier);
  expectLocalDataset(j, out, { sample });
  expectJournalDone(j, out.jobId, out, 'registered');
}

const regKey = (j: Journey, out: Outcome) => journalRegistrations(j.home, out.id.dataset)[0]?.idem_key;

/** While the acquisition runs: the files reach SciCat, but the dataset is not archivable and not complete locally. */
async function notArchivableYet(j: Journey, id: Identity, files: Map<string, Hashed>): Promise<void> {
  const ds = await until('the files registered in SciCat during the acquisition', () => {
    const d = scicatDatasetOf(server, { id, files });
    return d && scicatFiles(server, String(d.pid)).length === files.size ? d : undefined;
  });
  expect(archivable(ds), 'datasetlifecycle.archivable while files still arrive').toBe(false);
  expect(await archiveJob(server, String(ds.pid), String(ds.ownerGroup)), 'an archive job while files still arrive').toBe(400);
  expect(localDatasets(j.home, id.dataset).map((d) => d.row.processing_status)).toEqual(['acquiring']);
}

describe('journeys · SciCat v3', () => {
  it('sync × filesystem (findings 1 and 7): Ctrl-C ends the acquisition; archivable only after the last file', async () => {
    const id = { dataset: 'saxs-sync-v3', proposal: 'P3001' };
    const j = await signedIn('filesystem', 'v3', id);
    const out = await syncAcquisition(j, id, {
      params: ['-p', 'technique=SAXS', '-p', 'sample=BSA'],
      stop: 'ctrl-c',
      during: (_w, files) => notArchivableYet(j, id, files),
    });
    await expectFinished(j, out, 'v3', 'BSA');
  });

  it('batch × S3: a folder with a multipart-sized file is registered once with all its files', async () => {
    const id = { dataset: 'saxs-batch-v3', proposal: 'P3001' };
    const j = await signedIn('s3', 'v3', id);
    const out = await uploadBatch(j, id, {
      files: { ...SMALL_DATASET, 'raw/volume.h5': 6 * 1024 * 1024 + 5 },
      params: ['-p', 'technique=SAXS', '-p', 'sample=BSA', '-p', 'energy=10'],
    });
    await expectFinished(j, out, 'v3', 'BSA');
    expect(scicatDatasetOf(server, out)!.scientificMetadata).toMatchObject({ energy: { value: 10, unit: 'keV' } });
  });

  it('sync × WebDAV (finding 1): `beamdrop stop` from another terminal finalises the dataset', async () => {
    const id = { dataset: 'saxs-dav-v3', proposal: 'P3002' };
    const j = await signedIn('webdav', 'v3', id);
    const out = await syncAcquisition(j, id, { params: ['-p', 'sample=lysozyme'], stop: 'stop-command' });
    await expectFinished(j, out, 'v3', 'lysozyme');
  });
});

describe('journeys · SciCat v4', () => {
  it('batch × filesystem: a finished folder is registered once with all its files', async () => {
    const id = { dataset: 'mx-batch-v4', proposal: 'P4001' };
    const j = await signedIn('filesystem', 'v4', id);
    const out = await uploadBatch(j, id, { params: ['-p', 'technique=MX', '-p', 'sample=thaumatin', '-p', 'energy=12.7'] });
    await expectFinished(j, out, 'v4', 'thaumatin');
  });

  it('sync × S3 (findings 1 and 7): archivable only after the last file, finished at the stop', async () => {
    const id = { dataset: 'mx-sync-v4', proposal: 'P4001' };
    const j = await signedIn('s3', 'v4', id);
    const out = await syncAcquisition(j, id, {
      params: ['-p', 'technique=MX', '-p', 'sample=thaumatin'],
      stop: 'ctrl-c',
      during: (_w, files) => notArchivableYet(j, id, files),
    });
    await expectFinished(j, out, 'v4', 'thaumatin');
  });

  it('batch × WebDAV: a finished folder is registered once with all its files', async () => {
    const id = { dataset: 'mx-dav-v4', proposal: 'P4002' };
    const j = await signedIn('webdav', 'v4', id);
    const out = await uploadBatch(j, id, { params: ['-p', 'sample=insulin'] });
    await expectFinished(j, out, 'v4', 'insulin');
  });
});
