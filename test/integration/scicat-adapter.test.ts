// The SciCat adapter, API v3 and v4, end to end against the SciCat contract server: sign-in and
// groups, proposals, raw and derived datasets whose payloads pass the official SDK models, the
// idempotency-key lookup, OrigDatablocks of at most 10,000 files accumulating on the server, the
// server's 400 reason and field surfaced, token expiry and an unreachable server, and the
// dataset lifecycle: not archivable while its files arrive (an archive job is refused), archivable
// once finishDataset ran.
import {
  instanceOfCreateDatasetDto,
  instanceOfCreateDerivedDatasetObsoleteDto,
  instanceOfCreateRawDatasetObsoleteDto,
} from '@scicatproject/scicat-sdk-ts-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogueError,
  type CatalogueAdapter,
  type CatalogueFileEntry,
  type CatalogueSession,
  type DatasetDraft,
} from '../../src/main/engine/catalogue/catalogue-adapter.js';
import { createScicatAdapter } from '../../src/main/engine/catalogue/scicat/scicat-adapter.js';
import type { ScicatCatalogueConfig } from '../../src/shared/profile-catalogue-schema.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';

let n = 0;
const draft = (over: Partial<DatasetDraft> = {}): DatasetDraft => ({
  key: `bd-${(++n).toString(16).padStart(32, '0')}`,
  name: `scan-${n}`,
  type: 'raw',
  description: 'test scan',
  proposalId: 'p100',
  visit: null,
  instrument: 'BL1',
  facility: 'FAC',
  sample: 'lysozyme',
  technique: 'MX',
  sourceFolder: `s3://raw/p100/scan-${n}`,
  creationTime: '2026-03-01T10:00:00.000Z',
  startTime: '2026-03-01T09:00:00.000Z',
  endTime: '2026-03-01T10:00:00.000Z',
  owner: 'alice',
  ownerGroup: 'p100',
  accessGroups: ['bl1-staff'],
  contactEmail: 'alice@example.org',
  principalInvestigator: 'pi@example.org',
  scientificMetadata: { energy: { value: 12.4, unit: 'keV' }, detector: { value: 'PILATUS 6M' } },
  complete: true,
  ...over,
});
const files = (count: number, prefix = 'f'): CatalogueFileEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    path: `${prefix}/${String(i).padStart(6, '0')}.cbf`,
    size: 1000 + i,
    sha256: i.toString(16).padStart(64, '0'),
    storageUri: `s3://raw/p100/${prefix}/${i}.cbf`,
    time: '2026-03-01T10:00:00.000Z',
    format: 'cbf',
  }));
const chunks = <T>(list: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, i * size + size));
const rejection = async (p: Promise<unknown>): Promise<CatalogueError> => {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CatalogueError);
  return e as CatalogueError;
};

let server: ScicatContractServer;

beforeAll(async () => {
  server = await startScicatContractServer({
    users: [
      { username: 'alice', password: 'pw-alice', email: 'alice@example.org', groups: ['p100', 'bl1-staff', 'proposal-ingestor'] },
      { username: 'bob', password: 'pw-bob', email: 'bob@example.org', groups: ['p200'] },
      // An archive operator of p100: on /api/v3/jobs the job's owner group is the user's last group.
      { username: 'carol', password: 'pw-carol', email: 'carol@example.org', groups: ['p100'] },
    ],
  });
  const stamp = {
    createdBy: 'admin',
    updatedBy: 'admin',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  server.proposals.set('p100', {
    proposalId: 'p100',
    title: 'Lysozyme soaking',
    ownerGroup: 'p100',
    accessGroups: [],
    email: 'pi@example.org',
    ...stamp,
  });
  server.proposals.set('p200', {
    proposalId: 'p200',
    title: 'Other group',
    ownerGroup: 'p200',
    accessGroups: [],
    email: 'x@example.org',
    ...stamp,
  });
});
afterAll(async () => {
  await server.close();
});

/** What an archive system (or an operator in the SciCat UI) sends to archive one dataset. */
async function archiveJob(
  base: string,
  apiVersion: 'v3' | 'v4',
  pid: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const login = (await (
    await fetch(`${base}/api/v3/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'carol', password: 'pw-carol' }),
    })
  ).json()) as { access_token: string };
  const datasetList = [{ pid, files: [] }];
  const body =
    apiVersion === 'v3'
      ? { type: 'archive', datasetList, jobParams: { username: 'carol' } }
      : { type: 'archive', ownerGroup: 'p100', jobParams: { datasetList } };
  const res = await fetch(`${base}/api/${apiVersion}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${login.access_token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each(['v3', 'v4'] as const)('SciCat adapter, API %s', (apiVersion) => {
  let adapter: CatalogueAdapter;
  let session: CatalogueSession;
  const config = (): ScicatCatalogueConfig => ({
    kind: 'scicat',
    url: server.url,
    apiVersion,
    loginMethod: 'local',
    allowCreateProposal: true,
    blockFiles: 10_000,
    accessGroups: [],
  });

  beforeAll(async () => {
    adapter = createScicatAdapter(config(), { now: Date.now, dataDir: '/nonexistent' });
    session = await adapter.login({ username: 'alice', password: 'pw-alice' });
  });

  it('signs in with a bearer token and reads the user and groups', async () => {
    expect(session.token).not.toBe('');
    expect(session.user).toMatchObject({
      username: 'alice',
      email: 'alice@example.org',
      groups: ['p100', 'bl1-staff', 'proposal-ingestor'],
    });
    expect(session.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    const wrong = await rejection(adapter.login({ username: 'alice', password: 'wrong' }));
    expect(wrong.problem).toBe('needs-login');
    expect(wrong.message).toContain('alice');
  });

  it('lists the proposals the user may use, filters them, and creates one when allowed', async () => {
    const ids = (await adapter.proposals(session)).map((p) => p.id);
    expect(ids).toContain('p100');
    expect(ids).not.toContain('p200');
    expect(await adapter.proposals(session, 'SOAK')).toHaveLength(1);
    expect(await adapter.proposals(session, 'nothing like it')).toHaveLength(0);
    const id = `p-new-${apiVersion}`;
    const created = await adapter.createProposal(session, {
      id,
      title: 'New one',
      ownerGroup: 'p100',
      email: 'alice@example.org',
    });
    expect(created).toMatchObject({ id, title: 'New one', ownerGroup: 'p100' });
    // A retry after a lost answer meets 409 and returns the existing proposal.
    expect(
      await adapter.createProposal(session, { id, title: 'New one', ownerGroup: 'p100', email: 'alice@example.org' }),
    ).toMatchObject({ id });
    const closed = createScicatAdapter({ ...config(), allowCreateProposal: false }, { now: Date.now, dataDir: '/nonexistent' });
    expect(
      (await rejection(closed.createProposal(session, { id: 'p-x', title: 'x', ownerGroup: 'p100', email: 'a@b.c' }))).problem,
    ).toBe('forbidden');
  });

  it('creates a raw dataset the SDK model accepts, and finds it again by its key before creating twice', async () => {
    const d = draft();
    expect(await adapter.findDataset(session, d)).toBeNull();
    const ref = await adapter.createDataset(session, d);
    expect(ref.id.startsWith(`${server.pidPrefix}/`)).toBe(true);
    const stored = server.datasets.get(ref.id) as Record<string, unknown>;
    expect(apiVersion === 'v3' ? instanceOfCreateRawDatasetObsoleteDto(stored) : instanceOfCreateDatasetDto(stored)).toBe(true);
    expect(stored).toMatchObject({
      type: 'raw',
      datasetName: d.name,
      sourceFolder: d.sourceFolder,
      size: 0,
      numberOfFiles: 0,
      keywords: [d.key, 'MX'],
    });
    expect(stored.scientificMetadata).toEqual({ energy: { value: 12.4, unit: 'keV' }, detector: { value: 'PILATUS 6M' } });
    expect(await adapter.findDataset(session, d)).toEqual(ref);
    expect([...server.datasets.values()].filter((x) => (x.keywords as string[]).includes(d.key))).toHaveLength(1);
  });

  it('keeps a dataset out of archive jobs until finishDataset, after its last file, makes it archivable', async () => {
    const d = draft();
    const ref = await adapter.createDataset(session, d);
    const lifecycle = () => (server.datasets.get(ref.id) as { datasetlifecycle: Record<string, unknown> }).datasetlifecycle;
    // SciCat would default to archivable = true: the payload says otherwise.
    expect(lifecycle()).toMatchObject({ archivable: false, archiveStatusMessage: 'filesNotYetAvailable', retrievable: false });
    await adapter.addFiles(session, ref, files(3, 'arch'));
    const early = await archiveJob(server.url, apiVersion, ref.id);
    expect(early).toEqual({
      status: 400,
      body: { status: 400, message: "Invalid request. Invalid value for 'datasetlifecycle.archivable'" },
    });
    await adapter.addFiles(session, ref, files(2, 'arch2'));
    expect(lifecycle().archivable).toBe(false);

    await adapter.finishDataset(session, ref, d);
    expect(lifecycle()).toMatchObject({ archivable: true, archiveStatusMessage: 'datasetCreated', retrievable: false });
    const later = await archiveJob(server.url, apiVersion, ref.id);
    expect(later.status).toBe(201);
    expect(server.jobs.at(-1)).toMatchObject({
      type: 'archive',
      ownerGroup: 'p100',
      jobParams: { datasetList: [{ pid: ref.id }] },
    });
    // Idempotent: a second finish after a crash changes nothing.
    await adapter.finishDataset(session, ref, d);
    expect(lifecycle().archivable).toBe(true);
    const patches = server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/datasetlifecycle'));
    expect(patches.at(-1)?.path).toBe(`/api/${apiVersion}/datasets/${encodeURIComponent(ref.id)}/datasetlifecycle`);
  });

  it('makes the dataset archivable on a backend older than the lifecycle route, through the dataset itself', async () => {
    const old = await startScicatContractServer({
      lifecycleRoute: false,
      users: [{ username: 'alice', password: 'pw-alice', email: 'alice@example.org', groups: ['p100'] }],
    });
    try {
      const a = createScicatAdapter({ ...config(), url: old.url }, { now: Date.now, dataDir: '/nonexistent' });
      const s = await a.login({ username: 'alice', password: 'pw-alice' });
      const d = draft({ accessGroups: [] });
      const ref = await a.createDataset(s, d);
      await a.addFiles(s, ref, files(2, 'old'));
      await a.finishDataset(s, ref, d);
      expect(old.datasets.get(ref.id)?.datasetlifecycle).toMatchObject({
        archivable: true,
        archiveStatusMessage: 'datasetCreated',
      });
      expect(old.requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.status])).toEqual([
        [`/api/${apiVersion}/datasets/${encodeURIComponent(ref.id)}/datasetlifecycle`, 404],
        [`/api/${apiVersion}/datasets/${encodeURIComponent(ref.id)}`, 200],
      ]);
    } finally {
      await old.close();
    }
  });

  it('creates a derived dataset with its inputs and software', async () => {
    const d = draft({ type: 'derived', inputDatasets: ['20.500.12269/abc'], usedSoftware: ['xds 2026'] });
    const stored = server.datasets.get((await adapter.createDataset(session, d)).id) as Record<string, unknown>;
    expect(apiVersion === 'v3' ? instanceOfCreateDerivedDatasetObsoleteDto(stored) : instanceOfCreateDatasetDto(stored)).toBe(
      true,
    );
    expect(stored).toMatchObject({ type: 'derived', inputDatasets: ['20.500.12269/abc'], usedSoftware: ['xds 2026'] });
  });

  it('registers 20,000 files as two OrigDatablocks whose sizes and counts add up on the server', async () => {
    const ref = await adapter.createDataset(session, draft());
    const all = files(20_000);
    const before = server.requests.length;
    for (const block of chunks(all, adapter.maxBlockFiles)) await adapter.addFiles(session, ref, block);
    const posts = server.requests.slice(before).filter((r) => r.method === 'POST' && r.path.includes('origdatablocks'));
    expect(posts).toHaveLength(2);
    const blocks = server.origDatablocks.filter((b) => b.datasetId === ref.id);
    expect(blocks.map((b) => (b.dataFileList as unknown[]).length)).toEqual([10_000, 10_000]);
    expect(server.datasets.get(ref.id)).toMatchObject({ numberOfFiles: 20_000, size: all.reduce((s, f) => s + f.size, 0) });
    expect(
      (
        await adapter.registeredFiles(
          session,
          ref,
          all.map((f) => f.path),
        )
      ).size,
    ).toBe(20_000);
    expect([...(await adapter.registeredFiles(session, ref, ['f/000001.cbf', 'not/there']))]).toEqual(['f/000001.cbf']);
  });

  it('keeps every block within the limit even when handed more', async () => {
    const ref = await adapter.createDataset(session, draft());
    await adapter.addFiles(session, ref, files(12_345, 'g'));
    expect(server.origDatablocks.filter((b) => b.datasetId === ref.id).map((b) => (b.dataFileList as unknown[]).length)).toEqual([
      10_000, 2_345,
    ]);
  });

  it("surfaces the server's reason and the field when it rejects the metadata (400)", async () => {
    server.setMetadataRule('energy', (e) =>
      (e as { unit?: string } | undefined)?.unit === 'eV' ? null : 'must be given in eV at this facility',
    );
    try {
      const d = draft();
      const e = await rejection(adapter.createDataset(session, d));
      expect(e.problem).toBe('rejected');
      expect(e.status).toBe(400);
      expect(e.field).toBe('scientificMetadata.energy');
      expect(e.reason).toContain('energy must be given in eV at this facility');
      expect(e.message).toContain('scientificMetadata.energy');
      expect(e.dataset).toBe(d.name);
      expect(await adapter.findDataset(session, d)).toBeNull();
    } finally {
      server.clearMetadataRules();
    }
  });

  it('refuses a dataset for a group the user is not in (403)', async () => {
    expect((await rejection(adapter.createDataset(session, draft({ ownerGroup: 'p200' })))).problem).toBe('forbidden');
  });

  it('asks for a new sign-in when the token expires, and goes on after it', async () => {
    const ref = await adapter.createDataset(session, draft());
    server.expireTokens();
    const e = await rejection(adapter.addFiles(session, ref, files(3, 'h')));
    expect(e.problem).toBe('needs-login');
    expect((await rejection(adapter.refresh(session))).problem).toBe('needs-login');
    session = await adapter.login({ username: 'alice', password: 'pw-alice' });
    await adapter.addFiles(session, ref, files(3, 'h'));
    expect(server.datasets.get(ref.id)).toMatchObject({ numberOfFiles: 3 });
  });

  it('reports an unreachable server as retryable and works again once it is back', async () => {
    const d = draft();
    await server.stop();
    try {
      const e = await rejection(adapter.findDataset(session, d));
      expect(e.problem).toBe('retryable');
      expect(e.message).toContain(server.url);
    } finally {
      await server.restart();
    }
    expect(await adapter.findDataset(session, d)).toBeNull();
    server.failNext(1, 503);
    expect(await rejection(adapter.createDataset(session, d))).toMatchObject({ problem: 'retryable', status: 503 });
    expect((await adapter.createDataset(session, d)).id).toContain('/');
  });
});
