// Dataset identity against the SciCat contract server: the same dataset name in two visits is two
// registrations (two outbox keys, two SciCat datasets, two local datasets that know their
// catalogue), and `catalogue retry|status` given the bare name refuse with the candidates until
// --visit (or --proposal) says which. Real HTTP, real journal, the session in the OS keychain
// (run with `bash scripts/test.sh -- test/integration/catalogue-identity-scicat.test.ts`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { Engine } from '../../src/main/engine/engine.js';
import { osKeychain } from '../../src/main/engine/credentials/credential-store.js';
import { idempotencyKey } from '../../src/main/engine/catalogue/outbox/registration-request.js';
import { catalogueLink, registrationStatus, retryRegistration } from '../../src/main/engine/operations/retry-registration.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const USER = { username: 'ingestor', password: 'secret-pw', email: 'ingestor@facility.example', groups: ['p-1234'] };

describe('dataset identity in a facility catalogue (SciCat contract server)', () => {
  let server: ScicatContractServer;
  let engine: Engine;

  beforeAll(async () => {
    server = await startScicatContractServer({ users: [USER] });
  });
  afterAll(async () => {
    await engine?.close();
    await server.close();
  });

  it('registers the same name in two visits as two datasets; retry and status refuse the bare name and take --visit', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bd-ident-scicat-'));
    const archive = join(home, 'archive');
    mkdirSync(archive);
    const profile = profileSchema.parse({
      facility: 'TESTFAC',
      beamline: 'BL1',
      destinations: { archive: { kind: 'filesystem', root: archive, keyTemplate: '{visit}/{dataset}/{relpath}' } },
      upload: { retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 300 } },
      catalogue: { kind: 'scicat', url: server.url, apiVersion: 'v3' },
    });
    engine = Engine.open({ home, keeper: osKeychain(`beamdrop-test-identity-${process.pid}`) });
    const link = await catalogueLink(engine.operationDeps(), profile);
    await link.sessions.login({ username: USER.username, password: USER.password });

    for (const [visit, files] of [
      ['v1', { 'a.h5': 'visit one a', 'b.h5': 'visit one b' }],
      ['v2', { 'a.h5': 'visit two a', 'c.h5': 'visit two c', 'd.h5': 'visit two d' }],
    ] as const) {
      const summary = await engine.upload(profile, {
        sources: [makeTree(files)],
        dataset: 'ds1',
        visit,
        destination: 'archive',
        metadata: { sample: `sample-${visit}` },
      });
      expect(summary.failures).toEqual([]);
    }
    const regs = link.store.list({ catalogue: link.identity, dataset: 'ds1' });
    expect(regs.map((r) => [r.visit, r.key])).toEqual([
      ['v1', idempotencyKey(link.identity, null, 'ds1', 'v1')],
      ['v2', idempotencyKey(link.identity, null, 'ds1', 'v2')],
    ]);
    await waitUntil('both registered', () =>
      regs.every((r) => link.store.status(link.store.get(r.id)!).state === 'registered') ? true : undefined,
    );
    const remote = [...server.datasets.values()].filter((d) => d.datasetName === 'ds1');
    expect(remote).toHaveLength(2);
    expect(remote.map((d) => d.numberOfFiles).sort()).toEqual([2, 3]);
    expect(remote.map((d) => d.sampleId).sort()).toEqual(['sample-v1', 'sample-v2']);

    const local = engine.services.catalogue.matching({ name: 'ds1' });
    expect(local.map((d) => [d.catalogue, d.visit, d.files, d.key])).toEqual([
      [link.identity, 'v1', 2, regs[0]!.key],
      [link.identity, 'v2', 3, regs[1]!.key],
    ]);

    await expect(retryRegistration(engine.operationDeps(), profile, 'ds1', {}, 5_000)).rejects.toMatchObject({
      code: 'dataset-ambiguous',
      message: expect.stringMatching(/2 datasets are named "ds1":\n\s+"ds1" \(visit v1\)\n\s+"ds1" \(visit v2\)[\s\S]*--visit/),
    });
    expect(() => registrationStatus(link, { name: 'ds1' })).toThrow(expect.objectContaining({ code: 'dataset-ambiguous' }));
    const one = registrationStatus(link, { name: 'ds1', visit: 'v2' });
    expect(one).toMatchObject([{ dataset: 'ds1', visit: 'v2', state: 'registered', filesRegistered: 3 }]);

    const retried = await retryRegistration(
      engine.operationDeps(),
      profile,
      { name: 'ds1', visit: 'v1' },
      { metadata: { sample: 'fixed' } },
      30_000,
    );
    expect(retried).toMatchObject([{ visit: 'v1', state: 'registered' }]);
    // The fix reaches the local catalogue of that dataset only.
    expect(engine.services.catalogue.dataset({ name: 'ds1', visit: 'v1' })!.samples).toEqual(['fixed']);
    expect(engine.services.catalogue.dataset({ name: 'ds1', visit: 'v2' })!.samples).toEqual(['sample-v2']);
    await expect(
      retryRegistration(engine.operationDeps(), profile, { name: 'ds1', visit: 'v9' }, {}, 1_000),
    ).rejects.toMatchObject({
      code: 'dataset-not-found',
      message: expect.stringMatching(/`beamdrop find` lists datasets/),
    });
  }, 120_000);
});
