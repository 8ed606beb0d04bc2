// The pairwise matrix, ICAT column (icat.server contract server): sync × filesystem,
// batch × S3, sync × WebDAV. The investigation (proposal + visit) exists in ICAT and the
// operator is a member. The Dataset is created incomplete while files arrive and set complete
// at the end — also when a sync session is stopped (finding 1 of issue 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIcatContractServer, type IcatContractServer } from '../support/icat-contract-server.js';
import { ICAT_USER, icatCatalogue, icatDatasets, localDatasets } from '../support/journey-catalogues.js';
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
import { expectIcatFinished } from './expect-catalogues.js';
import { syncAcquisition, uploadBatch, type Outcome } from './steps.js';

let server: IcatContractServer;
beforeAll(async () => {
  server = await startIcatContractServer({ users: [ICAT_USER] });
});
afterAll(async () => {
  await killLeftovers();
  closeJourneys();
  await server.close();
});

async function signedIn(destination: DestinationKind, id: Identity): Promise<Journey> {
  const catalogue = icatCatalogue(server);
  catalogue.addProposal(id.proposal, id.visit);
  const j = await newJourney({ destination, catalogue });
  await j.login();
  return j;
}

async function expectFinished(j: Journey, out: Outcome, sample: string): Promise<void> {
  await expectStorageHolds(j, [out]);
  expectIcatFinished(j, server, out);
  await expectCrate(j, out, { sample });
  expectLocalDataset(j, out, { sample });
  expectJournalDone(j, out.jobId, out, 'registered');
}

/** While the acquisition runs: the Datafiles arrive in ICAT, the Dataset stays incomplete. */
async function incompleteWhileAcquiring(j: Journey, id: Identity, files: Map<string, Hashed>): Promise<void> {
  const ds = await until('the Datafiles in ICAT during the acquisition', () =>
    icatDatasets(server, id.dataset).find((d) => d.investigation.name === id.proposal && d.files.length === files.size),
  );
  expect(ds.complete, 'Dataset.complete while files still arrive').toBe(false);
  expect(localDatasets(j.home, id.dataset).map((d) => d.row.processing_status)).toEqual(['acquiring']);
}

describe('journeys · ICAT', () => {
  it('sync × filesystem (finding 1): Ctrl-C ends the acquisition and sets the Dataset complete', async () => {
    const id = { dataset: 'tomo-sync', proposal: 'IH-1001', visit: 'v2' };
    const j = await signedIn('filesystem', id);
    const out = await syncAcquisition(j, id, {
      params: ['-p', 'sample=wood-3'],
      stop: 'ctrl-c',
      during: (_w, files) => incompleteWhileAcquiring(j, id, files),
    });
    await expectFinished(j, out, 'wood-3');
  });

  it('batch × S3: a finished folder becomes one complete Dataset with every Datafile', async () => {
    const id = { dataset: 'tomo-batch', proposal: 'IH-1002' };
    const j = await signedIn('s3', id);
    const out = await uploadBatch(j, id, { params: ['-p', 'sample=wood-4'] });
    await expectFinished(j, out, 'wood-4');
  });

  it('sync × WebDAV (finding 1): `beamdrop stop` from another terminal sets the Dataset complete', async () => {
    const id = { dataset: 'tomo-dav', proposal: 'IH-1003' };
    const j = await signedIn('webdav', id);
    const out = await syncAcquisition(j, id, {
      params: ['-p', 'sample=wood-5'],
      stop: 'stop-command',
      during: (_w, files) => incompleteWhileAcquiring(j, id, files),
    });
    await expectFinished(j, out, 'wood-5');
  });
});
