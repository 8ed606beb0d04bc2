// vitest globalSetup of the `integration` project: one real MinIO and one real Apache WebDAV on
// loopback ports for the whole run, handed to the tests with `inject('s3')` / `inject('webdav')`.
// Fault tests that need to kill or restart a server start their own with startMinio/startApacheDav.
import type { TestProject } from 'vitest/node';
import { startApacheDav, type DavServer } from './apache-dav.js';
import { startMinio, type MinioServer } from './minio.js';

export interface ProvidedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface ProvidedWebdav {
  url: string;
  username: string;
  password: string;
  root: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: ProvidedS3;
    webdav: ProvidedWebdav;
  }
}

// Keep the servers' directories (data, logs) after the run when set, e.g. to read apache's logs.
const keep = process.env.BEAMDROP_KEEP_TEST_SERVERS === '1';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  // Start both at once; if one fails, stop the other before reporting the failure.
  const [m, d] = await Promise.allSettled([startMinio(), startApacheDav()]);
  const servers = [m, d].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const teardown = async (): Promise<void> => {
    await Promise.all(servers.map((s) => (keep ? s.stop() : s.destroy())));
  };
  if (m.status === 'rejected' || d.status === 'rejected') {
    await teardown();
    const errors = [m, d].flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    throw new AggregateError(errors, `test servers did not start:\n${errors.map((e) => e.message).join('\n\n')}`);
  }
  const minio: MinioServer = m.value;
  const dav: DavServer = d.value;
  project.provide('s3', {
    endpoint: minio.endpoint,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    region: minio.region,
  });
  project.provide('webdav', { url: dav.url, username: dav.username, password: dav.password, root: dav.root });
  console.log(
    `[test servers] minio ${minio.endpoint} (pid ${minio.pid}), apache webdav ${dav.url} (pid ${dav.pid}), ready in ${Date.now() - started} ms`,
  );
  return teardown;
}
