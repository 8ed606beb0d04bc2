// Everything one campaign runs against, started on loopback ports and stopped at the end: a real
// MinIO and a real Apache WebDAV (each behind the flaky proxy, which cuts connections on demand,
// and a request tap, which records what was in flight), the SciCat contract server and a real
// ActiveMQ for ICAT+ (each behind a tap), one BEAMDROP_HOME signed in to both catalogues, and a
// facility profile per catalogue that names both destinations.
//
//   beamdrop ──► tap ──► flaky proxy ──► MinIO / Apache      beamdrop ──► tap ──► SciCat / ActiveMQ
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startActiveMq, type ActiveMqBroker } from '../support/activemq.js';
import { startApacheDav, type DavServer } from '../support/apache-dav.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { createBucket, startMinio, type MinioServer } from '../support/minio.js';
import { startScicatContractServer, type ScicatContractServer, type ScicatUser } from '../support/scicat-contract-server.js';
import { runBeamdrop, told } from './beamdrop-process.js';
import { startRequestTap, type RequestTap } from './request-tap.js';

export type DestinationKind = 's3' | 'webdav';
export type CatalogueKind = 'scicat' | 'icat-plus';

export const PROPOSAL = 'CAMP1';
export const VISIT = 'v1';
export const KEY_TEMPLATE = '{proposal}/{visit}/{dataset}/{relpath}';
/** The profile's names of the two destinations. */
export const DESTINATION_NAME: Record<DestinationKind, string> = { s3: 'objectstore', webdav: 'dav' };
/** The WebDAV collection (under Apache's /dav) the campaign writes to. */
export const DAV_COLLECTION = 'campaign';
export const ICAT_PLUS_QUEUE = '/queue/icatIngest.campaign';

const SCICAT_USER: ScicatUser = {
  username: 'ingestor',
  password: 'pw-campaign',
  email: 'ingestor@facility.example',
  groups: ['beamline-bl1', `p-${PROPOSAL.toLowerCase()}`],
};

export interface CampaignWorld {
  base: string;
  home: string;
  env: NodeJS.ProcessEnv;
  minio: MinioServer;
  bucket: string;
  dav: DavServer;
  scicat: ScicatContractServer | null;
  broker: ActiveMqBroker | null;
  proxies: Record<DestinationKind, FlakyProxy>;
  taps: { s3: RequestTap; webdav: RequestTap; scicat: RequestTap | null; broker: RequestTap | null };
  /** The profile file of each catalogue in use. */
  profiles: Partial<Record<CatalogueKind, string>>;
  /** The folder on disk that the campaign's WebDAV collection is. */
  davRoot: string;
  close(): Promise<void>;
}

const upstreamOf = (port: number) => ({ host: '127.0.0.1', port });

export async function startWorld(catalogues: CatalogueKind[], log: (s: string) => void): Promise<CampaignWorld> {
  const base = mkdtempSync(join(tmpdir(), 'bd-campaign-'));
  const home = join(base, 'home');
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    if (process.env.BEAMDROP_KEEP_TEST_SERVERS !== '1') rmSync(base, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    const [minio, dav, broker] = await Promise.all([
      startMinio({ dataDir: join(base, 'minio', 'data') }),
      startApacheDav(),
      catalogues.includes('icat-plus') ? startActiveMq() : Promise.resolve(null),
    ]);
    closers.push(
      () => minio.destroy(),
      () => dav.destroy(),
    );
    if (broker) closers.push(() => broker.destroy());
    const scicat = catalogues.includes('scicat') ? await startScicatContractServer({ users: [SCICAT_USER] }) : null;
    if (scicat) {
      closers.push(() => scicat.close());
      const now = new Date().toISOString();
      scicat.proposals.set(PROPOSAL, {
        proposalId: PROPOSAL,
        title: `Proposal ${PROPOSAL}`,
        ownerGroup: `p-${PROPOSAL.toLowerCase()}`,
        email: 'pi@university.example',
        accessGroups: ['beamline-bl1'],
        isPublished: false,
        createdAt: now,
        updatedAt: now,
      });
    }
    const proxies = {
      s3: await startFlakyProxy(upstreamOf(minio.port), { maxLifetimeMs: 24 * 3600_000 }),
      webdav: await startFlakyProxy(upstreamOf(dav.port), { maxLifetimeMs: 24 * 3600_000 }),
    };
    closers.push(
      () => proxies.s3.close(),
      () => proxies.webdav.close(),
    );
    const taps = {
      s3: await startRequestTap(upstreamOf(proxies.s3.port), 'http'),
      webdav: await startRequestTap(upstreamOf(proxies.webdav.port), 'http'),
      scicat: scicat ? await startRequestTap(upstreamOf(scicat.port), 'http') : null,
      broker: broker ? await startRequestTap(upstreamOf(broker.port), 'stomp') : null,
    };
    for (const t of Object.values(taps)) if (t) closers.push(() => t.close());
    const bucket = await createBucket(minio, 'campaign');
    const auth = `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}`;
    const made = await fetch(`${dav.url}/${DAV_COLLECTION}/`, { method: 'MKCOL', headers: { authorization: auth } });
    if (made.status !== 201) throw new Error(`MKCOL ${dav.url}/${DAV_COLLECTION}/: HTTP ${made.status}`);

    const destinations = {
      [DESTINATION_NAME.s3]: {
        kind: 's3',
        endpoint: taps.s3.url,
        region: minio.region,
        bucket,
        credentials: { accessKeyId: minio.accessKeyId },
        keyTemplate: KEY_TEMPLATE,
      },
      [DESTINATION_NAME.webdav]: {
        kind: 'webdav',
        url: `${taps.webdav.url}/dav/${DAV_COLLECTION}`,
        credentials: { username: dav.username },
        keyTemplate: KEY_TEMPLATE,
      },
    };
    const catalogueConfig: Record<CatalogueKind, Record<string, unknown> | null> = {
      scicat: taps.scicat
        ? { kind: 'scicat', url: taps.scicat.url, apiVersion: 'v4', contactEmail: 'bl1@facility.example' }
        : null,
      'icat-plus':
        taps.broker && broker
          ? { kind: 'icat-plus', url: taps.broker.url, queue: ICAT_PLUS_QUEUE, username: broker.username }
          : null,
    };
    const profiles: Partial<Record<CatalogueKind, string>> = {};
    for (const c of catalogues) {
      const file = join(base, `facility-${c}.yaml`);
      const doc = {
        facility: 'TESTFAC',
        beamline: 'BL1',
        destinations,
        defaultDestination: DESTINATION_NAME.s3,
        // A small part size: the multipart file of a dataset has five parts, so kills land in
        // part uploads and in CompleteMultipartUpload within a few seconds of the start.
        upload: {
          concurrency: 4,
          partConcurrency: 2,
          multipartThreshold: '8MiB',
          partSize: { min: '5MiB', max: '5MiB' },
          retries: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
        },
        sync: { quietPeriod: '500ms', reconcileInterval: '1s', pollInterval: '300ms', stopGrace: '5s' },
        catalogue: catalogueConfig[c],
      };
      writeFileSync(file, `# written by test/campaign/campaign-world.ts\n${stringify(doc)}`);
      profiles[c] = file;
    }
    mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BEAMDROP_HOME: home,
      BEAMDROP_OBJECTSTORE_SECRET_ACCESS_KEY: minio.secretAccessKey,
      BEAMDROP_DAV_PASSWORD: dav.password,
    };
    for (const k of ['BEAMDROP_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'BEAMDROP_CATALOGUE_PASSWORD'])
      delete env[k];

    // Signed in once per catalogue, as an operator is (the session is kept in the OS keychain).
    for (const c of catalogues) {
      const login =
        c === 'scicat'
          ? { username: SCICAT_USER.username, password: SCICAT_USER.password }
          : { username: broker!.username, password: broker!.password };
      const r = await runBeamdrop(['login', '--profile', profiles[c]!, '--username', login.username], {
        ...env,
        BEAMDROP_CATALOGUE_PASSWORD: login.password,
      });
      if (r.code !== 0) throw new Error(`login to ${c} failed (is a keychain running? see test/campaign/run.sh)\n${told(r)}`);
    }
    closers.push(async () => {
      for (const c of catalogues) await runBeamdrop(['logout', '--profile', profiles[c]!], env).catch(() => undefined);
    });
    log(
      `servers: minio ${minio.endpoint}, apache ${dav.url}${broker ? `, activemq ${broker.url}` : ''}${scicat ? `, scicat ${scicat.url}` : ''} (ready in ${Date.now() - started} ms); data in ${base}`,
    );
    return {
      base,
      home,
      env,
      minio,
      bucket,
      dav,
      scicat,
      broker,
      proxies,
      taps,
      profiles,
      davRoot: join(dav.root, DAV_COLLECTION),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
