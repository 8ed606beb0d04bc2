// The pairwise matrix, local catalogue column: batch × filesystem, sync × S3, batch × WebDAV.
// The operator has no facility catalogue: the local catalogue and the RO-Crate beside the data
// are the record. Finding 1 of issue 8: a sync session stopped with `beamdrop stop` is finalised
// (RO-Crate written, local catalogue "complete"), not left "acquiring".
import { afterAll, describe, expect, it } from 'vitest';
import { localCatalogue, localDatasets } from '../support/journey-catalogues.js';
import { killLeftovers } from '../support/journey-operator.js';
import {
  closeJourneys,
  expectCrate,
  expectJournalDone,
  expectLocalDataset,
  expectStorageHolds,
  newJourney,
} from '../support/journey-world.js';
import { syncAcquisition, uploadBatch } from './steps.js';

afterAll(async () => {
  await killLeftovers();
  closeJourneys();
});

const SAXS = ['-p', 'technique=SAXS', '-p', 'sample=lysozyme', '-p', 'energy=12.4'];

describe('journeys · local catalogue', () => {
  it('batch × filesystem: a finished folder is stored, described by its crate and recorded locally', async () => {
    const j = await newJourney({ destination: 'filesystem', catalogue: localCatalogue() });
    const out = await uploadBatch(j, { dataset: 'lyso-batch', proposal: 'MX1001' }, { params: SAXS });
    await expectStorageHolds(j, [out]);
    await expectCrate(j, out, { sample: 'lysozyme', technique: 'SAXS', properties: { energy: { value: 12.4, unit: 'keV' } } });
    expectLocalDataset(j, out, { sample: 'lysozyme', technique: 'SAXS', metadata: { sample: 'lysozyme' } });
    expectJournalDone(j, out.jobId, out, 'verified');
  });

  it('sync × S3 (finding 1): `beamdrop stop` ends the acquisition and finalises the dataset', async () => {
    const j = await newJourney({ destination: 's3', catalogue: localCatalogue() });
    const id = { dataset: 'lyso-sync', proposal: 'MX1001' };
    const out = await syncAcquisition(j, id, {
      params: SAXS,
      stop: 'stop-command',
      during: async () => {
        // Still acquiring: the local catalogue says so, and no crate is beside the data yet.
        expect(localDatasets(j.home, id.dataset).map((d) => d.row.processing_status)).toEqual(['acquiring']);
        expect((await j.dest.reader.keys()).filter((k) => k.endsWith('-ro-crate-metadata.json'))).toEqual([]);
      },
    });
    await expectStorageHolds(j, [out]);
    await expectCrate(j, out, { sample: 'lysozyme', technique: 'SAXS' });
    expectLocalDataset(j, out, { sample: 'lysozyme', technique: 'SAXS' });
    expectJournalDone(j, out.jobId, out, 'verified');
  });

  it('batch × WebDAV: a finished folder is stored, described by its crate and recorded locally', async () => {
    const j = await newJourney({ destination: 'webdav', catalogue: localCatalogue() });
    const out = await uploadBatch(j, { dataset: 'lyso-dav', proposal: 'MX1002' }, { params: ['-p', 'sample=buffer-1'] });
    await expectStorageHolds(j, [out]);
    await expectCrate(j, out, { sample: 'buffer-1' });
    expectLocalDataset(j, out, { sample: 'buffer-1' });
    expectJournalDone(j, out.jobId, out, 'verified');
  });
});
