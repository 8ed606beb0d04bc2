// A destination that cannot work (wrong secret, nothing listening, wrong WebDAV password, a
// filesystem root that is not there) is refused by one cheap check before anything else: no job
// is written to the journal and no scan starts, and the error says what is wrong and where.
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeamdropError } from '../../src/shared/errors.js';
import type { JobEvent } from '../../src/shared/model.js';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import { Engine } from '../../src/main/engine/engine.js';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import { createBucket, freePort } from '../support/minio.js';
import { removeTemps, tempDir } from './helpers.js';

const engines: Engine[] = [];
afterEach(async () => {
  while (engines.length) await engines.pop()!.close();
});
afterAll(removeTemps);

function engineWith(
  destinations: Record<string, unknown>,
  env: Record<string, string>,
): { engine: Engine; profile: FacilityProfile } {
  const home = tempDir('bd-check-home-');
  const profile = profileSchema.parse({ destinations });
  const engine = Engine.open({ home, env: { ...process.env, ...env } });
  engines.push(engine);
  return { engine, profile };
}

/** A source tree large enough that a scan would certainly report progress if it ran (made once). */
let tree: string | null = null;
function bigTree(): string {
  if (tree) return tree;
  const root = tempDir('bd-check-src-');
  tree = root;
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(root, `d${d}`));
    for (let f = 0; f < 30; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), `${d}/${f}`);
  }
  return root;
}

/** Runs an upload that must be refused; returns the error, and proves nothing was journaled or scanned. */
async function refused(engine: Engine, profile: FacilityProfile, destination: string, sources: string[]): Promise<BeamdropError> {
  const events: JobEvent[] = [];
  const started = Date.now();
  const err = await engine
    .upload(profile, { sources, dataset: 'never-started', destination, onEvent: (e) => events.push(e) })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(err, 'the upload must be refused').toBeInstanceOf(BeamdropError);
  // Refused by the check, not after a long scan or a round of retries (generous bound for slow CI).
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(events.filter((e) => e.type === 'scan-progress' || e.type === 'scan-done' || e.type === 'job-started')).toEqual([]);
  const { journal } = engine.services;
  expect(journal.jobs()).toEqual([]);
  // Read independently of the engine: the journal file itself has no event.
  const raw = new Database(engine.services.paths.journal, { readonly: true });
  const journalEvents = raw.prepare('SELECT type FROM events').all() as { type: string }[];
  raw.close();
  expect(journalEvents).toEqual([]);
  return err as BeamdropError;
}

describe('destination checks before any scan', () => {
  it('rejects a wrong S3 secret with credentials-rejected before scanning (no job, no scan event)', async () => {
    const s3 = inject('s3');
    const bucket = await createBucket(s3);
    const { engine, profile } = engineWith(
      { archive: { kind: 's3', endpoint: s3.endpoint, bucket, credentials: { accessKeyId: s3.accessKeyId } } },
      { [envName('archive', 'SECRET_ACCESS_KEY')]: `${s3.secretAccessKey}-wrong` },
    );
    // An empty folder: a scan that ran first would end the job with nothing-matched.
    const empty = tempDir('bd-check-empty-');
    const err1 = await refused(engine, profile, 'archive', [empty]);
    expect(err1.code).toBe('credentials-rejected');
    expect(err1.message).toContain('"archive"');
    expect(err1.message).toContain('beamdrop credentials set archive');
    // And a real tree of 300 files: still refused before a single scan event.
    const err2 = await refused(engine, profile, 'archive', [bigTree()]);
    expect(err2.code).toBe('credentials-rejected');
  });

  it('reports an S3 endpoint where nothing listens as destination-unreachable, naming the endpoint', async () => {
    const port = await freePort(); // bound and released: nothing listens there
    const endpoint = `http://127.0.0.1:${port}`;
    const { engine, profile } = engineWith(
      { archive: { kind: 's3', endpoint, bucket: 'nowhere', credentials: { accessKeyId: 'AKIDEXAMPLE' } } },
      { [envName('archive', 'SECRET_ACCESS_KEY')]: 'secret' },
    );
    const err = await refused(engine, profile, 'archive', [bigTree()]);
    expect(err.code).toBe('destination-unreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(endpoint);
    expect(err.message).toContain('"archive"');
  });

  it('rejects a wrong WebDAV password with credentials-rejected before scanning', async () => {
    const dav = inject('webdav');
    const { engine, profile } = engineWith(
      { dav: { kind: 'webdav', url: dav.url, credentials: { username: dav.username } } },
      { [envName('dav', 'PASSWORD')]: `${dav.password}-wrong` },
    );
    const err = await refused(engine, profile, 'dav', [bigTree()]);
    expect(err.code).toBe('credentials-rejected');
    expect(err.message).toContain('"dav"');
  });

  it('reports a missing filesystem destination root as destination-unreachable, naming the folder', async () => {
    const root = join(tmpdir(), `bd-unmounted-${process.pid}-${Date.now()}`, 'archive');
    const { engine, profile } = engineWith({ mount: { kind: 'filesystem', root } }, {});
    const err = await refused(engine, profile, 'mount', [bigTree()]);
    expect(err.code).toBe('destination-unreachable');
    expect(err.message).toContain(root);
    expect(err.message).toContain('"mount"');
  });
});
