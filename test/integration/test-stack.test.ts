// Proves the real test servers that test/support/global-setup.ts starts: MinIO answers the AWS
// SDK, Apache mod_dav does PUT / PROPFIND / PROPPATCH / MOVE with the semantics the engine relies
// on (Overwrite: F → 412), Basic auth is enforced, and a restart keeps the data.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startApacheDav, type DavServer } from '../support/apache-dav.js';
import { createBucket, minioClient, startMinio, type MinioServer } from '../support/minio.js';

const s3 = inject('s3');
const dav = inject('webdav');

const auth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const davAuth = auth(dav.username, dav.password);

async function davRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Uint8Array,
): Promise<Response> {
  return fetch(`${dav.url}${path}`, { method, headers: { Authorization: davAuth, ...headers }, body });
}

describe('MinIO', () => {
  it('puts and gets an object in a fresh bucket', async () => {
    const bucket = await createBucket(s3);
    expect(bucket).toMatch(/^[a-z0-9][a-z0-9.-]{2,62}$/);
    const client = minioClient(s3);
    try {
      const body = Buffer.from(`hello beamdrop ${Date.now()}\n`.repeat(1000));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'run/1/a.bin', Body: body }));
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'run/1/a.bin' }));
      expect(head.ContentLength).toBe(body.length);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'run/1/a.bin' }));
      const bytes = await got.Body?.transformToByteArray();
      expect(Buffer.from(bytes ?? []).equals(body)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('gives each createBucket call its own bucket', async () => {
    const [a, b] = await Promise.all([createBucket(s3), createBucket(s3)]);
    expect(a).not.toBe(b);
  });
});

describe('Apache WebDAV', () => {
  const dir = `/stack-${Date.now().toString(36)}`;

  it('does MKCOL, PUT and PROPFIND, with the bytes on disk under root', async () => {
    expect((await davRequest('MKCOL', dir)).status).toBe(201);
    const put = await davRequest('PUT', `${dir}/a.txt`, { 'Content-Type': 'text/plain' }, 'alpha\n');
    expect(put.status).toBe(201);
    const pf = await davRequest('PROPFIND', `${dir}/a.txt`, { Depth: '0' });
    expect(pf.status).toBe(207);
    expect(await pf.text()).toMatch(/<[a-zA-Z0-9]*:?getcontentlength>6</);
    expect(await readFile(join(dav.root, dir, 'a.txt'), 'utf8')).toBe('alpha\n');
  });

  it('stores dead properties with PROPPATCH', async () => {
    const patch = await davRequest(
      'PROPPATCH',
      `${dir}/a.txt`,
      { 'Content-Type': 'application/xml' },
      `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:B="urn:beamdrop:test">
  <D:set><D:prop><B:sha256>abc123</B:sha256></D:prop></D:set>
</D:propertyupdate>`,
    );
    expect(patch.status).toBe(207);
    expect(await patch.text()).toContain('200 OK');
    const pf = await davRequest(
      'PROPFIND',
      `${dir}/a.txt`,
      { Depth: '0', 'Content-Type': 'application/xml' },
      `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:B="urn:beamdrop:test"><D:prop><B:sha256/></D:prop></D:propfind>`,
    );
    expect(pf.status).toBe(207);
    expect(await pf.text()).toMatch(/sha256[^>]*>abc123</);
  });

  it('MOVEs with Overwrite: F, and answers 412 when the target exists', async () => {
    expect((await davRequest('PUT', `${dir}/.a.part`, {}, 'beta\n')).status).toBe(201);
    const move = await davRequest('MOVE', `${dir}/.a.part`, { Destination: `${dav.url}${dir}/b.txt`, Overwrite: 'F' });
    expect(move.status).toBe(201);
    expect(await readFile(join(dav.root, dir, 'b.txt'), 'utf8')).toBe('beta\n');

    expect((await davRequest('PUT', `${dir}/.c.part`, {}, 'gamma\n')).status).toBe(201);
    const clash = await davRequest('MOVE', `${dir}/.c.part`, { Destination: `${dav.url}${dir}/b.txt`, Overwrite: 'F' });
    expect(clash.status).toBe(412);
    // Nothing was overwritten and the temporary file is still there.
    expect(await readFile(join(dav.root, dir, 'b.txt'), 'utf8')).toBe('beta\n');
    const names = (await readdir(join(dav.root, dir))).filter((n) => n !== '.DAV').sort();
    expect(names).toEqual(['.c.part', 'a.txt', 'b.txt']);
  });

  it('refuses a wrong password and no credentials with 401', async () => {
    const wrong = await fetch(`${dav.url}/`, {
      method: 'PROPFIND',
      headers: { Depth: '0', Authorization: auth(dav.username, `${dav.password}x`) },
    });
    expect(wrong.status).toBe(401);
    const none = await fetch(`${dav.url}${dir}/a.txt`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('restarts (own instances, as fault tests do)', () => {
  let minio: MinioServer | undefined;
  let davServer: DavServer | undefined;
  afterAll(async () => {
    await Promise.all([minio?.destroy(), davServer?.destroy()]);
  });

  it('a MinIO restart keeps the buckets and objects, on the same port', async () => {
    minio = await startMinio();
    const bucket = await createBucket(minio);
    const client = minioClient(minio);
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'still here' }));
      const pidBefore = minio.pid;
      await minio.restart();
      expect(minio.pid).not.toBe(pidBefore);
      expect(minio.endpoint).toBe(`http://127.0.0.1:${minio.port}`);
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }));
      expect(await got.Body?.transformToString()).toBe('still here');
    } finally {
      client.destroy();
    }
  });

  it('a stopped MinIO refuses connections until restarted', async () => {
    if (minio === undefined) throw new Error('previous test did not start minio');
    await minio.stop();
    await expect(fetch(`${minio.endpoint}/minio/health/ready`)).rejects.toThrow();
    await minio.restart();
    expect((await fetch(`${minio.endpoint}/minio/health/ready`)).status).toBe(200);
  });

  it('an Apache restart keeps the files, on the same port', async () => {
    davServer = await startApacheDav();
    const a = auth(davServer.username, davServer.password);
    expect((await fetch(`${davServer.url}/x.txt`, { method: 'PUT', headers: { Authorization: a }, body: 'x' })).status).toBe(201);
    const pidBefore = davServer.pid;
    await davServer.restart();
    expect(davServer.pid).not.toBe(pidBefore);
    const got = await fetch(`${davServer.url}/x.txt`, { headers: { Authorization: a } });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('x');
  });
});
