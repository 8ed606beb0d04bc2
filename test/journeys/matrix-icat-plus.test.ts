// The pairwise matrix, ICAT+ column (ESRF's ingestion over STOMP to a real ActiveMQ, one queue
// per journey): batch × filesystem, sync × S3, batch × WebDAV. The operator signs in to the
// broker with `beamdrop login`; when the dataset is finished exactly one dataset message is on
// the queue, consumed here as the ingester would. Finding 1 of issue 8: a stopped sync session
// sends its message (none while the acquisition runs).
import { afterAll, describe, expect, it } from 'vitest';
import { icatPlusCatalogue, takeIcatPlusMessages } from '../support/journey-catalogues.js';
import { killLeftovers } from '../support/journey-operator.js';
import type { DestinationKind } from '../support/journey-storage.js';
import {
  closeJourneys,
  expectCrate,
  expectJournalDone,
  expectLocalDataset,
  expectStorageHolds,
  newJourney,
  registeredState,
  type Journey,
} from '../support/journey-world.js';
import { expectIcatPlusMessage } from './expect-catalogues.js';
import { syncAcquisition, uploadBatch, type Outcome } from './steps.js';

afterAll(async () => {
  await killLeftovers();
  closeJourneys();
});

async function signedIn(destination: DestinationKind): Promise<{ j: Journey; queue: string }> {
  const catalogue = icatPlusCatalogue();
  const j = await newJourney({ destination, catalogue });
  await j.login();
  return { j, queue: catalogue.queue };
}

async function expectFinished(j: Journey, queue: string, out: Outcome, sample: string, parameters?: Record<string, string>) {
  await expectStorageHolds(j, [out]);
  await expectIcatPlusMessage(j, queue, out, { sample, ...(parameters ? { parameters } : {}) });
  await expectCrate(j, out, { sample });
  expectLocalDataset(j, out, { sample });
  expectJournalDone(j, out.jobId, out, registeredState(j.catalogue));
}

describe('journeys · ICAT+', () => {
  it('batch × filesystem: one complete dataset message once the folder is uploaded', async () => {
    const { j, queue } = await signedIn('filesystem');
    const out = await uploadBatch(
      j,
      { dataset: 'mx-icatplus-batch', proposal: 'MX2345' },
      { params: ['-p', 'technique=MX', '-p', 'sample=lysozyme & co', '-p', 'energy=12.4'] },
    );
    await expectFinished(j, queue, out, 'lysozyme & co', { energy: '12.4' });
  });

  it('sync × S3 (finding 1): no message while acquiring, one complete message after `beamdrop stop`', async () => {
    const { j, queue } = await signedIn('s3');
    const out = await syncAcquisition(
      j,
      { dataset: 'mx-icatplus-sync', proposal: 'MX2345' },
      {
        params: ['-p', 'sample=thaumatin'],
        stop: 'stop-command',
        during: async () => {
          expect(await takeIcatPlusMessages(queue, 0, 500), 'messages while the acquisition runs').toEqual([]);
        },
      },
    );
    await expectFinished(j, queue, out, 'thaumatin');
  });

  it('batch × WebDAV: one complete dataset message once the folder is uploaded', async () => {
    const { j, queue } = await signedIn('webdav');
    const out = await uploadBatch(j, { dataset: 'mx-icatplus-dav', proposal: 'MX2346' }, { params: ['-p', 'sample=insulin'] });
    await expectFinished(j, queue, out, 'insulin');
  });
});
