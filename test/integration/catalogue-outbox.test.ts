// The catalogue outbox against the SciCat contract server (test/support/scicat-contract-server.ts):
// real HTTP, real journal, real uploads to a filesystem destination, the session kept in the OS
// keychain (a test service name). Each scenario of issue 4 is one test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import type { JobEvent } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { osKeychain } from '../../src/main/engine/credentials/credential-store.js';
import { catalogueLink, retryRegistration } from '../../src/main/engine/operations/retry-registration.js';
import { registerInPlace } from '../../src/main/engine/operations/register-in-place.js';
import { startScicatContractServer, type Doc, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const USER = {
  username: 'ingestor',
  password: 'secret-pw',
  email: 'ingestor@facility.example',
  groups: ['p-1234', 'beamline-bl1'],
};
const service = `beamdrop-test-outbox-${process.pid}`;

interface Setup {
  engine: Engine;
  profile: FacilityProfile;
  home: string;
  archive: string;
  events: JobEvent[];
}

function setup(server: ScicatContractServer, extra: Record<string, unknown> = {}): Setup {
  const home = mkdtempSync(join(tmpdir(), 'bd-cat-'));
  const archive = join(home, 'archive');
  mkdirSync(archive);
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { archive: { kind: 'filesystem', root: archive } },
    upload: { retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 300 } },
    catalogue: { kind: 'scicat', url: server.url, apiVersion: 'v3', ...extra },
  });
  return { engine: Engine.open({ home, keeper: osKeychain(service) }), profile, home, archive, events: [] };
}

async function signIn(s: Setup): Promise<void> {
  const link = await catalogueLink(s.engine.operationDeps(), s.profile);
  await link.sessions.login({ username: USER.username, password: USER.password });
}

const blocksOf = (server: ScicatContractServer, pid: string) => server.origDatablocks.filter((b) => b.datasetId === pid);
const pathsOf = (blocks: Doc[]) => blocks.flatMap((b) => (b.dataFileList as { path: string }[]).map((f) => f.path));

describe('catalogue outbox (SciCat contract server)', () => {
  let server: ScicatContractServer;
  const open: Setup[] = [];

  beforeAll(async () => {
    server = await startScicatContractServer({ users: [USER] });
  });
  afterAll(async () => {
    for (const s of open) await s.engine.close();
    await server.close();
  });

  it('refuses to start an upload when nobody is signed in, before anything is sent', async () => {
    const s = setup(server);
    open.push(s);
    const src = makeTree({ 'a.h5': 'a' });
    await expect(
      s.engine.upload(s.profile, { sources: [src], dataset: 'no-login', destination: 'archive' }),
    ).rejects.toMatchObject({ code: 'credentials-missing', message: expect.stringMatching(/beamdrop login/) });
    expect(s.engine.services.journal.jobs()).toHaveLength(0);
  });

  it('catalogue down during the upload: files are verified, and registered exactly once when it returns', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    await server.stop();
    const src = makeTree(
      Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`frames/f${String(i).padStart(3, '0')}.cbf`, `frame ${i}`])),
    );
    const summary = await s.engine.upload(s.profile, {
      sources: [src],
      dataset: 'down-ds',
      destination: 'archive',
      metadata: { technique: 'MX', sample: 'lyso', energy: '12.4' },
      onEvent: (e) => s.events.push(e),
    });
    expect(summary.counts).toEqual({ verified: 25 });
    const reg = s.events.find((e) => e.type === 'registration');
    expect(reg).toMatchObject({
      status: {
        state: 'pending',
        remoteId: null,
        lastError: { retryable: true, message: expect.stringMatching(/cannot be reached|unreachable|refused/i) },
      },
    });

    await server.restart();
    const link = await catalogueLink(s.engine.operationDeps(), s.profile);
    const done = await waitUntil('registered', () => link.status('down-ds').find((x) => x.state === 'registered'), 30_000);
    const mine = [...server.datasets.values()].filter((d) => d.datasetName === 'down-ds');
    expect(mine).toHaveLength(1);
    expect(done.remoteId).toBe(mine[0]!.pid);
    expect(String(done.remoteId)).toContain('/');
    const paths = pathsOf(blocksOf(server, done.remoteId!));
    expect(paths).toHaveLength(25);
    expect(new Set(paths).size).toBe(25);
    expect(mine[0]).toMatchObject({
      owner: 'ingestor',
      ownerGroup: 'p-1234',
      contactEmail: USER.email,
      numberOfFiles: 25,
      scientificMetadata: { energy: { value: 12.4, unit: 'keV' } },
    });
    expect(s.engine.services.journal.counts(summary.job.id)).toEqual({ registered: 25 });
  });

  it('catalogue rejects the metadata (400): needs attention with the reason and field; fixed metadata registers without re-uploading', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    server.setMetadataRule('energy', (v) =>
      ((v as { value?: number })?.value ?? 0) > 50 ? 'must be below 50 keV at this beamline' : null,
    );
    try {
      const src = makeTree({ 'scan/a.h5': 'aaaa', 'scan/b.h5': 'bbbb', 'scan/c.h5': 'cccc' });
      const summary = await s.engine.upload(s.profile, {
        sources: [src],
        dataset: 'bad-meta',
        destination: 'archive',
        metadata: { technique: 'SAXS', sample: 'x', energy: '60' },
        onEvent: (e) => s.events.push(e),
      });
      expect(summary.counts).toEqual({ verified: 3 });
      const status = s.events.find((e) => e.type === 'registration');
      expect(status).toMatchObject({
        status: {
          state: 'needs-attention',
          lastError: {
            field: 'scientificMetadata.energy',
            reason: expect.stringMatching(/must be below 50 keV/),
            message: expect.stringMatching(
              /bad-meta.*needs attention.*files stay uploaded and verified.*catalogue retry bad-meta -p energy=/s,
            ),
          },
        },
      });
      expect([...server.datasets.values()].filter((d) => d.datasetName === 'bad-meta')).toHaveLength(0);
      const sent = summary.bytesSent;
      expect(sent).toBe(12);

      const after = await retryRegistration(s.engine.operationDeps(), s.profile, 'bad-meta', { metadata: { energy: '12.4' } });
      expect(after).toMatchObject([{ state: 'registered', filesRegistered: 3, lastError: null }]);
      const ds = [...server.datasets.values()].filter((d) => d.datasetName === 'bad-meta');
      expect(ds).toHaveLength(1);
      expect(ds[0]!.scientificMetadata).toMatchObject({ energy: { value: 12.4, unit: 'keV' } });
      // Not uploaded again: still the one job, its files registered, nothing new at the destination.
      expect(s.engine.services.journal.jobsNamed('bad-meta')).toHaveLength(1);
      expect(s.engine.services.journal.counts(summary.job.id)).toEqual({ registered: 3 });
    } finally {
      server.clearMetadataRules();
    }
  });

  it('metadata that breaks the technique template is refused before anything is sent, naming the field', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    const src = makeTree({ 'm.mrc': 'm' });
    await expect(
      s.engine.upload(s.profile, {
        sources: [src],
        dataset: 'em-bad',
        destination: 'archive',
        metadata: { technique: 'cryo-EM', sample: 'g1', voltage: '250', magnification: '81000', pixel_size: '0.83', dose: '50' },
      }),
    ).rejects.toMatchObject({
      code: 'metadata-invalid',
      field: 'voltage',
      dataset: 'em-bad',
      message: expect.stringMatching(/voltage: "250" is not allowed; write one of: 80, 100, 120, 200, 300/),
    });
    expect(s.engine.services.journal.jobs()).toHaveLength(0);
  });

  it('token expires mid-job: the outbox waits for a new sign-in and registers everything', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    const src = makeTree(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d/f${i}.tif`, `tif ${i}`])));
    let expired = false;
    const summary = await s.engine.upload(s.profile, {
      sources: [src],
      dataset: 'expiring',
      destination: 'archive',
      policy: { concurrency: 1 },
      onEvent: (e) => {
        s.events.push(e);
        if (!expired && e.type === 'file-state' && e.state === 'verified') {
          expired = true;
          server.expireTokens();
        }
      },
    });
    expect(summary.counts).toEqual({ verified: 12 });
    expect(s.events.find((e) => e.type === 'registration')).toMatchObject({
      status: { state: 'waiting-login', lastError: { message: expect.stringMatching(/beamdrop login/) } },
    });

    await signIn(s);
    const link = await catalogueLink(s.engine.operationDeps(), s.profile);
    const done = await waitUntil(
      'registered after sign-in',
      () => link.status('expiring').find((x) => x.state === 'registered'),
      30_000,
    );
    expect([...server.datasets.values()].filter((d) => d.datasetName === 'expiring')).toHaveLength(1);
    const paths = pathsOf(blocksOf(server, done.remoteId!));
    expect(paths.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `d/f${i}.tif`).sort());
  });

  it('a 20,000-file dataset registers in blocks of at most 10,000 files, not file by file', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    const root = mkdtempSync(join(tmpdir(), 'bd-20k-'));
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `run${d}`));
      for (let i = 0; i < 1000; i++) writeFileSync(join(root, `run${d}`, `img_${i}.cbf`), `${d}-${i}`);
    }
    const before = server.requests.length;
    const result = await registerInPlace(s.engine.operationDeps(), s.profile, {
      path: root,
      dataset: 'twenty-k',
      metadata: { technique: 'MX', sample: 'xtal' },
    });
    expect(result.files).toBe(20_000);
    expect(result.registration).toMatchObject({ state: 'registered', filesQueued: 20_000, filesRegistered: 20_000 });
    const blocks = blocksOf(server, result.registration!.remoteId!);
    expect(blocks.map((b) => (b.dataFileList as unknown[]).length)).toEqual([10_000, 10_000]);
    expect(new Set(pathsOf(blocks)).size).toBe(20_000);
    expect(server.datasets.get(result.registration!.remoteId!)).toMatchObject({ numberOfFiles: 20_000 });
    const posts = server.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.length).toBeLessThan(10);
    // The local catalogue has every file as a pointer, so fetch/verify can read them.
    expect(s.engine.services.catalogue.files('twenty-k')).toHaveLength(20_000);
  }, 300_000);

  it('a sync-style trickle appends blocks to the same dataset as files are verified', async () => {
    const s = setup(server);
    open.push(s);
    await signIn(s);
    const a = makeTree({ 'x/1.h5': '1', 'x/2.h5': '2' });
    const first = await s.engine.upload(s.profile, { sources: [a], dataset: 'trickle', destination: 'archive' });
    expect(first.counts).toEqual({ verified: 2 });
    const link = await catalogueLink(s.engine.operationDeps(), s.profile);
    const one = await waitUntil('first part registered', () => link.status('trickle').find((x) => x.state === 'registered'));
    const b = makeTree({ 'x/3.h5': '3' });
    await s.engine.upload(s.profile, { sources: [b], dataset: 'trickle', destination: 'archive' });
    const two = await waitUntil('second part registered', () =>
      link.status('trickle').find((x) => x.state === 'registered' && x.filesRegistered === 3),
    );
    expect(two.remoteId).toBe(one.remoteId);
    expect(blocksOf(server, one.remoteId!).map((blk) => (blk.dataFileList as unknown[]).length)).toEqual([2, 1]);
  });
});
