// The ICAT adapter against the ICAT contract server: session login/refresh, find-or-create the
// investigation, Dataset created with complete=false (with its parameters) and set complete=true
// at the end, Datafiles in batches (one entityManager call each), repeats that meet
// OBJECT_ALREADY_EXISTS, 403/404/412 mapped to errors naming what went wrong, and derived
// datasets linked to their inputs by a Job of their Application (input and output DataCollections).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogueError,
  type CatalogueAdapter,
  type CatalogueFileEntry,
  type CatalogueSession,
  type DatasetDraft,
} from '../../src/main/engine/catalogue/catalogue-adapter.js';
import { createIcatAdapter } from '../../src/main/engine/catalogue/icat/icat-adapter.js';
import { IcatHttp } from '../../src/main/engine/catalogue/icat/icat-http.js';
import type { IcatCatalogueConfig } from '../../src/shared/profile-catalogue-schema.js';
import { startIcatContractServer, type IcatContractServer } from '../support/icat-contract-server.js';

let n = 0;
const draft = (over: Partial<DatasetDraft> = {}): DatasetDraft => ({
  key: `bd-${(++n).toString(16).padStart(32, '0')}`,
  name: `scan 'n' ${n}`,
  type: 'raw',
  proposalId: 'MX-100',
  visit: '1',
  instrument: 'BL1',
  facility: 'TESTFAC',
  sample: 'lysozyme',
  technique: 'MX',
  sourceFolder: `https://dav.example/raw/MX-100/scan-${n}`,
  creationTime: '2026-03-01T10:00:00.000Z',
  startTime: '2026-03-01T09:00:00+01:00',
  endTime: '2026-03-01T10:00:00.000Z',
  owner: 'alice',
  ownerGroup: 'MX-100',
  accessGroups: [],
  contactEmail: 'alice@example.org',
  principalInvestigator: 'pi@example.org',
  scientificMetadata: { energy: { value: 12.4, unit: 'keV' }, detector: { value: 'PILATUS 6M' } },
  complete: true,
  ...over,
});
const files = (count: number, prefix = 'f'): CatalogueFileEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    path: `${prefix}/${String(i).padStart(5, '0')}.cbf`,
    size: 100 + i,
    sha256: i.toString(16).padStart(64, '0'),
    storageUri: `https://dav.example/raw/${prefix}/${i}.cbf`,
    time: '2026-03-01T10:00:00.000Z',
    format: 'cbf',
  }));
const rejection = async (p: Promise<unknown>): Promise<CatalogueError> => {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CatalogueError);
  return e as CatalogueError;
};

let server: IcatContractServer;
let adapter: CatalogueAdapter;
let session: CatalogueSession;
const config = (over: Partial<IcatCatalogueConfig> = {}): IcatCatalogueConfig => ({
  kind: 'icat',
  url: server.url,
  facility: 'TESTFAC',
  authenticator: 'db',
  allowCreateProposal: false,
  datasetType: 'raw',
  blockFiles: 1000,
  accessGroups: [],
  ...over,
});
const deps = { now: Date.now, dataDir: '/nonexistent' };
const datafileWrites = (since: number): number =>
  server.requests.slice(since).filter((r) => r.method === 'POST' && r.path === '/icat/entityManager').length;

beforeAll(async () => {
  server = await startIcatContractServer({
    users: [
      { username: 'alice', password: 'a', email: 'alice@example.org', fullName: 'Alice Liddell' },
      { username: 'carol', password: 'c', canCreateInvestigations: true },
      { username: 'mallory', password: 'm' },
    ],
    parameterTypes: [
      { name: 'energy', units: 'keV', valueType: 'NUMERIC' },
      { name: 'detector', units: 'N/A', valueType: 'STRING' },
    ],
    applications: [
      { name: 'xds', version: '2026' },
      { name: 'dials', version: '3.17' },
      { name: 'dials', version: '3.18' },
    ],
  });
  server.seedInvestigation({ name: 'MX-100', visitId: '1', title: 'Lysozyme soaking', members: ['db/alice'] });
  server.seedInvestigation({ name: 'MX-200', visitId: '1', members: ['db/mallory'] });
  adapter = createIcatAdapter(config(), deps);
  session = await adapter.login({ username: 'alice', password: 'a' });
});
afterAll(async () => {
  await server.close();
});

describe('ICAT adapter', () => {
  it('logs in, refreshes the session and names the user', async () => {
    expect(session.user).toEqual({ username: 'db/alice', email: 'alice@example.org', displayName: 'Alice Liddell', groups: [] });
    expect(session.expiresAt).toBeGreaterThan(Date.now() + 100 * 60_000);
    expect((await adapter.refresh(session)).token).toBe(session.token);
    expect((await rejection(adapter.login({ username: 'alice', password: 'nope' }))).problem).toBe('needs-login');
  });

  it('lists the investigations the user belongs to', async () => {
    expect(await adapter.proposals(session)).toEqual([
      expect.objectContaining({ id: 'MX-100', visit: '1', title: 'Lysozyme soaking' }),
    ]);
    expect(await adapter.proposals(session, 'soak')).toHaveLength(1);
    expect(await adapter.proposals(session, 'zzz')).toHaveLength(0);
  });

  it('creates the dataset with complete=false and its parameters, then finds it instead of creating it twice', async () => {
    const d = draft();
    expect(await adapter.findDataset(session, d)).toBeNull();
    const ref = await adapter.createDataset(session, d);
    const ds = server.store.get('Dataset', Number(ref.id));
    expect(ds).toMatchObject({ name: d.name, complete: false, location: d.sourceFolder, startDate: '2026-03-01T08:00:00.000Z' });
    const params = server.entities('DatasetParameter').filter((p) => p.dataset === Number(ref.id));
    expect(params.map((p) => p.numericValue ?? p.stringValue).sort()).toEqual([12.4, 'PILATUS 6M'].sort());
    expect(await adapter.findDataset(session, d)).toEqual(ref);
    // A create whose answer was lost: ICAT says OBJECT_ALREADY_EXISTS, the adapter returns the first one.
    expect(await adapter.createDataset(session, d)).toEqual(ref);
    expect(server.entities('Dataset').filter((x) => x.name === d.name)).toHaveLength(1);
  });

  it('adds Datafiles in batches, skips what is already there, and marks the dataset complete at the end', async () => {
    const d = draft();
    const ref = await adapter.createDataset(session, d);
    const all = files(2_500);
    const before = server.requests.length;
    await adapter.addFiles(session, ref, all);
    expect(datafileWrites(before)).toBe(3);
    const stored = server.entities('Datafile').filter((f) => f.dataset === Number(ref.id));
    expect(stored).toHaveLength(2_500);
    expect(stored[0]).toMatchObject({
      name: 'f/00000.cbf',
      fileSize: 100,
      checksum: `sha256:${'0'.repeat(64)}`,
      location: 'https://dav.example/raw/f/0.cbf',
      datafileModTime: '2026-03-01T10:00:00.000Z',
    });
    expect(
      (
        await adapter.registeredFiles(
          session,
          ref,
          all.map((f) => f.path),
        )
      ).size,
    ).toBe(2_500);
    // A batch whose outcome was unknown, sent again with new files: the rolled-back call is redone with the rest.
    await adapter.addFiles(session, ref, [...all.slice(2_400), ...files(5, 'g')]);
    expect(server.entities('Datafile').filter((f) => f.dataset === Number(ref.id))).toHaveLength(2_505);
    await adapter.finishDataset(session, ref, d);
    await adapter.finishDataset(session, ref, d);
    expect(server.store.get('Dataset', Number(ref.id))?.complete).toBe(true);
  });

  it('finds or creates the investigation when the profile allows it', async () => {
    const carolAdapter = createIcatAdapter(config({ allowCreateProposal: true }), deps);
    const carol = await carolAdapter.login({ username: 'carol', password: 'c' });
    const d = draft({ proposalId: 'NEW-1', visit: 'v7' });
    const ref = await carolAdapter.createDataset(carol, d);
    const inv = server.entities('Investigation').find((i) => i.name === 'NEW-1');
    expect(inv).toMatchObject({ visitId: 'v7' });
    expect(ref.extra?.investigationId).toBe(String(inv?.id));
    expect(await carolAdapter.createDataset(carol, draft({ proposalId: 'NEW-1', visit: 'v7' }))).toBeDefined();
    expect(server.entities('Investigation').filter((i) => i.name === 'NEW-1')).toHaveLength(1);
    const e = await rejection(adapter.createDataset(session, draft({ proposalId: 'NEW-2' })));
    expect(e).toMatchObject({ problem: 'rejected', field: 'proposalId' });
    expect(e.message).toContain('NEW-2');
  });

  it('maps ICAT refusals to errors that name the entity or field', async () => {
    const mallory = await adapter.login({ username: 'mallory', password: 'm' });
    const denied = await rejection(adapter.createDataset(mallory, draft()));
    expect(denied).toMatchObject({ problem: 'forbidden', status: 403 });
    expect(denied.reason).toContain('INSUFFICIENT_PRIVILEGES');
    expect(denied.message).toContain('Dataset');

    const missing = await rejection(adapter.addFiles(session, { id: '987654' }, files(1)));
    expect(missing).toMatchObject({ problem: 'rejected', status: 404 });
    expect(missing.message).toContain('Dataset 987654');

    const unknownParameter = await rejection(
      adapter.createDataset(session, draft({ scientificMetadata: { energy: { value: 12.4, unit: 'eV' } } })),
    );
    expect(unknownParameter).toMatchObject({ problem: 'rejected', field: 'scientificMetadata.energy' });
    expect(unknownParameter.message).toContain('"keV"');

    const http = new IcatHttp(server.url);
    const invalid = await rejection(http.write(session.token, [{ Datafile: { dataset: { id: 987654 } } }], { action: 'test' }));
    expect(invalid).toMatchObject({ problem: 'rejected', status: 404 });
    const ref = await adapter.createDataset(session, draft());
    const validation = await rejection(
      http.write(session.token, [{ Datafile: { dataset: { id: Number(ref.id) } } }], { action: 'adding a nameless file' }),
    );
    expect(validation).toMatchObject({ problem: 'rejected', status: 412, field: 'Datafile.name' });
    await adapter.addFiles(session, ref, files(1, 'dup'));
    const duplicate = await rejection(
      http.write(session.token, [{ Datafile: { dataset: { id: Number(ref.id) }, name: 'dup/00000.cbf' } }], {
        action: 'adding a file twice',
      }),
    );
    expect(duplicate).toMatchObject({ problem: 'rejected', status: 412 });
    expect(duplicate.reason).toMatch(/^OBJECT_ALREADY_EXISTS: Datafile exists/);
  });

  it('asks for a new sign-in when the session ends, and reports an unreachable server as retryable', async () => {
    const ref = await adapter.createDataset(session, draft());
    server.expireSessions();
    expect((await rejection(adapter.addFiles(session, ref, files(2, 's')))).problem).toBe('needs-login');
    expect((await rejection(adapter.refresh(session))).problem).toBe('needs-login');
    session = await adapter.login({ username: 'alice', password: 'a' });
    await server.stop();
    try {
      expect((await rejection(adapter.addFiles(session, ref, files(2, 's')))).problem).toBe('retryable');
    } finally {
      await server.restart();
    }
    server.failNext(1, 500);
    expect(await rejection(adapter.addFiles(session, ref, files(2, 's')))).toMatchObject({ problem: 'retryable', status: 500 });
    await adapter.addFiles(session, ref, files(2, 's'));
    expect(await adapter.registeredFiles(session, ref, ['s/00000.cbf', 's/00001.cbf'])).toEqual(
      new Set(['s/00000.cbf', 's/00001.cbf']),
    );
  });

  describe('derived datasets', () => {
    /** The Jobs whose output holds dataset `id`, with their application and input dataset ids. */
    const jobsOf = (id: number) => {
      const inCollection = (dc: unknown) =>
        server
          .entities('DataCollectionDataset')
          .filter((l) => l.dataCollection === dc)
          .map((l) => l.dataset as number);
      const outputs = new Set(
        server
          .entities('DataCollectionDataset')
          .filter((l) => l.dataset === id)
          .map((l) => l.dataCollection),
      );
      return server
        .entities('Job')
        .filter((j) => outputs.has(j.outputDataCollection))
        .map((j) => {
          const app = server.store.get('Application', j.application as number);
          return { application: `${String(app?.name)} ${String(app?.version)}`, inputs: inCollection(j.inputDataCollection) };
        });
    };

    it('links the dataset to its inputs through a Job of the Application that made it', async () => {
      const first = await adapter.createDataset(session, draft());
      const secondDraft = draft({ sourceFolder: 'https://dav.example/raw/MX-100/second/' });
      const second = await adapter.createDataset(session, secondDraft);
      const third = draft();
      const thirdRef = await adapter.createDataset(session, third);
      // By ICAT id, by storage location (without its trailing slash) and by name in the investigation.
      const d = draft({
        type: 'derived',
        inputDatasets: [first.id, 'https://dav.example/raw/MX-100/second', third.name],
        usedSoftware: ['xds 2026', 'dials/3.18'],
      });
      const ref = await adapter.createDataset(session, d);
      const expected = [Number(first.id), Number(second.id), Number(thirdRef.id)];
      expect(jobsOf(Number(ref.id))).toEqual([
        { application: 'xds 2026', inputs: expected },
        { application: 'dials 3.18', inputs: expected },
      ]);
      // A repeated create (its answer lost) and the finish link nothing twice.
      const jobs = server.entities('Job').length;
      expect(await adapter.createDataset(session, d)).toEqual(ref);
      await adapter.finishDataset(session, ref, d);
      expect(server.entities('Job')).toHaveLength(jobs);
      expect(server.store.get('Dataset', Number(ref.id))?.complete).toBe(true);
    });

    it('links it on finishDataset when a crash came between creating the dataset and linking it', async () => {
      const input = await adapter.createDataset(session, draft());
      const d = draft({ type: 'derived', inputDatasets: [input.id], usedSoftware: ['xds'] });
      const ref = await adapter.createDataset(session, d);
      // What a crash right after the Dataset call leaves: no Job, no collections.
      for (const t of ['Job', 'DataCollectionDataset', 'DataCollection']) server.store.table(t).clear();
      expect(jobsOf(Number(ref.id))).toEqual([]);
      await adapter.finishDataset(session, ref, d);
      expect(jobsOf(Number(ref.id))).toEqual([{ application: 'xds 2026', inputs: [Number(input.id)] }]);
    });

    it('refuses, creating nothing, an input or a software ICAT does not know, naming the field', async () => {
      const input = await adapter.createDataset(session, draft());
      const cases: [Partial<DatasetDraft>, string, RegExp][] = [
        [{ inputDatasets: ['no-such-scan'], usedSoftware: ['xds 2026'] }, 'inputDatasets', /"no-such-scan".*not in ICAT/],
        [{ inputDatasets: [input.id], usedSoftware: ['phenix 1.21'] }, 'usedSoftware', /no Application "phenix" version "1\.21"/],
        [{ inputDatasets: [input.id], usedSoftware: ['dials'] }, 'usedSoftware', /2 versions .*3\.17, 3\.18/],
        [{ inputDatasets: [input.id], usedSoftware: [] }, 'usedSoftware', /usedSoftware='NAME VERSION'/],
      ];
      for (const [over, field, message] of cases) {
        const d = draft({ type: 'derived', ...over });
        const e = await rejection(adapter.createDataset(session, d));
        expect(e).toMatchObject({ problem: 'rejected', field, dataset: d.name });
        expect(e.message).toMatch(message);
        expect(server.entities('Dataset').filter((x) => x.name === d.name)).toHaveLength(0);
      }
    });
  });
});
