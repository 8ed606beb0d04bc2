// The outbox with ICAT (icat.server contract server): the dataset is created complete=false while
// files arrive, Datafiles go in batches, complete=true is set once the job is done; an ICAT session
// that expires (SESSION 403) waits for a new sign-in. And the worker stops cleanly (dispose) while
// it is backing off from a catalogue that is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import type { JobEvent } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { osKeychain } from '../../src/main/engine/credentials/credential-store.js';
import { catalogueLink } from '../../src/main/engine/operations/retry-registration.js';
import { startIcatContractServer, type IcatContractServer } from '../support/icat-contract-server.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const service = `beamdrop-test-icat-${process.pid}`;

function setup(server: IcatContractServer): { engine: Engine; profile: FacilityProfile } {
  const home = mkdtempSync(join(tmpdir(), 'bd-icat-'));
  mkdirSync(join(home, 'archive'));
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { archive: { kind: 'filesystem', root: join(home, 'archive') } },
    upload: { retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 300 } },
    catalogue: {
      kind: 'icat',
      url: server.url,
      facility: 'TESTFAC',
      blockFiles: 4,
      contactEmail: 'bl1@facility.example',
      ownerGroup: 'bl1',
    },
  });
  return { engine: Engine.open({ home, keeper: osKeychain(service) }), profile };
}

describe('catalogue outbox (ICAT contract server)', () => {
  let server: IcatContractServer;
  beforeAll(async () => {
    server = await startIcatContractServer({ users: [{ username: 'alice', password: 'pw' }] });
    server.seedInvestigation({ name: 'INV-1', visitId: '1', members: ['db/alice'] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates the dataset incomplete, adds Datafiles in batches, completes it when the job is done', async () => {
    const { engine, profile } = setup(server);
    try {
      const link = await catalogueLink(engine.operationDeps(), profile);
      await link.sessions.login({ username: 'alice', password: 'pw' });
      const completeSeen: unknown[] = [];
      const src = makeTree(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`img/f${i}.cbf`, `f${i}`])));
      const events: JobEvent[] = [];
      const summary = await engine.upload(profile, {
        sources: [src],
        dataset: 'icat-ds',
        proposal: 'INV-1',
        destination: 'archive',
        metadata: { sample: 'xtal' },
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'file-state' && e.state === 'verified')
            completeSeen.push(server.entities('Dataset').find((d) => d.name === 'icat-ds')?.complete);
        },
      });
      expect(summary.counts).toEqual({ verified: 10 });
      expect(events.find((e) => e.type === 'registration')).toMatchObject({
        status: { state: 'registered', filesRegistered: 10 },
      });
      expect(completeSeen.filter((c) => c !== undefined).every((c) => c === false)).toBe(true);
      const ds = server.entities('Dataset').filter((d) => d.name === 'icat-ds');
      expect(ds).toHaveLength(1);
      expect(ds[0]!.complete).toBe(true);
      const files = server
        .entities('Datafile')
        .filter((f) => (f.dataset as { id: number } | number) === ds[0]!.id || (f.dataset as { id?: number })?.id === ds[0]!.id);
      expect(files.map((f) => f.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `img/f${i}.cbf`).sort());
      expect(files.every((f) => String(f.checksum).startsWith('sha256:'))).toBe(true);
      const creates = server.requests.filter((r) => r.method === 'POST' && r.path === '/icat/entityManager');
      expect(creates.length).toBeLessThanOrEqual(6); // dataset + 3 batches of ≤ 4 files + complete
    } finally {
      await engine.close();
    }
  });

  it('an expired ICAT session waits for a new sign-in, then finishes', async () => {
    const { engine, profile } = setup(server);
    try {
      const link = await catalogueLink(engine.operationDeps(), profile);
      await link.sessions.login({ username: 'alice', password: 'pw' });
      server.expireSessions();
      const src = makeTree({ 'a.h5': 'a', 'b.h5': 'b' });
      const events: JobEvent[] = [];
      await engine.upload(profile, {
        sources: [src],
        dataset: 'icat-expired',
        proposal: 'INV-1',
        destination: 'archive',
        metadata: { sample: 's' },
        onEvent: (e) => events.push(e),
      });
      expect(events.find((e) => e.type === 'registration')).toMatchObject({ status: { state: 'waiting-login' } });
      await link.sessions.login({ username: 'alice', password: 'pw' });
      await waitUntil('registered', () => link.status('icat-expired').find((s) => s.state === 'registered'), 30_000);
      expect(server.entities('Dataset').filter((d) => d.name === 'icat-expired')).toMatchObject([{ complete: true }]);
    } finally {
      await engine.close();
    }
  });

  it('dispose() stops the worker at once while it backs off from a catalogue that is down', async () => {
    const { engine, profile } = setup(server);
    const link = await catalogueLink(engine.operationDeps(), profile);
    await link.sessions.login({ username: 'alice', password: 'pw' });
    await server.stop();
    try {
      await engine.upload(profile, {
        sources: [makeTree({ 'x.h5': 'x' })],
        dataset: 'icat-down',
        proposal: 'INV-1',
        destination: 'archive',
        metadata: { sample: 's' },
      });
      expect(link.status('icat-down')).toMatchObject([{ state: 'pending', lastError: { retryable: true } }]);
      const t = Date.now();
      await engine.close();
      expect(Date.now() - t).toBeLessThan(3000);
    } finally {
      await server.restart();
    }
  });
});
