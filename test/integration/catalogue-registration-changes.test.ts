// What happens to a facility catalogue's registration when the dataset changes after it was made
// (review of issue 8, findings 1, 3, 7 and 10), against the SciCat and ICAT contract servers with real
// uploads to a filesystem destination and the session in the OS keychain:
// - a dataset registered before visits were part of the idempotency key keeps its registration (a
//   continued job keeps its stored key, a new job finds the old key by the visit its request names),
//   and a dataset without a visit gets a key of its own instead of joining it; the local catalogue's
//   rows of before get their visit from the journal and are never taken over by another identity;
// - a rerun with other -p values, and `catalogue retry -p`, reach a dataset the catalogue already
//   has (SciCat PATCH, ICAT DatasetParameters);
// - a finished dataset that gets more files is reopened first (SciCat not archivable, so no archive
//   job takes it; ICAT complete=false, without which its Datafiles are refused) and finished again;
// - datasets that only their catalogue tells apart are named with --catalogue (finding 10, CLI).
// Run with `bash scripts/test.sh test/integration/catalogue-registration-changes.test.ts`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import type { JobEvent, JobSummary } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { osKeychain } from '../../src/main/engine/credentials/credential-store.js';
import { idempotencyKey, legacyKey } from '../../src/main/engine/catalogue/outbox/registration-request.js';
import { catalogueLink, retryRegistration } from '../../src/main/engine/operations/retry-registration.js';
import { verifyDataset } from '../../src/main/engine/operations/verify-dataset.js';
import { startScicatContractServer, type Doc, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { startIcatContractServer, type IcatContractServer } from '../support/icat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const SCICAT_USER = { username: 'ingestor', password: 'secret-pw', email: 'ingestor@facility.example', groups: ['p-1234'] };
const service = `beamdrop-test-reg-changes-${process.pid}`;
const TEMPLATE = '{proposal}/{visit}/{dataset}/{relpath}';

interface Setup {
  home: string;
  profile: FacilityProfile;
  engine: Engine;
}

function setup(catalogue: Record<string, unknown>): Setup {
  const home = mkdtempSync(join(tmpdir(), 'bd-regchange-'));
  const archive = join(home, 'archive');
  mkdirSync(archive);
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { archive: { kind: 'filesystem', root: archive, keyTemplate: TEMPLATE } },
    upload: { retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 300 } },
    catalogue,
  });
  return { home, profile, engine: Engine.open({ home, keeper: osKeychain(service) }) };
}

const reopen = (s: Setup) => {
  s.engine = Engine.open({ home: s.home, keeper: osKeychain(service) });
};

/** A SciCat proposal owned by the group the test user is in. */
function addProposal(server: ScicatContractServer, id: string): void {
  const now = new Date().toISOString();
  server.proposals.set(id, {
    proposalId: id,
    title: `Proposal ${id}`,
    ownerGroup: 'p-1234',
    email: 'pi@university.example',
    accessGroups: [],
    isPublished: false,
    createdAt: now,
    updatedAt: now,
  });
}

async function signIn(s: Setup, username: string, password: string): Promise<void> {
  const link = await catalogueLink(s.engine.operationDeps(), s.profile);
  await link.sessions.login({ username, password });
}

const scicatDatasets = (server: ScicatContractServer, name: string) =>
  [...server.datasets.values()].filter((d) => d.datasetName === name);
const archivable = (d: Doc | undefined) => (d?.datasetlifecycle as { archivable?: boolean } | undefined)?.archivable;
const registrationEvents = (events: JobEvent[]) =>
  events.filter((e): e is Extract<JobEvent, { type: 'registration' }> => e.type === 'registration');
const notes = (events: JobEvent[]) => events.filter((e): e is Extract<JobEvent, { type: 'job-note' }> => e.type === 'job-note');

/** POST /api/v4/jobs of type archive, as an archive system would: 201 when accepted, 400 when a dataset is not archivable. */
async function archiveJob(server: ScicatContractServer, pid: string, ownerGroup: string): Promise<number> {
  const login = await fetch(`${server.url}/api/v3/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: SCICAT_USER.username, password: SCICAT_USER.password }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const res = await fetch(`${server.url}/api/v4/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ type: 'archive', ownerGroup, jobParams: { datasetList: [{ pid, files: [] }] } }),
  });
  await res.text();
  return res.status;
}

describe('registrations made before visits were part of the key (finding 1)', () => {
  let server: ScicatContractServer;
  const open: Setup[] = [];
  beforeAll(async () => {
    server = await startScicatContractServer({ users: [SCICAT_USER] });
    for (const p of ['P1', 'P3', 'P7']) addProposal(server, p);
  });
  afterAll(async () => {
    for (const s of open) await s.engine.close();
    await server.close();
  });

  it('keeps the old registration of a dataset with a visit, and gives a dataset without one a registration of its own', async () => {
    const s = setup({ kind: 'scicat', url: server.url, apiVersion: 'v3' });
    open.push(s);
    await signIn(s, SCICAT_USER.username, SCICAT_USER.password);
    const identity = (await catalogueLink(s.engine.operationDeps(), s.profile)).identity;
    const v1 = { dataset: 'ds1', proposal: 'P1', visit: 'V1', destination: 'archive', metadata: { sample: 's1' } };
    const v2src = makeTree({ 'e.h5': 'visit two e', 'f.h5': 'visit two f' });
    const v2 = {
      sources: [v2src],
      dataset: 'ds1',
      proposal: 'P1',
      visit: 'V2',
      destination: 'archive',
      metadata: { sample: 's2' },
    };
    expect(
      (await s.engine.upload(s.profile, { sources: [makeTree({ 'a.h5': 'one a', 'b.h5': 'one b' })], ...v1 })).failures,
    ).toEqual([]);
    const v2job = (await s.engine.upload(s.profile, v2)).job.id;
    const [pid, pidV2] = ['V1', 'V2'].map((v) => {
      const d = scicatDatasets(server, 'ds1').filter((x) =>
        (x.keywords as string[]).includes(idempotencyKey(identity, 'P1', 'ds1', v)),
      );
      expect(d).toHaveLength(1);
      return String(d[0]!.pid);
    }) as [string, string];

    // What an earlier version left, whose key ignored the visit: V1's registration, job and SciCat
    // dataset under that key; V2's job, unfinished, with the same key (it had joined V1's record);
    // the local rows of the identity migration, visit unknown.
    const legacy = legacyKey(identity, 'P1', 'ds1');
    const keyV1 = idempotencyKey(identity, 'P1', 'ds1', 'V1');
    const paths = s.engine.services.paths;
    await s.engine.close();
    const journal = new Database(paths.journal);
    journal.prepare('DELETE FROM registrations WHERE idem_key = ?').run(idempotencyKey(identity, 'P1', 'ds1', 'V2'));
    journal.prepare('UPDATE registrations SET idem_key = ? WHERE idem_key = ?').run(legacy, keyV1);
    journal.prepare(`UPDATE jobs SET options = json_set(options, '$.catalogue.key', ?)`).run(legacy);
    journal.prepare(`UPDATE jobs SET state = 'paused' WHERE id = ?`).run(v2job);
    journal.close();
    const catalogue = new Database(paths.catalogue);
    catalogue
      .prepare(`UPDATE datasets SET catalogue = 'local', visit = NULL, identity_inferred = 1, idem_key = ? WHERE visit = 'V1'`)
      .run(legacy);
    catalogue.prepare(`DELETE FROM data_files WHERE dataset_id IN (SELECT id FROM datasets WHERE visit = 'V2')`).run();
    catalogue.prepare(`DELETE FROM datasets WHERE visit = 'V2'`).run();
    catalogue.close();
    const doc = server.datasets.get(pid)!;
    doc.keywords = (doc.keywords as string[]).map((k) => (k === keyV1 ? legacy : k));
    server.datasets.delete(pidV2);
    reopen(s);
    open.push(s);
    const link = await catalogueLink(s.engine.operationDeps(), s.profile);

    // Opening the journal fills in the old row's catalogue and visit from its registration.
    const [row] = s.engine.services.catalogue.matching({ name: 'ds1' });
    expect(row).toMatchObject({ catalogue: identity, proposal: 'P1', visit: 'V1', files: 2, key: legacy });

    // A new job of V1 finds the old registration by the visit it names: no second SciCat dataset.
    const more = await s.engine.upload(s.profile, { sources: [makeTree({ 'd.h5': 'one d' })], ...v1 });
    expect(more.failures).toEqual([]);
    expect(link.store.list({ dataset: 'ds1' }).map((r) => [r.key, r.visit])).toEqual([[legacy, 'V1']]);
    await waitUntil('the old SciCat dataset has all three files', () =>
      scicatDatasets(server, 'ds1').length === 1 && scicatDatasets(server, 'ds1')[0]!.numberOfFiles === 3 ? true : undefined,
    );
    expect(scicatDatasets(server, 'ds1')[0]!.pid).toBe(pid);

    // V2's unfinished job keeps the key it was started with, which is V1's registration: it is not
    // continued into V1's record (nor silently into another); --new-job gives V2 a record of its own.
    await expect(s.engine.upload(s.profile, v2)).rejects.toMatchObject({
      code: 'job-state',
      message: expect.stringMatching(/belongs to dataset "ds1" \(proposal P1, visit V1\)[\s\S]*--new-job/),
    });
    const replaced = await s.engine.upload(s.profile, { ...v2, newJob: true });
    expect(replaced.failures).toEqual([]);

    // The same name and proposal without a visit is another dataset: its own key and record.
    const noVisit = await s.engine.upload(s.profile, {
      sources: [makeTree({ 'x.h5': 'no visit x' })],
      dataset: 'ds1',
      proposal: 'P1',
      destination: 'archive',
      metadata: { sample: 's-none' },
    });
    expect(noVisit.failures).toEqual([]);
    const regs = link.store.list({ dataset: 'ds1' });
    expect(regs.map((r) => r.visit)).toEqual(['V1', 'V2', null]);
    expect(new Set(regs.map((r) => r.key)).size).toBe(3);
    await waitUntil('three SciCat datasets', () => (scicatDatasets(server, 'ds1').length === 3 ? true : undefined));
    await waitUntil('every registration registered', () =>
      link.store.list({ dataset: 'ds1' }).every((r) => r.state === 'registered') ? true : undefined,
    );
    const bySample = new Map(scicatDatasets(server, 'ds1').map((d) => [String(d.sampleId), d]));
    expect(bySample.get('s1')).toMatchObject({ pid, numberOfFiles: 3 });
    expect(bySample.get('s2')).toMatchObject({ numberOfFiles: 2 });
    expect(bySample.get('s-none')).toMatchObject({ numberOfFiles: 1 });

    // The local row of visit V1 kept its files and identity; the others are rows of their own.
    const local = s.engine.services.catalogue.matching({ name: 'ds1' });
    expect(local.map((d) => [d.id === row!.id, d.visit, d.files, d.samples])).toEqual([
      [true, 'V1', 3, ['s1']],
      [false, 'V2', 2, ['s2']],
      [false, null, 1, ['s-none']],
    ]);
    await expect(verifyDataset(s.engine.operationDeps(), 'ds1', { deep: false })).rejects.toMatchObject({
      code: 'dataset-ambiguous',
    });
    expect(
      (await verifyDataset(s.engine.operationDeps(), { name: 'ds1', visit: 'V1' }, { deep: true })).every((v) => v.result.ok),
    ).toBe(true);
  }, 120_000);

  it('fills in the visit of a local-catalogue row of before from its jobs, so a job without a visit does not take it over', async () => {
    const s = setup({ kind: 'local' });
    open.push(s);
    const src = makeTree({ 'a.h5': 'v3 a' });
    await s.engine.upload(s.profile, { sources: [src], dataset: 'ds2', proposal: 'P2', visit: 'V3', destination: 'archive' });
    const paths = s.engine.services.paths;
    await s.engine.close();
    const catalogue = new Database(paths.catalogue);
    catalogue.prepare(`UPDATE datasets SET visit = NULL, identity_inferred = 1 WHERE name = 'ds2'`).run();
    catalogue.close();
    reopen(s);
    open.push(s);
    expect(s.engine.services.catalogue.matching({ name: 'ds2' }).map((d) => [d.visit, d.files])).toEqual([['V3', 1]]);

    await s.engine.upload(s.profile, {
      sources: [makeTree({ 'b.h5': 'none b' })],
      dataset: 'ds2',
      proposal: 'P2',
      destination: 'archive',
    });
    expect(s.engine.services.catalogue.matching({ name: 'ds2' }).map((d) => [d.visit, d.files])).toEqual([
      ['V3', 1],
      [null, 1],
    ]);
  }, 60_000);
});

describe('a rerun with other metadata reaches the facility catalogue (finding 3)', () => {
  let server: ScicatContractServer;
  let icat: IcatContractServer;
  const open: Setup[] = [];
  beforeAll(async () => {
    server = await startScicatContractServer({ users: [SCICAT_USER] });
    for (const p of ['P1', 'P3', 'P7']) addProposal(server, p);
    icat = await startIcatContractServer({
      users: [{ username: 'alice', password: 'pw' }],
      parameterTypes: [{ name: 'energy', units: 'keV', valueType: 'NUMERIC' }],
    });
    icat.seedInvestigation({ name: 'INV-3', visitId: '1', members: ['db/alice'] });
  });
  afterAll(async () => {
    for (const s of open) await s.engine.close();
    await server.close();
    await icat.close();
  });

  it('SciCat: an interrupted upload rerun with other -p values updates the dataset; `catalogue retry -p` does too', async () => {
    const s = setup({ kind: 'scicat', url: server.url, apiVersion: 'v4' });
    open.push(s);
    await signIn(s, SCICAT_USER.username, SCICAT_USER.password);
    const src = makeTree({ 'a.cbf': 'frame a', 'big/volume.raw': 'v'.repeat(600_000) });
    const id = { sources: [src], dataset: 'rerun', proposal: 'P3', destination: 'archive' };
    const stop = new AbortController();
    const first = s.engine.upload(s.profile, {
      ...id,
      metadata: { sample: 'old-sample' },
      policy: { bandwidth: '150k' },
      signal: stop.signal,
    });
    // Interrupted once SciCat has the dataset (with the first metadata).
    await waitUntil('the dataset created in SciCat', () => (scicatDatasets(server, 'rerun').length ? true : undefined), 30_000);
    stop.abort();
    const interrupted: JobSummary = await first;
    expect(interrupted.job.state).toBe('paused');
    const pid = String(scicatDatasets(server, 'rerun')[0]!.pid);
    expect(scicatDatasets(server, 'rerun')[0]).toMatchObject({ sampleIds: ['old-sample'] });

    const events: JobEvent[] = [];
    const again = await s.engine.upload(s.profile, {
      ...id,
      metadata: { sample: 'new-sample', technique: 'SAXS', energy: '12.4' },
      onEvent: (e) => events.push(e),
    });
    expect(again.failures).toEqual([]);
    expect(notes(events).find((n) => n.kind === 'registration-updated')?.message).toMatch(
      new RegExp(`gets the new metadata as an update of dataset ${pid.replace(/[.]/g, '\\.')}`),
    );
    expect(registrationEvents(events).at(-1)?.status).toMatchObject({ state: 'registered', filesRegistered: 2 });
    const ds = scicatDatasets(server, 'rerun');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      pid,
      sampleIds: ['new-sample'],
      scientificMetadata: { energy: { value: 12.4, unit: 'keV' } },
      numberOfFiles: 2,
    });
    expect(ds[0]!.keywords).toContain('SAXS');
    expect(s.engine.services.catalogue.dataset('rerun')!.samples).toEqual(['new-sample']);

    // `catalogue retry -p` on the registered dataset goes the same way.
    const retried = await retryRegistration(s.engine.operationDeps(), s.profile, 'rerun', { metadata: { energy: '13' } }, 30_000);
    expect(retried).toMatchObject([{ state: 'registered' }]);
    expect(scicatDatasets(server, 'rerun')[0]).toMatchObject({
      sampleIds: ['new-sample'],
      scientificMetadata: { energy: { value: 13, unit: 'keV' } },
    });
  }, 120_000);

  it('ICAT: `catalogue retry -p` on a registered dataset updates its DatasetParameters in place', async () => {
    const s = setup({
      kind: 'icat',
      url: icat.url,
      facility: 'TESTFAC',
      contactEmail: 'bl1@facility.example',
      ownerGroup: 'bl1',
    });
    open.push(s);
    await signIn(s, 'alice', 'pw');
    const summary = await s.engine.upload(s.profile, {
      sources: [makeTree({ 'a.cbf': 'frame a' })],
      dataset: 'icat-meta',
      proposal: 'INV-3',
      destination: 'archive',
      metadata: { technique: 'SAXS', sample: 'xtal', energy: '12.4' },
    });
    expect(summary.failures).toEqual([]);
    const ds = icat.entities('Dataset').find((d) => d.name === 'icat-meta')!;
    const params = () => icat.entities('DatasetParameter').filter((p) => p.dataset === ds.id);
    expect(params().map((p) => p.numericValue)).toEqual([12.4]);
    const retried = await retryRegistration(
      s.engine.operationDeps(),
      s.profile,
      'icat-meta',
      { metadata: { energy: '14.2' } },
      30_000,
    );
    expect(retried).toMatchObject([{ state: 'registered' }]);
    expect(params().map((p) => p.numericValue)).toEqual([14.2]);
    expect(icat.entities('Dataset').find((d) => d.name === 'icat-meta')).toMatchObject({ complete: true });
  }, 60_000);
});

describe('a finished dataset that gets more files is reopened first (finding 7)', () => {
  let server: ScicatContractServer;
  let icat: IcatContractServer;
  const open: Setup[] = [];
  beforeAll(async () => {
    server = await startScicatContractServer({ users: [SCICAT_USER] });
    for (const p of ['P1', 'P3', 'P7']) addProposal(server, p);
    icat = await startIcatContractServer({ users: [{ username: 'alice', password: 'pw' }] });
    icat.seedInvestigation({ name: 'INV-7', visitId: '1', members: ['db/alice'] });
  });
  afterAll(async () => {
    for (const s of open) await s.engine.close();
    await server.close();
    await icat.close();
  });

  it('SciCat: not archivable (an archive job refused) while a second job adds files, archivable again once they are registered', async () => {
    const s = setup({ kind: 'scicat', url: server.url, apiVersion: 'v3' });
    open.push(s);
    await signIn(s, SCICAT_USER.username, SCICAT_USER.password);
    const id = { dataset: 'grow', proposal: 'P7', destination: 'archive', metadata: { sample: 'x' } };
    expect((await s.engine.upload(s.profile, { sources: [makeTree({ 'a.cbf': 'a', 'b.cbf': 'b' })], ...id })).failures).toEqual(
      [],
    );
    const ds = () => scicatDatasets(server, 'grow')[0];
    expect(archivable(ds())).toBe(true);
    const pid = String(ds()!.pid);

    // A second job of the same dataset (a rerun after failed files, another folder, reconcile --fix).
    const more = makeTree({ 'c.cbf': 'c', 'slow/volume.raw': 'v'.repeat(600_000) });
    const second = s.engine.upload(s.profile, { sources: [more], ...id, policy: { bandwidth: '150k' } });
    await waitUntil('the dataset taken back while files arrive', () => (archivable(ds()) === false ? true : undefined), 20_000);
    expect(await archiveJob(server, pid, String(ds()!.ownerGroup)), 'an archive job while files still arrive').toBe(400);
    expect((await second).failures).toEqual([]);
    await waitUntil('archivable again with all four files', () =>
      archivable(ds()) === true && ds()!.numberOfFiles === 4 ? true : undefined,
    );
    expect(scicatDatasets(server, 'grow')).toHaveLength(1);
    expect(await archiveJob(server, pid, String(ds()!.ownerGroup))).toBe(201);
  }, 90_000);

  it('SciCat: a dataset an archive job already took is not reopened; the registration needs attention, saying so', async () => {
    const s = setup({ kind: 'scicat', url: server.url, apiVersion: 'v4' });
    open.push(s);
    await signIn(s, SCICAT_USER.username, SCICAT_USER.password);
    const id = { dataset: 'archived', proposal: 'P7', destination: 'archive', metadata: { sample: 'x' } };
    expect((await s.engine.upload(s.profile, { sources: [makeTree({ 'a.cbf': 'a' })], ...id })).failures).toEqual([]);
    const doc = scicatDatasets(server, 'archived')[0]!;
    // What the archive system does once it takes the dataset.
    doc.datasetlifecycle = { ...(doc.datasetlifecycle as Doc), archivable: false, archiveStatusMessage: 'started' };
    const events: JobEvent[] = [];
    await s.engine.upload(s.profile, { sources: [makeTree({ 'b.cbf': 'b' })], ...id, onEvent: (e) => events.push(e) });
    expect(registrationEvents(events).at(-1)?.status).toMatchObject({
      state: 'needs-attention',
      lastError: { message: expect.stringMatching(/already taken by an archive job \(archiveStatusMessage "started"\)/) },
    });
    expect(doc.numberOfFiles).toBe(1);
    expect((doc.datasetlifecycle as Doc).archiveStatusMessage).toBe('started');
  }, 60_000);

  it('ICAT: a complete dataset is marked incomplete before its new Datafiles, then complete again', async () => {
    const s = setup({
      kind: 'icat',
      url: icat.url,
      facility: 'TESTFAC',
      contactEmail: 'bl1@facility.example',
      ownerGroup: 'bl1',
    });
    open.push(s);
    await signIn(s, 'alice', 'pw');
    const id = { dataset: 'icat-grow', proposal: 'INV-7', destination: 'archive', metadata: { sample: 'x' } };
    expect((await s.engine.upload(s.profile, { sources: [makeTree({ 'a.cbf': 'a', 'b.cbf': 'b' })], ...id })).failures).toEqual(
      [],
    );
    const ds = () => icat.entities('Dataset').find((d) => d.name === 'icat-grow')!;
    expect(ds().complete).toBe(true);
    const events: JobEvent[] = [];
    const second = await s.engine.upload(s.profile, {
      sources: [makeTree({ 'c.cbf': 'c', 'd.cbf': 'd' })],
      ...id,
      onEvent: (e) => events.push(e),
    });
    expect(second.failures).toEqual([]);
    expect(registrationEvents(events).at(-1)?.status).toMatchObject({ state: 'registered', filesRegistered: 4 });
    expect(icat.entities('Datafile').filter((f) => f.dataset === ds().id)).toHaveLength(4);
    expect(ds().complete).toBe(true);
    const journal = s.engine.services.journal.connectionForStores();
    expect(
      (journal.prepare(`SELECT type FROM events WHERE type LIKE 'catalogue-%' ORDER BY id`).all() as { type: string }[]).map(
        (e) => e.type,
      ),
    ).toEqual(['catalogue-dataset', 'catalogue-finished', 'catalogue-reopened', 'catalogue-finished']);
  }, 60_000);
});

describe('datasets that differ only by catalogue (finding 10)', () => {
  let server: ScicatContractServer;
  beforeAll(async () => {
    server = await startScicatContractServer({ users: [SCICAT_USER] });
    addProposal(server, 'P10');
  });
  afterAll(async () => {
    await server.close();
  });

  it('find, verify, fetch, reconcile and catalogue status|retry take --catalogue; the refusal names it', async () => {
    // The same dataset name and proposal, first in the local catalogue, then in SciCat (a facility
    // that moved to SciCat): two datasets in the local catalogue that only their catalogue tells apart.
    const s = setup({ kind: 'local' });
    const id = { dataset: 'ds1', proposal: 'P10', destination: 'archive' };
    await s.engine.upload(s.profile, { sources: [makeTree({ 'a.h5': 'in the local catalogue' })], ...id });
    // (Its own storage folder: two datasets never share one.)
    mkdirSync(join(s.home, 'archive2'));
    const scicat = profileSchema.parse({
      ...s.profile,
      destinations: { archive: { kind: 'filesystem', root: join(s.home, 'archive2'), keyTemplate: TEMPLATE } },
      catalogue: { kind: 'scicat', url: server.url, apiVersion: 'v3' },
    });
    const link = await catalogueLink(s.engine.operationDeps(), scicat);
    await link.sessions.login({ username: SCICAT_USER.username, password: SCICAT_USER.password });
    const out = await s.engine.upload(scicat, {
      sources: [makeTree({ 'a.h5': 'registered in SciCat', 'b.h5': 'b' })],
      ...id,
      metadata: { sample: 's' },
    });
    expect(out.failures).toEqual([]);
    const identity = link.identity;
    await s.engine.close();

    const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: s.home };
    delete env.BEAMDROP_PROFILE;
    const beamdrop = (...args: string[]) =>
      spawnSync(process.execPath, [resolve('bin/beamdrop.js'), ...args], { encoding: 'utf8', env, timeout: 120_000 });

    for (const args of [
      ['verify', 'ds1'],
      ['fetch', 'ds1', mkdtempSync(join(tmpdir(), 'bd-f-'))],
      ['reconcile', 'ds1'],
    ]) {
      const r = beamdrop(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`"ds1" (proposal P10) in catalogue local`);
      expect(r.stderr).toContain(`"ds1" (proposal P10) in catalogue ${identity}`);
      expect(r.stderr).toMatch(/--catalogue/);
    }
    const local = beamdrop('verify', 'ds1', '--catalogue', 'local');
    expect(local.status, local.stderr).toBe(0);
    expect(local.stdout).toMatch(/All 1 file\(s\) verified/);
    const byKind = beamdrop('verify', 'ds1', '--catalogue', 'scicat');
    expect(byKind.status, byKind.stderr).toBe(0);
    expect(byKind.stdout).toMatch(/All 2 file\(s\) verified/);
    const dest = mkdtempSync(join(tmpdir(), 'bd-f-'));
    const fetched = beamdrop('fetch', 'ds1', dest, '--catalogue', identity);
    expect(fetched.status, fetched.stderr).toBe(0);
    expect(readFileSync(join(dest, 'a.h5'), 'utf8')).toBe('registered in SciCat');
    const found = JSON.parse(beamdrop('find', 'ds1', '--catalogue', 'scicat', '--json').stdout) as { catalogue: string }[];
    expect(found.map((d) => d.catalogue)).toEqual([identity]);
    const rec = beamdrop('reconcile', 'ds1', '--catalogue', 'local', '--json');
    expect(rec.status, rec.stderr).toBe(0);
    expect(JSON.parse(rec.stdout)).toMatchObject({ catalogue: 'local', ok: 1, findings: [] });

    // The outbox of another catalogue than the profile's: status shows it, retry needs its profile.
    const status = beamdrop('catalogue', 'status', 'ds1', '--catalogue', 'scicat', '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject([{ dataset: 'ds1', catalogue: identity, state: 'registered' }]);
    const retry = beamdrop('catalogue', 'retry', 'ds1', '--catalogue', 'scicat');
    expect(retry.status).toBe(2);
    expect(retry.stderr).toMatch(/the profile's catalogue is local, not scicat[\s\S]*--profile/);
  }, 120_000);
});
