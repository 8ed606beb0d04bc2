// Builds an Engine on a fresh data folder and a profile naming one destination of each kind on
// the test servers. Credentials travel the headless way (environment variables), which is real
// product behaviour; the keychain path has its own test.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import type { JobEvent } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { envName } from '../../src/main/engine/credentials/credential-store.js';
import { createBucket } from './minio.js';

export type Kind = 'filesystem' | 's3' | 'webdav';
export const KINDS: Kind[] = ['filesystem', 's3', 'webdav'];

export interface Harness {
  home: string;
  engine: Engine;
  profile: FacilityProfile;
  env: NodeJS.ProcessEnv;
  events: JobEvent[];
  /** Where the filesystem destination stores, and the WebDAV root on disk. */
  archive: string;
  bucket: string;
  /** A subfolder of the DAV root unique to this harness. */
  davPrefix: string;
}

export async function harness(opts: { upload?: Record<string, unknown> } = {}): Promise<Harness> {
  const s3 = inject('s3');
  const dav = inject('webdav');
  const home = mkdtempSync(join(tmpdir(), 'bd-home-'));
  const archive = join(home, 'fs-archive');
  mkdirSync(archive, { recursive: true });
  const bucket = await createBucket(s3);
  const davPrefix = `h${Math.random().toString(36).slice(2, 10)}`;
  await fetch(`${dav.url}/${davPrefix}/`, {
    method: 'MKCOL',
    headers: { authorization: 'Basic ' + Buffer.from(`${dav.username}:${dav.password}`).toString('base64') },
  });
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: {
      filesystem: { kind: 'filesystem', root: archive },
      s3: { kind: 's3', endpoint: s3.endpoint, region: s3.region, bucket, credentials: { accessKeyId: s3.accessKeyId } },
      webdav: { kind: 'webdav', url: `${dav.url}/${davPrefix}`, credentials: { username: dav.username } },
    },
    defaultDestination: 'filesystem',
    upload: {
      multipartThreshold: '8MiB',
      partSize: { min: '5MiB' },
      retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
      ...(opts.upload ?? {}),
    },
  });
  const env = {
    ...process.env,
    [envName('s3', 'SECRET_ACCESS_KEY')]: s3.secretAccessKey,
    [envName('webdav', 'PASSWORD')]: dav.password,
  };
  const engine = Engine.open({ home, env });
  return { home, engine, profile, env, events: [], archive, bucket, davPrefix };
}

/** Writes files given as relpath → content under a new temp folder; returns the folder. */
export function makeTree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'bd-src-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, ...rel.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function randomBytesOf(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
